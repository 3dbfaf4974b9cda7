import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { navItemsFor } from "@/contracts/navigation";
import { ROLE_LABELS } from "@/contracts/roles";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { projectRoleNames } from "@/server/services/project-service";
import { NavLinks } from "../_components/nav-links";
import { SignOutButton } from "../_components/sign-out-button";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/signin");
  // A printed or temporary password must be replaced before anything else (the procedures refuse too).
  if (user.mustChangePassword) redirect("/change-password");
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">RADS Annotate</div>
        <NavLinks items={navItemsFor(user.role, await projectRoleNames(getDb(), user)).map(({ href, label }) => ({ href, label }))} />
        <div className="who">
          <div data-testid="current-user">{user.name}</div>
          <div data-testid="current-role">{ROLE_LABELS[user.role]}</div>
          <div>
            <Link href="/change-password">Change password</Link>
          </div>
          <SignOutButton />
        </div>
      </nav>
      <main className="main">{children}</main>
    </div>
  );
}
