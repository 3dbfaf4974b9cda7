/**
 * Calibrated minority probabilities of the logistic head (heads/logistic.ts) for the "when to stop"
 * estimate (stopping.ts): one row of probabilities per bootstrap member, each member calibrated on
 * its own resample, so the spread across members carries both the head's and the calibration's
 * uncertainty.
 *
 * 1. Held-out scores: stratified F-fold cross-validation on the labelled set (F = min(5, minority
 *    count, rest count), folds stratified on minority vs rest), every averaged part of the head refitted
 *    at its chosen c and columns on F − 1 folds (warm-started from the full fit); score of a held-out
 *    case = the minority log-odds s = log Σ_{c∈minority} p_c − log Σ_{c∉minority} p_c of its fold's head.
 *    These are the only honest scores of labelled cases: in-sample scores of a head that fits its
 *    training set are over-confident, and a class-balanced head over-states the minority besides.
 * 2. Member k = 1..K: a plain bootstrap resample of the labelled set (n draws with replacement; not
 *    stratified like `bootstrapLogProbs`, so that the resample's minority count varies — with 3 minority
 *    cases among 60 labels the base rate is uncertain by a factor of two, and a stratified resample
 *    would hide exactly that); the head refitted on it (warm start, same c and
 *    columns) scores the pool; Platt's (a_k, b_k) (calibration.ts) is fitted to the held-out scores of
 *    step 1 weighted by the resample's multiplicities; member k's calibrated minority probability of
 *    pool case i is σ(a_k·s_k(x_i) + b_k).
 * The bootstrap of the whole pipeline (resample → head → calibration map) follows Efron & Tibshirani
 * 1993; the held-out scores are computed once and resampled rather than recomputed per member (K·F
 * fits would cost F times more for the same sampling distribution of the map).
 *
 * Platt's map learns P(minority | score) on the labelled set. Active learning picks cases by their
 * features, never by their label, so P(label | case) is the same in the labelled set and in the pool
 * (covariate shift): the map transfers as far as the score summarises the case.
 */
import { fitPlatt, sigmoid, type PlattParams } from "./calibration";
import { fitLogistic, stratifiedFolds, type LogisticModel } from "./heads/logistic";
import type { Rng } from "./rng";
import { estimateRemainingMinority, type RemainingMinorityEstimate, type StoppingOptions } from "./stopping";
import type { Matrix } from "./types";
import { assertFiniteMatrix, assertMcPasses, assertMinorityClasses, MlInputError } from "./validate";

export interface CalibratedMinorityPasses {
  /** [K, N] row-major: member k's calibrated minority probability of row i of x. */
  passes: Float64Array;
  k: number;
  n: number;
  /** Each member's Platt map (on the minority log-odds). */
  platt: Pick<PlattParams, "a" | "b">[];
  /** Folds of the held-out scores; 0 when there were too few cases (< 2 minority or < 2 rest) and in-sample scores stood in. */
  folds: number;
}

type Part = { dims: number; theta: Float64Array };

/** Plain 0/1 targets (a smoothed target floor would add phantom positives over a large pool) and a small slope ridge against separable folds. */
const PLATT_FOR_COUNTING = { smoothTargets: false, slopeRidge: 0.01 } as const;

/** Rows `rows` (all when null) of the first k columns of x, as a new matrix. */
function prefixRows(x: Matrix, k: number, rows: ArrayLike<number> | null): Matrix {
  const n = rows ? rows.length : x.rows;
  const data = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r]! : r;
    data.set(x.data.subarray(i * x.cols, i * x.cols + k), r * k);
  }
  return { data, rows: n, cols: k };
}

/**
 * Minority log-odds [rows of x] of a head made of `parts` (θ = [W (C × dims), b (C)] over the leading
 * `dims` columns; the head's logits are the mean of the parts' logits, as heads/logistic.ts averages them).
 */
export function minorityLogOdds(parts: readonly Part[], x: Matrix, numClasses: number, isMinority: Uint8Array): Float64Array {
  const out = new Float64Array(x.rows);
  const z = new Float64Array(numClasses);
  const w = 1 / parts.length;
  for (let i = 0; i < x.rows; i++) {
    z.fill(0);
    const xo = i * x.cols;
    for (const { dims, theta } of parts) {
      for (let c = 0; c < numClasses; c++) {
        let v = theta[numClasses * dims + c]!;
        const wo = c * dims;
        for (let j = 0; j < dims; j++) v += theta[wo + j]! * x.data[xo + j]!;
        z[c] = z[c]! + w * v;
      }
    }
    out[i] = logSumExp(z, isMinority, 1) - logSumExp(z, isMinority, 0);
  }
  return out;
}

function logSumExp(z: Float64Array, mask: Uint8Array, keep: number): number {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (mask[c] === keep && z[c]! > max) max = z[c]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < z.length; c++) if (mask[c] === keep) s += Math.exp(z[c]! - max);
  return max + Math.log(s);
}

function refitParts(model: LogisticModel, rows: ArrayLike<number>): Part[] {
  const y = Int32Array.from(rows, (r) => model.trainY[r]!);
  return model.parts.map((part) => ({
    dims: part.dims,
    theta: fitLogistic(prefixRows(model.trainX, part.dims, rows), y, model.weights.numClasses, part.c, model.config, part.theta),
  }));
}

/**
 * A plain (unstratified) bootstrap resample of the labelled rows: n draws with replacement, redrawn
 * (up to 20 times) while it holds a single class, which no head can be fitted on. Unstratified on
 * purpose: the number of minority cases in the resample varies as it would in another labelled set
 * of this size, and that is the largest uncertainty of a count (the calibration map's base rate).
 */
function resample(y: Int32Array, rng: Rng): number[] {
  let pick: number[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    pick = Array.from({ length: y.length }, () => rng.int(y.length));
    if (pick.some((r) => y[r] !== y[pick[0]!])) return pick;
  }
  return pick;
}

function minorityMaskOf(numClasses: number, minority: readonly number[]): Uint8Array {
  assertMinorityClasses(minority, numClasses);
  if (minority.length === 0) throw new MlInputError("unknown-minority-label", "calibration: at least one minority class is needed");
  if (minority.length >= numClasses) throw new MlInputError("unknown-minority-label", "calibration: every class is minority, nothing is the rest");
  const m = new Uint8Array(numClasses);
  for (const c of minority) m[c] = 1;
  return m;
}

/**
 * Held-out minority log-odds [n labelled] of the model's own labelled set (step 1 of the file comment).
 * @param folds at most this many folds (default 5). @returns the scores and the folds used (0: in-sample
 *   scores, because fewer than 2 minority or 2 rest cases leave nothing to hold out).
 */
export function outOfFoldMinorityScores(model: LogisticModel, minority: readonly number[], rng: Rng, folds = 5): { scores: Float64Array; folds: number } {
  const C = model.weights.numClasses;
  const isMinority = minorityMaskOf(C, minority);
  const y = model.trainY;
  const binary = Int32Array.from(y, (v) => isMinority[v]!);
  let pos = 0;
  for (const b of binary) pos += b;
  const f = Math.min(folds, pos, y.length - pos);
  if (f < 2) return { scores: minorityLogOdds(model.parts, model.trainX, C, isMinority), folds: 0 };
  const fold = stratifiedFolds(binary, 2, f, rng);
  const scores = new Float64Array(y.length);
  for (let k = 0; k < f; k++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < y.length; i++) (fold[i] === k ? held : train).push(i);
    const parts = refitParts(model, train);
    const s = minorityLogOdds(parts, prefixRows(model.trainX, model.trainX.cols, held), C, isMinority);
    held.forEach((i, j) => (scores[i] = s[j]!));
  }
  return { scores, folds: f };
}

/**
 * K calibrated bootstrap members' minority probabilities over the rows of x (file comment).
 * @param model a trained logistic head (it keeps its labelled set); @param x [N, d] rows to score
 * @param minority minority class indices; @param k members (≥ 2); @param rng drives the folds and resamples.
 * @throws MlInputError for k < 2, a width other than the head's, NaN/Inf in x, or bad minority classes.
 */
export interface CalibrationOptions {
  /** At most this many folds for the held-out scores (default 5). */
  folds?: number;
  /**
   * Weight of each labelled case [n, training order] in the calibration fit (default all 1). 0 leaves
   * out a case that was labelled because of its label (e.g. a seed set forced to hold minority cases):
   * the map would otherwise learn that set's inflated base rate. Cases still train every head.
   */
  calibrationWeights?: ArrayLike<number>;
}

export function calibratedMinorityPasses(model: LogisticModel, x: Matrix, minority: readonly number[], k: number, rng: Rng, options: CalibrationOptions = {}): CalibratedMinorityPasses {
  assertMcPasses(k, "calibration members");
  assertFiniteMatrix(x, "calibration rows");
  if (x.cols !== model.trainX.cols) throw new MlInputError("dimension-mismatch", `calibration: rows have ${x.cols} columns but the head was trained on ${model.trainX.cols}`);
  const C = model.weights.numClasses;
  const isMinority = minorityMaskOf(C, minority);
  const oof = outOfFoldMinorityScores(model, minority, rng, options.folds ?? 5);
  const y = model.trainY;
  const cw = options.calibrationWeights;
  if (cw) {
    if (cw.length !== y.length) throw new MlInputError("dimension-mismatch", `calibration: ${cw.length} calibration weights for ${y.length} labelled cases`);
    for (let i = 0; i < cw.length; i++) if (!(cw[i]! >= 0) || !Number.isFinite(cw[i]!)) throw new MlInputError("invalid-argument", `calibration: weight ${i} is ${cw[i]}, expected a finite number >= 0`);
  }
  const truth = Int32Array.from(y, (v) => isMinority[v]!);
  const passes = new Float64Array(k * x.rows);
  const platt: CalibratedMinorityPasses["platt"] = [];
  for (let member = 0; member < k; member++) {
    const pick = resample(y, rng);
    const multiplicity = new Float64Array(y.length);
    for (const r of pick) multiplicity[r]! += cw ? cw[r]! : 1;
    const map = fitPlatt(oof.scores, truth, multiplicity, PLATT_FOR_COUNTING);
    platt.push({ a: map.a, b: map.b });
    const s = minorityLogOdds(refitParts(model, pick), x, C, isMinority);
    for (let i = 0; i < x.rows; i++) passes[member * x.rows + i] = sigmoid(map.a * s[i]! + map.b);
  }
  return { passes, k, n: x.rows, platt, folds: oof.folds };
}

/**
 * The stopping estimate (stopping.ts) over the rows of x from `calibratedMinorityPasses`.
 * @param found minority cases already labelled. Same errors as the two functions it calls.
 */
export function estimateRemainingFromLogistic(
  model: LogisticModel, x: Matrix, minority: readonly number[], found: number, k: number, rng: Rng, options: StoppingOptions & CalibrationOptions = {},
): RemainingMinorityEstimate & { calibration: { members: number; folds: number } } {
  const c = calibratedMinorityPasses(model, x, minority, k, rng, options);
  return { ...estimateRemainingMinority(c.passes, c.k, found, options), calibration: { members: c.k, folds: c.folds } };
}
