/**
 * Cached embeddings for the trainer and the selector (worker-side, no user actor: the caller's
 * JobRun names the project, and every query is scoped to it).
 */
import type { EncoderConfig } from "@/contracts/encoder-config";
import { encoderKindOfVersion, isBuiltinVersionOfWidth } from "@/models/encoders/encoder-version";
import type { Db } from "../db/client";
import { findLatestSucceededEmbedRun, listProjectEmbeddings } from "../db/embeddings-repo";
import type { Matrix } from "@/workers/ml/types";

/** Float32 vector → little-endian bytes (the Embedding.vector format, independent of the host). */
export function vectorToBytes(v: Float32Array): Uint8Array {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat32(i * 4, v[i]!, true);
  return bytes;
}

/** Little-endian bytes → `out[offset .. offset + dim)`. */
export function bytesToVector(bytes: Uint8Array, dim: number, out: Float32Array = new Float32Array(dim), offset = 0): Float32Array {
  if (bytes.byteLength !== dim * 4) throw new Error(`embedding has ${bytes.byteLength} bytes, expected ${dim * 4} for dim ${dim}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let j = 0; j < dim; j++) out[offset + j] = view.getFloat32(j * 4, true);
  return out;
}

export interface ProjectEmbeddings {
  /** Row order of `matrix`: `caseIds` in the order asked for (or by id), those with a vector only. */
  caseIds: string[];
  matrix: Matrix;
  /** Asked-for cases that have no vector for this encoder version (not in the project, or not embedded yet). */
  missing: string[];
}

/**
 * The project's stored vectors for `encoderVersion` as one [n, dim] matrix: for `caseIds` in that
 * order when given, else every embedded case by id. Throws if stored vectors disagree on width.
 */
export async function loadProjectEmbeddings(db: Db, projectId: string, encoderVersion: string, caseIds?: readonly string[]): Promise<ProjectEmbeddings> {
  const rows: { caseId: string; dim: number; vector: Uint8Array }[] = [];
  if (caseIds) {
    // IN lists are chunked: tens of thousands of bind parameters in one query are slow or refused.
    for (let s = 0; s < caseIds.length; s += 5000) rows.push(...(await listProjectEmbeddings(db, projectId, encoderVersion, caseIds.slice(s, s + 5000))));
  } else {
    rows.push(...(await listProjectEmbeddings(db, projectId, encoderVersion)));
  }
  const byCase = new Map(rows.map((r) => [r.caseId, r]));
  const order = caseIds ? [...caseIds] : rows.map((r) => r.caseId);
  const found = order.filter((id) => byCase.has(id));
  const missing = order.filter((id) => !byCase.has(id));
  const dim = found.length > 0 ? byCase.get(found[0]!)!.dim : 0;
  const data = new Float32Array(found.length * dim);
  found.forEach((id, i) => {
    const row = byCase.get(id)!;
    if (row.dim !== dim) throw new Error(`Case ${id}: ${encoderVersion} embedding of width ${row.dim} among ${dim}-wide ones`);
    bytesToVector(row.vector, dim, data, i * dim);
  });
  return { caseIds: found, matrix: { data, rows: found.length, cols: dim }, missing };
}

/**
 * The encoder version of the project's latest successful embed run (null before the first one).
 * An in-progress run of a new version does not change it, so a trainer never sees a half-embedded space.
 */
export async function currentEncoderVersion(db: Db, projectId: string): Promise<string | null> {
  const run = await findLatestSucceededEmbedRun(db, projectId);
  const version = (run?.result as { encoderVersion?: unknown } | null)?.encoderVersion;
  return typeof version === "string" && version ? version : null;
}

/**
 * For a reader that cannot build the encoder (e.g. the web process's cold start): the version of the
 * project's latest successful embed run when it is a version of the configured encoder (same kind;
 * same width for the built-in), else null — then nothing stored belongs to the current encoder and
 * the caller must embed first or say so. Version names come from models/encoders/encoder-version.ts;
 * a worker job that can build the encoder uses `resolveEncoderVersion` (workers/jobs/embed.ts), which
 * also notices a changed model file.
 */
export async function storedEncoderVersionFor(db: Db, projectId: string, config: EncoderConfig): Promise<string | null> {
  const version = await currentEncoderVersion(db, projectId);
  if (!version || encoderKindOfVersion(version) !== config.kind) return null;
  if (config.kind === "builtin" && !isBuiltinVersionOfWidth(version, config.dim)) return null;
  return version;
}
