/**
 * The "Encoder" settings of a project: the built-in featuriser, or an ONNX text or image encoder
 * from the models folder (env MODELS_DIR).
 *
 * - `listEncoderModels`: every .onnx file under MODELS_DIR (4 levels, hidden entries and symlinks
 *   skipped, at most 200) with its input/output names, element types and shapes as onnxruntime
 *   reports them (models/onnx-sessions.ts `describeOnnxModel`), and the folders holding a
 *   tokenizer.json (text encoders).
 * - Paths in the form are relative to MODELS_DIR; the stored config holds MODELS_DIR joined with
 *   it (what the worker opens). A path outside MODELS_DIR (also through a symlink), one that does
 *   not exist, or a file onnxruntime cannot load is a BAD_INPUT whose `field` names the input
 *   ("path", "modelFile", "outputName", "preprocess.cropSize").
 * - `tryEncoder` is a bounded synchronous call in the web process: it builds the encoder from the
 *   unsaved config and embeds THREE cases of the project (their narratives, or each case's first
 *   image), at most 30 s, and reports the vector width and the times. It writes nothing. An LSA
 *   encoder is fitted (as the embed job fits it on every narrative) on a bounded sample of the
 *   project's narratives, not on the three cases, and the result says which dimension the project
 *   will get and what the try fitted on.
 * - `updateEncoder` saves the config (audited before/after, under the project row lock) and, when
 *   it changed, queues an `embed` job in the same transaction (workers/jobs/embed.ts: embeds every
 *   case lacking a vector of the new encoder version; the jobs list shows its progress).
 */
import fs from "node:fs";
import path from "node:path";
import { parseStoredProjectConfig, type CaseContent } from "@/contracts/project-config";
import type { EncoderConfig } from "@/contracts/encoder-config";
import type { TryEncoderInput, UpdateEncoderInput } from "@/contracts/project-settings";
import { createEncoder } from "@/models/encoders/create-encoder";
import { describeOnnxModel, type OnnxModelDescription } from "@/models/onnx-sessions";
import type { Prisma } from "../db/client";
import { lockProjectRow } from "../db/project-admin-repo";
import { countNarratives, listImageSample, listNarrativeSample, writeProjectConfigColumns } from "../db/project-settings-repo";
import { loadServerEnv } from "../env";
import { DomainError } from "../errors";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import type { ServiceContext } from "./context";
import { enqueueJobRun } from "./enqueue-job";
import { requireProject } from "./project-access";

export interface EncoderDeps {
  /** The models folder (default: env MODELS_DIR); null when none is configured. */
  modelsDir?: string | null;
  store?: BlobStore;
}

const MAX_DEPTH = 4;
const MAX_FILES = 200;
const TRY_CASES = 3;
/**
 * Narratives an LSA "try it" fits on at most (the first by id). The fit's cost grows with texts × k
 * and blocks the web process, so it is a sample; LSA's dimension is min(k, narratives, vocabulary),
 * reported for the whole project.
 */
const TRY_LSA_FIT_TEXTS = 120;
const TRY_TIMEOUT_MS = 30_000;
const TEXT_MODEL_CANDIDATES = ["model.onnx", "onnx/model.onnx", "onnx/model_quantized.onnx"];

function modelsDirOf(deps: EncoderDeps): string | null {
  return deps.modelsDir !== undefined ? deps.modelsDir : (loadServerEnv().MODELS_DIR ?? null);
}

let defaultStore: BlobStore | undefined;
function storeOf(deps: EncoderDeps): BlobStore {
  if (deps.store) return deps.store;
  defaultStore ??= createLocalBlobStore(loadServerEnv().STORAGE_DIR);
  return defaultStore;
}

const bad = (field: string, message: string) => new DomainError("BAD_INPUT", message, { field });
const toPosix = (p: string) => p.split(path.sep).join("/");

// ---------------------------------------------------------------------------------------------
// Listing

export interface OnnxFileEntry {
  /** Relative to MODELS_DIR, "/"-separated. */
  path: string;
  sizeBytes: number;
  inputs: OnnxModelDescription["inputs"];
  outputs: OnnxModelDescription["outputs"];
  /** What the file looks like: an image model ([batch, 3, H, W] input), a token model (input_ids), or neither. */
  looksLike: "onnx-image" | "onnx-text" | null;
  /** Why onnxruntime could not read it (then inputs/outputs are empty). */
  error: string | null;
}

export interface TextEncoderDirEntry {
  path: string;
  /** The model file inside the folder, when one of the usual names exists. */
  modelFile: string | null;
}

function looksLike(description: OnnxModelDescription): OnnxFileEntry["looksLike"] {
  const first = description.inputs[0];
  if (first?.shape?.length === 4 && first.shape[1] === 3) return "onnx-image";
  if (description.inputs.some((i) => i.name === "input_ids")) return "onnx-text";
  return null;
}

/** Files and folders under `root` (no symlinks, no hidden entries), breadth-limited. */
function walk(root: string): { files: string[]; tokenizerDirs: string[] } {
  const files: string[] = [];
  const tokenizerDirs: string[] = [];
  const visit = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name.startsWith(".") || files.length >= MAX_FILES) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) visit(full, depth + 1);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith(".onnx")) files.push(full);
      else if (entry.isFile() && entry.name === "tokenizer.json") tokenizerDirs.push(dir);
    }
  };
  visit(root, 0);
  return { files, tokenizerDirs };
}

/** What a user sees when MODELS_DIR is not set. */
export const MODELS_DIR_NOT_SET = "No models folder is configured: set MODELS_DIR (see README, Configuration) to offer ONNX encoders.";

/** Every .onnx file and text-encoder folder of MODELS_DIR with what onnxruntime reports. */
export async function listEncoderModels(ctx: ServiceContext, input: { projectId: string }, deps: EncoderDeps = {}) {
  await requireProject(ctx, input.projectId, "project.configure");
  const dir = modelsDirOf(deps);
  if (!dir) return { configured: false as const, message: MODELS_DIR_NOT_SET, files: [] as OnnxFileEntry[], textEncoderDirs: [] as TextEncoderDirEntry[] };
  const root = path.resolve(dir);
  const { files, tokenizerDirs } = walk(root);
  const entries: OnnxFileEntry[] = [];
  for (const file of files) {
    const rel = toPosix(path.relative(root, file));
    const sizeBytes = fs.statSync(file).size;
    try {
      const description = await describeOnnxModel(file);
      entries.push({ path: rel, sizeBytes, ...description, looksLike: looksLike(description), error: null });
    } catch {
      entries.push({ path: rel, sizeBytes, inputs: [], outputs: [], looksLike: null, error: "onnxruntime cannot load this file as an ONNX model" });
    }
  }
  const textEncoderDirs = tokenizerDirs.map((d) => ({
    path: toPosix(path.relative(root, d)) || ".",
    modelFile: TEXT_MODEL_CANDIDATES.find((c) => fs.existsSync(path.join(d, c))) ?? null,
  }));
  return { configured: true as const, message: null, files: entries, textEncoderDirs };
}

// ---------------------------------------------------------------------------------------------
// Resolving a config against MODELS_DIR

/**
 * `rel` (relative to MODELS_DIR) as an existing path inside it: the real path (symlinks resolved)
 * must lie under the real MODELS_DIR. Returns the path to store (MODELS_DIR joined with `rel`).
 */
function insideModelsDir(dir: string, rel: string, field: string, what: "file" | "folder"): { stored: string; real: string } {
  const shown = rel.trim();
  const root = path.resolve(dir);
  if (path.isAbsolute(shown)) throw bad(field, `Give the ${what} relative to the models folder (MODELS_DIR), not as an absolute path.`);
  const realRoot = fs.realpathSync(root);
  const joined = path.resolve(root, shown);
  if (joined !== root && !joined.startsWith(root + path.sep)) throw bad(field, `"${shown}" is outside the models folder (MODELS_DIR).`);
  let real: string;
  try {
    real = fs.realpathSync(joined);
  } catch {
    throw bad(field, `"${shown}" does not exist in the models folder.`);
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw bad(field, `"${shown}" leads outside the models folder (MODELS_DIR).`);
  const stat = fs.statSync(real);
  if (what === "file" && !stat.isFile()) throw bad(field, `"${shown}" is a folder; choose a .onnx file.`);
  if (what === "folder" && !stat.isDirectory()) throw bad(field, `"${shown}" is a file; an ONNX text encoder is a folder holding tokenizer.json and the model.`);
  return { stored: path.join(dir, shown), real };
}

async function describeOrRefuse(file: string, shown: string, field: string): Promise<OnnxModelDescription> {
  if (!file.toLowerCase().endsWith(".onnx")) throw bad(field, `"${shown}" is not an ONNX model (a .onnx file).`);
  try {
    return await describeOnnxModel(file);
  } catch {
    throw bad(field, `"${shown}" is not an ONNX model onnxruntime can load.`);
  }
}

function checkOutputName(description: OnnxModelDescription, outputName: string | undefined) {
  if (outputName && !description.outputs.some((o) => o.name === outputName)) {
    throw bad("outputName", `The model has no output "${outputName}"; its outputs are ${description.outputs.map((o) => `"${o.name}"`).join(", ")}.`);
  }
}

export interface ResolvedEncoder {
  /** The config to store (ONNX paths joined with MODELS_DIR). */
  config: EncoderConfig;
  /** The model's inputs/outputs (ONNX encoders). */
  model: OnnxModelDescription | null;
}

/** Checks an encoder config from the form against MODELS_DIR and the model itself; see the module comment for the errors. */
export async function resolveEncoderConfig(config: EncoderConfig, deps: EncoderDeps = {}): Promise<ResolvedEncoder> {
  if (config.kind === "builtin" || config.kind === "lsa") return { config, model: null };
  const dir = modelsDirOf(deps);
  if (!dir) throw bad("kind", MODELS_DIR_NOT_SET);
  if (config.kind === "onnx-image") {
    const { stored, real } = insideModelsDir(dir, config.path, "path", "file");
    const model = await describeOrRefuse(real, config.path, "path");
    const input = model.inputs[0];
    if (!input?.shape || input.shape.length !== 4 || input.shape[1] !== 3) {
      throw bad("path", `"${config.path}" is not an image encoder: its first input should be [batch, 3, height, width], not ${JSON.stringify(input?.shape ?? null)}.`);
    }
    const [h, w] = [input.shape[2], input.shape[3]];
    if (typeof h === "number" && typeof w === "number" && (h !== config.preprocess.cropSize || w !== config.preprocess.cropSize)) {
      throw bad("preprocess.cropSize", `The model takes ${h}×${w} images: set the crop size to ${h}.`);
    }
    checkOutputName(model, config.outputName);
    return { config: { ...config, path: stored }, model };
  }
  const { stored, real } = insideModelsDir(dir, config.path, "path", "folder");
  if (!fs.existsSync(path.join(real, "tokenizer.json"))) throw bad("path", `"${config.path}" holds no tokenizer.json (a text encoder needs the model's HF tokenizer).`);
  let modelReal: string;
  let modelShown: string;
  if (config.modelFile) {
    modelShown = path.posix.join(config.path, config.modelFile);
    modelReal = insideModelsDir(dir, modelShown, "modelFile", "file").real;
  } else {
    const found = TEXT_MODEL_CANDIDATES.find((c) => fs.existsSync(path.join(real, c)));
    if (!found) throw bad("path", `"${config.path}" holds no model: looked for ${TEXT_MODEL_CANDIDATES.join(", ")} (or name it under "model file").`);
    modelShown = path.posix.join(config.path, found);
    modelReal = insideModelsDir(dir, modelShown, "path", "file").real;
  }
  const model = await describeOrRefuse(modelReal, modelShown, config.modelFile ? "modelFile" : "path");
  const names = new Set(model.inputs.map((i) => i.name));
  const missing = ["input_ids", "attention_mask"].filter((n) => !names.has(n));
  if (missing.length) throw bad(config.modelFile ? "modelFile" : "path", `"${modelShown}" is not a text encoder: it has no ${missing.join(" or ")} input.`);
  checkOutputName(model, config.outputName);
  return { config: { ...config, path: stored }, model };
}

/** A stored config as the form and the exported configuration file show it: ONNX paths relative to MODELS_DIR (left as stored, flagged, when outside it). */
export function configForForm(config: EncoderConfig, dir: string | null): EncoderConfig & { outsideModelsDir?: boolean } {
  if (config.kind === "builtin" || config.kind === "lsa") return config;
  if (!dir) return { ...config, outsideModelsDir: true };
  const rel = path.relative(path.resolve(dir), path.resolve(config.path));
  if (rel.startsWith("..") || path.isAbsolute(rel)) return { ...config, outsideModelsDir: true };
  return { ...config, path: toPosix(rel) || "." };
}

// ---------------------------------------------------------------------------------------------
// Reading, trying and saving

/** A stored config as a configuration file holds it (what project create reads back): ONNX paths relative to MODELS_DIR. */
export function encoderConfigForFile(config: EncoderConfig, deps: EncoderDeps = {}): EncoderConfig {
  const { outsideModelsDir: _outside, ...shown } = configForForm(config, modelsDirOf(deps));
  return shown as EncoderConfig;
}

export async function getEncoderSettings(ctx: ServiceContext, input: { projectId: string }, deps: EncoderDeps = {}) {
  const { project, config, archived } = await requireProject(ctx, input.projectId, "project.configure");
  const dir = modelsDirOf(deps);
  return {
    projectId: project.id,
    projectName: project.name,
    archived,
    caseContent: config.caseContent as CaseContent,
    encoderConfig: configForForm(config.encoderConfig, dir),
    modelsDirConfigured: dir !== null,
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DomainError("CONFLICT", `Trying the encoder took longer than ${ms / 1000} s; it would be too slow for this project.`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface TryEncoderResult {
  kind: "text" | "image";
  dim: number;
  encoderVersion: string;
  /** Building the encoder (loading the model, fitting the built-in IDF), ms. */
  loadMs: number;
  /** Embedding the cases, ms. */
  embedMs: number;
  cases: { externalId: string; ok: boolean; error: string | null }[];
  /**
   * LSA only: what the try fitted on — `texts` of the project's `narratives`, giving `fittedDim`
   * (min(k, texts, vocabulary)) in `fitMs` — while `dim` is what the project's embedding will have
   * (min(k, narratives), the embed job fitting on every narrative). Null for the other encoders.
   */
  fit: { texts: number; narratives: number; fittedDim: number; fitMs: number } | null;
  /** One line saying what the try did when it is not simply "embedded three cases" (LSA's fit); null otherwise. */
  note: string | null;
}

/** Embeds three of the project's cases with the (unsaved) config; a query, nothing is written. */
export async function tryEncoder(ctx: ServiceContext, input: TryEncoderInput, deps: EncoderDeps = {}): Promise<TryEncoderResult> {
  const { project } = await requireProject(ctx, input.projectId, "project.configure");
  const { config } = await resolveEncoderConfig(input.encoderConfig as EncoderConfig, deps);
  const provider = loadServerEnv().ONNX_EXECUTION_PROVIDER;
  return withTimeout(
    (async () => {
      if (config.kind === "onnx-image") {
        const sample = await listImageSample(ctx.db, project.id, TRY_CASES);
        if (sample.length === 0) throw bad("form", "This project has no case with an image to try an image encoder on.");
        const started = performance.now();
        const encoder = await createEncoder(config, { provider });
        if (encoder.kind !== "image") throw new Error("an image config gave a text encoder");
        const loadMs = performance.now() - started;
        const cases: TryEncoderResult["cases"] = [];
        const prepared: Float32Array[] = [];
        const t0 = performance.now();
        for (const c of sample) {
          try {
            prepared.push(encoder.prepare({ bytes: await storeOf(deps).get(c.images[0]!.storageKey), label: c.images[0]!.id }));
            cases.push({ externalId: c.externalId, ok: true, error: null });
          } catch (error) {
            cases.push({ externalId: c.externalId, ok: false, error: error instanceof Error ? error.message : "could not be decoded" });
          }
        }
        await encoder.embedPrepared(prepared);
        return { kind: "image", dim: encoder.dim, encoderVersion: encoder.version, loadMs, embedMs: performance.now() - t0, cases, fit: null, note: null };
      }
      const lsa = config.kind === "lsa";
      // LSA is fitted on the project's narratives (a bounded sample of them here), never on the three cases alone.
      const fitSample = lsa ? await listNarrativeSample(ctx.db, project.id, TRY_LSA_FIT_TEXTS) : [];
      const sample = lsa ? fitSample.slice(0, TRY_CASES) : await listNarrativeSample(ctx.db, project.id, TRY_CASES);
      if (sample.length === 0) throw bad("form", "This project has no case with a narrative to try a text encoder on.");
      const texts = sample.map((c) => c.narrative ?? "");
      const started = performance.now();
      const encoder = await createEncoder(config, { provider, corpus: lsa ? fitSample.map((c) => c.narrative ?? "") : texts });
      if (encoder.kind !== "text") throw new Error("a text config gave an image encoder");
      const loadMs = performance.now() - started;
      const t0 = performance.now();
      await encoder.embed(texts);
      const cases = sample.map((c) => ({ externalId: c.externalId, ok: true, error: null }));
      if (config.kind !== "lsa") return { kind: "text", dim: encoder.dim, encoderVersion: encoder.version, loadMs, embedMs: performance.now() - t0, cases, fit: null, note: null };
      const narratives = await countNarratives(ctx.db, project.id);
      // LSA's dimension is min(k, texts, vocabulary): the sample caps the fitted one; the project's fit sees every narrative.
      const projectDim = Math.min(config.dim, narratives);
      const vocabularyCapped = encoder.dim < Math.min(config.dim, fitSample.length);
      const dim = vocabularyCapped ? encoder.dim : projectDim;
      const fit = { texts: fitSample.length, narratives, fittedDim: encoder.dim, fitMs: loadMs };
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
      const note =
        (vocabularyCapped
          ? `LSA's dimension is capped by the vocabulary: the sample's words allow only ${encoder.dim} (k = ${config.dim}); the project's fit on all ${plural(narratives, "narrative")} allows at most ${projectDim}.`
          : `With k = ${config.dim} and ${plural(narratives, "narrative")}, the project's LSA embedding has dimension ${projectDim}${projectDim < config.dim ? " (capped by the number of narratives)" : ""}.`) +
        ` This try fitted LSA on ${fitSample.length === narratives ? `all ${plural(narratives, "narrative")}` : `a sample of ${fitSample.length} of them`} (dimension ${encoder.dim}, ${Math.round(loadMs)} ms)` +
        ` and embedded ${plural(cases.length, "case")}; saving fits it on every narrative and re-embeds the project as a job.`;
      return { kind: "text", dim, encoderVersion: encoder.version, loadMs, embedMs: performance.now() - t0, cases, fit, note };
    })(),
    TRY_TIMEOUT_MS,
  );
}

/**
 * Saves the encoder config and, when it changed, queues the re-embedding job in the same
 * transaction (its message is sent after the commit). Audited as "project.encoder.update" with
 * the config before and after.
 * @returns whether it changed and the embed JobRun id (null when unchanged)
 */
export async function updateEncoder(ctx: ServiceContext, input: UpdateEncoderInput, deps: EncoderDeps = {}) {
  const { project } = await requireProject(ctx, input.projectId, "project.configure", { write: true });
  const { config } = await resolveEncoderConfig(input.encoderConfig as EncoderConfig, deps);
  const outcome = await ctx.db.$transaction(async (tx) => {
    const row = await lockProjectRow(tx, project.id);
    if (!row) throw new DomainError("NOT_FOUND", "No such project.");
    const before = parseStoredProjectConfig(row).encoderConfig;
    const changed = JSON.stringify(before) !== JSON.stringify(config);
    let job: Awaited<ReturnType<typeof enqueueJobRun>> | null = null;
    if (changed) {
      await writeProjectConfigColumns(tx, project.id, { encoderConfig: config as unknown as Prisma.InputJsonValue });
      job = await enqueueJobRun(tx, { kind: "embed", projectId: project.id, payload: { projectId: project.id }, dedupeKey: null, requestedById: ctx.actor?.id ?? null });
    }
    await ctx.audit.record(tx, {
      action: "project.encoder.update",
      targetType: "Project",
      targetId: project.id,
      projectId: project.id,
      details: { changed, before, after: config, jobRunId: job?.jobRunId ?? null } as unknown as Prisma.InputJsonValue,
    });
    return { changed, job };
  });
  if (outcome.job) await outcome.job.send();
  return { projectId: project.id, changed: outcome.changed, jobRunId: outcome.job?.jobRunId ?? null };
}
