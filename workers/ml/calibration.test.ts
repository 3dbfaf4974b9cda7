import { describe, expect, it } from "vitest";
import { applyPlatt, fitPlatt, logit, sigmoid } from "./calibration";
import { createRng } from "./rng";
import { MlInputError } from "./validate";

/** n scores s ~ N(0, 1.5²) with labels drawn from P(y = 1 | s) = σ(a·s + b). */
function syntheticSet(n: number, a: number, b: number, seed: number): { s: Float64Array; y: Int32Array } {
  const rng = createRng(seed);
  const s = new Float64Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = 1.5 * rng.normal();
    y[i] = rng.next() < sigmoid(a * s[i]! + b) ? 1 : 0;
  }
  return { s, y };
}

describe("sigmoid and logit", () => {
  it("are inverse and finite at the ends", () => {
    for (const p of [1e-6, 0.1, 0.5, 0.93]) expect(sigmoid(logit(p))).toBeCloseTo(p, 12);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(Number.isFinite(logit(0))).toBe(true);
    expect(Number.isFinite(logit(1))).toBe(true);
  });
});

describe("fitPlatt", () => {
  it("recovers the slope and intercept of a synthetic calibrated set (8,000 rows)", () => {
    const { s, y } = syntheticSet(8000, 2, -3, 11);
    const p = fitPlatt(s, y, undefined, { smoothTargets: false });
    // Maximum-likelihood standard errors at this size are ~0.06 (a) and ~0.07 (b).
    expect(p.a).toBeGreaterThan(1.8);
    expect(p.a).toBeLessThan(2.2);
    expect(p.b).toBeGreaterThan(-3.25);
    expect(p.b).toBeLessThan(-2.75);
  });

  it("turns an over-confident score into calibrated probabilities: Σp matches the positives, bin by bin", () => {
    // The score is 3× the true log-odds (an over-confident model): the fitted slope must be ≈ 1/3.
    const { s, y } = syntheticSet(8000, 1 / 3, -1, 12);
    const p = fitPlatt(s, y, undefined, { smoothTargets: false });
    expect(p.a).toBeGreaterThan(0.28);
    expect(p.a).toBeLessThan(0.39);
    // Reliability on fresh data from the same law: in each fifth of the scores, mean probability ≈ positive rate.
    const test = syntheticSet(20000, 1 / 3, -1, 13);
    const order = Array.from(test.s.keys()).sort((i, j) => test.s[i]! - test.s[j]!);
    for (let q = 0; q < 5; q++) {
      const bin = order.slice((q * order.length) / 5, ((q + 1) * order.length) / 5);
      const meanP = bin.reduce((acc, i) => acc + applyPlatt(p, test.s[i]!), 0) / bin.length;
      const rate = bin.reduce((acc, i) => acc + test.y[i]!, 0) / bin.length;
      expect(Math.abs(meanP - rate)).toBeLessThan(0.025);
    }
    // The uncalibrated reading σ(s) is far off in the top fifth (that is what calibration fixes).
    const top = order.slice((4 * order.length) / 5);
    const raw = top.reduce((acc, i) => acc + sigmoid(test.s[i]!), 0) / top.length;
    const rate = top.reduce((acc, i) => acc + test.y[i]!, 0) / top.length;
    expect(raw - rate).toBeGreaterThan(0.1);
  });

  it("weights act as multiplicities: weight 2 equals the row twice", () => {
    const { s, y } = syntheticSet(300, 1, 0, 14);
    const w = Float64Array.from(s, (_, i) => (i % 3 === 0 ? 2 : i % 3 === 1 ? 0 : 1));
    const rows: number[] = [];
    w.forEach((wi, i) => {
      for (let r = 0; r < wi; r++) rows.push(i);
    });
    const weighted = fitPlatt(s, y, w);
    const repeated = fitPlatt(rows.map((i) => s[i]!), rows.map((i) => y[i]!));
    expect(weighted.a).toBeCloseTo(repeated.a, 6);
    expect(weighted.b).toBeCloseTo(repeated.b, 6);
  });

  it("stays finite on a separable set: Platt's smoothed targets, or the slope ridge with plain targets", () => {
    const s = [-3, -2, -1, 1, 2, 3];
    const y = [0, 0, 0, 1, 1, 1];
    const smoothed = fitPlatt(s, y);
    expect(Number.isFinite(smoothed.a) && Number.isFinite(smoothed.b)).toBe(true);
    // Smoothed targets: the positives' target is (3 + 1)/(3 + 2) = 0.8, so the top score stays below 0.95.
    expect(applyPlatt(smoothed, 3)).toBeLessThan(0.95);
    const ridged = fitPlatt(s, y, undefined, { smoothTargets: false, slopeRidge: 0.01 });
    expect(Number.isFinite(ridged.a)).toBe(true);
    expect(applyPlatt(ridged, 3)).toBeGreaterThan(0.95);
    expect(applyPlatt(ridged, -3)).toBeLessThan(0.05);
  });

  it("plain targets count the positives of the calibration set (Σp = N₊ at the optimum, intercept unpenalised)", () => {
    const { s, y } = syntheticSet(500, 1.2, -2, 15);
    const p = fitPlatt(s, y, undefined, { smoothTargets: false, slopeRidge: 0.01 });
    const sumP = Array.from(s).reduce((acc, v) => acc + applyPlatt(p, v), 0);
    expect(sumP).toBeCloseTo(y.reduce((acc, v) => acc + v, 0), 3);
  });

  it("rejects bad input with a named error", () => {
    expect(() => fitPlatt([0, 1], [0])).toThrow(/2 scores but 1 labels/);
    expect(() => fitPlatt([0, NaN], [0, 1])).toThrow(MlInputError);
    expect(() => fitPlatt([0, 1], [0, 2])).toThrow(/label 1 is 2/);
    expect(() => fitPlatt([0, 1], [0, 1], [1, -1])).toThrow(/weight 1/);
    expect(() => fitPlatt([0, 1], [0, 1], [0, 0])).toThrow(/no \(weighted\) calibration rows/);
    expect(() => fitPlatt([0, 1], [0, 1], undefined, { slopeRidge: -1 })).toThrow(/slopeRidge/);
  });
});
