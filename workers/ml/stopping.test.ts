import { describe, expect, it } from "vitest";
import { createRng } from "./rng";
import { estimateRemainingFromMc, estimateRemainingMinority, minorityMass, normalCdf, normalQuantile } from "./stopping";
import { MlInputError } from "./validate";

describe("normalQuantile", () => {
  it("matches table values", () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263479, 6);
  });
});

describe("normalCdf", () => {
  it("matches table values and inverts normalQuantile", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.6448536)).toBeCloseTo(0.05, 6);
    for (const p of [0.01, 0.3, 0.9]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
  });
});

describe("estimateRemainingMinority", () => {
  it("hand-computed: Σp, Σp(1−p), the 90 % normal interval and the recall", () => {
    // p = [0.5, 0.5, 0.2, 0]: μ = 1.2; σ² = 0.25 + 0.25 + 0.16 = 0.66; z(0.95) = 1.6448536.
    const e = estimateRemainingMinority(Float64Array.from([0.5, 0.5, 0.2, 0]), 1, 3);
    const sigma = Math.sqrt(0.66);
    expect(e.estimate).toBeCloseTo(1.2, 12);
    expect(e.std).toBeCloseTo(sigma, 12);
    expect(e.lo).toBeCloseTo(Math.max(0, 1.2 - 1.6448536 * sigma), 6);
    expect(e.hi).toBeCloseTo(1.2 + 1.6448536 * sigma, 6);
    expect(e.expectedRecall).toBeCloseTo(3 / 4.2, 12);
    expect(e.recallLo).toBeCloseTo(3 / (3 + e.hi), 12);
    expect(e.recallHi).toBeCloseTo(3 / (3 + e.lo), 12);
    expect(e.poolSize).toBe(4);
  });

  it("adds the between-prediction variance of the totals (law of total variance)", () => {
    // Two predictions of two cases: [0.2, 0.4] (T = 0.6) and [0.6, 0.8] (T = 1.4).
    // mean T = 1.0; Var_k(T) = ((−0.4)² + 0.4²)/1 = 0.32; mean sampling = ((0.16 + 0.24) + (0.24 + 0.16))/2 = 0.4.
    const e = estimateRemainingMinority(Float64Array.from([0.2, 0.4, 0.6, 0.8]), 2, 0);
    expect(e.estimate).toBeCloseTo(1.0, 12);
    expect(e.std).toBeCloseTo(Math.sqrt(0.72), 12);
    expect(e.expectedRecall).toBe(0);
  });

  it("mixture interval: the central level range of the members' normal counts, skewed with skewed totals", () => {
    // Three members over 400 cases: totals 20, 24 and 80 (a member unsure of the base rate).
    const member = (p: number) => new Float64Array(400).fill(p);
    const passes = Float64Array.from([...member(0.05), ...member(0.06), ...member(0.2)]);
    const e = estimateRemainingMinority(passes, 3, 10);
    expect(e.interval).toBe("mixture");
    expect(e.members).toBe(3);
    expect(e.estimate).toBeCloseTo(124 / 3, 9);
    // At the ends the mixture CDF (mean of the members' normal CDFs) is 5 % and 95 %.
    const cdf = (x: number) => [[20, 400 * 0.05 * 0.95], [24, 400 * 0.06 * 0.94], [80, 400 * 0.2 * 0.8]].reduce((s, [m, v]) => s + normalCdf((x - m!) / Math.sqrt(v!)), 0) / 3;
    expect(cdf(e.lo)).toBeCloseTo(0.05, 6);
    expect(cdf(e.hi)).toBeCloseTo(0.95, 6);
    // The far member stretches the upper end only.
    expect(e.hi - e.estimate).toBeGreaterThan(1.5 * (e.estimate - e.lo));
    const normal = estimateRemainingMinority(passes, 3, 10, { interval: "normal" });
    // … and does not reach down to counts no member supports (the symmetric σ of the totals does).
    expect(e.lo).toBeGreaterThan(normal.lo + 5);
    expect(normal.lo).toBe(0); // μ − z·σ = 41.3 − 1.64·34.6 < 0, clipped
    // Identical members: the mixture is one normal, N(T, V), whose interval is T ± z·√V.
    const same = estimateRemainingMinority(Float64Array.from([...member(0.1), ...member(0.1)]), 2, 0);
    expect(same.lo).toBeCloseTo(40 - 1.6448536 * Math.sqrt(36), 4);
    expect(same.hi).toBeCloseTo(40 + 1.6448536 * Math.sqrt(36), 4);
  });

  it("clips the interval to [0, N] and leaves recall undefined when nothing is found or left", () => {
    const none = estimateRemainingMinority(new Float64Array(5), 1, 0);
    expect([none.estimate, none.lo, none.hi]).toEqual([0, 0, 0]);
    expect(Number.isNaN(none.expectedRecall)).toBe(true);
    const all = estimateRemainingMinority(Float64Array.from([1, 1, 0.99]), 1, 2, { level: 0.99 });
    expect(all.hi).toBeLessThanOrEqual(3);
  });

  it("covers the truth at about the nominal rate on a synthetic calibrated pool", () => {
    // 400 pools of 2,000 cases; p_i from a skewed distribution (mostly near 0, a few likely positives, ~6 %
    // prevalence); the truth is drawn from the very p_i, i.e. the probabilities are calibrated by construction.
    const rng = createRng(7);
    const n = 2000;
    const trials = 400;
    let covered = 0;
    let meanRecallError = 0;
    for (let t = 0; t < trials; t++) {
      const p = new Float64Array(n);
      let truth = 0;
      for (let i = 0; i < n; i++) {
        const u = rng.next();
        p[i] = u < 0.05 ? 0.5 + 0.5 * rng.next() : 0.03 * rng.next() ** 2;
        if (rng.next() < p[i]!) truth++;
      }
      const found = 30;
      const e = estimateRemainingMinority(p, 1, found, { level: 0.9 });
      if (truth >= e.lo && truth <= e.hi) covered++;
      meanRecallError += Math.abs(e.expectedRecall - found / (found + truth)) / trials;
    }
    const coverage = covered / trials;
    // Binomial(400, 0.9) has sd 1.5 %: 0.85–0.95 is more than 3 sd either way.
    expect(coverage).toBeGreaterThan(0.85);
    expect(coverage).toBeLessThan(0.95);
    expect(meanRecallError).toBeLessThan(0.05);
  });

  it("is badly over-confident when the probabilities are not calibrated (why calibration matters)", () => {
    // Same pools, but the truth rate is twice the stated probability: the 90 % interval should almost never cover.
    const rng = createRng(8);
    let covered = 0;
    for (let t = 0; t < 100; t++) {
      const p = new Float64Array(1000);
      let truth = 0;
      for (let i = 0; i < p.length; i++) {
        p[i] = 0.04 * rng.next();
        if (rng.next() < 2 * p[i]!) truth++;
      }
      const e = estimateRemainingMinority(p, 1, 0);
      if (truth >= e.lo && truth <= e.hi) covered++;
    }
    expect(covered).toBeLessThan(20);
  });

  it("rejects bad input with a named error", () => {
    expect(() => estimateRemainingMinority(Float64Array.from([0.5, 1.5]), 1, 0)).toThrow(/probability 1.5 of case 1/);
    expect(() => estimateRemainingMinority(Float64Array.from([0.5, NaN]), 1, 0)).toThrow(MlInputError);
    expect(() => estimateRemainingMinority(Float64Array.from([0.5, 0.5, 0.5]), 2, 0)).toThrow(/do not split/);
    expect(() => estimateRemainingMinority(Float64Array.from([0.5]), 1, -1)).toThrow(/found/);
    expect(() => estimateRemainingMinority(Float64Array.from([0.5]), 1, 0, { level: 1 })).toThrow(/level/);
    expect(() => estimateRemainingMinority(Float64Array.from([0.5]), 1, 0, { interval: "wide" as "normal" })).toThrow(/interval must be/);
  });
});

describe("minorityMass and estimateRemainingFromMc", () => {
  it("sums the minority classes per case and per pass", () => {
    // 3 classes, minority {1, 2}.
    const m = minorityMass(Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]), 3, [1, 2]);
    expect(m[0]).toBeCloseTo(0.3, 6);
    expect(m[1]).toBeCloseTo(0.9, 6);
    // Two cases, two passes, two classes: minority probs [0.2, 0.6] (pass 0) and [0.4, 0.8] (pass 1).
    const lp = (p: number) => [Math.log(1 - p), Math.log(p)];
    const mc = { n: 2, k: 2, c: 2, data: Float32Array.from([...lp(0.2), ...lp(0.4), ...lp(0.6), ...lp(0.8)]) };
    const e = estimateRemainingFromMc(mc, [1], 1);
    // Totals per pass: 0.8 and 1.2 → mean 1.0, Var_k = 0.08; sampling mean = ((0.16+0.24)+(0.24+0.16))/2 = 0.4.
    expect(e.estimate).toBeCloseTo(1.0, 5);
    expect(e.std).toBeCloseTo(Math.sqrt(0.48), 5);
    expect(e.expectedRecall).toBeCloseTo(0.5, 5);
  });
});
