import Link from "next/link";
import { EncoderSection } from "../encoder-section";

/** The encoder choice on a page of its own (the section reports a caller who may not configure the project). */
export default async function EncoderSettingsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <>
      <h1>Encoder settings</h1>
      <p className="muted">
        <Link href={`/projects/${projectId}/settings`}>All settings</Link> · <Link href={`/projects/${projectId}/settings/selection`}>Selection and loop</Link>
      </p>
      <EncoderSection projectId={projectId} />
    </>
  );
}
