/** Users (sign-in throttling and sessions: auth-repo.ts). */
import type { Role } from "./generated/client";
import type { DbOrTx } from "./tx";

export const publicUserFields = {
  id: true,
  email: true,
  name: true,
  role: true,
  active: true,
  createdAt: true,
  oidcSubject: true,
  mustChangePassword: true,
} as const;

export function findUserByEmail(db: DbOrTx, email: string) {
  return db.user.findUnique({ where: { email } });
}

export function findUserById(db: DbOrTx, id: string) {
  return db.user.findUnique({ where: { id } });
}

export function findUserByOidcSubject(db: DbOrTx, subject: string) {
  return db.user.findUnique({ where: { oidcSubject: subject } });
}

export function listUsers(db: DbOrTx) {
  return db.user.findMany({ select: publicUserFields, orderBy: [{ active: "desc" }, { email: "asc" }] });
}

export function insertUser(
  db: DbOrTx,
  data: { email: string; name: string; role: Role; passwordHash: string | null; oidcSubject?: string | null; mustChangePassword?: boolean },
) {
  return db.user.create({ data, select: publicUserFields });
}

/** Role or activity changes bump sessionEpoch, which ends the user's existing sessions at once. */
export function updateUserAccess(db: DbOrTx, id: string, change: { role?: Role; active?: boolean }) {
  return db.user.update({ where: { id }, data: { ...change, sessionEpoch: { increment: 1 } }, select: publicUserFields });
}

/** A password set by someone else (an admin's reset): ends the user's sessions; `mustChange` makes it temporary. */
export function setUserPasswordHash(db: DbOrTx, id: string, passwordHash: string, options: { mustChange: boolean }) {
  return db.user.update({ where: { id }, data: { passwordHash, mustChangePassword: options.mustChange, sessionEpoch: { increment: 1 } }, select: publicUserFields });
}

export function linkOidcSubject(db: DbOrTx, id: string, oidcSubject: string) {
  return db.user.update({ where: { id }, data: { oidcSubject } });
}

export function countActiveAdmins(db: DbOrTx) {
  return db.user.count({ where: { role: "ADMIN", active: true } });
}

/** The user's own new password: clears the must-change flag and ends every other session (epoch bump). */
export function setOwnPasswordHash(db: DbOrTx, id: string, passwordHash: string) {
  return db.user.update({ where: { id }, data: { passwordHash, mustChangePassword: false, sessionEpoch: { increment: 1 } }, select: publicUserFields });
}

/** How many user accounts exist at all (the first-admin bootstrap runs only on an empty platform). */
export function countUsers(db: DbOrTx) {
  return db.user.count();
}

/** Serialises first-admin bootstraps (web, worker and start script may race); a transaction lock (727020). */
export async function lockUserBootstrap(db: DbOrTx) {
  await db.$executeRawUnsafe("SELECT pg_advisory_xact_lock(727020)");
}

/** Active admins and data scientists: who a user without a project can ask to be added. */
export function listContactUsers(db: DbOrTx) {
  return db.user.findMany({
    where: { active: true, role: { in: ["ADMIN", "DATA_SCIENTIST"] } },
    select: { id: true, name: true, email: true, role: true },
    orderBy: [{ role: "asc" }, { name: "asc" }],
  });
}
