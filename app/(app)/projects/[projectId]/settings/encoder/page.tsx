import { EncoderSection } from "../encoder-section";
import { SettingsGate } from "../settings-gate";

/** The encoder choice on a page of its own (the settings page shows the same section). */
export default async function EncoderSettingsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <SettingsGate projectId={projectId}>
      <EncoderSection projectId={projectId} />
    </SettingsGate>
  );
}
