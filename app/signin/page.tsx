import { redirect } from "next/navigation";
import { currentUser } from "@/server/auth/session";
import { safeCallbackPath } from "@/server/auth/callback-url";
import { loadServerEnv, oidcEnabled } from "@/server/env";
import { SignInForm } from "./sign-in-form";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; callbackUrl?: string }> }) {
  if (await currentUser()) redirect("/");
  const env = loadServerEnv();
  const params = await searchParams;
  // Only our own origin: an attacker's link must not bounce a clinician to another site after sign-in.
  const callbackUrl = safeCallbackPath(params.callbackUrl, env.NEXTAUTH_URL ?? "http://localhost:3000");
  return (
    <main className="signin panel">
      <h1>Sign in to RADS Annotate</h1>
      <SignInForm oidcName={oidcEnabled(env) ? env.OIDC_DISPLAY_NAME : null} initialError={typeof params.error === "string" ? params.error : null} callbackUrl={callbackUrl} />
    </main>
  );
}
