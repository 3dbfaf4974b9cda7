/**
 * BALD features of MC-dropout predictions (docs/rads.md, step 2).
 * Everything is accumulated in float64 and reported in nats, whatever the precision of the input.
 */
import type { McLogProbs } from "./types";
import { assertMcLogProbs, MlInputError } from "./validate";

/** Per-case features of one MC-dropout tensor; all arrays row-major. */
export interface BaldFeatures {
  /** Number of cases N. */
  n: number;
  /** Number of classes C. */
  c: number;
  /** log p̄ with p̄ clamped at `minProb` before the log, [N, C]. */
  meanLogProb: Float64Array;
  /** p̄ = mean over the K passes of p_k, [N, C]. */
  meanProb: Float64Array;
  /** Predictive entropy H = -Σ_c p̄_c log p̄_c, [N]. */
  entropy: Float64Array;
  /** Expected entropy E = mean_k(-Σ_c p_k,c log p_k,c), [N]. */
  expectedEntropy: Float64Array;
  /** Mutual information (BALD) MI = H − E, floored at 0 (negative values are rounding only), [N]. */
  mutualInformation: Float64Array;
  /** argmax_c p̄_c (lowest class index on ties), [N]. */
  pseudoLabel: Int32Array;
}

export interface BaldOptions {
  /** Clamp for p̄ before taking log p̄ (paper: 1e-12). */
  minProb?: number;
  /**
   * How far Σ_c exp(log p_k,c) of one pass may stray from 1 before the input is rejected as not being
   * log-probabilities (float32 softmax rounding stays far below this; raw logits do not).
   */
  normTolerance?: number;
}

/**
 * BALD features of an MC-dropout tensor.
 * @param mc log-probabilities [N, K, C] (index (n*K + k)*C + c); K >= 2, C >= 2; -Infinity allowed (p = 0).
 * @returns {@link BaldFeatures}: meanLogProb/meanProb [N, C]; entropy/expectedEntropy/mutualInformation [N]; pseudoLabel [N].
 * @throws MlInputError on a malformed shape, K < 2, C < 2, NaN/+Infinity, or passes that are not normalised.
 */
export function baldFeatures(mc: McLogProbs, options: BaldOptions = {}): BaldFeatures {
  const minProb = options.minProb ?? 1e-12;
  const normTolerance = options.normTolerance ?? 1e-3;
  // Shape, K >= 2 (one pass carries no disagreement, so MI would be identically 0) and C >= 2.
  assertMcLogProbs(mc);
  const { n, k, c, data } = mc;
  if (!(minProb > 0 && minProb < 1)) throw new MlInputError("invalid-argument", `baldFeatures: minProb must be in (0,1), got ${minProb}`);

  const meanProb = new Float64Array(n * c);
  const meanLogProb = new Float64Array(n * c);
  const entropy = new Float64Array(n);
  const expectedEntropy = new Float64Array(n);
  const mutualInformation = new Float64Array(n);
  const pseudoLabel = new Int32Array(n);
  const p = new Float64Array(c);

  for (let i = 0; i < n; i++) {
    const rowOut = i * c;
    let sumPassEntropy = 0;
    for (let kk = 0; kk < k; kk++) {
      const base = (i * k + kk) * c;
      let sum = 0;
      for (let cc = 0; cc < c; cc++) {
        const lp = data[base + cc]!;
        // NaN and +Infinity are never valid log-probabilities; -Infinity is log(0) and is fine.
        if (Number.isNaN(lp) || lp === Infinity) {
          throw new MlInputError("non-finite", `baldFeatures: log-prob at case ${i}, pass ${kk}, class ${cc} is ${lp}`);
        }
        const v = Math.exp(lp);
        p[cc] = v;
        sum += v;
      }
      if (!(Math.abs(sum - 1) <= normTolerance)) {
        throw new MlInputError(
          "invalid-argument",
          `baldFeatures: pass ${kk} of case ${i} sums to ${sum} in probability space; expected log-probabilities (log-softmax output)`,
        );
      }
      // Renormalise away float32 rounding so entropies are those of true distributions.
      let passEntropy = 0;
      for (let cc = 0; cc < c; cc++) {
        const q = p[cc]! / sum;
        meanProb[rowOut + cc] = meanProb[rowOut + cc]! + q;
        // 0·log 0 = 0 by continuity; skipping it also avoids 0·(-Infinity) = NaN.
        if (q > 0) passEntropy -= q * Math.log(q);
      }
      sumPassEntropy += passEntropy;
    }
    let h = 0;
    let best = 0;
    let bestP = -1;
    for (let cc = 0; cc < c; cc++) {
      const pm = meanProb[rowOut + cc]! / k;
      meanProb[rowOut + cc] = pm;
      if (pm > 0) h -= pm * Math.log(pm);
      meanLogProb[rowOut + cc] = Math.log(Math.max(pm, minProb));
      if (pm > bestP) {
        bestP = pm;
        best = cc;
      }
    }
    const e = sumPassEntropy / k;
    entropy[i] = h;
    expectedEntropy[i] = e;
    // H >= E by concavity of entropy; a tiny negative difference is rounding, not information.
    mutualInformation[i] = Math.max(0, h - e);
    pseudoLabel[i] = best;
  }
  return { n, c, meanLogProb, meanProb, entropy, expectedEntropy, mutualInformation, pseudoLabel };
}
