"use client";

import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { ZSignInInput } from "@/contracts/users";

/** Turns NextAuth's error codes into sentences a clinician can act on. */
export function describeSignInError(code: string): string {
  if (code.startsWith("THROTTLED:")) {
    const minutes = code.slice("THROTTLED:".length);
    return `Too many failed sign-in attempts for this account. Try again in ${minutes || "a few"} minute${minutes === "1" ? "" : "s"}.`;
  }
  if (code === "AccountDisabled") return "This account is deactivated. Ask an administrator.";
  if (code === "OidcNoEmail") return "The hospital sign-in did not provide an e-mail address.";
  return "Incorrect e-mail or password.";
}

export function SignInForm({ oidcName, initialError, callbackUrl }: { oidcName: string | null; initialError: string | null; callbackUrl: string }) {
  const [error, setError] = useState<string | null>(initialError ? describeSignInError(initialError) : null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const parsed = ZSignInInput.safeParse({ email: form.get("email"), password: form.get("password") });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? "Check the form.");
      return;
    }
    setPending(true);
    setError(null);
    const result = await signIn("credentials", { ...parsed.data, redirect: false });
    setPending(false);
    if (!result || result.error) {
      setError(describeSignInError(result?.error ?? "CredentialsSignin"));
      return;
    }
    window.location.assign(callbackUrl);
  }

  return (
    <>
      <form onSubmit={onSubmit} noValidate>
        <label>
          E-mail
          <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {oidcName && (
        <p>
          <button className="secondary" type="button" onClick={() => signIn("oidc", { callbackUrl })}>
            {oidcName}
          </button>
        </p>
      )}
    </>
  );
}
