/**
 * What the active-learning loop reads and writes besides rounds and job runs: labelled cases for
 * training, embeddings, model registration, predictions. Worker-side: these queries run for the
 * system (jobs), scoped by project id; reads on behalf of a user live at the end and carry the
 * membership in their where-clause.
 */
import type { Prisma } from "./generated/client";
import { selectablePoolWhere } from "./selectable-pool";
import type { DbOrTx } from "./tx";

export function findProjectForLoop(db: DbOrTx, projectId: string) {
  return db.project.findUnique({
    where: { id: projectId },
    select: { id: true, labelSchema: true, minorityClasses: true, selectionParams: true, encoderConfig: true, settings: true, archivedAt: true },
  });
}

/** Projects the loop looks after: archived ones are out of every queue and are never retrained. */
export function listProjectIds(db: DbOrTx) {
  return db.project.findMany({ where: { archivedAt: null }, select: { id: true, settings: true }, orderBy: { createdAt: "asc" } });
}

/**
 * Every case of the project that may have a label: its SUBMITTED and ADJUDICATED annotation versions
 * (every author, every version) and the label it was imported with, for the training-label rule
 * (server/services/training-label.ts). `split` comes along so the caller can keep TEST cases out of
 * training and use them for evaluation.
 */
export async function listLabelledCases(db: DbOrTx, projectId: string) {
  const cases = await db.case.findMany({
    where: { projectId, OR: [{ annotations: { some: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } } } }, { importedLabel: { not: null } }] },
    orderBy: { id: "asc" },
    select: {
      id: true,
      split: true,
      importedLabel: true,
      annotations: {
        where: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } },
        select: { id: true, authorId: true, version: true, kind: true, labels: true, createdAt: true },
      },
      gold: { select: { caseId: true } },
    },
  });
  // gold: a gold case's annotations are gold answers, not votes (server/services/training-label.ts).
  return cases.map((c) => ({ caseId: c.id, split: c.split, importedLabel: c.importedLabel, annotations: c.annotations, gold: c.gold !== null }));
}

/** Number of SUBMITTED annotations in the project created after `since` (null: all). */
export function countSubmittedAnnotationsSince(db: DbOrTx, projectId: string, since: Date | null) {
  return db.annotation.count({ where: { kind: "SUBMITTED", case: { projectId }, ...(since ? { createdAt: { gt: since } } : {}) } });
}

/** The round number each case was last queued in (cases never queued are absent). */
export async function latestRoundOfCases(db: DbOrTx, projectId: string) {
  const rows = await db.queueItem.findMany({
    where: { round: { projectId } },
    select: { caseId: true, round: { select: { id: true, number: true } } },
  });
  const out = new Map<string, { roundId: string; number: number }>();
  for (const row of rows) {
    const prev = out.get(row.caseId);
    if (!prev || prev.number < row.round.number) out.set(row.caseId, { roundId: row.round.id, number: row.round.number });
  }
  return out;
}

/** The encoder version of the project's most recently stored embedding (null when none). */
export function newestEmbeddingVersion(db: DbOrTx, projectId: string) {
  return db.embedding.findFirst({ where: { case: { projectId } }, orderBy: { createdAt: "desc" }, select: { encoderVersion: true } }).then((r) => r?.encoderVersion ?? null);
}

export function countCasesWithoutEmbedding(db: DbOrTx, projectId: string, encoderVersion: string) {
  return db.case.count({ where: { projectId, embeddings: { none: { encoderVersion } } } });
}

/** Which of `caseIds` have an embedding of `encoderVersion`. */
export async function listEmbeddedCaseIds(db: DbOrTx, caseIds: string[], encoderVersion: string): Promise<string[]> {
  const out: string[] = [];
  for (let s = 0; s < caseIds.length; s += 5000) {
    const rows = await db.embedding.findMany({ where: { caseId: { in: caseIds.slice(s, s + 5000) }, encoderVersion }, select: { caseId: true } });
    for (const row of rows) out.push(row.caseId);
  }
  return out;
}

export function loadEmbeddings(db: DbOrTx, caseIds: string[], encoderVersion: string) {
  return db.embedding.findMany({ where: { caseId: { in: caseIds }, encoderVersion }, select: { caseId: true, dim: true, vector: true } });
}

/**
 * The ids of the cases rounds-repo listSelectableCases returns, in its order (the selectable pool of
 * server/db/selectable-pool.ts; by externalId) — without the narratives, which selection does not read.
 */
export function listSelectableCaseIds(db: DbOrTx, projectId: string) {
  return db.case.findMany({
    where: selectablePoolWhere(projectId),
    orderBy: { externalId: "asc" },
    select: { id: true },
  });
}

/** Case ids and narratives of the project, ordered by id (the pool order of predictions). */
export function listProjectCases(db: DbOrTx, projectId: string) {
  return db.case.findMany({ where: { projectId }, orderBy: { id: "asc" }, select: { id: true, split: true } });
}

export function maxModelVersion(db: DbOrTx, projectId: string) {
  return db.modelVersion.aggregate({ where: { projectId }, _max: { version: true } }).then((r) => r._max.version ?? 0);
}

export function findModelVersion(db: DbOrTx, id: string) {
  return db.modelVersion.findUnique({
    where: { id },
    select: { id: true, projectId: true, version: true, status: true, encoderVersion: true, params: true, metrics: true, artifactKey: true, checksum: true, trainingSnapshot: true, createdAt: true },
  });
}

/** The project's active model (APPROVED, newest version first). */
export function findActiveModel(db: DbOrTx, projectId: string) {
  return db.modelVersion.findFirst({
    where: { projectId, status: "APPROVED" },
    orderBy: { version: "desc" },
    select: { id: true, projectId: true, version: true, status: true, encoderVersion: true, params: true, artifactKey: true, checksum: true, createdAt: true, reviewedAt: true },
  });
}

export function latestModelVersion(db: DbOrTx, projectId: string) {
  return db.modelVersion.findFirst({ where: { projectId }, orderBy: { version: "desc" }, select: { id: true, version: true, createdAt: true, trainingSnapshot: true } });
}

/** Model versions of the project whose params name `jobRunId` (how a retried train finds its own model). */
export function findModelVersionsOfJob(db: DbOrTx, projectId: string, jobRunId: string) {
  return db.modelVersion.findMany({ where: { projectId, params: { path: ["jobRunId"], equals: jobRunId } }, select: { id: true, version: true } });
}

export function modelArtifactKeys(db: DbOrTx, projectId: string) {
  return db.modelVersion.findMany({ where: { projectId }, select: { artifactKey: true } });
}

export interface CandidateRow {
  projectId: string;
  version: number;
  encoderVersion: string;
  metrics: Prisma.InputJsonValue;
  trainingSnapshot: Prisma.InputJsonValue;
  params: Prisma.InputJsonValue;
  artifactKey: string;
  checksum: string;
  triggeredById: string | null;
}

export function insertCandidateModel(tx: DbOrTx, row: CandidateRow) {
  return tx.modelVersion.create({ data: { ...row, status: "CANDIDATE" }, select: { id: true, version: true } });
}

export async function updateModelMetrics(db: DbOrTx, id: string, metrics: Prisma.InputJsonValue) {
  await db.modelVersion.update({ where: { id }, data: { metrics } });
}

/**
 * Replaces the model's predictions (idempotent for a retried job). Written 10,000 rows per statement
 * as one `INSERT … SELECT FROM unnest(arrays)` (a prediction for every case of a 100,000-case project
 * took minutes as Prisma createMany chunks).
 */
export async function replacePredictions(
  db: DbOrTx,
  modelVersionId: string,
  rows: { caseId: string; probabilities: number[]; predictedLabel: string; confidence: number }[],
) {
  await db.prediction.deleteMany({ where: { modelVersionId } });
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await db.$executeRaw`
      INSERT INTO "Prediction" ("caseId", "modelVersionId", "probabilities", "predictedLabel", "confidence")
      SELECT t.case_id, ${modelVersionId}, t.probabilities::jsonb, t.label, t.confidence
      FROM unnest(${chunk.map((r) => r.caseId)}::text[], ${chunk.map((r) => JSON.stringify(r.probabilities))}::text[], ${chunk.map((r) => r.predictedLabel)}::text[], ${chunk.map((r) => r.confidence)}::float8[])
        AS t(case_id, probabilities, label, confidence)`;
  }
}

/** The latest round of the project (for "is its queue fully annotated?"). */
export function findLatestRound(db: DbOrTx, projectId: string) {
  return db.selectionRound.findFirst({
    where: { projectId },
    orderBy: { number: "desc" },
    select: { id: true, number: true, createdAt: true, modelVersionId: true, stats: true, _count: { select: { items: true } } },
  });
}

export function countPendingItems(db: DbOrTx, roundId: string) {
  return db.queueItem.count({ where: { roundId, status: "PENDING" } });
}

/** True when some round of the project was selected with this model. */
export function roundExistsForModel(db: DbOrTx, projectId: string, modelVersionId: string) {
  return db.selectionRound.count({ where: { projectId, modelVersionId } }).then((n) => n > 0);
}

export function countRounds(db: DbOrTx, projectId: string) {
  return db.selectionRound.count({ where: { projectId } });
}

export function findRoundModelVersionId(db: DbOrTx, roundId: string) {
  return db.selectionRound.findUnique({ where: { id: roundId }, select: { modelVersionId: true } }).then((r) => r?.modelVersionId ?? null);
}

export async function setRoundStats(db: DbOrTx, roundId: string, stats: Prisma.InputJsonValue) {
  await db.selectionRound.update({ where: { id: roundId }, data: { stats } });
}

/**
 * Merges `patch` into a round's stats in one statement (jsonb `||`: its top-level keys replace the
 * stored ones, the others stay), so a writer of other keys at the same moment is not undone. Used
 * by the select job to patch the stopping estimate into a round it has already published.
 * @returns false when the round no longer exists.
 */
export async function mergeRoundStats(db: DbOrTx, roundId: string, patch: Record<string, unknown>): Promise<boolean> {
  const updated = await db.$executeRaw`UPDATE "SelectionRound" SET stats = stats || ${JSON.stringify(patch)}::jsonb WHERE id = ${roundId}`;
  return updated > 0;
}

/**
 * Merges `patch` into the stats of the project's rounds whose stats carry `estimateKey` and still say
 * `remainingMinorityStatus: "estimating"` (the select job's stopping estimate, settled after the round
 * was published). @returns how many rounds were patched (0: not published yet, or already patched).
 */
export async function mergeEstimatingRoundStats(db: DbOrTx, projectId: string, estimateKey: string, patch: Record<string, unknown>): Promise<number> {
  return db.$executeRaw`UPDATE "SelectionRound" SET stats = stats || ${JSON.stringify(patch)}::jsonb
    WHERE "projectId" = ${projectId} AND stats->>'estimateKey' = ${estimateKey} AND stats->>'remainingMinorityStatus' = 'estimating'`;
}

/** A round with its items' cases and their latest SUBMITTED annotation (for the hit rate). */
export function findRoundWithAnnotations(db: DbOrTx, roundId: string) {
  return db.selectionRound.findUnique({
    where: { id: roundId },
    select: {
      id: true,
      projectId: true,
      number: true,
      stats: true,
      project: { select: { minorityClasses: true } },
      items: {
        orderBy: { rank: "asc" },
        select: {
          caseId: true,
          status: true,
          // What the training-label rule reads (server/services/training-label.ts), for the round's hit rate.
          case: { select: { annotations: { where: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } }, select: { id: true, authorId: true, version: true, kind: true, labels: true, createdAt: true } } } },
        },
      },
    },
  });
}

// ---- reads on behalf of a user (membership in the where-clause) ----

/** A case's prediction by the project's active model, for a member; null when none. */
export function findActivePredictionForMember(db: DbOrTx, userId: string, caseId: string) {
  return db.case.findFirst({
    where: { id: caseId, project: { members: { some: { userId } } } },
    select: {
      id: true,
      projectId: true,
      predictions: {
        where: { modelVersion: { status: "APPROVED" } },
        orderBy: { modelVersion: { version: "desc" } },
        take: 1,
        select: { predictedLabel: true, confidence: true, probabilities: true, createdAt: true, modelVersion: { select: { id: true, version: true } } },
      },
    },
  });
}


/** A model version's training snapshot (the labelled cases it was trained on, train.ts) and params; null when there is no such version. */
export function findModelTrainingSnapshot(db: DbOrTx, modelVersionId: string) {
  return db.modelVersion.findUnique({ where: { id: modelVersionId }, select: { id: true, version: true, encoderVersion: true, params: true, trainingSnapshot: true } });
}
