import Link from "next/link";
import { SelectionSection } from "../selection-section";

/** The selection and loop settings on a page of their own (the section reports a caller who may not configure the project). */
export default async function SelectionSettingsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <>
      <h1>Selection and loop settings</h1>
      <p className="muted">
        <Link href={`/projects/${projectId}/settings`}>All settings</Link> · <Link href={`/projects/${projectId}/settings/encoder`}>Encoder</Link>
      </p>
      <SelectionSection projectId={projectId} />
    </>
  );
}
