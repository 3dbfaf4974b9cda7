/**
 * The one rule for the session-signing secret (issue 12, fault 9): it must be set, in every mode.
 * Without it NextAuth would derive one from its own configuration and the URL — public values —
 * so anyone could forge session cookies. The embedded demo gets a random one from scripts/start.ts.
 */
import { StartupError } from "../startup-error";

export const MISSING_SECRET_HINT =
  "Set NEXTAUTH_SECRET to a random value of at least 32 characters (e.g. `openssl rand -base64 32`); only the embedded database gets one generated for it.";

/** Throws a StartupError when no usable secret is configured; returns it otherwise. */
export function requireAuthSecret(secret: string | undefined): string {
  if (!secret || secret.trim().length === 0) {
    throw new StartupError("NEXTAUTH_SECRET is not set: sessions would be signed with a key derived from public configuration.", MISSING_SECRET_HINT);
  }
  return secret;
}
