/**
 * A user's own account: choosing a new password (required at first sign-in while
 * User.mustChangePassword is set), and the bootstrap of an empty platform's first admin
 * (`SEED_DEMO=false npm start`), whose generated password is printed once by scripts/start.ts.
 */
import crypto from "node:crypto";
import type { ChangePasswordInput } from "@/contracts/users";
import { hashPassword, verifyPassword } from "../auth/password";
import { forgetEverywhere } from "../auth/session-cache";
import { insertAuditEvent } from "../db/audit-repo";
import type { Db } from "../db/client";
import { countUsers, findUserById, insertUser, lockUserBootstrap, setOwnPasswordHash } from "../db/users-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";

/**
 * Replaces the caller's password after checking the current one. Clears mustChangePassword and
 * bumps the session epoch, so every session (this one included) ends: the user signs in again with
 * the new password. Errors: UNAUTHORIZED (not signed in), BAD_INPUT field currentPassword (wrong),
 * CONFLICT (a single-sign-on account without a password).
 */
export async function changeOwnPassword(ctx: ServiceContext, input: ChangePasswordInput): Promise<{ changed: true }> {
  if (!ctx.actor) throw new DomainError("UNAUTHORIZED", "Sign in first.");
  const user = await findUserById(ctx.db, ctx.actor.id);
  if (!user || !user.active) throw new DomainError("UNAUTHORIZED", "Sign in first.");
  if (!user.passwordHash) throw new DomainError("CONFLICT", "This account signs in through the hospital's single sign-on and has no password here.");
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
    throw new DomainError("BAD_INPUT", "The current password is not correct.", { field: "currentPassword" });
  }
  const passwordHash = await hashPassword(input.newPassword);
  await ctx.db.$transaction(async (tx) => {
    await setOwnPasswordHash(tx, user.id, passwordHash);
    await ctx.audit.record(tx, { action: "user.change-password", targetType: "User", targetId: user.id, details: { wasRequired: user.mustChangePassword } });
  });
  // The epoch moved on: no web process may answer from a cached check of the old sessions.
  await forgetEverywhere({ userId: user.id });
  return { changed: true };
}

export const DEFAULT_FIRST_ADMIN_EMAIL = "admin@rads.local";

export type FirstAdminResult = { created: false } | { created: true; email: string; password: string };

/**
 * Creates the one admin of an empty platform (no user at all), with a random 24-character
 * password and mustChangePassword set; returns the password so the caller can print it ONCE (it is
 * stored only as a scrypt hash). Does nothing when any user exists. Runs under an advisory lock, so
 * two starters cannot both create one. Audited as "user.create-first-admin" (no actor).
 */
export async function ensureFirstAdmin(db: Db, options: { email?: string; name?: string } = {}): Promise<FirstAdminResult> {
  if ((await countUsers(db)) > 0) return { created: false };
  const email = (options.email ?? DEFAULT_FIRST_ADMIN_EMAIL).trim().toLowerCase();
  const password = crypto.randomBytes(18).toString("base64url");
  const passwordHash = await hashPassword(password);
  return db.$transaction(async (tx) => {
    await lockUserBootstrap(tx);
    if ((await countUsers(tx)) > 0) return { created: false } as const;
    const user = await insertUser(tx, { email, name: options.name ?? "Administrator", role: "ADMIN", passwordHash, mustChangePassword: true });
    await insertAuditEvent(tx, { actorId: null, actorRole: null, action: "user.create-first-admin", targetType: "User", targetId: user.id, details: { role: "ADMIN" } });
    return { created: true, email, password } as const;
  });
}
