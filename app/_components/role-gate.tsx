import type { ReactNode } from "react";
import type { RoleName } from "@/contracts/roles";
import { currentUser } from "@/server/auth/session";

/** Page-level courtesy check; the procedures behind the page enforce access on their own. */
export async function RoleGate({ roles, children }: { roles: readonly RoleName[]; children: ReactNode }) {
  const user = await currentUser();
  if (!user || !roles.includes(user.role)) {
    return (
      <div className="panel">
        <h1>Not available</h1>
        <p className="muted">Your role does not give access to this page.</p>
      </div>
    );
  }
  return <>{children}</>;
}
