/**
 * Platt scaling: a two-parameter logistic map from a classifier's score to a calibrated probability,
 *   P(y = 1 | s) = σ(a·s + b),   σ(t) = 1 / (1 + e^(−t)),
 * fitted by maximum likelihood on held-out (score, label) pairs (Platt 1999, "Probabilistic outputs for
 * support vector machines"), with Platt's smoothed targets t₊ = (N₊ + 1)/(N₊ + 2) for positives and
 * t₋ = 1/(N₋ + 2) for negatives — so a perfectly separated calibration set (common with a handful of
 * minority cases) still gives finite a, b — and the Newton iteration with backtracking line search of
 * Lin, Lin & Weng 2007 ("A note on Platt's probabilistic outputs for support vector machines"):
 * start a = 0, b = ln((N₊ + 1)/(N₋ + 1)) (their sign convention is the opposite); Hessian + 1e-12·I; stop when |∇| < 1e-5 (at most 100 steps).
 *
 * Rows may carry weights w_i ≥ 0 (e.g. bootstrap multiplicities): the likelihood is Σ w_i ℓ_i and
 * N₊/N₋ are the weighted counts, so weight 2 is the same as the row twice.
 *
 * Scores are any real numbers; for probabilities use `logit` first (the log-odds is the scale on which
 * a logistic model's over- or under-confidence is an affine map). Pure: no randomness, no I/O.
 */
import { MlInputError } from "./validate";

export interface PlattParams {
  /** Slope on the score (a < 1: the score was over-confident; a > 1: under-confident). */
  a: number;
  /** Intercept (shifts the base rate). */
  b: number;
  /** Newton steps taken. */
  iterations: number;
}

/** Log-odds ln(p / (1 − p)) with p clipped to [eps, 1 − eps] (eps 1e-12), so 0 and 1 stay finite. */
export function logit(p: number, eps = 1e-12): number {
  const q = Math.min(1 - eps, Math.max(eps, p));
  return Math.log(q) - Math.log1p(-q);
}

/** σ(t) = 1 / (1 + e^(−t)), evaluated without overflow for large |t|. */
export function sigmoid(t: number): number {
  if (t >= 0) return 1 / (1 + Math.exp(-t));
  const e = Math.exp(t);
  return e / (1 + e);
}

/** Calibrated probability σ(a·s + b) of one score. */
export function applyPlatt(params: Pick<PlattParams, "a" | "b">, score: number): number {
  return sigmoid(params.a * score + params.b);
}

/**
 * Fits Platt's (a, b) to scores s [n] and labels y [n] ∈ {0, 1} (optional weights w [n] ≥ 0).
 * @throws MlInputError when lengths differ, a score or weight is not finite, a weight is negative, a
 *   label is not 0/1, or the total weight is 0.
 */
export interface PlattOptions {
  /**
   * Platt's smoothed targets (default true). They pull every negative's target up to 1/(N₋ + 2): right
   * for classifying, but a sum of probabilities over a large pool inherits that floor (1,700 pool cases
   * × 1/19 ≈ 90 phantom positives after 20 labels), so counting uses the plain 0/1 labels.
   */
  smoothTargets?: boolean;
  /** Ridge ½·λ·a² on the slope (default 0), which keeps a finite when the calibration set is separable. */
  slopeRidge?: number;
}

export function fitPlatt(scores: ArrayLike<number>, y: ArrayLike<number>, weights?: ArrayLike<number>, options: PlattOptions = {}): PlattParams {
  const n = scores.length;
  if (y.length !== n) throw new MlInputError("dimension-mismatch", `Platt scaling: ${n} scores but ${y.length} labels`);
  if (weights && weights.length !== n) throw new MlInputError("dimension-mismatch", `Platt scaling: ${n} scores but ${weights.length} weights`);
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    const w = weights ? weights[i]! : 1;
    if (!Number.isFinite(s)) throw new MlInputError("non-finite", `Platt scaling: score ${i} is ${s}`);
    if (!(w >= 0) || !Number.isFinite(w)) throw new MlInputError("invalid-argument", `Platt scaling: weight ${i} is ${w}, expected a finite number >= 0`);
    if (y[i] === 1) pos += w;
    else if (y[i] === 0) neg += w;
    else throw new MlInputError("invalid-argument", `Platt scaling: label ${i} is ${y[i]}, expected 0 or 1`);
  }
  if (pos + neg === 0) throw new MlInputError("empty-input", "Platt scaling: no (weighted) calibration rows");
  const smooth = options.smoothTargets ?? true;
  const ridge = options.slopeRidge ?? 0;
  if (!(ridge >= 0) || !Number.isFinite(ridge)) throw new MlInputError("invalid-argument", `Platt scaling: slopeRidge must be a finite number >= 0, got ${ridge}`);
  const hiTarget = smooth ? (pos + 1) / (pos + 2) : 1;
  const loTarget = smooth ? 1 / (neg + 2) : 0;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = y[i] === 1 ? hiTarget : loTarget;
  const w = (i: number) => (weights ? weights[i]! : 1);

  // Negative log-likelihood at (a, b), stable: ℓ_i = t_i·log(1 + e^(−z_i)) + (1 − t_i)·log(1 + e^(z_i)), z_i = a·s_i + b.
  const objective = (a: number, b: number): number => {
    let f = 0.5 * ridge * a * a;
    for (let i = 0; i < n; i++) {
      const wi = w(i);
      if (wi === 0) continue;
      const z = a * scores[i]! + b;
      // −[t·log σ(z) + (1 − t)·log(1 − σ(z))], with log(1 + e^(±z)) taken on the side that cannot overflow.
      const l = Math.log1p(Math.exp(-Math.abs(z)));
      f += wi * (z >= 0 ? t[i]! * l + (1 - t[i]!) * (z + l) : t[i]! * (l - z) + (1 - t[i]!) * l);
    }
    return f;
  };
  let a = 0;
  let b = Math.log((pos + 1) / (neg + 1));
  let fval = objective(a, b);
  let iterations = 0;
  for (; iterations < 100; iterations++) {
    let g1 = ridge * a, g2 = 0, h11 = 1e-12 + ridge, h22 = 1e-12, h21 = 0;
    for (let i = 0; i < n; i++) {
      const wi = w(i);
      if (wi === 0) continue;
      const s = scores[i]!;
      const p = sigmoid(a * s + b);
      const d = p - t[i]!;
      const v = p * (1 - p);
      g1 += wi * s * d;
      g2 += wi * d;
      h11 += wi * s * s * v;
      h22 += wi * v;
      h21 += wi * s * v;
    }
    if (Math.abs(g1) < 1e-5 && Math.abs(g2) < 1e-5) break;
    const det = h11 * h22 - h21 * h21;
    const da = -(h22 * g1 - h21 * g2) / det;
    const db = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * da + g2 * db;
    let step = 1;
    let moved = false;
    while (step >= 1e-10) {
      const na = a + step * da;
      const nb = b + step * db;
      const nf = objective(na, nb);
      if (nf < fval + 1e-4 * step * gd) {
        a = na;
        b = nb;
        fval = nf;
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) break; // No descent left at machine precision: (a, b) is the optimum to that precision.
  }
  return { a, b, iterations };
}
