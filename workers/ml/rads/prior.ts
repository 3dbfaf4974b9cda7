/**
 * Pseudo prior and prior-aware class weights (docs/rads.md, steps 3–4), generalised to several classes.
 *
 * Binary (the paper): with π̂₊ clamped to [ε, 1−ε],  w₊ = ρ/π̂₊,  w₋ = (1−ρ)/(1−π̂₊).
 *
 * Multi-class (this platform): M = the minority classes, ρ_c ≥ 0 the wanted share of class c ∈ M in the
 * selection (Σ_M ρ_c ≤ 1), R = every other class.
 *   w_c = ρ_c / clamp(π̂_c)                 for c ∈ M
 *   w_c = (1 − Σ_M ρ) / clamp(Σ_R π̂_r)     for c ∈ R (one shared weight: the rest is one "negative" group)
 * with clamp(x) = min(max(x, ε), 1−ε). For C = 2 and M = {+}: Σ_R π̂ = 1 − π̂₊ and clamp(1 − x) = 1 − clamp(x),
 * so w₋ = (1−ρ)/(1−clamp(π̂₊)) and w₊ = ρ/clamp(π̂₊): exactly the paper's formula.
 * Why weights of this form: a case's weight is (wanted share)/(share in the pool), so a class that is rare
 * in the pool but wanted in the queue gets a proportionally larger pull.
 */
import { MlInputError } from "../validate";

/**
 * Fraction of the pool pseudo-labelled as each class.
 * @param pseudoLabel [N] class indices in 0..numClasses-1.
 * @returns π̂ [numClasses], summing to 1 (all zeros for an empty pool).
 */
export function pseudoPrior(pseudoLabel: Int32Array, numClasses: number): Float64Array {
  const prior = new Float64Array(numClasses);
  for (let i = 0; i < pseudoLabel.length; i++) {
    const y = pseudoLabel[i]!;
    if (!(y >= 0 && y < numClasses)) throw new MlInputError("invalid-label", `pseudoLabel[${i}] = ${y} is not in 0..${numClasses - 1}`);
    prior[y] = prior[y]! + 1;
  }
  if (pseudoLabel.length > 0) for (let c = 0; c < numClasses; c++) prior[c] = prior[c]! / pseudoLabel.length;
  return prior;
}

/**
 * Per-class target shares ρ_c from a total share or one share per minority class.
 * @param rho a number: the total wanted minority share, split evenly over `minorityClasses` (for one minority
 *   class this is the paper's ρ); or an array aligned with `minorityClasses`.
 * @returns ρ [numClasses]: ρ_c for minority classes, 0 elsewhere.
 * @throws MlInputError for an unknown/duplicate minority class, a share outside [0,1] or shares summing above 1.
 */
export function resolveTargetMix(numClasses: number, minorityClasses: readonly number[], rho: number | readonly number[]): Float64Array {
  const seen = new Set<number>();
  for (const m of minorityClasses) {
    if (!Number.isInteger(m) || m < 0 || m >= numClasses) {
      throw new MlInputError("unknown-minority-label", `minority class ${m} is not one of the model's classes 0..${numClasses - 1}`);
    }
    if (seen.has(m)) throw new MlInputError("unknown-minority-label", `minority class ${m} is listed twice`);
    seen.add(m);
  }
  const mix = new Float64Array(numClasses);
  if (typeof rho === "number") {
    if (!(rho >= 0 && rho <= 1)) throw new MlInputError("invalid-argument", `rho must be in [0, 1], got ${rho}`);
    for (const m of minorityClasses) mix[m] = rho / minorityClasses.length;
  } else {
    if (rho.length !== minorityClasses.length) {
      throw new MlInputError("dimension-mismatch", `rho has ${rho.length} shares but there are ${minorityClasses.length} minority classes`);
    }
    let total = 0;
    rho.forEach((r, j) => {
      if (!(r >= 0 && r <= 1)) throw new MlInputError("invalid-argument", `rho[${j}] must be in [0, 1], got ${r}`);
      mix[minorityClasses[j]!] = r;
      total += r;
    });
    // A little slack so that shares like [0.3, 0.3, 0.4] written in decimal still pass.
    if (total > 1 + 1e-9) throw new MlInputError("invalid-argument", `rho shares sum to ${total}, more than 1`);
  }
  return mix;
}

/**
 * Prior-aware class weights (formula in the file comment).
 * @param prior π̂ [C]; @param minorityClasses M; @param mix ρ [C] from {@link resolveTargetMix};
 * @param clampEps ε for clamping priors (paper: 1e-3).
 * @returns w [C].
 */
export function priorAwareWeights(
  prior: Float64Array, minorityClasses: readonly number[], mix: Float64Array, clampEps = 1e-3,
): Float64Array {
  const c = prior.length;
  if (mix.length !== c) throw new MlInputError("dimension-mismatch", `prior has ${c} classes but rho has ${mix.length}`);
  if (!(clampEps > 0 && clampEps < 0.5)) throw new MlInputError("invalid-argument", `clampEps must be in (0, 0.5), got ${clampEps}`);
  const clamp = (x: number): number => Math.min(Math.max(x, clampEps), 1 - clampEps);
  const isMinority = new Uint8Array(c);
  for (const m of minorityClasses) isMinority[m] = 1;
  let restPrior = 0;
  let minorityShare = 0;
  for (let k = 0; k < c; k++) {
    if (isMinority[k]) minorityShare += mix[k]!;
    else restPrior += prior[k]!;
  }
  const restWeight = Math.max(0, 1 - minorityShare) / clamp(restPrior);
  const weights = new Float64Array(c);
  for (let k = 0; k < c; k++) weights[k] = isMinority[k] ? mix[k]! / clamp(prior[k]!) : restWeight;
  return weights;
}

/**
 * Soft pseudo prior (platform variant): π̂_c = mean over the pool of p̄_ic, the probability mass the model puts on
 * each class. Unlike the argmax share ({@link pseudoPrior}) it does not collapse to 0 when the model never ranks
 * a minority class first — a head that gives every case 20 % minority probability still says "about 20 %".
 * @param meanProb p̄ [N, C] row-major. @returns π̂ [C] (sums to 1 for normalised rows; zeros for an empty pool).
 * @throws MlInputError for a shape mismatch or a probability outside [0, 1].
 */
export function softPrior(meanProb: Float64Array, numClasses: number): Float64Array {
  if (!(Number.isInteger(numClasses) && numClasses >= 1) || meanProb.length % numClasses !== 0) {
    throw new MlInputError("dimension-mismatch", `softPrior: ${meanProb.length} probabilities are not rows of ${numClasses} classes`);
  }
  const n = meanProb.length / numClasses;
  const prior = new Float64Array(numClasses);
  const column = new Float64Array(n);
  for (let c = 0; c < numClasses; c++) {
    for (let i = 0; i < n; i++) {
      const p = meanProb[i * numClasses + c]!;
      if (!(p >= 0 && p <= 1)) throw new MlInputError("invalid-argument", `softPrior: p̄[${i}, ${c}] = ${p} is not a probability`);
      column[i] = p;
    }
    // Summed in ascending order, so the result is bit-identical whatever the order of the pool.
    column.sort();
    let s = 0;
    for (let i = 0; i < n; i++) s += column[i]!;
    prior[c] = n > 0 ? s / n : 0;
  }
  return prior;
}

/**
 * Expected prior-aware class weight per case: ew_i = Σ_c p̄_ic · w_c — the weight the case's (unknown) label would
 * get, averaged over the model's belief, instead of the weight of its argmax pseudo-label. A case the model gives
 * 30 % minority probability gets 0.3·w_minority + 0.7·w_rest rather than w_rest.
 * @param meanProb p̄ [N, C]; @param weights w [C]. @returns ew [N].
 */
export function expectedClassWeight(meanProb: Float64Array, weights: Float64Array): Float64Array {
  const c = weights.length;
  if (c === 0 || meanProb.length % c !== 0) throw new MlInputError("dimension-mismatch", `expectedClassWeight: ${meanProb.length} probabilities are not rows of ${c} classes`);
  const n = meanProb.length / c;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += meanProb[i * c + k]! * weights[k]!;
    out[i] = s;
  }
  return out;
}
