/**
 * The uncertainty of a logistic-head model for the select job: the ONNX graph of a linear head has
 * no dropout (its MC passes would all be equal, and BALD zero), so the McLogProbs [N, K, C] come
 * from `bootstrapLogProbs` (workers/ml/heads/logistic.ts): K refits on stratified bootstrap
 * resamples of the labelled set the approved model was trained on.
 *
 * That set is the model's own training snapshot (ModelVersion.trainingSnapshot: case, label, in
 * training order) and the vectors of the model's encoder version; the head is refitted with the
 * train job's options and seed (ModelVersion.params.logistic / .seed), which gives the weights the
 * train job exported (the fit is deterministic under its seed), so the ensemble is centred on the
 * approved model.
 *
 * The refit does not repeat the train job's cross-validation: train.ts records the c and the leading
 * columns each part chose (params.logistic.chosenC / .dims), and each part is refitted with those
 * (`cvFolds: 0`), which is the fit the cross-validated training ended with (the final fit of a part
 * is a fresh L-BFGS solve at its chosen c; workers/ml/heads/logistic.ts trainLogisticHead) — one
 * fit per part instead of folds × grid + 1. Models registered without those fields are refitted
 * with the cross-validation, as before.
 */
import type { Db } from "@/server/db/client";
import { findModelTrainingSnapshot } from "@/server/db/loop-repo";
import type { LogisticConfig, LogisticModel } from "@/workers/ml/heads/logistic";
import type { Matrix, McLogProbs } from "@/workers/ml/types";
import type { Rng } from "@/workers/ml/rng";
import { runInMlThread } from "../threads/ml-pool";
import { forkSeed } from "../threads/ml-tasks";
import { embeddingMatrix, type ProjectClasses } from "./loop-data";

export interface LogisticParams {
  headKind?: unknown;
  seed?: unknown;
  logistic?: (Partial<LogisticConfig> & { chosenC?: unknown; dims?: unknown }) | null;
}

/** Whether a model version's params name the logistic head (train.ts writes `headKind`). */
export function isLogisticModel(params: unknown): boolean {
  return (params as LogisticParams | null)?.headKind === "logistic";
}

/** Refits kept per model version (and class keys): the last few, in the process (see `approvedLogisticModel`). */
const REFIT_CACHE_SIZE = 4;
const refitCache = new Map<string, Promise<LogisticModel | null>>();

/**
 * The approved logistic model refitted on its training snapshot (`refitApprovedHead`), or null when
 * the model is not a logistic head. Kept in the process for the last REFIT_CACHE_SIZE model versions:
 * the refit is a function of what a model version fixes when it is registered (training snapshot,
 * params and seed, the snapshot cases' vectors of its encoder version, which are written once) and
 * of the project's class keys (part of the key), so a speculative round and its approval's run, or
 * the bootstrap and the stopping estimate, share one fit. A failed refit is not kept.
 * @throws Error naming the model version when its snapshot is missing, names a label outside the
 * project's classes, or a snapshot case has no vector of the model's encoder version.
 */
export function approvedLogisticModel(db: Db, modelVersionId: string, classes: ProjectClasses): Promise<LogisticModel | null> {
  const key = `${modelVersionId}\n${classes.keys.join("\n")}`;
  const cached = refitCache.get(key);
  if (cached) {
    refitCache.delete(key);
    refitCache.set(key, cached);
    return cached;
  }
  const fit = refitFromSnapshot(db, modelVersionId, classes);
  refitCache.set(key, fit);
  fit.catch(() => {
    if (refitCache.get(key) === fit) refitCache.delete(key);
  });
  while (refitCache.size > REFIT_CACHE_SIZE) refitCache.delete(refitCache.keys().next().value!);
  return fit;
}

async function refitFromSnapshot(db: Db, modelVersionId: string, classes: ProjectClasses): Promise<LogisticModel | null> {
  const model = await findModelTrainingSnapshot(db, modelVersionId);
  if (!model || !isLogisticModel(model.params)) return null;
  const params = model.params as LogisticParams;
  const cases = (model.trainingSnapshot as { cases?: { caseId: string; label: string }[] } | null)?.cases;
  if (!Array.isArray(cases) || cases.length === 0) throw new Error(`Model version ${model.version} has no training snapshot to refit its bootstrap ensemble on`);
  const y = Int32Array.from(cases, (c) => {
    const index = classes.index.get(c.label);
    if (index === undefined) throw new Error(`Model version ${model.version} was trained on label "${c.label}", which the project's label schema no longer has`);
    return index;
  });
  const x = await embeddingMatrix(db, cases.map((c) => c.caseId), model.encoderVersion);
  return refitApprovedHead(x, y, classes.keys.length, params);
}

/**
 * Which bootstrap implementation the select job runs: env LOGISTIC_BOOTSTRAP = "reference" for the
 * first one (`bootstrapLogProbsReference`: members fitted over the drawn rows, scored one at a time —
 * kept to compare against, docs/benchmarks.md), else "stacked" (`bootstrapLogProbs`). The two agree
 * to the solver's tolerance (workers/ml/heads/logistic.test.ts).
 * @throws Error naming the variable when it holds anything else.
 */
export function bootstrapMethod(): "stacked" | "reference" {
  const raw = process.env.LOGISTIC_BOOTSTRAP?.trim();
  if (!raw || raw === "stacked") return "stacked";
  if (raw === "reference") return "reference";
  throw new Error(`LOGISTIC_BOOTSTRAP must be "stacked" or "reference" (got "${raw}")`);
}

/**
 * Bootstrap log-probabilities [pool rows, passes, C] of a refitted logistic model (`approvedLogisticModel`) over `poolX`.
 */
export function logisticBootstrapLogProbs(fitted: LogisticModel, poolX: Matrix, passes: number, rng: Rng): Promise<McLogProbs> {
  return runInMlThread("bootstrapLogProbs", { model: fitted, x: poolX, passes, seed: forkSeed(rng), method: bootstrapMethod() });
}

/** The recorded per-part choices of a trained logistic head, or null when the params predate them (or do not match). */
function recordedChoices(logistic: LogisticParams["logistic"]): { c: number; dims: number }[] | null {
  const chosenC = logistic?.chosenC;
  const dims = logistic?.dims;
  if (!Array.isArray(chosenC) || !Array.isArray(dims) || chosenC.length === 0 || chosenC.length !== dims.length) return null;
  const parts = chosenC.map((c, i) => ({ c: c as unknown, dims: dims[i] as unknown }));
  const valid = parts.every((p) => typeof p.c === "number" && p.c > 0 && Number.isFinite(p.c) && typeof p.dims === "number" && Number.isInteger(p.dims) && p.dims >= 1);
  return valid ? (parts as { c: number; dims: number }[]) : null;
}

/**
 * The approved head refitted on its training set (file comment): with recorded choices, one fit per
 * part at its c over its leading columns (no cross-validation); the parts' zero-padded weights are
 * averaged as the trained head averages them. Without, the cross-validated training again.
 */
export async function refitApprovedHead(x: Matrix, y: Int32Array, numClasses: number, params: LogisticParams): Promise<LogisticModel> {
  const { chosenC: _c, dims: _d, ...config } = params.logistic ?? {};
  const seed = typeof params.seed === "number" ? params.seed : 1;
  const choices = recordedChoices(params.logistic);
  if (!choices) return runInMlThread("trainLogistic", { x, y, numClasses, config, seed });
  const parts: LogisticModel[] = [];
  for (const choice of choices) {
    parts.push(await runInMlThread("trainLogistic", { x, y, numClasses, config: { ...config, cvFolds: 0, defaultC: choice.c, prefixDims: [choice.dims], prefixEnsemble: null }, seed }));
  }
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const layer = first.weights.layers[0]!;
  const weight = new Float32Array(layer.weight.length);
  const bias = new Float32Array(layer.bias.length);
  for (const part of parts) {
    const l = part.weights.layers[0]!;
    for (let i = 0; i < weight.length; i++) weight[i] = weight[i]! + l.weight[i]! / parts.length;
    for (let i = 0; i < bias.length; i++) bias[i] = bias[i]! + l.bias[i]! / parts.length;
  }
  return {
    ...first,
    weights: { ...first.weights, layers: [{ ...layer, weight, bias }] },
    dims: Math.max(...parts.map((p) => p.dims)),
    cvScores: [],
    parts: parts.flatMap((p) => p.parts),
    config: { ...first.config, prefixDims: null, prefixEnsemble: choices.map((p) => p.dims) },
  };
}
