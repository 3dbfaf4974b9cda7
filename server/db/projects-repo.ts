/** Projects, as seen by their members. Membership is part of every where-clause: a non-member finds nothing. */
import type { DbOrTx } from "./tx";

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
