/**
 * Embedding rows (one Float32 LE vector per case and encoder version) and what the embed job reads
 * to produce them. Worker-side: every query is scoped to the project the job runs for (there is no
 * user actor here; the job's JobRun names the project).
 */
import type { DbOrTx } from "./tx";

export function findProjectEncoderConfig(db: DbOrTx, projectId: string) {
  return db.project.findUnique({ where: { id: projectId }, select: { id: true, encoderConfig: true } });
}

export function countProjectCases(db: DbOrTx, projectId: string) {
  return db.case.count({ where: { projectId } });
}

export function countCasesMissingEmbedding(db: DbOrTx, projectId: string, encoderVersion: string) {
  return db.case.count({ where: { projectId, embeddings: { none: { encoderVersion } } } });
}

/** The next `take` cases (by id, after `afterId`) of the project that have no vector for `encoderVersion`. */
export function listCasesMissingEmbeddingPage(db: DbOrTx, projectId: string, encoderVersion: string, afterId: string | null, take: number) {
  return db.case.findMany({
    where: { projectId, embeddings: { none: { encoderVersion } }, ...(afterId ? { id: { gt: afterId } } : {}) },
    orderBy: { id: "asc" },
    take,
    select: { id: true, narrative: true },
  });
}

/** Narratives of the project by id, a page at a time (the built-in featuriser's IDF corpus). */
export function listNarrativesPage(db: DbOrTx, projectId: string, afterId: string | null, take: number) {
  return db.case.findMany({
    where: { projectId, ...(afterId ? { id: { gt: afterId } } : {}) },
    orderBy: { id: "asc" },
    take,
    select: { id: true, narrative: true },
  });
}

/** Images of the given cases of the project, in display order. */
export function listCaseImagesForEmbedding(db: DbOrTx, projectId: string, caseIds: string[]) {
  return db.caseImage.findMany({
    where: { caseId: { in: caseIds }, case: { projectId } },
    orderBy: [{ caseId: "asc" }, { position: "asc" }],
    select: { id: true, caseId: true, storageKey: true },
  });
}

export interface EmbeddingRow {
  caseId: string;
  encoderVersion: string;
  dim: number;
  /** Float32 little-endian, dim × 4 bytes. */
  vector: Uint8Array;
}

/** Inserts rows; a row that exists already (another worker, a retried batch) is left as it is. */
export async function insertEmbeddingRows(db: DbOrTx, rows: EmbeddingRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db.embedding.createMany({
    data: rows.map((r) => ({ caseId: r.caseId, encoderVersion: r.encoderVersion, dim: r.dim, vector: Buffer.from(r.vector) })),
    skipDuplicates: true,
  });
  return result.count;
}

/** Stored vectors of the project's cases for one encoder version (all, or those of `caseIds`). */
export function listProjectEmbeddings(db: DbOrTx, projectId: string, encoderVersion: string, caseIds?: string[]) {
  return db.embedding.findMany({
    where: { encoderVersion, case: { projectId }, ...(caseIds ? { caseId: { in: caseIds } } : {}) },
    orderBy: { caseId: "asc" },
    select: { caseId: true, dim: true, vector: true },
  });
}

/** The result of the project's latest successful embed run (its encoderVersion is the current one). */
export function findLatestSucceededEmbedRun(db: DbOrTx, projectId: string) {
  return db.jobRun.findFirst({
    where: { projectId, kind: "embed", status: "SUCCEEDED" },
    orderBy: [{ finishedAt: "desc" }, { createdAt: "desc" }],
    select: { id: true, result: true, finishedAt: true },
  });
}
