import { RoleGate } from "../../../../_components/role-gate";
import { MembersPanel } from "./members-panel";

/**
 * Who is in the project and with which project role (members.manage; the procedures check again). A member
 * whose role may not manage members (not in their tabs) is told so instead of the list's refusal.
 */
export default async function MembersPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="members.manage" projectId={projectId}>
      <MembersPanel projectId={projectId} />
    </RoleGate>
  );
}
