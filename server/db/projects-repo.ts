/** Projects, as seen by their members. Membership is part of every where-clause: a non-member finds nothing. */
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

/**
 * The project `projectId` together with `userId`'s membership row — ONE query, membership in the
 * where-clause: a project the user is not a member of and a missing project both give null.
 * @returns { role, project } or null
 */
export async function findProjectMembership(db: DbOrTx, projectId: string, userId: string) {
  const row = await db.projectMember.findUnique({
    where: { projectId_userId: { projectId, userId } },
    select: { role: true, project: { select: PROJECT_ACCESS_SELECT } },
  });
  return row ? { role: row.role, project: row.project } : null;
}

/** The project without any membership check: for the system (jobs, CLI without --as) only. */
export function findProjectForSystem(db: DbOrTx, projectId: string) {
  return db.project.findUnique({ where: { id: projectId }, select: PROJECT_ACCESS_SELECT });
}

/** The caller's role in each project they are a member of (navigation, overview). */
export async function listMembershipRoles(db: DbOrTx, userId: string) {
  return db.projectMember.findMany({ where: { userId }, select: { projectId: true, role: true } });
}

export function listProjectsForMember(db: DbOrTx, userId: string) {
  return db.project.findMany({
    where: { members: { some: { userId } } },
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      name: true,
      description: true,
      labelSchema: true,
      minorityClasses: true,
      createdAt: true,
      _count: { select: { cases: true, members: true } },
    },
  });
}

export async function countCasesBySplit(db: DbOrTx, projectIds: string[]) {
  const rows = await db.case.groupBy({ by: ["projectId", "split"], where: { projectId: { in: projectIds } }, _count: { _all: true } });
  return rows.map((row) => ({ projectId: row.projectId, split: row.split, count: row._count._all }));
}

export function listModelVersionsForMember(db: DbOrTx, userId: string) {
  return db.modelVersion.findMany({
    where: { project: { members: { some: { userId } } } },
    orderBy: [{ projectId: "asc" }, { version: "desc" }],
    select: { id: true, projectId: true, version: true, status: true, createdAt: true, project: { select: { name: true } } },
  });
}

/** Pending items of each member project's CURRENT (latest) round — older rounds are not the queue. */
export async function countOpenQueueItemsForMember(db: DbOrTx, userId: string) {
  const latestRounds = await db.selectionRound.findMany({
    where: { project: { members: { some: { userId } } } },
    orderBy: [{ projectId: "asc" }, { number: "desc" }],
    distinct: ["projectId"],
    select: { id: true },
  });
  return db.queueItem.count({ where: { roundId: { in: latestRounds.map((round) => round.id) }, status: "PENDING" } });
}
