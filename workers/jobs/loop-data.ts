/**
 * Data the loop's jobs share: the project's classes, its labelled cases split into training and
 * TEST, embeddings for the project's encoder version (via the embed job's routine), and the hash
 * that names a training set.
 */
import crypto from "node:crypto";
import { parseStoredProjectConfig, type ProjectConfig, type StoredProjectRow } from "@/contracts/project-config";
import { parseEncoderConfig } from "@/contracts/encoder-config";
import { isBuiltinVersionOfWidth } from "@/models/encoders/encoder-version";
import type { Matrix } from "@/workers/ml/types";
import { trainingLabel, type TrainingLabelSource } from "@/server/services/training-label";
import { countCasesWithoutEmbedding, listLabelledCases, loadEmbeddings, newestEmbeddingVersion } from "@/server/db/loop-repo";
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

/** Embeddings of `caseIds` in that order as one matrix; throws naming a case without one. */
export async function embeddingMatrix(db: Db, caseIds: readonly string[], encoderVersion: string): Promise<Matrix> {
  const rows = new Map<string, { dim: number; vector: Uint8Array }>();
  for (let s = 0; s < caseIds.length; s += 5000) {
    for (const row of await loadEmbeddings(db, caseIds.slice(s, s + 5000), encoderVersion)) rows.set(row.caseId, row);
  }
  const first = caseIds.length > 0 ? rows.get(caseIds[0]!) : undefined;
  const dim = first?.dim ?? 0;
  const data = new Float32Array(caseIds.length * dim);
  caseIds.forEach((id, i) => {
    const row = rows.get(id);
    if (!row) throw new Error(`Case ${id} has no ${encoderVersion} embedding`);
    if (row.dim !== dim || row.vector.byteLength !== dim * 4) throw new Error(`Case ${id}: embedding of width ${row.dim} among ${dim}-d ones`);
    const view = new DataView(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength);
    for (let j = 0; j < dim; j++) data[i * dim + j] = view.getFloat32(j * 4, true);
  });
  return { data, rows: caseIds.length, cols: dim };
}
