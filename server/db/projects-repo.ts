/** Projects, as seen by their members. Membership is part of every where-clause: a non-member finds nothing. */
import type { Db, Role } from "./client";
import { prepared, sql } from "./sql";
import type { DbOrTx } from "./tx";

/** The columns of a project the front door returns (server/services/project-access.ts). */
export const PROJECT_ACCESS_SELECT = {
  id: true,
  name: true,
  description: true,
  caseContent: true,
  labelSchema: true,
  minorityClasses: true,
  selectionParams: true,
  encoderConfig: true,
  settings: true,
  archivedAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** findProjectMembership's statement, kept prepared per connection (sql.ts `prepared`: parsed once per connection). */
const MEMBERSHIP = prepared(
  `SELECT m.role::text AS role, p.id, p.name, p.description, p."caseContent", p."labelSchema", p."minorityClasses", p."selectionParams",
     p."encoderConfig", p.settings, p."archivedAt", p."createdAt", p."updatedAt"
   FROM "ProjectMember" m JOIN "Project" p ON p.id = m."projectId"
   WHERE m."projectId" = $1 AND m."userId" = $2`,
);

/**
 * The project `projectId` together with `userId`'s membership row — ONE raw statement (a join),
 * membership in the where-clause: a project the user is not a member of and a missing project both
 * give null. Raw SQL on the hot path (every project call goes through here; server/db/sql.ts): the
 * columns and types are those of PROJECT_ACCESS_SELECT through Prisma.
 * @returns { role, project } or null
 */
export async function findProjectMembership(db: Db, projectId: string, userId: string): Promise<{ role: Role; project: ProjectAccessRow } | null> {
  const [row] = await sql(db).query<ProjectAccessRow & { role: Role }>(MEMBERSHIP, [projectId, userId]);
  if (!row) return null;
  const { role, ...project } = row;
  return { role, project };
}

/** A project by its (unique) name, without any membership check: for scripts (npm start, fixtures). */
export function findProjectByName(db: DbOrTx, name: string) {
  return db.project.findUnique({ where: { name }, select: { id: true, minorityClasses: true } });
}

/** The project without any membership check: for the system (jobs, CLI without --as) only. */
export function findProjectForSystem(db: DbOrTx, projectId: string) {
  return db.project.findUnique({ where: { id: projectId }, select: PROJECT_ACCESS_SELECT });
}

/** A project row as the front door returns it (the columns of PROJECT_ACCESS_SELECT). */
export type ProjectAccessRow = NonNullable<Awaited<ReturnType<typeof findProjectForSystem>>>;

/** The caller's role in each project they are a member of, and whether it is archived (navigation, lists). */
export async function listMembershipRoles(db: DbOrTx, userId: string) {
  const rows = await db.projectMember.findMany({ where: { userId }, select: { projectId: true, role: true, project: { select: { archivedAt: true } } } });
  return rows.map((row) => ({ projectId: row.projectId, role: row.role, archived: row.project.archivedAt !== null }));
}

/** Projects `projectIds` (the caller's, from the front door) with counts and the caller's membership row. */
export function listProjectsByIds(db: DbOrTx, projectIds: string[], userId: string) {
  return db.project.findMany({
    where: { id: { in: projectIds } },
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      name: true,
      description: true,
      labelSchema: true,
      minorityClasses: true,
      selectionParams: true,
      encoderConfig: true,
      settings: true,
      archivedAt: true,
      createdAt: true,
      members: { where: { userId }, select: { role: true } },
      _count: { select: { cases: true, members: true } },
    },
  });
}

export async function countCasesBySplit(db: DbOrTx, projectIds: string[]) {
  const rows = await db.case.groupBy({ by: ["projectId", "split"], where: { projectId: { in: projectIds } }, _count: { _all: true } });
  return rows.map((row) => ({ projectId: row.projectId, split: row.split, count: row._count._all }));
}

export function listModelVersions(db: DbOrTx, projectIds: string[]) {
  return db.modelVersion.findMany({
    where: { projectId: { in: projectIds } },
    orderBy: [{ projectId: "asc" }, { version: "desc" }],
    select: { id: true, projectId: true, version: true, status: true, createdAt: true, project: { select: { name: true } } },
  });
}

/** Pending items of each project's CURRENT (latest) round — older rounds are not the queue. */
export async function countOpenQueueItems(db: DbOrTx, projectIds: string[]) {
  const latestRounds = await db.selectionRound.findMany({
    where: { projectId: { in: projectIds } },
    orderBy: [{ projectId: "asc" }, { number: "desc" }],
    distinct: ["projectId"],
    select: { id: true },
  });
  return db.queueItem.count({ where: { roundId: { in: latestRounds.map((round) => round.id) }, status: "PENDING" } });
}
