/**
 * A short in-process memory of sessions that were just checked (issue 16): the per-request session
 * check (server/auth/session.ts → resolveSession: session open, user active, epoch current) costs a
 * statement, a round trip and ~17 % of a `health.ping`'s CPU (docs/benchmarks.md, "Where a clinician
 * call's time goes"). On by default for 2,000 ms (SESSION_CHECK_CACHE_MS: 0 = off, every request asks
 * the database; at most 10,000).
 *
 * Only a successful check is remembered, for the TTL from when it was asked (not sliding), keyed by
 * the session id and matching the token's user and epoch exactly; a failed check is never
 * remembered, and a check that was in flight while something was forgotten is answered but not
 * remembered (it may have read the state from before the change).
 *
 * Ending or narrowing a session in a web process — sign-out, deactivation, a role change, a password
 * reset or change (each bumps the epoch and revokes the sessions) — calls `forgetEverywhere` after its
 * transaction commits: the session / user is dropped from this process's cache at once and, in a
 * cluster of web processes (scripts/lib/web-cluster.mjs), the cluster's primary relays it to every
 * other web process and answers once each has dropped it; `forgetEverywhere` waits for that answer
 * (at most the TTL: by then every copy has expired anyway). So the request that made the change
 * answers only after no web process will accept the session any more.
 * A change made outside the web processes (a CLI script, the worker, SQL by hand, another machine's
 * web processes) is not announced: it ends access within the TTL. The idle timeout stays exact to
 * within the TTL: a cached success is at most TTL old, and every database check past a minute since
 * the session's lastSeenAt moves it on (resolveSession), so requests answered from the cache never
 * leave lastSeenAt more than a minute + TTL behind.
 */
import cluster from "node:cluster";
import type { SessionUser } from "../services/auth-service";

/** The longest SESSION_CHECK_CACHE_MS allowed: access must end within seconds. */
export const MAX_SESSION_CHECK_CACHE_MS = 10_000;
/** SESSION_CHECK_CACHE_MS when unset. */
export const DEFAULT_SESSION_CHECK_CACHE_MS = 2_000;

/** SESSION_CHECK_CACHE_MS in ms (unset: 2,000; 0: off); throws an error naming the variable for anything but 0–10,000. */
export function parseSessionCheckCacheMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_SESSION_CHECK_CACHE_MS;
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

/** What to forget: one session (sign-out), every session of a user (deactivation, role, password), or both. */
export interface ForgetTarget {
  sid?: string;
  userId?: string;
}

export interface SessionCache {
  readonly ttlMs: number;
  /** The cached user of `claims` while fresh, else `check()`'s result (remembered only when not null). */
  resolve(claims: SessionClaims, check: () => Promise<SessionUser | null>): Promise<SessionUser | null>;
  /** Drops a session at once, in this process only (see `forgetEverywhere`). */
  forget(sid: string): void;
  /** Drops every session of a user at once, in this process only (see `forgetEverywhere`). */
  forgetUser(userId: string): void;
}

export function createSessionCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }): SessionCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { userId: string; epoch: number; user: SessionUser; until: number }>();
  // Moves on at every forget: a check that was in flight meanwhile may have read the earlier state.
  let generation = 0;
  return {
    ttlMs: options.ttlMs,
    async resolve(claims, check) {
      const hit = entries.get(claims.sid);
      if (hit && hit.until > now() && hit.userId === claims.userId && hit.epoch === claims.epoch) return hit.user;
      const checkedAt = now();
      const asked = generation;
      const user = await check();
      entries.delete(claims.sid);
      if (user && options.ttlMs > 0 && asked === generation) {
        entries.set(claims.sid, { userId: claims.userId, epoch: claims.epoch, user, until: checkedAt + options.ttlMs });
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      }
      return user;
    },
    forget(sid) {
      generation++;
      entries.delete(sid);
    },
    forgetUser(userId) {
      generation++;
      for (const [sid, entry] of entries) if (entry.userId === userId) entries.delete(sid);
    },
  };
}

/** Cluster messages (scripts/lib/session-relay.mjs relays them in the primary). */
export const SESSION_FORGET_MESSAGE = "rads:session-cache:forget";
export const SESSION_FORGOTTEN_MESSAGE = "rads:session-cache:forgotten";
export const SESSION_FORGET_DONE_MESSAGE = "rads:session-cache:forget-done";
export const SESSION_CACHE_READY_MESSAGE = "rads:session-cache:ready";

interface CacheMessage {
  type?: unknown;
  id?: unknown;
  sid?: unknown;
  userId?: unknown;
}

// One per process: Next.js's bundle and the tRPC server (scripts/web-server.mjs) may each load this module.
const globalForCache = globalThis as unknown as {
  radsSessionCache?: SessionCache;
  radsSessionCacheIpc?: { next: number; waiting: Map<number, () => void> };
};

function applyForget(cache: SessionCache, target: ForgetTarget): void {
  if (target.sid) cache.forget(target.sid);
  if (target.userId) cache.forgetUser(target.userId);
}

/**
 * Applies a relayed forget to this process's cache and acknowledges it, or resolves this process's
 * own forget once the primary says every other process has applied it. Exported for tests.
 */
export function handleSessionCacheMessage(message: unknown, send: (reply: object) => void): void {
  if (!message || typeof message !== "object") return;
  const m = message as CacheMessage;
  if (m.type === SESSION_FORGET_MESSAGE) {
    applyForget(sessionCache(), { sid: typeof m.sid === "string" ? m.sid : undefined, userId: typeof m.userId === "string" ? m.userId : undefined });
    send({ type: SESSION_FORGOTTEN_MESSAGE, id: m.id });
  } else if (m.type === SESSION_FORGET_DONE_MESSAGE && typeof m.id === "number") {
    const done = globalForCache.radsSessionCacheIpc?.waiting.get(m.id);
    globalForCache.radsSessionCacheIpc?.waiting.delete(m.id);
    done?.();
  }
}

/** In a cluster web process: listens for relayed forgets and tells the primary it does (once per process). */
function joinCluster(): { next: number; waiting: Map<number, () => void> } | null {
  if (!cluster.isWorker || typeof process.send !== "function") return null;
  if (!globalForCache.radsSessionCacheIpc) {
    globalForCache.radsSessionCacheIpc = { next: 1, waiting: new Map() };
    const send = (reply: object) => {
      if (process.connected) process.send!(reply);
    };
    process.on("message", (message) => handleSessionCacheMessage(message, send));
    send({ type: SESSION_CACHE_READY_MESSAGE });
  }
  return globalForCache.radsSessionCacheIpc;
}

/** The web process's one session cache (SESSION_CHECK_CACHE_MS; 0 = every request asks the database). */
export function sessionCache(): SessionCache {
  if (!globalForCache.radsSessionCache) {
    globalForCache.radsSessionCache = createSessionCache({ ttlMs: parseSessionCheckCacheMs(process.env.SESSION_CHECK_CACHE_MS) });
    // Before the first entry can exist: a relayed forget must reach every process that may hold one.
    joinCluster();
  }
  return globalForCache.radsSessionCache;
}

/**
 * Replaces this process's cache (tests and benchmarks: e.g. one with a clock of their own) and, in a
 * cluster web process, joins the primary's relay as `sessionCache()` does.
 */
export function setSessionCache(cache: SessionCache): void {
  globalForCache.radsSessionCache = cache;
  joinCluster();
}

/**
 * Forgets a session and/or a user's sessions in every web process: here at once, and in the other
 * processes of the cluster through its primary; resolves once they have all done it (or after the
 * TTL, when every cached copy has expired anyway). Call it after the change has committed.
 */
export async function forgetEverywhere(target: ForgetTarget): Promise<void> {
  const cache = sessionCache();
  applyForget(cache, target);
  const ipc = joinCluster();
  if (!ipc || cache.ttlMs === 0 || !process.connected) return;
  const id = ipc.next++;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ipc.waiting.delete(id);
      resolve();
    }, cache.ttlMs);
    timer.unref();
    ipc.waiting.set(id, () => {
      clearTimeout(timer);
      resolve();
    });
    process.send!({ type: SESSION_FORGET_MESSAGE, id, ...(target.sid ? { sid: target.sid } : {}), ...(target.userId ? { userId: target.userId } : {}) });
  });
}
