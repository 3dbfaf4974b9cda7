/**
 * Synthetic MC-dropout pools for the RADS tests (test support only; nothing in production imports it).
 * Planted cases disagree strongly across passes around a positive mean (high MI, pseudo-positive); all
 * other cases are confidently negative with a little jitter, so the right selection is known by construction.
 */
import { createRng } from "../rng";
import type { McLogProbs } from "../types";

/**
 * @param n pool size; @param planted pool indices of the obviously best cases; @param k passes.
 * @returns binary MC log-probs [n, k, 2].
 */
export function plantedPool(n: number, planted: readonly number[], k = 4, seed = 1): McLogProbs {
  const rng = createRng(seed);
  const data = new Float32Array(n * k * 2);
  const set = new Set(planted);
  for (let i = 0; i < n; i++) {
    for (let kk = 0; kk < k; kk++) {
      const p1 = set.has(i) ? (kk % 2 === 0 ? 0.95 : 0.35) : 0.05 + 0.04 * rng.next();
      data[(i * k + kk) * 2] = Math.log(1 - p1);
      data[(i * k + kk) * 2 + 1] = Math.log(p1);
    }
  }
  return { data, n, k, c: 2 };
}

/**
 * A larger, realistic-looking binary pool: about `prevalence` positives, each case with its own confidence
 * and its own amount of MC disagreement. @returns MC log-probs [n, k, 2].
 */
export function syntheticPool(n: number, k: number, seed: number, prevalence = 0.05): McLogProbs {
  const rng = createRng(seed);
  const data = new Float32Array(n * k * 2);
  for (let i = 0; i < n; i++) {
    const positive = rng.next() < prevalence;
    const centre = (positive ? 1.5 : -3) + 1.5 * rng.normal();
    const spread = 1.5 * Math.abs(rng.normal());
    for (let kk = 0; kk < k; kk++) {
      const z = centre + spread * rng.normal();
      // log-sigmoid of ±z, written to stay finite for large |z|.
      data[(i * k + kk) * 2] = -Math.log1p(Math.exp(z));
      data[(i * k + kk) * 2 + 1] = -Math.log1p(Math.exp(-z));
    }
  }
  return { data, n, k, c: 2 };
}
