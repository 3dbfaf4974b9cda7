import { ROLE_LABELS } from "@/contracts/roles";
import { navItemsFor } from "@/contracts/navigation";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { projectRoleNames } from "@/server/services/project-service";
import Link from "next/link";
import { WhoToAsk } from "./who-to-ask";

export default async function OverviewPage() {
  const user = await currentUser();
  // The layout sends both away (sign-in, change password); rendered beside it, this page asks the
  // services nothing for them (the front door refuses a user who must change their password).
  if (!user || user.mustChangePassword) return null;
  const destinations = navItemsFor(user.role, await projectRoleNames(getDb(), user)).filter((item) => item.href !== "/");
  return (
    <>
      <h1>Welcome, {user.name}</h1>
      <p className="muted">
        Signed in as {ROLE_LABELS[user.role]}. {DESCRIPTION[user.role]}
      </p>
      <WhoToAsk />
      <div className="cards">
        {destinations.map((item) => (
          <Link key={item.href} className="card" href={item.href}>
            {item.label}
          </Link>
        ))}
      </div>
    </>
  );
}

const DESCRIPTION: Record<keyof typeof ROLE_LABELS, string> = {
  CLINICIAN: "Label the cases in your queue; the most informative rare cases come first.",
  DATA_SCIENTIST: "Set up projects, import data and watch whether selection pays off.",
  REVIEWER: "Compare retrained candidate models with the active one and approve or reject them.",
  ADMIN: "Manage users, roles and projects, and read the audit log.",
};
