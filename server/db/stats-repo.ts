/**
 * Reads behind the selection-statistics page: rounds with their items and the annotations those
 * items received, labels over time, model versions for the learning curve, and the labelled
 * cases a what-if simulation replays. The services pass project ids that came through the front door
 * (server/services/project-access.ts).
 */
import type { DbOrTx } from "./tx";

/** Ids and names of `projectIds` (the caller's, from the front door). */
export function listProjectsNamed(db: DbOrTx, projectIds: string[]) {
  return db.project.findMany({ where: { id: { in: projectIds } }, orderBy: { createdAt: "asc" }, select: { id: true, name: true } });
}

/** Rounds of a project, newest first, with their queue items and each item's case annotations (submitted, every version). */
export function listRoundsWithItems(db: DbOrTx, projectId: string) {
  return db.selectionRound.findMany({
    where: { projectId },
    orderBy: { number: "desc" },
    select: {
      id: true,
      number: true,
      strategy: true,
      coldStart: true,
      params: true,
      stats: true,
      createdAt: true,
      modelVersion: { select: { id: true, version: true } },
      items: {
        orderBy: { rank: "asc" },
        select: {
          id: true,
          rank: true,
          status: true,
          features: true,
          case: {
            select: {
              id: true,
              externalId: true,
              // What the training-label rule reads (server/services/training-label.ts), for the round's hit rate.
              annotations: { where: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } }, select: { id: true, authorId: true, version: true, kind: true, labels: true, createdAt: true } },
            },
          },
        },
      },
    },
  });
}

/** Entropy fallback for rounds recorded without pool histograms: the model's stored predictions over the pool. */
export function listPoolPredictions(db: DbOrTx, projectId: string, modelVersionId: string) {
  return db.prediction.findMany({
    where: { modelVersionId, case: { projectId, split: "POOL" } },
    select: { probabilities: true },
  });
}

/** Submitted annotations per day (cases first labelled that day), for the labels-over-time chart. */
export async function countFirstLabelsPerDay(db: DbOrTx, projectId: string): Promise<{ day: string; count: number }[]> {
  const rows = await db.$queryRaw<{ day: Date; count: bigint }[]>`
    SELECT date_trunc('day', first_at) AS day, count(*) AS count
    FROM (
      SELECT a."caseId", min(a."createdAt") AS first_at
      FROM "Annotation" a JOIN "Case" c ON c.id = a."caseId"
      WHERE c."projectId" = ${projectId} AND a.kind = 'SUBMITTED'
      GROUP BY a."caseId"
    ) firsts
    GROUP BY 1 ORDER BY 1`;
  return rows.map((r) => ({ day: r.day.toISOString().slice(0, 10), count: Number(r.count) }));
}

export function listModelVersionsOfProject(db: DbOrTx, projectId: string) {
  return db.modelVersion.findMany({
    where: { projectId, status: { not: "TRAINING" } },
    orderBy: { version: "asc" },
    select: { id: true, version: true, status: true, metrics: true, params: true, trainingSnapshot: true, createdAt: true },
  });
}

/**
 * Every case of the project with a known label — imported (TEST/SEED ground truth, prior labels)
 * or annotated (each author's submitted and adjudicated versions) — for the what-if simulation.
 */
export function listLabelledCases(db: DbOrTx, projectId: string) {
  return db.case.findMany({
    where: { projectId, OR: [{ importedLabel: { not: null } }, { annotations: { some: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } } } }] },
    orderBy: { id: "asc" },
    select: {
      id: true,
      split: true,
      narrative: true,
      importedLabel: true,
      annotations: { where: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } }, select: { id: true, authorId: true, version: true, kind: true, labels: true, createdAt: true } },
      // A gold case's annotations are gold answers, not votes (server/services/training-label.ts).
      gold: { select: { caseId: true } },
    },
  });
}

export function listEmbeddingsFor(db: DbOrTx, caseIds: string[], encoderVersion: string) {
  return db.embedding.findMany({ where: { caseId: { in: caseIds }, encoderVersion }, select: { caseId: true, dim: true, vector: true } });
}

/** Test-only seeding and fixtures: a submitted annotation. */
export function insertAnnotationForFixture(db: DbOrTx, row: { caseId: string; authorId: string; version: number; labels: string[]; createdAt?: Date }) {
  return db.annotation.create({ data: { ...row, kind: "SUBMITTED" }, select: { id: true } });
}
