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
 */
import type { Db } from "@/server/db/client";
import { findModelTrainingSnapshot } from "@/server/db/loop-repo";
import type { LogisticConfig } from "@/workers/ml/heads/logistic";
import type { Matrix, McLogProbs } from "@/workers/ml/types";
import type { Rng } from "@/workers/ml/rng";
import { runInMlThread } from "../threads/ml-pool";
import { forkSeed } from "../threads/ml-tasks";
import { embeddingMatrix, type ProjectClasses } from "./loop-data";

interface LogisticParams {
  headKind?: unknown;
  seed?: unknown;
  logistic?: (Partial<LogisticConfig> & { chosenC?: unknown; dims?: unknown }) | null;
}

/** Whether a model version's params name the logistic head (train.ts writes `headKind`). */
export function isLogisticModel(params: unknown): boolean {
  return (params as LogisticParams | null)?.headKind === "logistic";
}

/**
 * Bootstrap log-probabilities [pool rows, passes, C] of the approved logistic model over `poolX`,
 * or null when the model is not a logistic head (the caller then runs MC dropout on the ONNX file).
 * @throws Error naming the model version when its snapshot is missing, names a label outside the
 * project's classes, or a snapshot case has no vector of the model's encoder version.
 */
export async function logisticBootstrapLogProbs(db: Db, modelVersionId: string, classes: ProjectClasses, poolX: Matrix, passes: number, rng: Rng): Promise<McLogProbs | null> {
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
  const { chosenC: _c, dims: _d, ...config } = params.logistic ?? {};
  const seed = typeof params.seed === "number" ? params.seed : 1;
  const fitted = await runInMlThread("trainLogistic", { x, y, numClasses: classes.keys.length, config, seed });
  return runInMlThread("bootstrapLogProbs", { model: fitted, x: poolX, passes, seed: forkSeed(rng) });
}
