import type { ReactNode } from "react";
import { can, canAny, PLATFORM_PERMISSIONS, type PlatformPermission, type ProjectPermission } from "@/contracts/permissions";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { createServiceContext } from "@/server/services/context";
import { myProjectRoles } from "@/server/services/project-service";

/**
 * Page-level courtesy check against contracts/permissions.ts; the procedures behind the page enforce
 * access on their own (the front door). A platform permission is checked against the platform role;
 * a project permission against the user's role in `projectId`, or — on pages that span projects —
 * against their platform role and every project role.
 */
export async function RoleGate({ permission, projectId, children }: { permission: ProjectPermission | PlatformPermission; projectId?: string; children: ReactNode }) {
  const user = await currentUser();
  let allowed = false;
  if (user) {
    if (permission in PLATFORM_PERMISSIONS) {
      allowed = can(user.role, permission);
    } else {
      const memberships = await myProjectRoles(createServiceContext(getDb(), { id: user.id, role: user.role, name: user.name, email: user.email }));
      allowed =
        projectId !== undefined
          ? can(memberships.find((m) => m.projectId === projectId)?.role, permission)
          : canAny([user.role, ...memberships.map((m) => m.role)], permission);
    }
  }
  if (!allowed) {
    return (
      <div className="panel">
        <h1>Not available</h1>
        <p className="muted">{projectId ? "Your role in this project does not give access to this page." : "Your role does not give access to this page."}</p>
      </div>
    );
  }
  return <>{children}</>;
}
