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

/** Vectors of an id list read as raw bytes (`readEmbeddingBytes`). */
export interface EmbeddingBytes {
  /** 1 where caseIds[i] has a vector of the encoder version, else 0. */
  present: Uint8Array;
  /** The vectors' width (0 when none is present). */
  dim: number;
  /** The present cases' vectors, in caseIds order, as little-endian float32 bytes (present count × dim × 4). */
  bytes: Buffer;
}

/** Ids per query of `readEmbeddingBytes` (at 384-d: ~41 MB of base64 text per answer). */
export const EMBEDDING_BYTES_CHUNK = 20_000;

/**
 * The stored vectors of `caseIds` for `encoderVersion`, in the order of `caseIds`, read as raw bytes:
 * one query per 20,000 ids joins the id list (`unnest … WITH ORDINALITY`) to the Embedding rows and
 * returns their vectors concatenated in list order (`string_agg`) as one base64 text, with the
 * positions that have one. Reading the rows one by one through Prisma costs far more: the pg driver
 * adapter turns every bytea value into a JS array of numbers, one element per byte (measured in
 * docs/benchmarks.md, "Approval → next round"). Not scoped to a project, like the per-row read it
 * replaces: callers pass ids of their project's cases.
 * @param chunk ids per query (default EMBEDDING_BYTES_CHUNK; tests pass less)
 * @throws Error when the vectors found have different widths, or a stored vector's length is not dim × 4 bytes.
 */
export async function readEmbeddingBytes(db: DbOrTx, caseIds: readonly string[], encoderVersion: string, chunk = EMBEDDING_BYTES_CHUNK): Promise<EmbeddingBytes> {
  const present = new Uint8Array(caseIds.length);
  const parts: Buffer[] = [];
  let dim = 0;
  for (let start = 0; start < caseIds.length; start += chunk) {
    const ids = caseIds.slice(start, start + chunk);
    const [row] = await db.$queryRaw<{ ords: number[] | null; minDim: number | null; maxDim: number | null; sizesOk: boolean | null; data: string | null }[]>`
      SELECT array_agg(ids.ord::int ORDER BY ids.ord) AS ords,
             min(e.dim) AS "minDim",
             max(e.dim) AS "maxDim",
             bool_and(octet_length(e.vector) = e.dim * 4) AS "sizesOk",
             encode(string_agg(e.vector, ''::bytea ORDER BY ids.ord), 'base64') AS data
      FROM unnest(${ids}::text[]) WITH ORDINALITY AS ids(id, ord)
      JOIN "Embedding" e ON e."caseId" = ids.id AND e."encoderVersion" = ${encoderVersion}`;
    if (!row || row.ords === null || row.data === null) continue;
    if (row.minDim !== row.maxDim || (dim !== 0 && row.minDim !== dim)) throw new Error(`${encoderVersion} embeddings of different widths (${row.minDim}, ${row.maxDim}${dim ? `, ${dim}` : ""}) among the requested cases`);
    if (!row.sizesOk) throw new Error(`A stored ${encoderVersion} embedding's length is not its width × 4 bytes`);
    dim = row.minDim ?? 0;
    for (const ord of row.ords) present[start + ord - 1] = 1;
    parts.push(Buffer.from(row.data, "base64"));
  }
  return { present, dim, bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
}
