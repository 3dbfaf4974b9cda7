import { redirect } from "next/navigation";
import { currentUser } from "@/server/auth/session";
import { loadServerEnv, oidcEnabled } from "@/server/env";
import { SignInForm } from "./sign-in-form";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; callbackUrl?: string }> }) {
  if (await currentUser()) redirect("/");
  const env = loadServerEnv();
  const params = await searchParams;
  return (
    <main className="signin panel">
      <h1>Sign in to RADS Annotate</h1>
      <SignInForm oidcName={oidcEnabled(env) ? env.OIDC_DISPLAY_NAME : null} initialError={params.error ?? null} callbackUrl={safeCallback(params.callbackUrl)} />
    </main>
  );
}

/** Only same-site paths: an attacker's link must not bounce a clinician to another site after sign-in. */
function safeCallback(url: string | undefined): string {
  return url && url.startsWith("/") && !url.startsWith("//") ? url : "/";
}
