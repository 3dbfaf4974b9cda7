"use client";

import { useMutation } from "@tanstack/react-query";
import { signOut } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { ZChangePasswordInput } from "@/contracts/users";
import { serverFieldErrors, zodFieldErrors, type FieldErrors } from "../_components/form-errors";
import { useTRPC } from "../_components/providers";
import { endingSessionOnPurpose } from "../_components/session-end";

export function ChangePasswordForm() {
  const trpc = useTRPC();
  const change = useMutation(trpc.account.changePassword.mutationOptions());
  const [errors, setErrors] = useState<FieldErrors>({});
  const [done, setDone] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = ZChangePasswordInput.safeParse(Object.fromEntries(new FormData(event.currentTarget).entries()));
    if (!parsed.success) return setErrors(zodFieldErrors(parsed.error));
    setErrors({});
    try {
      await change.mutateAsync(parsed.data);
      endingSessionOnPurpose(); // the calls answered 401 from now on are this change's doing
      setDone(true);
      // The change ended every session (epoch bump): sign in again with the new password.
      await signOut({ callbackUrl: "/signin?changed=password" });
    } catch (error) {
      setErrors(serverFieldErrors(error));
    }
  }

  if (done) return <p className="notice" role="status">Password changed. Sign in with your new password…</p>;
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Change password">
      <label>
        Current password
        <input name="currentPassword" type="password" autoComplete="current-password" required autoFocus />
        {errors.currentPassword && <span className="error">{errors.currentPassword}</span>}
      </label>
      <label>
        New password (at least 12 characters)
        <input name="newPassword" type="password" autoComplete="new-password" required />
        {errors.newPassword && <span className="error">{errors.newPassword}</span>}
      </label>
      <label>
        New password again
        <input name="confirmPassword" type="password" autoComplete="new-password" required />
        {errors.confirmPassword && <span className="error">{errors.confirmPassword}</span>}
      </label>
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <button type="submit" disabled={change.isPending}>
        Change password
      </button>
    </form>
  );
}
