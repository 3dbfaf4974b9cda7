/**
 * Shared shapes of workers/ml. Everything here is plain data on typed arrays, row-major.
 * Implementations live beside this file; this file only fixes the contracts between them
 * (the head, the selection strategies, the simulation loop and the worker's jobs).
 */
import type { Rng } from "./rng";

/** A dense row-major matrix: `data.length === rows * cols`. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export type LossKind = "cross-entropy" | "weighted-cross-entropy" | "focal";

export interface HeadConfig {
  /** Hidden layer widths, e.g. [128]; [] gives a linear (softmax-regression) head. */
  hidden: number[];
  /** Dropout probability applied after each hidden activation (and used by MC dropout). */
  dropout: number;
  loss: LossKind;
  /** Focal loss focusing parameter γ (only for loss = "focal"). */
  focalGamma: number;
  /** Class-balanced weighting β (Cui et al.): weight_c ∝ (1-β)/(1-β^n_c); only for weighted-cross-entropy. */
  classBalanceBeta: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** Stop after this many epochs without validation-loss improvement; keep the best weights. */
  patience: number;
  /** Share of the training rows held out for early stopping (stratified). */
  validationFraction: number;
  weightDecay: number;
}

/** Serialisable weights of a trained head (JSON-safe after Array.from on the typed arrays). */
export interface HeadWeights {
  inputDim: number;
  numClasses: number;
  hidden: number[];
  dropout: number;
  /** One entry per layer, input→hidden…→output. `weight` is [out, in] row-major, `bias` is [out]. */
  layers: { weight: Float32Array; bias: Float32Array; inDim: number; outDim: number }[];
}

export interface TrainReport {
  epochsRun: number;
  bestEpoch: number;
  trainLoss: number[];
  validationLoss: number[];
}

/** MC-dropout output: log-probabilities with shape [N, K, C], row-major (index = (n*K + k)*C + c). */
export interface McLogProbs {
  data: Float32Array;
  n: number;
  k: number;
  c: number;
}

/** Everything a selection strategy may look at for one round. */
export interface SelectionInput {
  /** Number of unlabelled pool cases; indices below refer to 0..poolSize-1. */
  poolSize: number;
  /** Cases to select this round. */
  budget: number;
  /** MC-dropout predictions of the current model over the pool, or null before any model exists. */
  mc: McLogProbs | null;
  /** Pool embeddings [poolSize, dim] (needed by core-set and cold start), or null. */
  embeddings: Matrix | null;
  /** Embeddings of already-labelled cases (core-set measures distance to these), or null. */
  labelledEmbeddings: Matrix | null;
  /** Class indices that count as minority. */
  minorityClasses: number[];
  rng: Rng;
  /**
   * Labels [L] of `labelledEmbeddings`' rows (same order), or null/absent when unknown. RADS uses them for
   * its embedding-space state features (closeness to known minority cases); strategies must work without.
   */
  labelledLabels?: Int32Array | null;
  /**
   * What the same strategy returned as `warmStart` in the project's previous round (e.g. RADS agent weights),
   * or null/absent for a cold start. A strategy must ignore state it cannot use (another shape or version).
   */
  warmStart?: StrategyState | null;
}

/** Opaque per-project state a strategy hands from one round to the next (typed arrays allowed; see each strategy for its codec). */
export interface StrategyState {
  /** Which strategy and format wrote it, e.g. "rads-agent/1". */
  kind: string;
  [key: string]: unknown;
}

export interface SelectionResult {
  /** Pool indices in queue (rank) order, deduplicated, length = min(budget, poolSize). */
  selected: Int32Array;
  /** Per-selected-case features to show a data scientist (same order as `selected`). */
  features: Record<string, Float64Array>;
  /** Per-round statistics (strategy-specific: π̂, ρ, return curve, ...), JSON-safe. */
  stats: Record<string, unknown>;
  /** State to pass as `warmStart` to this strategy's next round of the same project (absent: nothing to carry). */
  warmStart?: StrategyState;
}

export interface SelectionStrategy {
  readonly name: string;
  /** True when the strategy needs `mc` (a trained model); false for random, core-set and cold start. */
  readonly needsModel: boolean;
  select(input: SelectionInput): SelectionResult;
}
