/**
 * The first Trainer: the MLP head of workers/ml trained on the CPU over frozen embeddings, then
 * exported to ONNX with the hand-built exporter (models/onnx/head-export.ts).
 */
import { defaultHeadConfig, trainHead } from "@/workers/ml/mlp-head";
import { createRng } from "@/workers/ml/rng";
import { exportHeadToOnnx } from "../onnx/head-export";
import type { Trainer, TrainedModel, TrainerInput } from "./trainer";

export const cpuHeadTrainer: Trainer = {
  name: "cpu-mlp-head",
  device: "cpu",
  async train(input: TrainerInput): Promise<TrainedModel> {
    const config = { ...defaultHeadConfig, ...input.config };
    const { weights, report } = trainHead(input.x, input.y, input.numClasses, config, createRng(input.seed));
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
export const TRAINERS: Record<string, Trainer> = { [cpuHeadTrainer.name]: cpuHeadTrainer };

export function getTrainer(name: string | undefined): Trainer {
  const trainer = TRAINERS[name ?? cpuHeadTrainer.name];
  if (!trainer) throw new Error(`Unknown trainer "${name}"; available: ${Object.keys(TRAINERS).join(", ")}`);
  return trainer;
}
