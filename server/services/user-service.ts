/**
 * User administration (ADMIN). Every change is audited in the same transaction as the change.
 * Creating a user can add them to projects in the same step (each project checked through the
 * front door with "members.manage", so an admin adds people only where they may manage members).
 *
 * An admin never holds a usable password of someone else (issue 12, fault 5): a new account's
 * password (generated or typed by the admin) and a reset's temporary password are must-change
 * (User.mustChangePassword): with it the holder may call nothing but me.get and
 * account.changePassword (server/api/trpc.ts) and no REST route, so an admin who signs in with a
 * password they handed out cannot act as that user (e.g. approve a model as the reviewer) without
 * first replacing it, which locks the real owner out and is audited as user.change-password
 * (wasRequired: true) right after the admin's user.reset-password.
 */
import crypto from "node:crypto";
import type { CreateUserInput, ResetPasswordInput, SetActiveInput, SetRoleInput } from "@/contracts/users";
import { DomainError } from "../errors";
import { hashPassword } from "../auth/password";
import { insertProjectMember } from "../db/members-repo";
import { revokeUserSessions } from "../db/auth-repo";
import { forgetEverywhere } from "../auth/session-cache";
import { countActiveAdmins, findUserByEmail, findUserById, insertUser, listUsers, setUserPasswordHash, updateUserAccess } from "../db/users-repo";
import type { ServiceContext } from "./context";
import { assertRoleAllowedFor } from "./member-service";
import { requireProject } from "./project-access";

function temporaryPassword(): string {
  // 18 random bytes → 24 URL-safe characters: well above the 12-character minimum.
  return crypto.randomBytes(18).toString("base64url");
}

export function listAllUsers(ctx: ServiceContext) {
  return listUsers(ctx.db);
}

export async function createUser(ctx: ServiceContext, input: Omit<CreateUserInput, "projects"> & Partial<Pick<CreateUserInput, "projects">>) {
  if (await findUserByEmail(ctx.db, input.email)) {
    throw new DomainError("CONFLICT", `A user with the e-mail ${input.email} already exists.`, { field: "email" });
  }
  const memberships = input.projects ?? [];
  for (const membership of memberships) {
    assertRoleAllowedFor(input.role, membership.role, "projects");
    await requireProject(ctx, membership.projectId, "members.manage", { write: true });
  }
  const password = input.initialPassword || temporaryPassword();
  const passwordHash = await hashPassword(password);
  const user = await ctx.db.$transaction(async (tx) => {
    const created = await insertUser(tx, { email: input.email, name: input.name, role: input.role, passwordHash, mustChangePassword: true });
    await ctx.audit.record(tx, { action: "user.create", targetType: "User", targetId: created.id, details: { role: input.role, projects: memberships.map((m) => m.projectId), mustChange: true } });
    for (const membership of memberships) {
      await insertProjectMember(tx, membership.projectId, created.id, membership.role);
      await ctx.audit.record(tx, { action: "project.member.add", targetType: "User", targetId: created.id, projectId: membership.projectId, details: { before: null, after: { role: membership.role } } });
    }
    return created;
  });
  // The admin's own initial password is must-change too: they know it, the user must replace it.
  return { user, temporaryPassword: input.initialPassword ? null : password };
}

/** The platform must always keep one active admin, or nobody could manage users any more. */
async function assertNotLastAdmin(ctx: ServiceContext, userId: string, change: string) {
  const target = await findUserById(ctx.db, userId);
  if (!target) throw new DomainError("NOT_FOUND", "No such user.");
  if (target.role === "ADMIN" && target.active && (await countActiveAdmins(ctx.db)) <= 1) {
    throw new DomainError("CONFLICT", `Cannot ${change} the last active admin.`);
  }
  return target;
}

export async function setUserRole(ctx: ServiceContext, input: SetRoleInput) {
  const target = await findUserById(ctx.db, input.userId);
  if (!target) throw new DomainError("NOT_FOUND", "No such user.");
  if (target.role === input.role) return { id: target.id, email: target.email, name: target.name, role: target.role, active: target.active };
  if (target.role === "ADMIN") await assertNotLastAdmin(ctx, input.userId, "change the role of");
  const updated = await ctx.db.$transaction(async (tx) => {
    const updated = await updateUserAccess(tx, input.userId, { role: input.role });
    await revokeUserSessions(tx, input.userId);
    await ctx.audit.record(tx, { action: "user.set-role", targetType: "User", targetId: input.userId, details: { from: target.role, to: input.role } });
    return updated;
  });
  // Committed: no web process may answer from a cached session check of the user any more.
  await forgetEverywhere({ userId: input.userId });
  return updated;
}

export async function setUserActive(ctx: ServiceContext, input: SetActiveInput) {
  if (!input.active && ctx.actor?.id === input.userId) {
    throw new DomainError("CONFLICT", "You cannot deactivate your own account.");
  }
  const target = input.active ? await findUserById(ctx.db, input.userId) : await assertNotLastAdmin(ctx, input.userId, "deactivate");
  if (!target) throw new DomainError("NOT_FOUND", "No such user.");
  const updated = await ctx.db.$transaction(async (tx) => {
    const updated = await updateUserAccess(tx, input.userId, { active: input.active });
    // The epoch bump ends the user's sessions; revoking them on the server too frees the cases they held at once.
    await revokeUserSessions(tx, input.userId);
    await ctx.audit.record(tx, { action: input.active ? "user.activate" : "user.deactivate", targetType: "User", targetId: input.userId });
    return updated;
  });
  await forgetEverywhere({ userId: input.userId });
  return updated;
}

/**
 * A new temporary password for a user (shown once to the admin, to hand over): must-change, and
 * every session of the user ends (epoch bump). Errors: NOT_FOUND.
 */
export async function resetUserPassword(ctx: ServiceContext, input: ResetPasswordInput) {
  const target = await findUserById(ctx.db, input.userId);
  if (!target) throw new DomainError("NOT_FOUND", "No such user.");
  const password = temporaryPassword();
  const passwordHash = await hashPassword(password);
  await ctx.db.$transaction(async (tx) => {
    await setUserPasswordHash(tx, input.userId, passwordHash, { mustChange: true });
    await revokeUserSessions(tx, input.userId);
    await ctx.audit.record(tx, { action: "user.reset-password", targetType: "User", targetId: input.userId, details: { mustChange: true } });
  });
  await forgetEverywhere({ userId: input.userId });
  return { temporaryPassword: password };
}
