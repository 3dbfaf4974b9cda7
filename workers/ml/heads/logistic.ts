/**
 * Class-weighted, L2-regularised multinomial logistic regression, its regularisation chosen by
 * stratified cross-validation on the labelled set, and a bootstrap ensemble of it for the
 * uncertainty BALD and RADS need.
 *
 * Model: p(c | x) = softmax(W x + b)_c with W [C, d], b [C]. Objective (scikit-learn's
 * parametrisation, so `c` means the same as its `C`):
 *   f(W, b) = c · Σ_i s_i · (−log p(y_i | x_i)) + ½ ‖W‖²   (the bias is not penalised)
 * with s_i = n / (C_present · n_{y_i}) for `classWeight: "balanced"` (sklearn's
 * `class_weight="balanced"`; C_present = classes present in y) or s_i = 1. Solved by L-BFGS
 * (`lbfgs.ts`) to max |∇f| ≤ 1e-5, in Float64.
 *
 * The trained weights are an ordinary linear `HeadWeights` (hidden [], no dropout), so
 * `predictProba`, serialisation and the ONNX export of the MLP head serve it unchanged.
 *
 * Choice of c (`cvChoose`): K-fold stratified split of the labelled set (K = min(folds, smallest
 * class count), seeded), every c of the grid fitted on K − 1 folds, out-of-fold probabilities
 * pooled, scored by the average precision of the minority score Σ_{c∈minority} p_c (the
 * simulation's headline AUPRC); best score wins, ties to the smaller (more regularised) c.
 * With fewer than 2 cases in some class there is nothing to validate and `defaultC` is used.
 *
 * Uncertainty (`bootstrapLogProbs`): K members, each refitted (warm-started from the full fit)
 * on a stratified bootstrap resample of the labelled set — n_c draws with replacement inside
 * each class, so every class stays present; log-probabilities [N, K, C] as MC dropout would
 * give them (Efron & Tibshirani 1993; Lakshminarayanan et al. 2017 use ensembles the same way).
 */
import { gatherRows, gemmNT } from "../linalg";
import { precisionRecallCurve } from "../metrics";
import { predictProba } from "../mlp-head";
import { permutation, type Rng } from "../rng";
import type { HeadWeights, Matrix, McLogProbs } from "../types";
import { assertAtLeastTwoClasses, assertFiniteMatrix, assertInteger, assertLabels, assertLength, assertMcPasses, MlInputError } from "../validate";
import { minimizeLbfgs } from "./lbfgs";

export interface LogisticConfig {
  /** Inverse regularisation strengths tried by cross-validation (ascending). */
  cGrid: number[];
  /** Used when cross-validation is impossible (a class with < 2 labelled cases) or `cvFolds` is 0. */
  defaultC: number;
  /** Folds for choosing c (0 = never cross-validate: always `defaultC`). */
  cvFolds: number;
  classWeight: "balanced" | "none";
  /** Classes whose summed probability is the minority score that cross-validation ranks by; default: every class but the most frequent labelled one. */
  minorityClasses: number[] | null;
  /** L-BFGS iteration cap per fit. */
  maxIterations: number;
  /**
   * Leading-column counts tried by cross-validation beside c (null = all columns). For LSA
   * embeddings, whose columns are ordered by singular value, a prefix of k columns is the k-d
   * LSA: fewer directions for few labels, more when there are many. The head ignores the other
   * columns (their weights are 0), so it stays an ordinary linear head over the full input.
   */
  prefixDims: number[] | null;
  /**
   * Leading-column counts of an averaged head (null = one head): one head per count, each with its
   * own cross-validated c, their logits averaged — which is again one linear head (the mean of the
   * zero-padded weights). Few directions generalise from few labels, more directions separate
   * better once labels accumulate; the average needs no choice between them. Excludes `prefixDims`.
   */
  prefixEnsemble: number[] | null;
}

export const defaultLogisticConfig: Readonly<LogisticConfig> = Object.freeze({
  cGrid: [1, 3, 10, 30, 100],
  defaultC: 10,
  cvFolds: 5,
  classWeight: "balanced" as const,
  minorityClasses: null,
  maxIterations: 500,
  prefixDims: null,
  prefixEnsemble: null,
});

/** A trained head plus what its uncertainty estimate needs. */
export interface LogisticModel {
  weights: HeadWeights;
  /** The c the final fit used. */
  c: number;
  /** Leading input columns the head uses (the others have weight 0). */
  dims: number;
  /** Cross-validation score per grid value (empty when c was not cross-validated). */
  cvScores: { dims: number; c: number; score: number }[];
  /** The averaged heads (one unless `prefixEnsemble`): leading columns, c and fitted θ over those columns. */
  parts: { dims: number; c: number; theta: Float64Array }[];
  /** The labelled set it was trained on (kept for the bootstrap ensemble). */
  trainX: Matrix;
  trainY: Int32Array;
  config: LogisticConfig;
}

/** Per-row sample weights s_i (see file header). */
export function sampleWeights(y: Int32Array, numClasses: number, kind: "balanced" | "none"): Float64Array {
  const s = new Float64Array(y.length);
  if (kind === "none") return s.fill(1);
  const counts = new Float64Array(numClasses);
  for (const v of y) counts[v]! += 1;
  let present = 0;
  for (const c of counts) if (c > 0) present++;
  for (let i = 0; i < y.length; i++) s[i] = y.length / (present * counts[y[i]!]!);
  return s;
}

/**
 * The objective of the file header and its gradient at θ = [W (row-major [C, d]), b [C]],
 * written into `grad` (same layout). Exported for the finite-difference test.
 */
export function logisticObjective(theta: Float64Array, grad: Float64Array, x: Matrix, y: Int32Array, s: Float64Array, numClasses: number, c: number): number {
  const d = x.cols;
  const k = numClasses;
  const wEnd = k * d;
  grad.fill(0);
  if (k === 2) return binaryObjective(theta, grad, x, y, s, c);
  let f = 0;
  const z = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    const xo = i * d;
    let max = -Infinity;
    for (let cl = 0; cl < k; cl++) {
      let v = theta[wEnd + cl]!;
      const wo = cl * d;
      for (let j = 0; j < d; j++) v += theta[wo + j]! * x.data[xo + j]!;
      z[cl] = v;
      if (v > max) max = v;
    }
    let sum = 0;
    for (let cl = 0; cl < k; cl++) sum += Math.exp(z[cl]! - max);
    const lse = max + Math.log(sum);
    const si = c * s[i]!;
    f += si * (lse - z[y[i]!]!);
    for (let cl = 0; cl < k; cl++) {
      const r = si * (Math.exp(z[cl]! - lse) - (cl === y[i] ? 1 : 0));
      if (r === 0) continue;
      grad[wEnd + cl] = grad[wEnd + cl]! + r;
      const wo = cl * d;
      for (let j = 0; j < d; j++) grad[wo + j] = grad[wo + j]! + r * x.data[xo + j]!;
    }
  }
  for (let j = 0; j < wEnd; j++) {
    f += 0.5 * theta[j]! * theta[j]!;
    grad[j] = grad[j]! + theta[j]!;
  }
  return f;
}

/**
 * `logisticObjective` for two classes (grad already zeroed): both classes' logits in one pass over a
 * row and both gradient rows in one pass, each sum taken in the same order as the general loop, so
 * the value and gradient are the general loop's to the last bit (a class whose residual is exactly 0
 * adds ±0 here where the general loop skips it) — about half the passes over x.
 */
function binaryObjective(theta: Float64Array, grad: Float64Array, x: Matrix, y: Int32Array, s: Float64Array, c: number): number {
  const d = x.cols;
  const wEnd = 2 * d;
  const data = x.data;
  let f = 0;
  for (let i = 0; i < x.rows; i++) {
    const xo = i * d;
    let v0 = theta[wEnd]!;
    let v1 = theta[wEnd + 1]!;
    for (let j = 0; j < d; j++) {
      const xj = data[xo + j]!;
      v0 += theta[j]! * xj;
      v1 += theta[d + j]! * xj;
    }
    const max = v0 > v1 ? v0 : v1;
    const lse = max + Math.log(Math.exp(v0 - max) + Math.exp(v1 - max));
    const yi = y[i]!;
    const si = c * s[i]!;
    f += si * (lse - (yi === 0 ? v0 : v1));
    const r0 = si * (Math.exp(v0 - lse) - (yi === 0 ? 1 : 0));
    const r1 = si * (Math.exp(v1 - lse) - (yi === 1 ? 1 : 0));
    if (r0 === 0 && r1 === 0) continue;
    grad[wEnd] = grad[wEnd]! + r0;
    grad[wEnd + 1] = grad[wEnd + 1]! + r1;
    for (let j = 0; j < d; j++) {
      const xj = data[xo + j]!;
      grad[j] = grad[j]! + r0 * xj;
      grad[d + j] = grad[d + j]! + r1 * xj;
    }
  }
  for (let j = 0; j < wEnd; j++) {
    f += 0.5 * theta[j]! * theta[j]!;
    grad[j] = grad[j]! + theta[j]!;
  }
  return f;
}

/** One fit at a fixed c (warm start from `theta0` when given). Returns θ. */
export function fitLogistic(x: Matrix, y: Int32Array, numClasses: number, c: number, config: Pick<LogisticConfig, "classWeight" | "maxIterations">, theta0?: Float64Array): Float64Array {
  if (!(c > 0) || !Number.isFinite(c)) throw new MlInputError("invalid-argument", `logistic head: c must be a positive finite number, got ${c}`);
  const s = sampleWeights(y, numClasses, config.classWeight);
  const size = numClasses * (x.cols + 1);
  const start = theta0 ?? new Float64Array(size);
  assertLength(start.length, size, "logistic head warm start");
  return minimizeLbfgs((t, g) => logisticObjective(t, g, x, y, s, numClasses, c), start, { maxIterations: config.maxIterations }).x;
}

/** θ fitted on the first `k` columns as a linear head over all `d` columns (zero weights beyond k). */
function toHeadWeights(theta: Float64Array, k: number, d: number, numClasses: number): HeadWeights {
  const weight = new Float32Array(numClasses * d);
  for (let c = 0; c < numClasses; c++) for (let j = 0; j < k; j++) weight[c * d + j] = theta[c * k + j]!;
  return { inputDim: d, numClasses, hidden: [], dropout: 0, layers: [{ weight, bias: Float32Array.from(theta.subarray(numClasses * k)), inDim: d, outDim: numClasses }] };
}

/** The mean of the parts' zero-padded linear heads (= the head whose logits are the mean of theirs). */
function averageHeads(parts: readonly { dims: number; theta: Float64Array }[], d: number, numClasses: number): HeadWeights {
  if (parts.length === 1) return toHeadWeights(parts[0]!.theta, parts[0]!.dims, d, numClasses);
  const weight = new Float32Array(numClasses * d);
  const bias = new Float32Array(numClasses);
  const w = 1 / parts.length;
  for (const { dims: k, theta } of parts) {
    for (let c = 0; c < numClasses; c++) {
      for (let j = 0; j < k; j++) weight[c * d + j] = weight[c * d + j]! + w * theta[c * k + j]!;
      bias[c] = bias[c]! + w * theta[numClasses * k + c]!;
    }
  }
  return { inputDim: d, numClasses, hidden: [], dropout: 0, layers: [{ weight, bias, inDim: d, outDim: numClasses }] };
}

/** The first k columns of x (x itself when k = cols). */
function prefixCols(x: Matrix, k: number): Matrix {
  if (k === x.cols) return x;
  const data = new Float32Array(x.rows * k);
  for (let i = 0; i < x.rows; i++) data.set(x.data.subarray(i * x.cols, i * x.cols + k), i * k);
  return { data, rows: x.rows, cols: k };
}

/** Stratified fold id per row (seeded): within each class, a shuffled round-robin over `folds`. */
export function stratifiedFolds(y: Int32Array, numClasses: number, folds: number, rng: Rng): Int32Array {
  const out = new Int32Array(y.length);
  let offset = 0;
  for (let c = 0; c < numClasses; c++) {
    const members: number[] = [];
    y.forEach((v, i) => {
      if (v === c) members.push(i);
    });
    const order = permutation(members.length, rng);
    // The offset rotates the start fold per class so small classes do not all land in fold 0.
    order.forEach((r, j) => (out[members[r]!] = (j + offset) % folds));
    offset += members.length;
  }
  return out;
}

function rowsWhere(x: Matrix, y: Int32Array, keep: (i: number) => boolean): { x: Matrix; y: Int32Array; idx: number[] } {
  const idx: number[] = [];
  for (let i = 0; i < y.length; i++) if (keep(i)) idx.push(i);
  const data = new Float32Array(idx.length * x.cols);
  gatherRows(x.data, x.cols, Int32Array.from(idx), 0, idx.length, data);
  return { x: { data, rows: idx.length, cols: x.cols }, y: Int32Array.from(idx, (i) => y[i]!), idx };
}

function minorityOf(y: Int32Array, numClasses: number, given: number[] | null): Uint8Array {
  const m = new Uint8Array(numClasses);
  if (given) {
    for (const c of given) m[c] = 1;
    return m;
  }
  const counts = new Int32Array(numClasses);
  for (const v of y) counts[v]! += 1;
  let major = 0;
  for (let c = 1; c < numClasses; c++) if (counts[c]! > counts[major]!) major = c;
  m.fill(1);
  m[major] = 0;
  return m;
}

/**
 * Cross-validated choice of (leading columns, c) (file header): the folds are drawn once and
 * shared by every candidate. Returns the best pair and the score of every pair, or
 * (all columns, `defaultC`) with no scores when some present class has fewer than 2 cases.
 */
export function cvChoose(x: Matrix, y: Int32Array, numClasses: number, config: LogisticConfig, rng: Rng): { c: number; dims: number; cvScores: { dims: number; c: number; score: number }[] } {
  const counts = new Int32Array(numClasses);
  for (const v of y) counts[v]! += 1;
  let smallest = Infinity;
  for (const n of counts) if (n > 0) smallest = Math.min(smallest, n);
  const folds = Math.min(config.cvFolds, smallest);
  const dimsList = candidateDims(config, x.cols);
  if (folds < 2 || config.cGrid.length * dimsList.length < 2) {
    return { c: config.cGrid.length === 1 ? config.cGrid[0]! : config.defaultC, dims: dimsList[dimsList.length - 1]!, cvScores: [] };
  }
  const fold = stratifiedFolds(y, numClasses, folds, rng);
  const isMinority = minorityOf(y, numClasses, config.minorityClasses);
  const truth = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) truth[i] = isMinority[y[i]!]!;
  const cvScores: { dims: number; c: number; score: number }[] = [];
  for (const k of dimsList) {
    const xk = prefixCols(x, k);
    const oof = config.cGrid.map(() => new Float64Array(y.length));
    for (let f = 0; f < folds; f++) {
      const tr = rowsWhere(xk, y, (i) => fold[i] !== f);
      const te = rowsWhere(xk, y, (i) => fold[i] === f);
      let theta: Float64Array | undefined;
      config.cGrid.forEach((c, gi) => {
        theta = fitLogistic(tr.x, tr.y, numClasses, c, config, theta);
        const p = predictProba(toHeadWeights(theta, k, k, numClasses), te.x);
        te.idx.forEach((row, j) => {
          let sc = 0;
          for (let cl = 0; cl < numClasses; cl++) if (isMinority[cl]) sc += p[j * numClasses + cl]!;
          oof[gi]![row] = sc;
        });
      });
    }
    config.cGrid.forEach((c, gi) => cvScores.push({ dims: k, c, score: precisionRecallCurve(oof[gi]!, truth).ap ?? NaN }));
  }
  let best = 0;
  for (let i = 1; i < cvScores.length; i++) if (cvScores[i]!.score > cvScores[best]!.score + 1e-12) best = i;
  return { c: cvScores[best]!.c, dims: cvScores[best]!.dims, cvScores };
}

/** Ascending distinct prefix sizes capped at `cols` (all columns when none are configured). */
function candidateDims(config: LogisticConfig, cols: number): number[] {
  if (!config.prefixDims || config.prefixDims.length === 0) return [cols];
  return [...new Set(config.prefixDims.map((k) => Math.min(k, cols)))].sort((a, b) => a - b);
}

function resolveConfig(config: Partial<LogisticConfig>): LogisticConfig {
  const cfg = { ...defaultLogisticConfig, ...config };
  if (cfg.cGrid.length === 0) throw new MlInputError("invalid-argument", "logistic head: cGrid needs at least one value");
  for (const c of [...cfg.cGrid, cfg.defaultC]) if (!(c > 0) || !Number.isFinite(c)) throw new MlInputError("invalid-argument", `logistic head: c values must be positive and finite, got ${c}`);
  assertInteger(cfg.cvFolds, 0, "cvFolds");
  assertInteger(cfg.maxIterations, 1, "maxIterations");
  for (const k of cfg.prefixDims ?? []) assertInteger(k, 1, "prefixDims");
  for (const k of cfg.prefixEnsemble ?? []) assertInteger(k, 1, "prefixEnsemble");
  if (cfg.prefixDims && cfg.prefixDims.length > 0 && cfg.prefixEnsemble && cfg.prefixEnsemble.length > 0) {
    throw new MlInputError("invalid-argument", "logistic head: prefixDims (choose one prefix) and prefixEnsemble (average several) exclude each other");
  }
  return { ...cfg, cGrid: cfg.cGrid.slice().sort((a, b) => a - b) };
}

/**
 * Trains the head on x [n, d], y [n] in 0..numClasses−1, choosing c by cross-validation.
 * @throws MlInputError on bad shapes, labels, NaN/Inf, a single-class y or bad config.
 */
export function trainLogisticHead(x: Matrix, y: Int32Array, numClasses: number, config: Partial<LogisticConfig>, rng: Rng): LogisticModel {
  assertFiniteMatrix(x, "logistic head x");
  assertLength(y.length, x.rows, "labels length vs x rows");
  assertLabels(y, numClasses);
  assertAtLeastTwoClasses(y);
  const cfg = resolveConfig(config);
  const choices = cfg.prefixEnsemble && cfg.prefixEnsemble.length > 0
    ? [...new Set(cfg.prefixEnsemble.map((k) => Math.min(k, x.cols)))].sort((a, b) => a - b).map((k) => ({ ...cfg, prefixDims: [k] }))
    : [cfg];
  const cvScores: LogisticModel["cvScores"] = [];
  const parts = choices.map((partCfg) => {
    const r = cfg.cvFolds === 0 ? { c: cfg.defaultC, dims: candidateDims(partCfg, x.cols).pop()!, cvScores: [] } : cvChoose(x, y, numClasses, partCfg, rng);
    cvScores.push(...r.cvScores);
    return { dims: r.dims, c: r.c, theta: fitLogistic(prefixCols(x, r.dims), y, numClasses, r.c, cfg) };
  });
  return { weights: averageHeads(parts, x.cols, numClasses), c: parts[0]!.c, dims: Math.max(...parts.map((q) => q.dims)), cvScores, parts, trainX: x, trainY: y, config: cfg };
}

/** Class probabilities [n, C] of the head (the full fit). */
export function logisticProba(model: LogisticModel, x: Matrix): Float32Array {
  return predictProba(model.weights, x);
}

/**
 * Calibrated class probabilities [n, C] for the rows of x, for counting (e.g. how many minority
 * cases remain in the pool), not for decisions:
 * 1. undo the class weighting: a weighted fit estimates posteriors under the effective training
 *    prior π̃_c = Σ_{y_i=c} s_i / Σ s_i (1/C_present when balanced), so p_lab(c|x) ∝ p(c|x)·π_c/π̃_c
 *    with π_c = n_c/n the labelled prior;
 * 2. only with `adaptPrior`: adapt to the prior of the rows of x by EM (Saerens, Latinne & Decaestecker 2002, "Adjusting
 *    the outputs of a classifier to new a priori probabilities"): π⁽⁰⁾ = π, then
 *    p⁽ˢ⁾(c|x_i) ∝ p_lab(c|x_i)·π⁽ˢ⁾_c/π_c and π⁽ˢ⁺¹⁾_c = mean_i p⁽ˢ⁾(c|x_i), until the prior moves
 *    less than 1e-6 (at most 100 steps). Active learning labels a biased sample (uncertainty
 *    sampling over-represents the minority), so the labelled prior is not the pool's.
 * A class absent from the labelled set keeps probability 0.
 * Step 2 is off by default: on mtsamples with a few dozen labels the head is too unsure of the
 * minority (p ≈ 0.2–0.5 on true minority cases) and EM drove the pool prior to ~0 (estimate 2
 * remaining vs 128 true, docs/simulation.md), while step 1 alone is right in expectation when the
 * labelled set is a random sample and over-counts when active learning enriched it.
 */
export function logisticCalibratedProba(model: LogisticModel, x: Matrix, options: { adaptPrior?: boolean } = {}): Float32Array {
  const C = model.weights.numClasses;
  const p = predictProba(model.weights, x);
  const s = sampleWeights(model.trainY, C, model.config.classWeight);
  const prior = new Float64Array(C);
  const eff = new Float64Array(C);
  let sTotal = 0;
  model.trainY.forEach((v, i) => {
    prior[v]! += 1 / model.trainY.length;
    eff[v]! += s[i]!;
    sTotal += s[i]!;
  });
  const ratio = new Float64Array(C);
  for (let c = 0; c < C; c++) ratio[c] = prior[c]! > 0 ? prior[c]! / (eff[c]! / sTotal) : 0;
  const base = new Float64Array(x.rows * C);
  for (let i = 0; i < x.rows; i++) {
    let z = 0;
    for (let c = 0; c < C; c++) z += (base[i * C + c] = p[i * C + c]! * ratio[c]!);
    for (let c = 0; c < C; c++) base[i * C + c] = z > 0 ? base[i * C + c]! / z : prior[c]!;
  }
  const out = new Float32Array(x.rows * C);
  if (x.rows === 0) return out;
  if (!options.adaptPrior) {
    for (let i = 0; i < base.length; i++) out[i] = base[i]!;
    return out;
  }
  let pi = Float64Array.from(prior);
  const cur = new Float64Array(x.rows * C);
  for (let step = 0; step < 100; step++) {
    const next = new Float64Array(C);
    for (let i = 0; i < x.rows; i++) {
      let z = 0;
      for (let c = 0; c < C; c++) z += (cur[i * C + c] = prior[c]! > 0 ? (base[i * C + c]! * pi[c]!) / prior[c]! : 0);
      for (let c = 0; c < C; c++) {
        cur[i * C + c] = z > 0 ? cur[i * C + c]! / z : pi[c]!;
        next[c]! += cur[i * C + c]! / x.rows;
      }
    }
    let moved = 0;
    for (let c = 0; c < C; c++) moved = Math.max(moved, Math.abs(next[c]! - pi[c]!));
    pi = next;
    if (moved < 1e-6) break;
  }
  for (let i = 0; i < cur.length; i++) out[i] = cur[i]!;
  return out;
}

/** Smallest log-probability a bootstrap pass reports (the probability floor 1e-30 of the reference path). */
const LOG_PROB_FLOOR = Math.log(1e-30);

/** A bootstrap member: each averaged part of the head refitted on one resample (θ over its leading `dims` columns). */
export type BootstrapMember = { dims: number; theta: Float64Array }[];

/**
 * The k stratified bootstrap resamples of the model's labelled rows (file header): for member j, for
 * each class in order, n_c draws with replacement from that class's rows. Drawn from `rng` in order,
 * exactly as `bootstrapLogProbsReference` draws them.
 */
export function bootstrapResamples(model: LogisticModel, k: number, rng: Rng): Int32Array[] {
  const byClass: number[][] = Array.from({ length: model.weights.numClasses }, () => []);
  model.trainY.forEach((v, i) => byClass[v]!.push(i));
  return Array.from({ length: k }, () => {
    const pick: number[] = [];
    for (const members of byClass) for (let t = 0; t < members.length; t++) pick.push(members[rng.int(members.length)]!);
    return Int32Array.from(pick);
  });
}

/**
 * One bootstrap member: every part of the head refitted on resample `pick` (row indices into the
 * model's labelled set, repeats allowed), warm-started from its own full fit, to the same L-BFGS
 * tolerance as every fit. The objective over the resample is taken over its distinct rows, each
 * weighted by its multiplicity (the resample's class weights are those of the rows as drawn), which
 * is the same function — Σ over the drawn rows, with ~63 % of them distinct — summed in another order:
 * the members agree with `bootstrapLogProbsReference`'s to the solver's tolerance, not bit for bit
 * (unit test: workers/ml/heads/logistic.test.ts).
 */
export function fitBootstrapMember(model: LogisticModel, pick: Int32Array): BootstrapMember {
  if (pick.length === 0) return model.parts.map((p) => ({ dims: p.dims, theta: p.theta }));
  const C = model.weights.numClasses;
  const multiplicity = new Float64Array(model.trainY.length);
  for (const r of pick) multiplicity[r]! += 1;
  const rows: number[] = [];
  for (let r = 0; r < multiplicity.length; r++) if (multiplicity[r]! > 0) rows.push(r);
  const uy = Int32Array.from(rows, (r) => model.trainY[r]!);
  // Class weights of the resample as drawn (sampleWeights over its n labels), times each distinct row's multiplicity.
  const counts = new Float64Array(C);
  for (const r of pick) counts[model.trainY[r]!]! += 1;
  let present = 0;
  for (const n of counts) if (n > 0) present++;
  const s = Float64Array.from(rows, (r) => multiplicity[r]! * (model.config.classWeight === "balanced" ? pick.length / (present * counts[model.trainY[r]!]!) : 1));
  const idx = Int32Array.from(rows);
  return model.parts.map((part) => {
    const k0 = part.dims;
    const ux = new Float32Array(rows.length * k0);
    gatherRows(prefixCols(model.trainX, k0).data, k0, idx, 0, rows.length, ux);
    const xm: Matrix = { data: ux, rows: rows.length, cols: k0 };
    const theta = minimizeLbfgs((t, g) => logisticObjective(t, g, xm, uy, s, C, part.c), part.theta, { maxIterations: model.config.maxIterations }).x;
    return { dims: k0, theta };
  });
}

/** Rows of x scored per block in `bootstrapMemberLogProbs` (block × k·C logits at a time). */
const SCORE_BLOCK = 2048;

/**
 * Log-probabilities [N, k, C] of `members` over x: every member's head (the mean of its parts'
 * zero-padded weights, as `trainLogisticHead` averages them) stacked into one [k·C, d] matrix, so the
 * pool is read once per block of rows in one matrix product (the wasm GEMM of workers/ml/linalg)
 * instead of once per member; log-softmax per member in float64, floored at log(1e-30).
 * @throws MlInputError when x does not have the head's width.
 */
export function bootstrapMemberLogProbs(model: LogisticModel, members: readonly BootstrapMember[], x: Matrix): McLogProbs {
  const C = model.weights.numClasses;
  const d = model.weights.inputDim;
  if (x.cols !== d) throw new MlInputError("dimension-mismatch", `bootstrap: rows have ${x.cols} columns but the head takes ${d}`);
  const k = members.length;
  const kc = k * C;
  const w = new Float32Array(kc * d);
  const b = new Float32Array(kc);
  members.forEach((parts, m) => {
    const head = averageHeads(parts, d, C).layers[0]!;
    w.set(head.weight, m * C * d);
    b.set(head.bias, m * C);
  });
  const out = new Float32Array(x.rows * kc);
  const z = new Float32Array(Math.min(SCORE_BLOCK, x.rows) * kc);
  for (let s0 = 0; s0 < x.rows; s0 += SCORE_BLOCK) {
    const bs = Math.min(SCORE_BLOCK, x.rows - s0);
    gemmNT(bs, kc, d, x.data, s0 * d, w, z);
    for (let i = 0; i < bs; i++) {
      const zo = i * kc;
      const oo = (s0 + i) * kc;
      for (let m = 0; m < k; m++) {
        const mo = m * C;
        let max = -Infinity;
        for (let cl = 0; cl < C; cl++) {
          const v = z[zo + mo + cl]! + b[mo + cl]!;
          if (v > max) max = v;
        }
        let sum = 0;
        for (let cl = 0; cl < C; cl++) sum += Math.exp(z[zo + mo + cl]! + b[mo + cl]! - max);
        const lse = max + Math.log(sum);
        for (let cl = 0; cl < C; cl++) out[oo + mo + cl] = Math.max(z[zo + mo + cl]! + b[mo + cl]! - lse, LOG_PROB_FLOOR);
      }
    }
  }
  return { data: out, n: x.rows, k, c: C };
}

/**
 * Bootstrap-ensemble log-probabilities [N, k, C] for x (file header): `bootstrapResamples`, one
 * `fitBootstrapMember` per resample, `bootstrapMemberLogProbs`. Member j's resample is drawn from
 * `rng` in order, so equal inputs and seed give equal output. Agrees with
 * `bootstrapLogProbsReference` (the same resamples, each member fitted over the drawn rows and scored
 * alone) to the solver's tolerance; about 2× faster to fit and, over a large pool, ~5× faster to score.
 * @throws MlInputError when k < 2 or x does not match the head.
 */
export function bootstrapLogProbs(model: LogisticModel, x: Matrix, k: number, rng: Rng): McLogProbs {
  assertMcPasses(k);
  return bootstrapMemberLogProbs(model, bootstrapResamples(model, k, rng).map((pick) => fitBootstrapMember(model, pick)), x);
}

/**
 * The bootstrap as it was first written (kept as the reference of `bootstrapLogProbs`, and selectable
 * in the select job with LOGISTIC_BOOTSTRAP=reference for comparisons): each member refitted over its
 * resample's rows as drawn (repeats included) and scored with `predictProba` on its own,
 * log(max(p, 1e-30)) of the float32 probabilities.
 * @throws MlInputError when k < 2 or x does not match the head.
 */
export function bootstrapLogProbsReference(model: LogisticModel, x: Matrix, k: number, rng: Rng): McLogProbs {
  assertMcPasses(k);
  const C = model.weights.numClasses;
  const byClass: number[][] = Array.from({ length: C }, () => []);
  model.trainY.forEach((v, i) => byClass[v]!.push(i));
  const out = new Float32Array(x.rows * k * C);
  const trainByPart = model.parts.map((part) => prefixCols(model.trainX, part.dims));
  for (let member = 0; member < k; member++) {
    const pick: number[] = [];
    for (const members of byClass) for (let t = 0; t < members.length; t++) pick.push(members[rng.int(members.length)]!);
    const rows = Int32Array.from(pick);
    const by = Int32Array.from(pick, (r) => model.trainY[r]!);
    // Each averaged part is refitted on the same resample, warm-started from its own full fit.
    const refit = model.parts.map((part, pi) => {
      const k0 = part.dims;
      const bx = new Float32Array(pick.length * k0);
      gatherRows(trainByPart[pi]!.data, k0, rows, 0, pick.length, bx);
      return { dims: k0, theta: pick.length > 0 ? fitLogistic({ data: bx, rows: pick.length, cols: k0 }, by, C, part.c, model.config, part.theta) : part.theta };
    });
    const p = predictProba(averageHeads(refit, x.cols, C), x);
    for (let i = 0; i < x.rows; i++) {
      for (let cl = 0; cl < C; cl++) out[(i * k + member) * C + cl] = Math.log(Math.max(p[i * C + cl]!, 1e-30));
    }
  }
  return { data: out, n: x.rows, k, c: C };
}
