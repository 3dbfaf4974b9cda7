import { can, rolesFor } from "@/contracts/permissions";
import { ROLE_LABELS, type RoleName } from "@/contracts/roles";

/**
 * Why My queue lists no project, from the caller's projects (projects.listMine: role and archived per project).
 * queue.mine lists the projects whose role lets the caller annotate (contracts/permissions.ts "annotate"),
 * archived ones left out, so an empty list is one of: no project at all; projects, none with a role that
 * annotates; projects where they annotate, all archived.
 */
export function emptyQueueReason(projects: readonly { role: RoleName | null; archived: boolean }[]): string {
  if (projects.length === 0) return "You are not a member of any project yet.";
  const annotating = projects.filter((p) => can(p.role, "annotate"));
  if (annotating.length > 0) return `Your ${annotating.length === 1 ? "project where you annotate is" : `${annotating.length} projects where you annotate are`} archived: an archived project has no queue.`;
  const roles = [...new Set(projects.map((p) => p.role).filter((r): r is RoleName => r !== null))].map((r) => ROLE_LABELS[r]);
  const annotators = rolesFor("annotate").map((r) => ROLE_LABELS[r]);
  return `You are a member of ${projects.length === 1 ? "1 project" : `${projects.length} projects`}, but your role there (${roles.join(", ")}) does not include annotating, so you have no queue to label. Annotating is for members whose project role is ${annotators.join(" or ")}.`;
}
