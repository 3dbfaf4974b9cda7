/**
 * Suspected label errors, confident-learning style (Northcutt, Jiang & Chuang 2021, "Confident
 * Learning: Estimating Uncertainty in Dataset Labels", JAIR 70): from OUT-OF-FOLD predicted
 * probabilities p [n, C] of the labelled set (no case is scored by a model that saw its label),
 *   t_j = mean of p_j over the cases labelled j                       (per-class threshold)
 * and a case labelled i is flagged when, among the classes j with p_j ≥ t_j, the most probable
 * one is some j ≠ i (the off-diagonal of the confident joint). Flags are ranked by the normalised
 * margin p_j − p_i (the paper's "normalized margin" ranking), largest first.
 *
 * `outOfFoldProbabilities` gives such p with the logistic head of heads/logistic.ts: stratified
 * K folds (seeded), each part of the head (its leading columns and c) refitted on K − 1 folds,
 * logits of the parts averaged (as the trained head averages them), softmax on the held-out fold.
 */
import type { Rng } from "./rng";
import { fitLogistic, stratifiedFolds, type LogisticConfig } from "./heads/logistic";
import type { Matrix } from "./types";
import { assertFiniteMatrix, assertInteger, assertLabels, assertLength, MlInputError } from "./validate";

export interface SuspectedLabelError {
  /** Row of the labelled set. */
  index: number;
  /** Given label i and the class the model prefers (j). */
  given: number;
  suggested: number;
  /** Out-of-fold probabilities of i and j; margin = pSuggested − pGiven (> 0 not required: ties at the threshold rank last). */
  pGiven: number;
  pSuggested: number;
  margin: number;
}

export interface LabelErrorReport {
  /** t_j per class (NaN for a class with no labelled case: such a class never flags). */
  thresholds: Float64Array;
  /** Flagged cases, largest margin first (ties: lower index first). */
  flagged: SuspectedLabelError[];
}

/**
 * Confident-learning flags from out-of-fold probabilities `probs` [n·C] (rows sum to 1) and
 * labels `y` [n] in 0..C−1.
 * @throws MlInputError on a length mismatch, labels out of range or a non-finite probability.
 */
export function findLabelErrors(probs: ArrayLike<number>, y: Int32Array, numClasses: number): LabelErrorReport {
  assertInteger(numClasses, 2, "numClasses");
  assertLength(probs.length, y.length * numClasses, "probabilities length vs labels × classes");
  assertLabels(y, numClasses);
  for (let k = 0; k < probs.length; k++) {
    const v = probs[k]!;
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new MlInputError("invalid-argument", `label errors: probability at row ${Math.floor(k / numClasses)}, class ${k % numClasses} is ${v}, not in [0, 1]`);
  }
  const sums = new Float64Array(numClasses);
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    sums[c]! += probs[i * numClasses + c]!;
    counts[c]! += 1;
  }
  const thresholds = Float64Array.from(sums, (s, c) => (counts[c]! > 0 ? s / counts[c]! : NaN));
  const flagged: SuspectedLabelError[] = [];
  for (let i = 0; i < y.length; i++) {
    let best = -1;
    for (let j = 0; j < numClasses; j++) {
      const p = probs[i * numClasses + j]!;
      // NaN thresholds compare false: a class nobody labelled cannot claim a case.
      if (p >= thresholds[j]! && (best < 0 || p > probs[i * numClasses + best]!)) best = j;
    }
    const given = y[i]!;
    if (best < 0 || best === given) continue;
    const pGiven = probs[i * numClasses + given]!;
    const pSuggested = probs[i * numClasses + best]!;
    flagged.push({ index: i, given, suggested: best, pGiven, pSuggested, margin: pSuggested - pGiven });
  }
  flagged.sort((a, b) => b.margin - a.margin || a.index - b.index);
  return { thresholds, flagged };
}

/**
 * Out-of-fold class probabilities [n·C] of the logistic head (file header). `parts` are the
 * trained head's parts (leading columns `dims`, regularisation `c`); folds = min(`folds`,
 * smallest class count). Needs every class in 0..C−1 that is present to have ≥ 2 cases.
 * @throws MlInputError on bad shapes/labels, fewer than 2 folds possible, or bad parts.
 */
export function outOfFoldProbabilities(
  x: Matrix,
  y: Int32Array,
  numClasses: number,
  parts: readonly { dims: number; c: number }[],
  options: Pick<LogisticConfig, "classWeight" | "maxIterations"> & { folds: number },
  rng: Rng,
): Float64Array {
  assertFiniteMatrix(x, "label errors x");
  assertLength(y.length, x.rows, "labels length vs x rows");
  assertLabels(y, numClasses);
  if (parts.length === 0) throw new MlInputError("invalid-argument", "label errors: the head needs at least one part");
  for (const p of parts) {
    assertInteger(p.dims, 1, "part dims");
    if (!(p.c > 0) || !Number.isFinite(p.c)) throw new MlInputError("invalid-argument", `label errors: part c must be positive and finite, got ${p.c}`);
  }
  const counts = new Int32Array(numClasses);
  for (const v of y) counts[v]! += 1;
  let smallest = Infinity;
  for (const n of counts) if (n > 0) smallest = Math.min(smallest, n);
  const folds = Math.min(options.folds, smallest);
  if (folds < 2) throw new MlInputError("invalid-argument", `label errors: out-of-fold probabilities need ≥ 2 folds and ≥ 2 cases in every labelled class (smallest class has ${smallest})`);
  const fold = stratifiedFolds(y, numClasses, folds, rng);
  const out = new Float64Array(y.length * numClasses);
  const logits = new Float64Array(numClasses);
  for (let f = 0; f < folds; f++) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < y.length; i++) (fold[i] === f ? testIdx : trainIdx).push(i);
    const thetas = parts.map((p) => {
      const k = Math.min(p.dims, x.cols);
      const data = new Float32Array(trainIdx.length * k);
      trainIdx.forEach((row, r) => data.set(x.data.subarray(row * x.cols, row * x.cols + k), r * k));
      return { k, theta: fitLogistic({ data, rows: trainIdx.length, cols: k }, Int32Array.from(trainIdx, (i) => y[i]!), numClasses, p.c, options) };
    });
    for (const row of testIdx) {
      logits.fill(0);
      for (const { k, theta } of thetas) {
        // θ: W [C, k] row-major, then the bias [C] (heads/logistic.ts).
        for (let c = 0; c < numClasses; c++) {
          let z = theta[numClasses * k + c]!;
          for (let j = 0; j < k; j++) z += theta[c * k + j]! * x.data[row * x.cols + j]!;
          logits[c]! += z / thetas.length;
        }
      }
      let max = -Infinity;
      for (const z of logits) max = Math.max(max, z);
      let sum = 0;
      for (let c = 0; c < numClasses; c++) sum += Math.exp(logits[c]! - max);
      for (let c = 0; c < numClasses; c++) out[row * numClasses + c] = Math.exp(logits[c]! - max) / sum;
    }
  }
  return out;
}

/** What a training stores with its model (`metrics.labelErrors`): the top flags by case id and class key. */
export interface LabelErrorList {
  method: "confident-learning";
  folds: number;
  /** t_j per class key (null: no labelled case of that class). */
  thresholds: Record<string, number | null>;
  /** All flags, and the largest-margin ones kept (at most `limit`). */
  flaggedCount: number;
  cases: { caseId: string; given: string; suggested: string; pGiven: number; pSuggested: number; margin: number }[];
}

/**
 * Out-of-fold probabilities → confident-learning flags, named by `caseIds` [n] and `classKeys` [C]
 * for storing with the model; `null` with the reason when the set cannot be cross-validated
 * (a labelled class with fewer than 2 cases) — a training never fails because of this list.
 */
export function labelErrorList(
  x: Matrix,
  y: Int32Array,
  caseIds: readonly string[],
  classKeys: readonly string[],
  parts: readonly { dims: number; c: number }[],
  options: Pick<LogisticConfig, "classWeight" | "maxIterations"> & { folds: number; limit: number },
  rng: Rng,
): { list: LabelErrorList | null; skipped: string | null } {
  assertLength(caseIds.length, y.length, "case ids vs labels");
  let probs: Float64Array;
  try {
    probs = outOfFoldProbabilities(x, y, classKeys.length, parts, options, rng);
  } catch (error) {
    if (error instanceof MlInputError) return { list: null, skipped: error.message };
    throw error;
  }
  const counts = new Int32Array(classKeys.length);
  for (const v of y) counts[v]! += 1;
  let smallest = Infinity;
  for (const n of counts) if (n > 0) smallest = Math.min(smallest, n);
  const { thresholds, flagged } = findLabelErrors(probs, y, classKeys.length);
  return {
    list: {
      method: "confident-learning",
      folds: Math.min(options.folds, smallest),
      thresholds: Object.fromEntries(classKeys.map((k, c) => [k, Number.isNaN(thresholds[c]!) ? null : thresholds[c]!])),
      flaggedCount: flagged.length,
      cases: flagged.slice(0, options.limit).map((f) => ({ caseId: caseIds[f.index]!, given: classKeys[f.given]!, suggested: classKeys[f.suggested]!, pGiven: f.pGiven, pSuggested: f.pSuggested, margin: f.margin })),
    },
    skipped: null,
  };
}
