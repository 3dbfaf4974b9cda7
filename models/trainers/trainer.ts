/**
 * How the train job gets a model out of labelled embeddings, without knowing how it is trained.
 * The loop (workers/jobs/train.ts) only sees this interface: rows in, an ONNX file and a
 * report out. The first implementation trains the MLP head on the CPU (workers/ml/mlp-head.ts);
 * a GPU full-encoder fine-tune is a second implementation of the same interface (see
 * docs/ARCHITECTURE.md, "Trainers") — it returns an ONNX graph with the same inputs and outputs,
 * so the registry, MC dropout and selection are unchanged.
 */
import type { LogisticConfig } from "@/workers/ml/heads/logistic";
import type { HeadConfig, HeadWeights, Matrix, TrainReport } from "@/workers/ml/types";
import type { HeadShape } from "../registry";

export interface TrainerInput {
  /** Training rows [N, D] (embeddings of the project's encoder); never TEST-split cases. */
  x: Matrix;
  /** Class index per row, 0..numClasses-1. */
  y: Int32Array;
  numClasses: number;
  /** Head hyper-parameters (missing fields: workers/ml defaultHeadConfig). */
  config: Partial<HeadConfig>;
  /** Logistic-head options (the logistic trainer; others ignore them). */
  logistic?: Partial<LogisticConfig>;
  seed: number;
}

export interface TrainedModel {
  /** Which trainer made it (recorded in the model card and ModelVersion.params). */
  trainer: string;
  /** ONNX bytes: input `embedding` [batch, D], one `dropout_mask_<l>` per hidden layer, outputs `probabilities`, `log_probabilities`. */
  onnx: Uint8Array;
  shape: HeadShape;
  /** The resolved hyper-parameters actually used. */
  config: Partial<HeadConfig>;
  /** The logistic head's resolved options and the c / columns cross-validation chose (logistic trainer only). */
  logistic?: Partial<LogisticConfig> & { chosenC: number[]; dims: number[] };
  report: TrainReport;
  /** In-process weights when the trainer has them (the CPU head); lets the job cross-check its export. */
  weights: HeadWeights | null;
}

export interface Trainer {
  readonly name: string;
  readonly device: "cpu" | "gpu";
  train(input: TrainerInput): Promise<TrainedModel>;
}
