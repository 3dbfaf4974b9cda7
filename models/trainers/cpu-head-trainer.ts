/**
 * The first Trainer: the MLP head of workers/ml trained on the CPU over frozen embeddings, then
 * exported to ONNX with the hand-built exporter (models/onnx/head-export.ts). Training runs on an ML
 * worker thread (workers/threads), so the worker's event loop keeps serving the queue meanwhile;
 * the weights are the same as a call on this thread with the same seed.
 */
import { defaultHeadConfig } from "@/workers/ml/mlp-head";
import { runInMlThread } from "@/workers/threads/ml-pool";
import { exportHeadToOnnx } from "../onnx/head-export";
import { logisticHeadTrainer } from "./logistic-head-trainer";
import type { Trainer, TrainedModel, TrainerInput } from "./trainer";

export const cpuHeadTrainer: Trainer = {
  name: "cpu-mlp-head",
  device: "cpu",
  async train(input: TrainerInput): Promise<TrainedModel> {
    const config = { ...defaultHeadConfig, ...input.config };
    const { weights, report } = await runInMlThread("trainHead", { x: input.x, y: input.y, numClasses: input.numClasses, config, seed: input.seed });
    return {
      trainer: "cpu-mlp-head",
      onnx: exportHeadToOnnx(weights, { trainer: "cpu-mlp-head" }),
      shape: { inputDim: weights.inputDim, hidden: [...weights.hidden], numClasses: weights.numClasses, dropout: weights.dropout },
      config,
      report,
      weights,
    };
  },
};

/** Trainers by name (ModelVersion.params.trainer / project settings.trainer). */
export const TRAINERS: Record<string, Trainer> = { [cpuHeadTrainer.name]: cpuHeadTrainer, [logisticHeadTrainer.name]: logisticHeadTrainer };

export function getTrainer(name: string | undefined): Trainer {
  const trainer = TRAINERS[name ?? cpuHeadTrainer.name];
  if (!trainer) throw new Error(`Unknown trainer "${name}"; available: ${Object.keys(TRAINERS).join(", ")}`);
  return trainer;
}
