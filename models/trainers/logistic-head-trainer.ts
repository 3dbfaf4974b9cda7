/**
 * The logistic Trainer: class-balanced multinomial logistic regression over frozen embeddings
 * (workers/ml/heads/logistic.ts: L2, c chosen per training by stratified cross-validation on the
 * labelled set, L-BFGS), trained on an ML worker thread. Its weights are an ordinary linear
 * HeadWeights (no hidden layer), so the ONNX export, the registry and the evaluation are those of
 * the MLP head. The ONNX graph has no dropout: the select job takes a logistic model's
 * uncertainty from `bootstrapLogProbs`, refitted on the model's training snapshot.
 *
 * On LSA embeddings the head averages heads on the leading 50 and all 100 columns
 * (`LSA_HEAD_PREFIXES`, docs/simulation.md "The learner"); the caller says so through `input.logistic`.
 */
import { defaultLogisticConfig } from "@/workers/ml/heads/logistic";
import { runInMlThread } from "@/workers/threads/ml-pool";
import { exportHeadToOnnx } from "../onnx/head-export";
import type { Trainer, TrainedModel, TrainerInput } from "./trainer";

export const LOGISTIC_TRAINER = "cpu-logistic-head";

export const logisticHeadTrainer: Trainer = {
  name: LOGISTIC_TRAINER,
  device: "cpu",
  async train(input: TrainerInput): Promise<TrainedModel> {
    const config = { ...defaultLogisticConfig, ...input.logistic };
    const model = await runInMlThread("trainLogistic", { x: input.x, y: input.y, numClasses: input.numClasses, config, seed: input.seed });
    const { weights } = model;
    return {
      trainer: LOGISTIC_TRAINER,
      onnx: exportHeadToOnnx(weights, { trainer: LOGISTIC_TRAINER }),
      shape: { inputDim: weights.inputDim, hidden: [...weights.hidden], numClasses: weights.numClasses, dropout: weights.dropout },
      config: {},
      logistic: { ...config, chosenC: model.parts.map((p) => p.c), dims: model.parts.map((p) => p.dims) },
      // No epochs: one L-BFGS solve per part; the report records nothing epoch-wise.
      report: { epochsRun: 0, bestEpoch: 0, trainLoss: [], validationLoss: [] },
      weights,
    };
  },
};
