import "server-only";
import { cookies } from "next/headers";
import { getDb } from "../db/client";
import { loadServerEnv } from "../env";
import { resolveSession, type SessionUser } from "../services/auth-service";
import { authOptions } from "./options";
import { sessionCache } from "./session-cache";
import { readSessionClaims, sessionTokenFrom } from "./session-token";

/**
 * The signed-in, still-active user of this request, or null: the session cookie must be a valid
 * token of ours (server/auth/session-token.ts: decrypted and expiry-checked as NextAuth does, with
 * the derived key kept instead of re-derived per request), its session still open on the server
 * (not signed out, not idle past SESSION_IDLE_MINUTES, not expired) and the user active with an
 * unchanged session epoch. With SESSION_CHECK_CACHE_MS set (off by default;
 * server/auth/session-cache.ts) a successful check is reused for at most that long, so
 * deactivation, an epoch bump or a sign-out elsewhere ends access within that time.
 */
export async function currentUser(): Promise<SessionUser | null> {
  const options = authOptions();
  const jar = await cookies();
  const token = sessionTokenFrom(new Map(jar.getAll().map((c) => [c.name, c.value])), options.useSecureCookies === true);
  const claims = await readSessionClaims(token, options.secret!);
  if (!claims) return null;
  return sessionCache().resolve(claims, () => resolveSession(getDb(), claims, { idleMinutes: loadServerEnv().SESSION_IDLE_MINUTES }));
}
