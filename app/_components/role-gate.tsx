import type { ReactNode } from "react";
import { can, canAny, PLATFORM_PERMISSIONS, rolesFor, type PlatformPermission, type ProjectPermission } from "@/contracts/permissions";
import { ROLE_LABELS, type RoleName } from "@/contracts/roles";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { createServiceContext } from "@/server/services/context";
import { myProjectRoles } from "@/server/services/project-service";

/**
 * Page-level courtesy check against contracts/permissions.ts; the procedures behind the page enforce
 * access on their own (the front door). A platform permission is checked against the platform role;
 * a project permission against the user's role in `projectId`, or — on pages that span projects —
 * against their platform role and every project role. A refusal names the roles the page is for and the
 * caller's role, plus `explain` (what the page does and whom to ask) when the page gives one.
 */
export async function RoleGate({ permission, projectId, children, explain }: { permission: ProjectPermission | PlatformPermission; projectId?: string; children: ReactNode; explain?: ReactNode }) {
  const user = await currentUser();
  let allowed = false;
  let roleHere: RoleName | undefined;
  if (user) {
    if (permission in PLATFORM_PERMISSIONS) {
      allowed = can(user.role, permission);
    } else {
      const memberships = await myProjectRoles(createServiceContext(getDb(), { id: user.id, role: user.role, name: user.name, email: user.email }));
      roleHere = projectId !== undefined ? memberships.find((m) => m.projectId === projectId)?.role : undefined;
      allowed =
        projectId !== undefined
          ? can(roleHere, permission)
          : canAny([user.role, ...memberships.map((m) => m.role)], permission);
    }
  }
  if (!allowed) {
    return (
      <div className="panel">
        <h1>Not available</h1>
        <p className="muted" data-testid="role-gate-reason">
          {projectId ? (roleHere ? "Your role in this project does not give access to this page." : "You are not a member of this project.") : "Your role does not give access to this page."}{" "}
          {projectId ? "It is for members whose role in the project is " : "It is for users whose role is "}
          {orList(rolesFor(permission).map((r) => ROLE_LABELS[r]))}
          {roleHere ? `; your role here is ${ROLE_LABELS[roleHere]}` : ""}.
        </p>
        {explain}
      </div>
    );
  }
  return <>{children}</>;
}

/** "A", "A or B", "A, B or C". */
function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}
