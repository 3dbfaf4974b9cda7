/**
 * Sign-in decisions: password check with throttling, OIDC account linking, and server-side
 * sessions (sign-out revokes, idle timeout, deactivation and epoch bumps take effect at once).
 *
 * Throttling (issue 12, faults 1 and 2). Every attempt is counted BEFORE the password is hashed,
 * each key in one atomic upsert (server/db/auth-repo.ts), on three keys in this order:
 *   a:<address>          any account from one client address: LOGIN_MAX_FAILURES_PER_ADDRESS free
 *                        attempts per window, then a doubling delay up to the window (one address
 *                        can neither spray many accounts nor burn CPU);
 *   e:<e-mail>           one account from any address: LOGIN_MAX_FAILURES free, then a doubling
 *                        delay capped at LOGIN_MAX_DELAY_SECONDS — slows distributed guessing, but
 *                        is never a long lock that anyone could put on anyone's account;
 *   ea:<e-mail>|<address> one account from one address: LOGIN_MAX_FAILURES attempts lock this pair
 *                        for LOGIN_LOCK_MINUTES (the attacker locks only themselves out).
 * A correct password clears the e: and ea: keys and takes its attempt back from the a: key.
 */
import crypto from "node:crypto";
import type { Db, Role } from "../db/client";
import { DomainError } from "../errors";
import { dummyPasswordHash, verifyPassword } from "../auth/password";
import { forgetEverywhere } from "../auth/session-cache";
import { findUserByEmail, findUserById, findUserByOidcSubject, insertUser, linkOidcSubject } from "../db/users-repo";
import {
  clearThrottle,
  consumeThrottle,
  findAuthSessionWithUser,
  insertAuthSession,
  pruneAuthTables,
  revokeAuthSession,
  touchAuthSession,
  uncountThrottle,
  type ThrottleRule,
} from "../db/auth-repo";
import { insertAuditEvent } from "../db/audit-repo";
import { logger } from "../log";
import type { Actor } from "./context";

export interface ThrottlePolicy {
  /** Failures that lock one account for one client address (and start the account-wide delay). */
  maxFailures: number;
  /** The lock's length and every counter's window, in minutes. */
  lockMinutes: number;
  /** Attempts per window from one address, any accounts, before its delay starts (default 20). */
  maxFailuresPerAddress?: number;
  /** The account-wide progressive delay's cap, in seconds (default 60). */
  maxDelaySeconds?: number;
}

/** Where a sign-in came from: the client address bucket (server/auth/client-address.ts) and User-Agent. */
export interface SignInClient {
  address: string;
  /** The client's User-Agent (cut to 200 characters), recorded in the sign-in audit events. */
  userAgent?: string | null;
}

export interface SessionUser extends Actor {
  sessionEpoch: number;
}

function toSessionUser(user: { id: string; role: Role; name: string; email: string; sessionEpoch: number; mustChangePassword?: boolean }): SessionUser {
  return { id: user.id, role: user.role, name: user.name, email: user.email, sessionEpoch: user.sessionEpoch, mustChangePassword: user.mustChangePassword === true };
}

export const throttleKeys = {
  address: (address: string) => `a:${address}`,
  account: (email: string) => `e:${email}`,
  pair: (email: string, address: string) => `ea:${email}|${address}`,
};

function throttled(retryAt: Date, now: Date): DomainError {
  const seconds = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000));
  const when = seconds < 120 ? `${seconds} second${seconds === 1 ? "" : "s"}` : `${Math.ceil(seconds / 60)} minutes`;
  return new DomainError("THROTTLED", `Too many failed sign-in attempts. Try again in ${when}.`, { seconds, minutes: Math.ceil(seconds / 60) });
}

const PRUNE_EVERY_MS = 10 * 60_000;
let lastPruneAt = 0;

/** Deletes old throttle rows and ended sessions, at most every 10 minutes per process. */
export async function maybePruneAuthTables(db: Db, policy: ThrottlePolicy, now: Date = new Date()): Promise<void> {
  if (now.getTime() - lastPruneAt < PRUNE_EVERY_MS) return;
  lastPruneAt = now.getTime();
  const keepSeconds = Math.max(policy.lockMinutes * 60, policy.maxDelaySeconds ?? 60);
  const removed = await pruneAuthTables(db, new Date(now.getTime() - keepSeconds * 1000), now);
  if (removed.throttles || removed.sessions) logger.info("pruned sign-in tables", removed);
}

/**
 * Returns the user for a correct e-mail and password, or null. Throws THROTTLED (details.seconds:
 * when to retry) when the attempt is refused before the password is checked — also for unknown
 * addresses, so the answer reveals nothing. `client` is omitted only by internal callers (no
 * per-address key then); the sign-in route always passes one.
 */
export async function authenticateWithPassword(
  db: Db,
  emailRaw: string,
  password: string,
  policy: ThrottlePolicy,
  client?: SignInClient,
): Promise<SessionUser | null> {
  const email = emailRaw.trim().toLowerCase();
  const now = new Date();
  const windowSeconds = policy.lockMinutes * 60;
  const address = client?.address ?? "-";
  const rules: { key: string; rule: ThrottleRule }[] = [
    ...(client
      ? [{ key: throttleKeys.address(address), rule: { free: policy.maxFailuresPerAddress ?? 20, baseSeconds: 1, maxSeconds: windowSeconds, windowSeconds } }]
      : []),
    { key: throttleKeys.account(email), rule: { free: policy.maxFailures, baseSeconds: 1, maxSeconds: policy.maxDelaySeconds ?? 60, windowSeconds } },
    { key: throttleKeys.pair(email, address), rule: { free: policy.maxFailures, baseSeconds: windowSeconds, maxSeconds: windowSeconds, windowSeconds } },
  ];
  await maybePruneAuthTables(db, policy, now).catch((error: unknown) => logger.warn("pruning sign-in tables failed", { error: String(error) }));
  for (const { key, rule } of rules) {
    const result = await consumeThrottle(db, key, rule, now);
    if (!result.admitted) {
      logger.info("sign-in refused by throttle", { kind: key.slice(0, key.indexOf(":")) });
      throw throttled(result.retryAt, now);
    }
  }

  const user = await findUserByEmail(db, email);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (ok && user && user.active && user.passwordHash) {
    await clearThrottle(db, throttleKeys.account(email));
    await clearThrottle(db, throttleKeys.pair(email, address));
    if (client) await uncountThrottle(db, throttleKeys.address(address));
    await insertAuditEvent(db, {
      actorId: user.id,
      actorRole: user.role,
      action: "auth.sign-in",
      targetType: "User",
      targetId: user.id,
      details: { method: "password", ...(client ? { address, userAgent: client.userAgent ?? null } : {}) },
    });
    return toSessionUser(user);
  }
  if (user) {
    await insertAuditEvent(db, {
      actorId: null,
      actorRole: null,
      action: "auth.sign-in-failed",
      targetType: "User",
      targetId: user.id,
      details: client ? { address, userAgent: client.userAgent ?? null } : {},
    });
  }
  logger.info("sign-in failed", { userId: user?.id ?? null });
  return null;
}

export type OidcRefusal = "AccountDisabled" | "OidcEmailNotVerified" | "OidcDomainNotAllowed";

export interface OidcPolicy {
  /** Role of a user provisioned at first sign-in; ADMIN is refused. */
  defaultRole: Role;
  /** Lower-case e-mail domains allowed to sign in; empty: any. */
  allowedDomains: readonly string[];
}

/**
 * Finds or creates the user behind an OIDC identity (issue 12, fault 11). A known subject signs in
 * as its user. Otherwise the IdP must vouch for the e-mail (email_verified): only then is an
 * existing account with that e-mail linked, or a new one provisioned with the default role (never
 * ADMIN). With allowedDomains set, e-mails of other domains are refused. Linking and provisioning
 * are audited.
 */
export async function resolveOidcUser(
  db: Db,
  profile: { subject: string; email: string; emailVerified: boolean; name: string },
  policy: OidcPolicy,
  client?: SignInClient,
): Promise<{ user: SessionUser } | { refused: OidcRefusal }> {
  if (policy.defaultRole === "ADMIN") throw new Error("OIDC default role may not be ADMIN");
  const email = profile.email.trim().toLowerCase();
  const domain = email.slice(email.lastIndexOf("@") + 1);
  if (policy.allowedDomains.length > 0 && !policy.allowedDomains.includes(domain)) return { refused: "OidcDomainNotAllowed" };
  let user = await findUserByOidcSubject(db, profile.subject);
  if (!user) {
    if (!profile.emailVerified) return { refused: "OidcEmailNotVerified" };
    const byEmail = await findUserByEmail(db, email);
    if (byEmail) {
      if (!byEmail.active) return { refused: "AccountDisabled" };
      user = await linkOidcSubject(db, byEmail.id, profile.subject);
      await insertAuditEvent(db, { actorId: user.id, actorRole: user.role, action: "user.link-oidc", targetType: "User", targetId: user.id, details: { domain } });
    } else {
      const created = await insertUser(db, { email, name: profile.name || email, role: policy.defaultRole, passwordHash: null, oidcSubject: profile.subject });
      user = await findUserById(db, created.id);
      await insertAuditEvent(db, { actorId: created.id, actorRole: policy.defaultRole, action: "user.create-from-oidc", targetType: "User", targetId: created.id });
    }
  }
  if (!user || !user.active) return { refused: "AccountDisabled" };
  await insertAuditEvent(db, { actorId: user.id, actorRole: user.role, action: "auth.sign-in", targetType: "User", targetId: user.id, details: { method: "oidc", ...(client ? { address: client.address, userAgent: client.userAgent ?? null } : {}) } });
  return { user: toSessionUser(user) };
}

/** The session is valid only while the user is active and nothing bumped their session epoch. */
export async function resolveSessionUser(db: Db, userId: string, sessionEpoch: number): Promise<SessionUser | null> {
  const user = await findUserById(db, userId);
  if (!user || !user.active || user.sessionEpoch !== sessionEpoch) return null;
  return toSessionUser(user);
}

/** A session's longest life (also the JWT's maxAge), in seconds. */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;
/** lastSeenAt is written at most this often per session (not on every request). */
const TOUCH_EVERY_MS = 60_000;

/** Opens a server-side session for a user who just signed in; returns its id (the JWT's sid). */
export async function startSession(db: Db, userId: string, now: Date = new Date()): Promise<string> {
  const id = crypto.randomBytes(24).toString("base64url");
  await insertAuthSession(db, { id, userId, expiresAt: new Date(now.getTime() + SESSION_MAX_AGE_SECONDS * 1000), now });
  return id;
}

/**
 * The user of a session token's claims, or null when the session was revoked (sign-out), has
 * expired, was idle longer than `idleMinutes` (it is revoked then), belongs to someone else, or the
 * user is inactive or their epoch moved on. Marks the session as active (at most once a minute).
 */
export async function resolveSession(
  db: Db,
  claims: { userId: string; epoch: number; sid: string },
  options: { idleMinutes: number },
  now: Date = new Date(),
): Promise<SessionUser | null> {
  const session = await findAuthSessionWithUser(db, claims.sid);
  if (!session || session.userId !== claims.userId || session.revokedAt || session.expiresAt <= now) return null;
  if (now.getTime() - session.lastSeenAt.getTime() > options.idleMinutes * 60_000) {
    if ((await revokeAuthSession(db, session.id, now)) > 0) {
      await insertAuditEvent(db, { actorId: session.userId, actorRole: session.user.role, action: "auth.session-idle", targetType: "User", targetId: session.userId, details: { idleMinutes: options.idleMinutes } });
    }
    return null;
  }
  const user = session.user;
  if (!user.active || user.sessionEpoch !== claims.epoch) return null;
  if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await touchAuthSession(db, session.id, now);
  return toSessionUser(user);
}

/**
 * Sign-out: revokes the session on the server (a copied cookie stops working) and audits it, then
 * drops it from every web process's session-check cache (server/auth/session-cache.ts).
 */
export async function endSession(db: Db, sid: string, now: Date = new Date()): Promise<boolean> {
  const session = await findAuthSessionWithUser(db, sid);
  if (!session) return false;
  const revoked = (await revokeAuthSession(db, sid, now)) > 0;
  if (revoked) {
    await insertAuditEvent(db, { actorId: session.userId, actorRole: session.user.role, action: "auth.sign-out", targetType: "User", targetId: session.userId });
  }
  await forgetEverywhere({ sid });
  return revoked;
}
