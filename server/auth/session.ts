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
 * unchanged session epoch. A successful check is reused for at most SESSION_CHECK_CACHE_MS
 * (2,000 ms by default, 0 = off; server/auth/session-cache.ts): a sign-out, deactivation, role change
 * or password reset/change made in any web process of this platform ends access at once in all of
 * them (forgetEverywhere); one made outside them (CLI, worker, SQL) within that time.
 * Reads the cookies of the current Next.js request (next/headers); outside Next's request scope
 * (the tRPC server of scripts/web-server.ts) use `sessionUser` with the request's Cookie header.
 */
export async function currentUser(): Promise<SessionUser | null> {
  const jar = await cookies();
  return sessionUserFromCookies(new Map(jar.getAll().map((c) => [c.name, c.value])));
}

/**
 * The same check as `currentUser` for a request's raw `Cookie` header (null/undefined/"": no cookies,
 * so no user). Used by the tRPC handler (server/api/trpc-http.ts) on both of its paths.
 */
export async function sessionUser(cookieHeader: string | null | undefined): Promise<SessionUser | null> {
  return sessionUserFromCookies(parseCookieHeader(cookieHeader));
}

/**
 * A Cookie header as name → value, read as Next.js's `cookies()` reads it: pairs split at ";",
 * the name up to the first "=", the value URI-decoded (a pair that does not decode is skipped), a
 * later pair of the same name replacing an earlier one.
 */
export function parseCookieHeader(header: string | null | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  if (!header) return jar;
  for (const pair of header.split(/; */)) {
    if (!pair) continue;
    const at = pair.indexOf("=");
    const name = at === -1 ? pair : pair.slice(0, at);
    const value = at === -1 ? "true" : pair.slice(at + 1);
    try {
      jar.set(name, decodeURIComponent(value));
    } catch {
      // a malformed escape: not a cookie of ours
    }
  }
  return jar;
}

async function sessionUserFromCookies(jar: ReadonlyMap<string, string>): Promise<SessionUser | null> {
  const options = authOptions();
  const token = sessionTokenFrom(jar, options.useSecureCookies === true);
  const claims = await readSessionClaims(token, options.secret!);
  if (!claims) return null;
  return sessionCache().resolve(claims, () => resolveSession(getDb(), claims, { idleMinutes: loadServerEnv().SESSION_IDLE_MINUTES }));
}
