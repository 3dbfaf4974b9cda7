"use client";

import { signIn } from "next-auth/react";
import { useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { ZSignInInput } from "@/contracts/users";

/** Turns NextAuth's error codes into sentences a clinician can act on. */
export function describeSignInError(code: string): string {
  if (code.startsWith("THROTTLED:")) {
    const seconds = Number(code.slice("THROTTLED:".length));
    const wait = !Number.isFinite(seconds) || seconds <= 0 ? "a few minutes" : seconds < 120 ? `${seconds} second${seconds === 1 ? "" : "s"}` : `${Math.ceil(seconds / 60)} minutes`;
    return `Too many failed sign-in attempts. Try again in ${wait}.`;
  }
  if (code === "SignInBusy") return "Too many sign-in attempts, try again shortly.";
  if (code === "AccountDisabled") return "This account is deactivated. Ask an administrator.";
  if (code === "OidcNoEmail") return "The hospital sign-in did not provide an e-mail address.";
  if (code === "OidcEmailNotVerified") return "The hospital sign-in has not verified your e-mail address, so it cannot be linked to an account here.";
  if (code === "OidcDomainNotAllowed") return "Accounts of this e-mail domain may not sign in here. Ask an administrator.";
  return "Incorrect e-mail or password.";
}

/**
 * The same-origin rule of server/auth/callback-url.ts, once more in the browser right before
 * navigating (the page already passes a checked absolute URL): anything off our origin goes to "/".
 */
function sameOriginTarget(callbackUrl: string): string {
  try {
    const target = new URL(callbackUrl, window.location.origin);
    return target.origin === window.location.origin ? target.href : "/";
  } catch {
    return "/";
  }
}

export function SignInForm({ oidcName, initialError, callbackUrl }: { oidcName: string | null; initialError: string | null; callbackUrl: string }) {
  const [error, setError] = useState<string | null>(initialError ? describeSignInError(initialError) : null);
  const [pending, setPending] = useState(false);
  // Sent here by the change-password form (app/change-password/change-password-form.tsx) once the change is stored.
  const passwordChanged = useSearchParams().get("changed") === "password";

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
    window.location.assign(sameOriginTarget(callbackUrl));
  }

  return (
    <>
      {passwordChanged && !error && (
        <p className="notice" role="status" data-testid="password-changed">
          Your password was changed and every session of yours was ended. Sign in with your new password.
        </p>
      )}
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
