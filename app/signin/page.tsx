import { redirect } from "next/navigation";
import { currentUser } from "@/server/auth/session";
import { safeCallbackPath } from "@/server/auth/callback-url";
import { loadServerEnv, oidcEnabled } from "@/server/env";
import { SESSION_ENDED_MESSAGE, SESSION_ENDED_REASON } from "../_components/session-end";
import { SignInForm } from "./sign-in-form";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; callbackUrl?: string; reason?: string }> }) {
  if (await currentUser()) redirect("/");
  const env = loadServerEnv();
  const params = await searchParams;
  // Only our own origin: an attacker's link must not bounce a clinician to another site after sign-in.
  const callbackUrl = safeCallbackPath(params.callbackUrl, env.NEXTAUTH_URL ?? "http://localhost:3000");
  return (
    <main className="signin panel">
      <h1>Sign in to RADS Annotate</h1>
      {/* Sent here by the app after a 401 (app/_components/session-end.ts): say why, before the form. */}
      {params.reason === SESSION_ENDED_REASON && (
        <p role="status" data-testid="signin-reason" style={{ padding: "8px 12px", borderRadius: 6, background: "#fff4e5", color: "#8a4b00", border: "1px solid #f5c58a" }}>
          {SESSION_ENDED_MESSAGE}
        </p>
      )}
      <SignInForm oidcName={oidcEnabled(env) ? env.OIDC_DISPLAY_NAME : null} initialError={typeof params.error === "string" ? params.error : null} callbackUrl={callbackUrl} />
    </main>
  );
}
