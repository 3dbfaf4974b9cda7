/** Project members and their roles (server/services/member-service.ts). */
import type { Role } from "./generated/client";
import type { DbOrTx } from "./tx";

const memberSelect = {
  role: true,
  createdAt: true,
  user: { select: { id: true, name: true, email: true, role: true, active: true } },
} as const;

/** Every member of the project with the user's name, e-mail, platform role and whether the account is active. */
export function listProjectMembers(db: DbOrTx, projectId: string) {
  return db.projectMember.findMany({ where: { projectId }, select: memberSelect, orderBy: [{ user: { name: "asc" } }, { userId: "asc" }] });
}

export function findProjectMember(db: DbOrTx, projectId: string, userId: string) {
  return db.projectMember.findUnique({ where: { projectId_userId: { projectId, userId } }, select: memberSelect });
}

export function insertProjectMember(db: DbOrTx, projectId: string, userId: string, role: Role) {
  return db.projectMember.create({ data: { projectId, userId, role }, select: memberSelect });
}

export function updateProjectMemberRole(db: DbOrTx, projectId: string, userId: string, role: Role) {
  return db.projectMember.update({ where: { projectId_userId: { projectId, userId } }, data: { role }, select: memberSelect });
}

export function deleteProjectMember(db: DbOrTx, projectId: string, userId: string) {
  return db.projectMember.delete({ where: { projectId_userId: { projectId, userId } } });
}

/** Active members whose project role is one of `roles` (e.g. the roles that may manage members). */
export function countActiveMembersWithRole(db: DbOrTx, projectId: string, roles: readonly Role[]) {
  return db.projectMember.count({ where: { projectId, role: { in: [...roles] }, user: { active: true } } });
}

/** Serialises membership changes of one project until the transaction ends (727021: members). */
export async function lockProjectMembership(db: DbOrTx, projectId: string) {
  await db.$queryRaw`SELECT pg_advisory_xact_lock(727021, hashtext(${projectId}))::text AS locked`;
}

/** Active users who are not members of the project yet (the "add member" choices). */
export function listActiveNonMembers(db: DbOrTx, projectId: string) {
  return db.user.findMany({
    where: { active: true, memberships: { none: { projectId } } },
    select: { id: true, name: true, email: true, role: true },
    orderBy: [{ name: "asc" }, { email: "asc" }],
  });
}

/** Whether the user belongs to any project (the overview shows who to ask when not). */
export async function hasAnyMembership(db: DbOrTx, userId: string) {
  return (await db.projectMember.count({ where: { userId } })) > 0;
}

/**
 * Who can add a user to a project: active platform admins, and active users who hold one of
 * `managerRoles` in a project that is not archived. Name, e-mail, platform role, and the names of the
 * projects they manage.
 */
export function listPeopleWhoCanAddMembers(db: DbOrTx, managerRoles: readonly Role[]) {
  return db.user.findMany({
    where: { active: true, OR: [{ role: "ADMIN" }, { memberships: { some: { role: { in: [...managerRoles] }, project: { archivedAt: null } } } }] },
    select: {
      id: true,
      name: true,
      email: true,
      role: true,
      memberships: { where: { role: { in: [...managerRoles] }, project: { archivedAt: null } }, select: { project: { select: { name: true } } }, orderBy: { project: { name: "asc" } } },
    },
    orderBy: [{ name: "asc" }, { email: "asc" }],
  });
}

/**
 * Every project of the platform (platform admins' overview): name, description, state, counts, the
 * active members holding one of `managerRoles` (who manage it), and `userId`'s own role there.
 */
export function listAllProjectsWithManagers(db: DbOrTx, managerRoles: readonly Role[], userId: string) {
  return db.project.findMany({
    orderBy: [{ archivedAt: { sort: "asc", nulls: "first" } }, { name: "asc" }],
    select: {
      id: true,
      name: true,
      description: true,
      caseContent: true,
      archivedAt: true,
      _count: { select: { cases: true, members: true } },
      members: {
        where: { OR: [{ userId }, { role: { in: [...managerRoles] }, user: { active: true } }] },
        select: { userId: true, role: true, user: { select: { name: true, email: true } } },
        orderBy: { user: { name: "asc" } },
      },
    },
  });
}

/** The project's id, name and archived time (null: no such project). */
export function findProjectForMembership(db: DbOrTx, projectId: string) {
  return db.project.findUnique({ where: { id: projectId }, select: { id: true, name: true, archivedAt: true } });
}
