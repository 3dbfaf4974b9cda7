/**
 * Label noise for the what-if simulation (issue 14, item 5): what the simulated annotators return
 * instead of the true label, so a data scientist sees how each selection strategy degrades when
 * some labels are wrong.
 *
 * Noise models (rate r in [0, 1]):
 * - `symmetric`: every non-test case's label is, with probability r, replaced by one of the other
 *   K − 1 classes chosen uniformly (the "uniform/symmetric flip" of the label-noise literature,
 *   e.g. Natarajan et al. 2013, Frénay & Verleysen 2014).
 * - `minority`: only cases whose true label is a minority class are, with probability r, given the
 *   majority class — the most frequent non-minority class among the non-test cases (ties: the lower
 *   class index). Models the clinician who misses the rare finding and calls the case normal.
 *
 * TEST cases are never touched: the simulation scores every strategy on true labels. The draw is
 * seeded (`rng`) and walks the cases in index order, one uniform draw per eligible case plus one per
 * symmetric flip, so a seed gives the same flips on every machine.
 *
 * Pure: typed arrays in, typed arrays out.
 */
import type { Rng } from "./rng";
import { assertLabels, assertMinorityClasses, MlInputError } from "./validate";

export type LabelNoise = { kind: "none" } | { kind: "symmetric"; rate: number } | { kind: "minority"; rate: number };

export const NO_NOISE: LabelNoise = { kind: "none" };

/** The name of a noise setting as tables and results show it: "none", "symmetric:0.1", "minority:0.3". */
export function noiseName(noise: LabelNoise): string {
  return noise.kind === "none" ? "none" : `${noise.kind}:${noise.rate}`;
}

/**
 * Parses one setting as `noiseName` writes it ("none", "symmetric:0.1", "minority:0.3"; a rate of 0
 * is "none").
 * @throws MlInputError naming the text for an unknown kind or a rate outside [0, 1].
 */
export function parseLabelNoise(text: string): LabelNoise {
  const t = text.trim();
  if (t === "none" || t === "0") return NO_NOISE;
  const m = /^(symmetric|minority):(.+)$/.exec(t);
  if (!m) throw new MlInputError("invalid-argument", `label noise ${JSON.stringify(text)}: expected none, symmetric:<rate> or minority:<rate>`);
  const rate = Number(m[2]);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1 || m[2]!.trim() === "") throw new MlInputError("invalid-argument", `label noise ${JSON.stringify(text)}: the rate must be a number in [0, 1]`);
  return rate === 0 ? NO_NOISE : { kind: m[1] as "symmetric" | "minority", rate };
}

export interface NoisyLabels {
  /** The labels the simulated annotators return [N]; equal to the true labels on TEST and where nothing flipped. */
  labels: Int32Array;
  /** Cases the noise model could flip (symmetric: every non-test case; minority: non-test minority cases). */
  eligible: number;
  /** Indices whose label was flipped, ascending. */
  flipped: Int32Array;
  /** The class minority labels are flipped to (minority noise), else -1. */
  target: number;
}

/**
 * The labels annotators return under `noise`.
 * @param labels true labels [N] in 0..numClasses-1
 * @param testIndices cases never flipped
 * @throws MlInputError for a rate outside [0, 1], bad labels or minority classes, or minority noise
 * without a non-minority class among the non-test cases.
 */
export function applyLabelNoise(labels: Int32Array, numClasses: number, minorityClasses: readonly number[], testIndices: Int32Array, noise: LabelNoise, rng: Rng): NoisyLabels {
  assertLabels(labels, numClasses);
  assertMinorityClasses(minorityClasses, numClasses);
  const n = labels.length;
  const out = labels.slice();
  if (noise.kind === "none") return { labels: out, eligible: 0, flipped: new Int32Array(0), target: -1 };
  if (!(noise.rate >= 0 && noise.rate <= 1)) throw new MlInputError("invalid-argument", `label noise rate ${noise.rate} is outside [0, 1]`);
  const inTest = new Uint8Array(n);
  for (const t of testIndices) {
    if (!Number.isInteger(t) || t < 0 || t >= n) throw new MlInputError("invalid-argument", `test index ${t} is outside 0..${n - 1}`);
    inTest[t] = 1;
  }
  const isMinority = new Uint8Array(numClasses);
  for (const c of minorityClasses) isMinority[c] = 1;
  const flipped: number[] = [];
  let eligible = 0;
  if (noise.kind === "symmetric") {
    if (numClasses < 2) throw new MlInputError("invalid-argument", "symmetric label noise needs at least two classes");
    for (let i = 0; i < n; i++) {
      if (inTest[i]) continue;
      eligible++;
      if (rng.next() < noise.rate) {
        let c = rng.int(numClasses - 1);
        if (c >= labels[i]!) c++;
        out[i] = c;
        flipped.push(i);
      }
    }
    return { labels: out, eligible, flipped: Int32Array.from(flipped), target: -1 };
  }
  const target = majorityClass(labels, inTest, isMinority);
  if (target < 0) throw new MlInputError("invalid-argument", "minority label noise needs a non-minority class among the non-test cases to flip to");
  for (let i = 0; i < n; i++) {
    if (inTest[i] || !isMinority[labels[i]!]) continue;
    eligible++;
    if (rng.next() < noise.rate) {
      out[i] = target;
      flipped.push(i);
    }
  }
  return { labels: out, eligible, flipped: Int32Array.from(flipped), target };
}

/** The most frequent non-minority class among non-test cases (ties: lower index); -1 when there is none. */
function majorityClass(labels: Int32Array, inTest: Uint8Array, isMinority: Uint8Array): number {
  const counts = new Array<number>(isMinority.length).fill(0);
  for (let i = 0; i < labels.length; i++) if (!inTest[i] && !isMinority[labels[i]!]) counts[labels[i]!]! += 1;
  let best = -1;
  for (let c = 0; c < counts.length; c++) if (counts[c]! > 0 && (best < 0 || counts[c]! > counts[best]!)) best = c;
  return best;
}
