import { redirect } from "next/navigation";
import { currentUser } from "@/server/auth/session";
import { ChangePasswordForm } from "./change-password-form";

export const dynamic = "force-dynamic";

/** Where a user whose password was printed or temporary (User.mustChangePassword) is sent first; anyone signed in may use it. */
export default async function ChangePasswordPage() {
  const user = await currentUser();
  if (!user) redirect("/signin");
  return (
    <main className="signin panel">
      <h1>Choose a new password</h1>
      {user.mustChangePassword ? (
        <p className="muted" data-testid="must-change-password">
          {/* Neutral on purpose: the must-change password may have been generated, typed by an admin or printed at setup. */}
          {user.name}, your current password was set for you (by an administrator, or printed when the platform was set up), so someone else may know it. Choose your own before you continue; you will then sign in again with it.
        </p>
      ) : (
        <p className="muted">After the change every session of yours ends and you sign in again with the new password.</p>
      )}
      <ChangePasswordForm />
    </main>
  );
}
