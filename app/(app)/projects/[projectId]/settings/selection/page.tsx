import { SettingsGate } from "../settings-gate";
import { SelectionSection } from "../selection-section";

/** The selection and loop settings on a page of their own (the settings page shows the same section). */
export default async function SelectionSettingsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <SettingsGate projectId={projectId}>
      <SelectionSection projectId={projectId} />
    </SettingsGate>
  );
}
