/**
 * The `embed` job: vectors for every case of a project that has none for the project's encoder
 * version, computed in batches and cached in Embedding (case, encoder version → Float32 LE).
 *
 * Idempotent and crash-safe: each batch is inserted on its own (skipDuplicates), so a re-run — or
 * the queue's retry after a crash — embeds only what is still missing and loses at most the batch
 * that was in flight. Text encoders embed the narrative (an absent one as ""); image encoders embed
 * each image of a case and average them (then re-normalise). A case whose images all fail to decode
 * (e.g. a compressed DICOM syntax) or that has no image is left without a vector and listed in the
 * result; the run still succeeds, and a later run retries it.
 *
 * The LSA encoder (`{ kind: "lsa" }`) is fitted on ALL of the project's narratives, TEST split
 * included: they are unlabelled text to the fit (transductive, like the built-in featuriser's IDF;
 * no label is read), and a clinic's own pool is what the representation should describe. The fitted
 * state is kept in the blob store under `encoders/<project>/lsa-d<dim>-<sha of the sorted
 * narratives>.bin`, so every later reader (train, the what-if, a re-run) loads it instead of
 * refitting. New cases change the corpus, hence the key: the encoder is refitted on all narratives,
 * gets a new version (a hash of the fitted state, encoder-version.ts) and every case is embedded
 * again under it — simple and correct; vectors of the old fit are never mixed with the new.
 */
import crypto from "node:crypto";
import { z } from "zod";
import { parseEncoderConfig, ZImagePreprocess, type EncoderConfig, type ImagePreprocess } from "@/contracts/encoder-config";
import { createBuiltinTextEncoder } from "@/models/encoders/builtin-text-encoder";
import { createEncoder } from "@/models/encoders/create-encoder";
import { createLsaTextEncoder } from "@/models/encoders/lsa-text-encoder";
import { deserializeLsaState, serializeLsaState } from "@/workers/ml/text/lsa";
import { l2NormalizeInPlace, type Encoder } from "@/models/encoders/types";
import type { Db } from "@/server/db/client";
import {
  countCasesMissingEmbedding,
  countProjectCases,
  findProjectEncoderConfig,
  insertEmbeddingRows,
  listCaseImagesForEmbedding,
  listCasesMissingEmbeddingPage,
  listNarrativesPage,
  type EmbeddingRow,
} from "@/server/db/embeddings-repo";
import { logger } from "@/server/log";
import { vectorToBytes } from "@/server/services/embedding-service";
import type { BlobStore } from "@/server/storage/blob-store";
import { runInMlThread } from "../threads/ml-pool";
import { defineJob } from "./job-runtime";

export const EMBED_JOB = "embed";

export const ZEmbedPayload = z.object({
  projectId: z.string().min(1).optional(),
  /** Cases per encoder call (and per insert): the most work a crash can lose. */
  batchSize: z.number().int().min(1).max(4096).default(32),
});
export type EmbedPayload = z.infer<typeof ZEmbedPayload>;

export interface EmbedFailure {
  caseId: string;
  imageId?: string;
  error: string;
}

export interface EmbedResult {
  encoderVersion: string;
  kind: Encoder["kind"];
  dim: number;
  cases: number;
  embedded: number;
  alreadyEmbedded: number;
  notEmbedded: number;
  /** The first failures (at most MAX_REPORTED), for the jobs panel. */
  failures: EmbedFailure[];
}

export interface EmbedDeps {
  db: Db;
  store: BlobStore;
  provider: "cpu" | "cuda";
}

const MAX_REPORTED = 50;
const CORPUS_PAGE = 2000;

/** The built-in featuriser fits its IDF on all of the project's narratives. */
async function loadCorpus(db: Db, projectId: string): Promise<string[]> {
  const texts: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await listNarrativesPage(db, projectId, after, CORPUS_PAGE);
    for (const row of page) texts.push(row.narrative ?? "");
    if (page.length < CORPUS_PAGE) return texts;
    after = page[page.length - 1]!.id;
  }
}

/** Blob key of a project's LSA fit on `corpus` (order-independent: the narratives are hashed sorted). */
export function lsaStateKey(projectId: string, corpus: readonly string[], dim: number): string {
  const hash = crypto.createHash("sha256");
  for (const text of [...corpus].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(text).update("\u0000");
  return `encoders/${projectId}/lsa-d${dim}-${hash.digest("hex").slice(0, 32)}.bin`;
}

/** The project's LSA encoder: the stored fit for these narratives, else a fit (on an ML thread) that is then stored. */
async function projectLsaEncoder(deps: EmbedDeps, projectId: string, dim: number) {
  const corpus = await loadCorpus(deps.db, projectId);
  const key = lsaStateKey(projectId, corpus, dim);
  if (await deps.store.exists(key)) return createLsaTextEncoder(deserializeLsaState(new Uint8Array(await deps.store.get(key))));
  const started = Date.now();
  const state = await runInMlThread("fitLsa", { corpus, dim, seed: 0 });
  await deps.store.put(key, serializeLsaState(state));
  const encoder = createLsaTextEncoder(state);
  logger.info("LSA encoder fitted", { projectId, texts: corpus.length, terms: state.tfidf.terms.length, dim: state.dim, ms: Date.now() - started, encoderVersion: encoder.version });
  return encoder;
}

/** The project's encoder, built from its stored config (a bad config fails the run naming the field). */
export async function projectEncoder(deps: EmbedDeps, projectId: string): Promise<{ config: EncoderConfig; encoder: Encoder }> {
  const project = await findProjectEncoderConfig(deps.db, projectId);
  if (!project) throw new Error(`Project ${projectId} does not exist`);
  const config = parseEncoderConfig(project.encoderConfig);
  if (config.kind === "builtin") {
    // Fitting the IDF takes seconds per few thousand narratives: on an ML thread, off the worker's event loop.
    const state = await runInMlThread("fitTextFeaturizer", { corpus: await loadCorpus(deps.db, projectId), dim: config.dim });
    return { config, encoder: createBuiltinTextEncoder(state) };
  }
  if (config.kind === "lsa") return { config, encoder: await projectLsaEncoder(deps, projectId, config.dim) };
  return { config, encoder: await createEncoder(config, { provider: deps.provider }) };
}

/**
 * The encoderVersion under which the project's current encoder stores its vectors — the reader's side
 * of models/encoders/encoder-version.ts: it builds the encoder the embed job would build (ONNX
 * sessions are cached; the built-in featuriser is fitted on the narratives as the embed job fits it)
 * and reads its `version`. @throws Error "Invalid encoder configuration — …" or OnnxModelError when the config or model is unusable.
 */
export async function resolveEncoderVersion(deps: EmbedDeps, projectId: string): Promise<{ config: EncoderConfig; version: string; kind: Encoder["kind"]; dim: number }> {
  const { config, encoder } = await projectEncoder(deps, projectId);
  return { config, version: encoder.version, kind: encoder.kind, dim: encoder.dim };
}

async function embedImageCases(deps: EmbedDeps, projectId: string, encoder: Extract<Encoder, { kind: "image" }>, preprocess: ImagePreprocess, caseIds: string[], failures: EmbedFailure[]) {
  const images = await listCaseImagesForEmbedding(deps.db, projectId, caseIds);
  // One unreadable image must not sink the batch: it is reported (an ImageDecodeError message already names the
  // image) and the case's other images still count.
  const fail = (image: (typeof images)[number], name: string, message: string) =>
    failures.push({ caseId: image.caseId, imageId: image.id, error: name === "ImageDecodeError" ? message : `image ${image.id}: ${message}` });
  const loaded: { image: (typeof images)[number]; bytes: Uint8Array }[] = [];
  for (const image of images) {
    try {
      loaded.push({ image, bytes: await deps.store.get(image.storageKey) });
    } catch (error) {
      fail(image, "", error instanceof Error ? error.message : String(error));
    }
  }
  // Decoding and resizing are JS work (a large JPEG takes a fraction of a second): on an ML thread.
  const outcomes = await runInMlThread("prepareImages", { images: loaded.map((l) => ({ bytes: l.bytes, label: l.image.id })), preprocess }, { transferArgs: true });
  const prepared: Float32Array[] = [];
  const owner: string[] = [];
  outcomes.forEach((outcome, i) => {
    const { image } = loaded[i]!;
    if (outcome.ok) {
      prepared.push(outcome.data);
      owner.push(image.caseId);
    } else fail(image, outcome.name, outcome.message);
  });
  const vectors = await encoder.embedPrepared(prepared);
  const sums = new Map<string, Float32Array>();
  vectors.forEach((v, i) => {
    const sum = sums.get(owner[i]!);
    if (!sum) sums.set(owner[i]!, v);
    else for (let d = 0; d < v.length; d++) sum[d] = sum[d]! + v[d]!;
  });
  const withImages = new Set(images.map((image) => image.caseId));
  for (const caseId of caseIds) if (!withImages.has(caseId)) failures.push({ caseId, error: "case has no image to embed" });
  return new Map([...sums].map(([caseId, sum]) => [caseId, l2NormalizeInPlace(sum)]));
}

/**
 * Embeds every case of `projectId` still missing a vector for the project's encoder version.
 * `onProgress(stage, percent)` is called after each batch.
 */
export async function runEmbed(deps: EmbedDeps, projectId: string, batchSize: number, onProgress: (stage: string, percent: number) => Promise<void> = async () => undefined): Promise<EmbedResult> {
  await onProgress("loading the encoder", 0);
  const { config, encoder } = await projectEncoder(deps, projectId);
  const version = encoder.version;
  // The preprocessing the encoder applies (its config, defaults filled in as the encoder fills them).
  const imagePreprocess = config.kind === "onnx-image" ? ZImagePreprocess.parse(config.preprocess) : null;
  const cases = await countProjectCases(deps.db, projectId);
  const missingAtStart = await countCasesMissingEmbedding(deps.db, projectId, version);
  const failures: EmbedFailure[] = [];
  let embedded = 0;
  let notEmbedded = 0;
  let seen = 0;
  let after: string | null = null;
  await onProgress(`embedding ${missingAtStart} of ${cases} cases`, 0);
  for (;;) {
    const page = await listCasesMissingEmbeddingPage(deps.db, projectId, version, after, batchSize);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const rows: EmbeddingRow[] = [];
    if (encoder.kind === "text") {
      const vectors = await encoder.embed(page.map((c) => c.narrative ?? ""));
      page.forEach((c, i) => rows.push({ caseId: c.id, encoderVersion: version, dim: encoder.dim, vector: vectorToBytes(vectors[i]!) }));
    } else {
      const batchFailures: EmbedFailure[] = [];
      const byCase = await embedImageCases(deps, projectId, encoder, imagePreprocess!, page.map((c) => c.id), batchFailures);
      for (const [caseId, v] of byCase) rows.push({ caseId, encoderVersion: version, dim: encoder.dim, vector: vectorToBytes(v) });
      notEmbedded += page.length - byCase.size;
      for (const failure of batchFailures) if (failures.length < MAX_REPORTED) failures.push(failure);
    }
    embedded += await insertEmbeddingRows(deps.db, rows);
    seen += page.length;
    await onProgress(`embedding ${missingAtStart} of ${cases} cases`, missingAtStart === 0 ? 100 : Math.min(99, (100 * seen) / missingAtStart));
  }
  const result: EmbedResult = {
    encoderVersion: version,
    kind: encoder.kind,
    dim: encoder.dim,
    cases,
    embedded,
    alreadyEmbedded: cases - missingAtStart,
    notEmbedded,
    failures,
  };
  logger.info("embed finished", { projectId, encoderVersion: version, embedded, notEmbedded, alreadyEmbedded: result.alreadyEmbedded });
  return result;
}

export const embedJob = defineJob<EmbedPayload>({
  name: EMBED_JOB,
  payload: ZEmbedPayload,
  retryLimit: 3,
  retryDelaySeconds: 30,
  expireInSeconds: 6 * 3600,
  async run(ctx) {
    const projectId = ctx.projectId ?? ctx.payload.projectId;
    if (!projectId) throw new Error("The embed job needs a project");
    const result = await runEmbed({ db: ctx.worker.db, store: ctx.worker.store, provider: ctx.worker.provider }, projectId, ctx.payload.batchSize, ctx.reportProgress);
    return { ...result };
  },
});
