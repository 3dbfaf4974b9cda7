/**
 * Sign-in throttle counters and server-side sessions (tables LoginThrottle and AuthSession,
 * migration 0007_auth_hardening). The throttle step is ONE statement per key — an upsert whose
 * conflict branch both checks and increments — so parallel attempts cannot read the same count
 * (issue 12, fault 1). Times are computed here in JavaScript (UTC) and passed as parameters, the
 * same way Prisma writes DateTime columns, so the database's TimeZone setting plays no part.
 */
import type { Db, Role } from "./client";
import { prepared, sql } from "./sql";
import type { DbOrTx } from "./tx";

export interface ThrottleRule {
  /** Attempts admitted in a window before the delay starts. */
  free: number;
  /** Delay after attempt n ≥ free, in seconds: min(baseSeconds · 2^(n − free), maxSeconds). */
  baseSeconds: number;
  maxSeconds: number;
  /** A key whose window started longer ago than this starts counting again from 1, in seconds. */
  windowSeconds: number;
}

export type ThrottleResult = { admitted: true; attempts: number } | { admitted: false; retryAt: Date };

/**
 * Counts one attempt on `key`, unless the key is inside its delay (lockedUntil in the future): then
 * nothing is counted and the attempt is refused with the time it may be retried. Admitting attempt
 * n ≥ rule.free sets the next delay in the same statement, so of any number of parallel attempts
 * exactly those the rule allows are admitted.
 */
export async function consumeThrottle(db: DbOrTx, key: string, rule: ThrottleRule, now: Date = new Date()): Promise<ThrottleResult> {
  const windowCutoff = new Date(now.getTime() - rule.windowSeconds * 1000);
  const firstLock = rule.free <= 1 ? new Date(now.getTime() + Math.min(rule.baseSeconds, rule.maxSeconds) * 1000) : null;
  const rows = await db.$queryRaw<{ failures: number }[]>`
    INSERT INTO "LoginThrottle" ("key", "failures", "windowStartAt", "lockedUntil", "updatedAt")
    VALUES (${key}, 1, ${now}, ${firstLock}, ${now})
    ON CONFLICT ("key") DO UPDATE SET
      "failures" = CASE WHEN "LoginThrottle"."windowStartAt" < ${windowCutoff} THEN 1 ELSE "LoginThrottle"."failures" + 1 END,
      "windowStartAt" = CASE WHEN "LoginThrottle"."windowStartAt" < ${windowCutoff} THEN ${now} ELSE "LoginThrottle"."windowStartAt" END,
      "lockedUntil" = CASE
        WHEN (CASE WHEN "LoginThrottle"."windowStartAt" < ${windowCutoff} THEN 1 ELSE "LoginThrottle"."failures" + 1 END) >= ${rule.free}
        THEN ${now}::timestamp(3) + make_interval(secs => least(
          ${rule.baseSeconds}::float8 * power(2::float8, least((CASE WHEN "LoginThrottle"."windowStartAt" < ${windowCutoff} THEN 1 ELSE "LoginThrottle"."failures" + 1 END) - ${rule.free}, 40)),
          ${rule.maxSeconds}::float8))
        ELSE NULL END,
      "updatedAt" = ${now}
    WHERE "LoginThrottle"."lockedUntil" IS NULL OR "LoginThrottle"."lockedUntil" <= ${now}
    RETURNING "failures"`;
  const row = rows[0];
  if (row) return { admitted: true, attempts: Number(row.failures) };
  const current = await db.loginThrottle.findUnique({ where: { key }, select: { lockedUntil: true } });
  return { admitted: false, retryAt: current?.lockedUntil ?? new Date(now.getTime() + 1000) };
}

/** Forgets a key (a correct password clears its account and account+address counters). */
export async function clearThrottle(db: DbOrTx, key: string): Promise<void> {
  await db.loginThrottle.deleteMany({ where: { key } });
}

/** Takes back one counted attempt (a correct password from an address is not a failure of that address). */
export async function uncountThrottle(db: DbOrTx, key: string): Promise<void> {
  await db.$executeRaw`UPDATE "LoginThrottle" SET "failures" = greatest("failures" - 1, 0) WHERE "key" = ${key}`;
}

export function getThrottle(db: DbOrTx, key: string) {
  return db.loginThrottle.findUnique({ where: { key } });
}

/**
 * Deletes throttle rows untouched since `olderThan` and no longer delaying anyone, and sessions that
 * expired or were revoked before `olderThan`. Returns how many rows of each went.
 */
export async function pruneAuthTables(db: DbOrTx, olderThan: Date, now: Date = new Date()): Promise<{ throttles: number; sessions: number }> {
  const throttles = await db.loginThrottle.deleteMany({
    where: { updatedAt: { lt: olderThan }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] },
  });
  const sessions = await db.authSession.deleteMany({ where: { OR: [{ expiresAt: { lt: olderThan } }, { revokedAt: { lt: olderThan } }] } });
  return { throttles: throttles.count, sessions: sessions.count };
}

export function insertAuthSession(db: DbOrTx, row: { id: string; userId: string; expiresAt: Date; now?: Date }) {
  const now = row.now ?? new Date();
  return db.authSession.create({ data: { id: row.id, userId: row.userId, expiresAt: row.expiresAt, createdAt: now, lastSeenAt: now } });
}

export interface AuthSessionWithUser {
  id: string;
  userId: string;
  expiresAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
  user: { id: string; role: Role; name: string; email: string; active: boolean; sessionEpoch: number; mustChangePassword: boolean };
}

/** findAuthSessionWithUser's statement, kept prepared per connection (sql.ts `prepared`: parsed once per connection). */
const SESSION_WITH_USER = prepared(
  `SELECT s.id, s."userId", s."expiresAt", s."lastSeenAt", s."revokedAt", u.role::text AS role, u.name, u.email, u.active, u."sessionEpoch", u."mustChangePassword"
   FROM "AuthSession" s JOIN "User" u ON u.id = s."userId" WHERE s.id = $1`,
);

/**
 * The session with the user columns the session check needs (server/services/auth-service.ts
 * resolveSession), or null: ONE raw statement (a join) on every signed-in request — Prisma's
 * `include` sent two and cost ~1 ms of CPU per request in query building and mapping (issue 16).
 */
export async function findAuthSessionWithUser(db: Db, id: string): Promise<AuthSessionWithUser | null> {
  const [row] = await sql(db).query<Omit<AuthSessionWithUser, "user"> & { role: Role; name: string; email: string; active: boolean; sessionEpoch: number; mustChangePassword: boolean }>(SESSION_WITH_USER, [id]);
  if (!row) return null;
  return {
    id: row.id,
    userId: row.userId,
    expiresAt: row.expiresAt,
    lastSeenAt: row.lastSeenAt,
    revokedAt: row.revokedAt,
    user: { id: row.userId, role: row.role, name: row.name, email: row.email, active: row.active, sessionEpoch: row.sessionEpoch, mustChangePassword: row.mustChangePassword },
  };
}

/** Marks activity; only moves lastSeenAt forward, and only on a live session. */
export async function touchAuthSession(db: DbOrTx, id: string, now: Date = new Date()): Promise<void> {
  await db.authSession.updateMany({ where: { id, revokedAt: null, lastSeenAt: { lt: now } }, data: { lastSeenAt: now } });
}

/**
 * Ends every open session of a user (deactivation, a role change, a password reset by an admin: their session
 * epoch moves on, so none of these sessions can be used again): revoked on the server too, so the queue no longer
 * counts the user as at work and releases the cases they held at the next queue.next (queue-repo.ts release).
 * @returns how many sessions were still open
 */
export async function revokeUserSessions(db: DbOrTx, userId: string, now: Date = new Date()): Promise<number> {
  const result = await db.authSession.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
  return result.count;
}

/** Ends one session (sign-out, idle timeout); a no-op when it already ended. */
export async function revokeAuthSession(db: DbOrTx, id: string, now: Date = new Date()): Promise<number> {
  const result = await db.authSession.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
  return result.count;
}
