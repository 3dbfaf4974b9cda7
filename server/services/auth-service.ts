/**
 * Sign-in decisions: password check with throttling, OIDC account linking, and the per-request
 * check that a session still belongs to an active user (deactivation takes effect at once).
 */
import type { Db, Role } from "../db/client";
import { DomainError } from "../errors";
import { dummyPasswordHash, verifyPassword } from "../auth/password";
import {
  clearLoginThrottle,
  findUserByEmail,
  findUserById,
  findUserByOidcSubject,
  getLoginThrottle,
  insertUser,
  linkOidcSubject,
  saveLoginThrottle,
} from "../db/users-repo";
import { insertAuditEvent } from "../db/audit-repo";
import { logger } from "../log";
import type { Actor } from "./context";

export interface ThrottlePolicy {
  maxFailures: number;
  lockMinutes: number;
}

export interface SessionUser extends Actor {
  sessionEpoch: number;
}

function toSessionUser(user: { id: string; role: Role; name: string; email: string; sessionEpoch: number; mustChangePassword?: boolean }): SessionUser {
  return { id: user.id, role: user.role, name: user.name, email: user.email, sessionEpoch: user.sessionEpoch, mustChangePassword: user.mustChangePassword === true };
}

/**
 * Returns the user for a correct e-mail and password, or null. Throws THROTTLED while the address
 * is locked after too many failures — also for unknown addresses, so the answer reveals nothing.
 */
export async function authenticateWithPassword(db: Db, emailRaw: string, password: string, policy: ThrottlePolicy): Promise<SessionUser | null> {
  const email = emailRaw.trim().toLowerCase();
  const now = new Date();
  const throttle = await getLoginThrottle(db, email);
  if (throttle?.lockedUntil && throttle.lockedUntil > now) {
    const minutes = Math.max(1, Math.ceil((throttle.lockedUntil.getTime() - now.getTime()) / 60_000));
    throw new DomainError("THROTTLED", `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`, { minutes });
  }
  const user = await findUserByEmail(db, email);
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
  if (ok && user && user.active && user.passwordHash) {
    if (throttle) await clearLoginThrottle(db, email);
    await insertAuditEvent(db, { actorId: user.id, actorRole: user.role, action: "auth.sign-in", targetType: "User", targetId: user.id, details: { method: "password" } });
    return toSessionUser(user);
  }
  const windowExpired = !throttle || now.getTime() - throttle.windowStartAt.getTime() > policy.lockMinutes * 60_000;
  const failures = windowExpired ? 1 : throttle.failures + 1;
  const lockedUntil = failures >= policy.maxFailures ? new Date(now.getTime() + policy.lockMinutes * 60_000) : null;
  await saveLoginThrottle(db, { email, failures, windowStartAt: windowExpired ? now : throttle.windowStartAt, lockedUntil });
  if (user) {
    await insertAuditEvent(db, { actorId: null, actorRole: null, action: lockedUntil ? "auth.locked" : "auth.sign-in-failed", targetType: "User", targetId: user.id });
  }
  logger.info("sign-in failed", { userId: user?.id ?? null, locked: Boolean(lockedUntil) });
  return null;
}

/** Finds or creates the user behind an OIDC identity; links an existing account with the same e-mail. */
export async function resolveOidcUser(db: Db, profile: { subject: string; email: string; name: string }, defaultRole: Role): Promise<SessionUser | null> {
  const email = profile.email.trim().toLowerCase();
  let user = await findUserByOidcSubject(db, profile.subject);
  if (!user) {
    const byEmail = await findUserByEmail(db, email);
    if (byEmail) {
      user = await linkOidcSubject(db, byEmail.id, profile.subject);
    } else {
      const created = await insertUser(db, { email, name: profile.name || email, role: defaultRole, passwordHash: null, oidcSubject: profile.subject });
      user = await findUserById(db, created.id);
      await insertAuditEvent(db, { actorId: created.id, actorRole: defaultRole, action: "user.create-from-oidc", targetType: "User", targetId: created.id });
    }
  }
  if (!user || !user.active) return null;
  await insertAuditEvent(db, { actorId: user.id, actorRole: user.role, action: "auth.sign-in", targetType: "User", targetId: user.id, details: { method: "oidc" } });
  return toSessionUser(user);
}

/** The session is valid only while the user is active and nothing bumped their session epoch. */
export async function resolveSessionUser(db: Db, userId: string, sessionEpoch: number): Promise<SessionUser | null> {
  const user = await findUserById(db, userId);
  if (!user || !user.active || user.sessionEpoch !== sessionEpoch) return null;
  return toSessionUser(user);
}
