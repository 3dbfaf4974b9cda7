/**
 * "When to stop": how many minority cases are still in the unlabelled pool, and what share of the minority the
 * labelled set already holds (expected recall), from the current model's minority probabilities.
 *
 * Model. With calibrated probabilities p_i = P(case i is minority), the number of minority cases left in the
 * pool, R = Σ_i Y_i with independent Y_i ~ Bernoulli(p_i), is Poisson-binomial:
 *   E[R] = Σ_i p_i,   Var_sampling[R] = Σ_i p_i (1 − p_i).
 * The probabilities are themselves estimates. When the model's uncertainty is available as several predictions
 * per case (MC-dropout passes, a bootstrap ensemble or Laplace samples: p_ik, k = 1..K), the law of total
 * variance adds the spread of the per-pass totals T_k = Σ_i p_ik:
 *   Var[R] ≈ mean_k Σ_i p_ik (1 − p_ik) + Var_k(T_k)     (sample variance, K − 1)
 * and E[R] ≈ mean_k T_k = Σ_i p̄_i. With K = 1 (or `interval: "normal"`) the interval is the normal
 * approximation μ ± z·σ (z for the two-sided `level`), clipped to [0, N]; a normal approximation of a sum of
 * many small Bernoullis is the standard choice (Hong 2013, "On computing the distribution function for the
 * Poisson binomial distribution"). With K ≥ 2 the default interval is the central `level` range of the
 * equal-weight mixture of the members' counts, each N(T_k, V_k) with V_k = Σ_i p_ik (1 − p_ik): the same
 * two variance parts, but the skew of the totals (a model unsure of the base rate spreads them over a factor
 * of two or more, mostly upwards) stays in the interval instead of being averaged into a symmetric σ.

 * Expected recall of the minority so far: found / (found + remaining), where found = minority cases already
 * labelled; its interval comes from the ends of the remaining-count interval (monotone). When nothing is found
 * and nothing is estimated to remain, recall is undefined (NaN).
 *
 * The estimate is only as good as the calibration: a head trained with class-balanced weights over-states
 * minority probabilities unless it is recalibrated. calibration-logistic.ts gives the logistic head's
 * calibrated bootstrap members (held-out Platt scaling per member); measured coverage: docs/simulation.md,
 * "When to stop".
 */
import type { McLogProbs } from "./types";
import { assertMcLogProbs, assertMinorityClasses, MlInputError } from "./validate";

export interface RemainingMinorityEstimate {
  /** Unlabelled pool cases the estimate is over. */
  poolSize: number;
  /** Minority cases already labelled ("found"). */
  found: number;
  /** Point estimate of minority cases left in the pool: Σ_i p̄_i. */
  estimate: number;
  /** Standard deviation of that count (sampling + model parts, see the file comment). */
  std: number;
  /** Interval ends, clipped to [0, poolSize]. */
  lo: number;
  hi: number;
  /** Two-sided level of [lo, hi], e.g. 0.9. */
  level: number;
  /** How [lo, hi] was formed (StoppingOptions.interval; "normal" whenever K = 1). */
  interval: "mixture" | "normal";
  /** Predictions (members) the estimate averages. */
  members: number;
  /** found / (found + estimate); NaN when both are 0. */
  expectedRecall: number;
  /** Recall at the interval ends: found / (found + hi) and found / (found + lo). */
  recallLo: number;
  recallHi: number;
}

export interface StoppingOptions {
  /** Two-sided level of the interval (default 0.9). */
  level?: number;
  /**
   * How [lo, hi] is formed from K ≥ 2 predictions (K = 1 is always "normal"):
   * - "mixture" (default): the central `level` interval of the equal-weight mixture over k of
   *   N(T_k, V_k), V_k = Σ_i p_ik (1 − p_ik) — member k's Poisson-binomial count in its normal
   *   approximation. Keeps the skew of the totals (a few members far above the rest widen only the
   *   upper end), which a symmetric interval would spread over both ends.
   * - "normal": μ ± z·σ with the law-of-total-variance σ of the file comment.
   */
  interval?: "mixture" | "normal";
}

/** Standard normal CDF Φ(x) (erfc by Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** The q-quantile of the equal-weight mixture of N(means_k, vars_k) (bisection to 1e-9 of the bracket). */
function mixtureQuantile(means: Float64Array, vars: Float64Array, q: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < means.length; k++) {
    const sd = Math.sqrt(vars[k]!);
    lo = Math.min(lo, means[k]! - 10 * sd - 1);
    hi = Math.max(hi, means[k]! + 10 * sd + 1);
  }
  const cdf = (x: number): number => {
    let s = 0;
    for (let k = 0; k < means.length; k++) {
      const v = vars[k]!;
      s += v > 0 ? normalCdf((x - means[k]!) / Math.sqrt(v)) : x >= means[k]! ? 1 : 0;
    }
    return s / means.length;
  };
  const tol = 1e-9 * (hi - lo);
  while (hi - lo > tol) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9 on (0, 1)). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new MlInputError("invalid-argument", `normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowTail = 0.02425;
  if (p < lowTail) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lowTail) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Remaining-minority estimate from per-case minority probabilities.
 * @param passes [K, N] row-major: minority probability of case i under prediction k (K = 1 for a single
 *   calibrated prediction; K ≥ 2 adds the between-pass variance). Values in [0, 1].
 * @param k number of rows K ≥ 1; @param found minority cases already labelled (integer ≥ 0).
 * @throws MlInputError for a shape mismatch, a probability outside [0, 1] or NaN, a bad `found` or `level`.
 */
export function estimateRemainingMinority(passes: Float64Array, k: number, found: number, options: StoppingOptions = {}): RemainingMinorityEstimate {
  const level = options.level ?? 0.9;
  if (!(level > 0 && level < 1)) throw new MlInputError("invalid-argument", `stopping: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(k) || k < 1) throw new MlInputError("invalid-argument", `stopping: K must be an integer >= 1, got ${k}`);
  if (!Number.isInteger(found) || found < 0) throw new MlInputError("invalid-argument", `stopping: found must be an integer >= 0, got ${found}`);
  if (passes.length % k !== 0) throw new MlInputError("dimension-mismatch", `stopping: ${passes.length} probabilities do not split into K = ${k} rows`);
  const n = passes.length / k;
  const interval = options.interval ?? "mixture";
  if (interval !== "mixture" && interval !== "normal") throw new MlInputError("invalid-argument", `stopping: interval must be "mixture" or "normal", got ${String(interval)}`);
  const totals = new Float64Array(k);
  const memberVars = new Float64Array(k);
  let sampling = 0;
  for (let kk = 0; kk < k; kk++) {
    let t = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const p = passes[kk * n + i]!;
      if (!(p >= 0 && p <= 1)) throw new MlInputError("invalid-argument", `stopping: probability ${p} of case ${i} (prediction ${kk}) is not in [0, 1]`);
      t += p;
      v += p * (1 - p);
    }
    totals[kk] = t;
    memberVars[kk] = v;
    sampling += v;
  }
  sampling /= k;
  let mean = 0;
  for (const t of totals) mean += t;
  mean /= k;
  let between = 0;
  if (k > 1) {
    for (const t of totals) between += (t - mean) * (t - mean);
    between /= k - 1;
  }
  const std = Math.sqrt(sampling + between);
  const z = normalQuantile(0.5 + level / 2);
  const mixture = interval === "mixture" && k > 1;
  const clip = (v: number): number => Math.min(n, Math.max(0, v));
  const lo = clip(mixture ? mixtureQuantile(totals, memberVars, 0.5 - level / 2) : mean - z * std);
  const hi = clip(mixture ? mixtureQuantile(totals, memberVars, 0.5 + level / 2) : mean + z * std);
  const recall = (r: number): number => (found + r === 0 ? NaN : found / (found + r));
  return { poolSize: n, found, estimate: mean, std, lo, hi, level, interval: mixture ? "mixture" : "normal", members: k, expectedRecall: recall(mean), recallLo: recall(hi), recallHi: recall(lo) };
}

/**
 * Minority probability per case from class probabilities.
 * @param probs [N, C] row-major; @param minority class indices. @returns [N] Σ_{c ∈ minority} p_ic, clipped to [0, 1].
 */
export function minorityMass(probs: ArrayLike<number>, c: number, minority: readonly number[]): Float64Array {
  assertMinorityClasses(minority, c);
  if (probs.length % c !== 0) throw new MlInputError("dimension-mismatch", `stopping: ${probs.length} probabilities are not rows of ${c} classes`);
  const n = probs.length / c;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const m of minority) s += probs[i * c + m]!;
    out[i] = Math.min(1, Math.max(0, s));
  }
  return out;
}

/**
 * The estimate from MC / ensemble log-probabilities: each pass gives one row of minority probabilities.
 * @param mc [N, K, C] log-probs; @param minority class indices; @param found minority cases already labelled.
 */
export function estimateRemainingFromMc(mc: McLogProbs, minority: readonly number[], found: number, options: StoppingOptions = {}): RemainingMinorityEstimate {
  assertMcLogProbs(mc);
  assertMinorityClasses(minority, mc.c);
  const { n, k, c, data } = mc;
  const passes = new Float64Array(k * n);
  for (let i = 0; i < n; i++) {
    for (let kk = 0; kk < k; kk++) {
      let s = 0;
      for (const m of minority) s += Math.exp(data[(i * k + kk) * c + m]!);
      passes[kk * n + i] = Math.min(1, s);
    }
  }
  return estimateRemainingMinority(passes, k, found, options);
}
