/**
 * Reads for the "selector sees no minority" warning (server/services/minority-watch.ts): the
 * project's active model, how its stored predictions on the POOL split fall per predicted label, and
 * the recent rounds' recorded statistics.
 */
import type { DbOrTx } from "./tx";

/** The project's APPROVED model (at most one is approved at a time), or null. */
export function findActiveModel(db: DbOrTx, projectId: string) {
  return db.modelVersion.findFirst({ where: { projectId, status: "APPROVED" }, orderBy: { version: "desc" }, select: { id: true, version: true } });
}

/** Stored predictions of `modelVersionId` on the project's POOL cases, counted per predicted label. */
export async function countPoolPredictionsByLabel(db: DbOrTx, projectId: string, modelVersionId: string): Promise<{ label: string; count: number }[]> {
  const rows = await db.prediction.groupBy({ by: ["predictedLabel"], where: { modelVersionId, case: { projectId, split: "POOL" } }, _count: { _all: true } });
  return rows.map((r) => ({ label: r.predictedLabel, count: r._count._all }));
}

/** The newest `take` rounds (number descending) with their stats and the model that chose them. */
export function listRecentRounds(db: DbOrTx, projectId: string, take: number) {
  return db.selectionRound.findMany({
    where: { projectId },
    orderBy: { number: "desc" },
    take,
    select: { number: true, strategy: true, coldStart: true, stats: true, modelVersionId: true },
  });
}
