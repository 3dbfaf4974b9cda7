import { MembersPanel } from "./members-panel";

/** Who is in the project and with which project role (members.manage; the procedures check again). */
export default async function MembersPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <MembersPanel projectId={projectId} />;
}
