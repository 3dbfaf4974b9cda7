/**
 * A short in-process memory of sessions that were just checked (issue 16): the per-request session
 * check (server/auth/session.ts → resolveSession: session open, user active, epoch current) costs
 * two statements and ~17 % of a `health.ping`'s CPU (docs/benchmarks.md, "Where a clinician call's
 * time goes"). Off by default (SESSION_CHECK_CACHE_MS=0: every request checks the database, and
 * deactivation ends access at the very next request). With SESSION_CHECK_CACHE_MS=n (1–10,000) only
 * a successful check is remembered, for n ms, keyed by the session id and matching the token's user
 * and epoch exactly; a failed check is never remembered. So deactivation, a role change (epoch
 * bump), the idle timeout and a sign-out in another process end access within n ms; a sign-out in
 * this process ends it at once (`forget`). Bounded to `maxEntries` sessions (oldest dropped first).
 */
import type { SessionUser } from "../services/auth-service";

/** The longest SESSION_CHECK_CACHE_MS allowed: access must end within seconds. */
export const MAX_SESSION_CHECK_CACHE_MS = 10_000;

/** SESSION_CHECK_CACHE_MS in ms (unset: 0, off); throws an error naming the variable for anything but 0–10,000. */
export function parseSessionCheckCacheMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > MAX_SESSION_CHECK_CACHE_MS) {
    throw new Error(`SESSION_CHECK_CACHE_MS must be a whole number of milliseconds from 0 (off) to ${MAX_SESSION_CHECK_CACHE_MS} (got "${raw}").`);
  }
  return value;
}

export interface SessionClaims {
  userId: string;
  epoch: number;
  sid: string;
}

export interface SessionCache {
  /** The cached user of `claims` while fresh, else `check()`'s result (remembered only when not null). */
  resolve(claims: SessionClaims, check: () => Promise<SessionUser | null>): Promise<SessionUser | null>;
  /** Drops a session at once (sign-out in this process). */
  forget(sid: string): void;
}

export function createSessionCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }): SessionCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { userId: string; epoch: number; user: SessionUser; until: number }>();
  return {
    async resolve(claims, check) {
      const hit = entries.get(claims.sid);
      if (hit && hit.until > now() && hit.userId === claims.userId && hit.epoch === claims.epoch) return hit.user;
      const checkedAt = now();
      const user = await check();
      entries.delete(claims.sid);
      if (user && options.ttlMs > 0) {
        entries.set(claims.sid, { userId: claims.userId, epoch: claims.epoch, user, until: checkedAt + options.ttlMs });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return user;
    },
    forget(sid) {
      entries.delete(sid);
    },
  };
}

const globalForCache = globalThis as unknown as { radsSessionCache?: SessionCache };

/** The web process's one session cache (SESSION_CHECK_CACHE_MS; 0 = every request asks the database). */
export function sessionCache(): SessionCache {
  globalForCache.radsSessionCache ??= createSessionCache({ ttlMs: parseSessionCheckCacheMs(process.env.SESSION_CHECK_CACHE_MS) });
  return globalForCache.radsSessionCache;
}
