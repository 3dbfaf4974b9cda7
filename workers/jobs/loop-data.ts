/**
 * Data the loop's jobs share: the project's classes, its labelled cases split into training and
 * TEST, embeddings for the project's encoder version (via the embed job's routine), and the hash
 * that names a training set.
 */
import crypto from "node:crypto";
import os from "node:os";
import { parseStoredProjectConfig, type ProjectConfig, type StoredProjectRow } from "@/contracts/project-config";
import { parseEncoderConfig } from "@/contracts/encoder-config";
import { isBuiltinVersionOfWidth } from "@/models/encoders/encoder-version";
import type { Matrix } from "@/workers/ml/types";
import { trainingLabel, type TrainingLabelSource } from "@/server/services/training-label";
import { countCasesWithoutEmbedding, listLabelledCases, newestEmbeddingVersion } from "@/server/db/loop-repo";
import { readEmbeddingBytes } from "@/server/db/embeddings-repo";
import type { Db } from "@/server/db/client";
import { runEmbed } from "./embed";
import type { WorkerContext } from "./job-runtime";

export interface ProjectClasses {
  keys: string[];
  index: Map<string, number>;
  minority: number[];
}

/**
 * The project's classes in label-schema order and the indices of its minority classes.
 * @param project the stored row (parsed here with parseStoredProjectConfig) or an already parsed config
 * @throws Error when the schema has fewer than two labels; ProjectConfigError for an unreadable row
 */
export function projectClasses(project: StoredProjectRow | Pick<ProjectConfig, "labelSchema" | "minorityClasses">): ProjectClasses {
  const config = "selectionParams" in project ? parseStoredProjectConfig(project) : project;
  const keys = config.labelSchema.labels.map((l) => l.key);
  if (keys.length < 2) throw new Error(`The project's labelSchema needs at least two labels with a key (found ${keys.length})`);
  const index = new Map(keys.map((k, i) => [k, i]));
  return { keys, index, minority: config.minorityClasses.filter((k) => index.has(k)).map((k) => index.get(k)!) };
}

export interface LabelledExample {
  caseId: string;
  split: "POOL" | "TEST" | "SEED";
  label: number;
  /** Where the label came from: the annotation (id, version) or the import. */
  annotationId: string | null;
  annotationVersion: number | null;
  /** Which branch of the training-label rule gave it (server/services/training-label.ts). */
  source: TrainingLabelSource;
}

export interface LabelledSets {
  training: LabelledExample[];
  test: LabelledExample[];
  /** Labels outside the project's schema (e.g. a label removed from the schema): left out, counted. */
  unknownLabels: number;
  /** Annotated cases without an adjudication or a majority (e.g. 1–1): left out until adjudicated, counted. */
  excluded: number;
}

/**
 * Each case's training label under THE rule (`trainingLabel`, server/services/training-label.ts:
 * adjudicated, else a strict majority of the annotators, else the imported label, else excluded),
 * mapped to class indices. TEST cases go to `test` only — they are never trained on.
 */
export async function labelledSets(db: Db, projectId: string, classes: ProjectClasses): Promise<LabelledSets> {
  const rows = await listLabelledCases(db, projectId);
  const training: LabelledExample[] = [];
  const test: LabelledExample[] = [];
  let unknownLabels = 0;
  let excluded = 0;
  for (const row of rows) {
    const decided = trainingLabel(row.annotations, row.importedLabel, { gold: row.gold });
    const key = decided.label;
    if (!key) {
      if (decided.source === "excluded" && decided.voters > 0) excluded++;
      continue;
    }
    const label = classes.index.get(key);
    if (label === undefined) {
      unknownLabels++;
      continue;
    }
    const example: LabelledExample = {
      caseId: row.caseId,
      split: row.split,
      label,
      annotationId: decided.annotationId,
      annotationVersion: decided.annotationVersion,
      source: decided.source,
    };
    (row.split === "TEST" ? test : training).push(example);
  }
  return { training, test, unknownLabels, excluded };
}

/** Names a training set: the same cases with the same annotation versions give the same hash. */
export function trainingSetHash(training: readonly LabelledExample[]): string {
  const hash = crypto.createHash("sha256");
  for (const e of [...training].sort((a, b) => (a.caseId < b.caseId ? -1 : a.caseId > b.caseId ? 1 : 0))) {
    hash.update(`${e.caseId}:${e.annotationId ?? "imported"}:${e.label}\n`);
  }
  return hash.digest("hex").slice(0, 24);
}

/**
 * Embeds every case of the project still missing a vector for the project's current encoder
 * (the embed job's own routine, workers/jobs/embed.ts — the built-in featuriser needs no weights,
 * ONNX encoders their configured files) and returns that encoder version.
 */
export async function ensureEmbeddings(
  worker: Pick<WorkerContext, "db" | "store" | "provider">,
  projectId: string,
  encoderConfig: unknown,
  onProgress: (stage: string, percent: number) => Promise<void> = async () => undefined,
): Promise<{ encoderVersion: string; computed: number }> {
  // Fast path: every case already has a vector of the newest stored version, and that version is
  // the configured built-in encoder's — then refitting the featuriser over the whole corpus (what
  // runEmbed does first) would only recompute the same version. Anything else goes to runEmbed.
  const newest = await newestEmbeddingVersion(worker.db, projectId);
  const config = parseEncoderConfig(encoderConfig ?? { kind: "builtin" });
  if (newest && config.kind === "builtin" && isBuiltinVersionOfWidth(newest, config.dim) && (await countCasesWithoutEmbedding(worker.db, projectId, newest)) === 0) {
    return { encoderVersion: newest, computed: 0 };
  }
  const result = await runEmbed({ db: worker.db, store: worker.store, provider: worker.provider }, projectId, 256, onProgress);
  return { encoderVersion: result.encoderVersion, computed: result.embedded };
}

/**
 * Rows of little-endian float32 bytes as a Float32Array [rows × dim] (a copy, so the result is aligned
 * and owns its buffer). @throws Error when the byte count is not rows × dim × 4.
 */
export function decodeFloat32Rows(bytes: Uint8Array, rows: number, dim: number): Float32Array {
  if (bytes.byteLength !== rows * dim * 4) throw new Error(`${bytes.byteLength} bytes of vectors for ${rows} rows of width ${dim} (expected ${rows * dim * 4})`);
  const out = new Float32Array(rows * dim);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
const LITTLE_ENDIAN = os.endianness() === "LE";

/**
 * The rows of `caseIds` that have a vector of `encoderVersion` (present[i] = 1), and those vectors as one
 * matrix in caseIds order — one raw read (server/db/embeddings-repo.ts readEmbeddingBytes).
 */
export async function embeddedRows(db: Db, caseIds: readonly string[], encoderVersion: string, chunk?: number): Promise<{ present: Uint8Array; x: Matrix }> {
  const { present, dim, bytes } = await readEmbeddingBytes(db, caseIds, encoderVersion, chunk);
  let rows = 0;
  for (const p of present) rows += p;
  return { present, x: { data: decodeFloat32Rows(bytes, rows, dim), rows, cols: dim } };
}

/** Embeddings of `caseIds` in that order as one matrix; throws naming a case without one. */
export async function embeddingMatrix(db: Db, caseIds: readonly string[], encoderVersion: string): Promise<Matrix> {
  const { present, x } = await embeddedRows(db, caseIds, encoderVersion);
  const missing = present.indexOf(0);
  if (missing >= 0) throw new Error(`Case ${caseIds[missing]} has no ${encoderVersion} embedding`);
  return x;
}

/** The rows `order` of x (row i of the result is row order[i] of x). */
export function gatherRows(x: Matrix, order: ArrayLike<number>): Matrix {
  const d = x.cols;
  const data = new Float32Array(order.length * d);
  for (let i = 0; i < order.length; i++) data.set(x.data.subarray(order[i]! * d, (order[i]! + 1) * d), i * d);
  return { data, rows: order.length, cols: d };
}
