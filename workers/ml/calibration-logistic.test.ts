import { describe, expect, it } from "vitest";
import { calibratedMinorityPasses, estimateRemainingFromLogistic, minorityLogOdds, outOfFoldMinorityScores } from "./calibration-logistic";
import { logisticProba, trainLogisticHead } from "./heads/logistic";
import { aurocBinary } from "./metrics";
import { createRng, type Rng } from "./rng";
import { estimateRemainingMinority, minorityMass } from "./stopping";
import type { Matrix } from "./types";

/**
 * A synthetic population where the logistic model is right: x ~ N(0, I₄), P(minority | x) = σ(2·x₀ − 3.5)
 * (≈ 8 % minority), so a well-calibrated head's Σp over a pool is an unbiased count of its minority cases.
 */
function population(n: number, rng: Rng): { x: Matrix; y: Int32Array } {
  const d = 4;
  const data = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = rng.normal();
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * data[i * d]! - 3.5))) ? 1 : 0;
  }
  return { x: { data, rows: n, cols: d }, y };
}

/** A random labelled set of `labelled` rows with at least 3 minority (redrawn until it has them), and the pool. */
function labelledAndPool(seed: number, labelled: number, poolSize: number) {
  const rng = createRng(seed);
  for (;;) {
    const lab = population(labelled, rng);
    if (lab.y.reduce((a, v) => a + v, 0) >= 3) {
      const pool = population(poolSize, rng);
      return { lab, pool, truth: pool.y.reduce((a, v) => a + v, 0), rng };
    }
  }
}

const FAST = { cGrid: [1, 10], cvFolds: 3 };

describe("outOfFoldMinorityScores", () => {
  it("scores each labelled case by a head that did not see it: no in-sample flattery on noise features", () => {
    // 30 columns, only the first informative, 60 rows: a head can fit noise in-sample; held out it cannot.
    const rng = createRng(1);
    const d = 30;
    const n = 60;
    const data = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) data[i * d + j] = rng.normal();
      y[i] = i % 6 === 0 ? 1 : 0;
      data[i * d] = data[i * d]! * 0.5 + (y[i] ? 0.5 : 0);
    }
    const x = { data, rows: n, cols: d };
    const model = trainLogisticHead(x, y, 2, { cGrid: [10], cvFolds: 0, defaultC: 10 }, createRng(2));
    const oof = outOfFoldMinorityScores(model, [1], createRng(3));
    expect(oof.folds).toBe(5);
    const truth = Uint8Array.from(y);
    const inSample = minorityLogOdds(model.parts, x, 2, Uint8Array.from([0, 1]));
    expect(aurocBinary(inSample, truth)).toBeGreaterThan(0.95);
    expect(aurocBinary(oof.scores, truth)!).toBeLessThan(0.85);
    // The in-sample score is the head's own minority log-odds.
    const p = logisticProba(model, x);
    expect(inSample[0]).toBeCloseTo(Math.log(p[1]!) - Math.log(p[0]!), 4);
  });

  it("falls back to in-sample scores (folds 0) with fewer than two minority cases", () => {
    const x = { data: Float32Array.from([0, 1, 2, 3, 4]), rows: 5, cols: 1 };
    const model = trainLogisticHead(x, Int32Array.from([0, 0, 0, 0, 1]), 2, { cvFolds: 0 }, createRng(1));
    expect(outOfFoldMinorityScores(model, [1], createRng(1)).folds).toBe(0);
  });
});

describe("calibratedMinorityPasses", () => {
  it("gives K rows of probabilities, deterministic under the seed, spread across members", () => {
    const { lab, pool } = labelledAndPool(4, 60, 200);
    const model = trainLogisticHead(lab.x, lab.y, 2, FAST, createRng(5));
    const a = calibratedMinorityPasses(model, pool.x, [1], 6, createRng(7));
    const b = calibratedMinorityPasses(model, pool.x, [1], 6, createRng(7));
    expect(a.passes.length).toBe(6 * 200);
    expect(Array.from(a.passes)).toEqual(Array.from(b.passes));
    for (const p of a.passes) expect(p >= 0 && p <= 1).toBe(true);
    const totals = Array.from({ length: 6 }, (_, k) => a.passes.subarray(k * 200, (k + 1) * 200).reduce((s, v) => s + v, 0));
    expect(Math.max(...totals) - Math.min(...totals)).toBeGreaterThan(0.5);
    expect(a.platt).toHaveLength(6);
  });

  it("counts the pool's minority about right where the class-balanced head over-counts it", () => {
    // Averaged over 12 draws: the balanced head puts the minority at ~50 % prior (×6 too many); calibrated ≈ truth.
    let truthSum = 0, calibratedSum = 0, rawSum = 0;
    for (let t = 0; t < 12; t++) {
      const { lab, pool, truth } = labelledAndPool(100 + t, 120, 1500);
      const model = trainLogisticHead(lab.x, lab.y, 2, FAST, createRng(t));
      const e = estimateRemainingFromLogistic(model, pool.x, [1], 0, 8, createRng(200 + t));
      truthSum += truth;
      calibratedSum += e.estimate;
      rawSum += estimateRemainingMinority(minorityMass(logisticProba(model, pool.x), 2, [1]), 1, 0).estimate;
    }
    expect(rawSum / truthSum).toBeGreaterThan(2);
    expect(calibratedSum / truthSum).toBeGreaterThan(0.8);
    expect(calibratedSum / truthSum).toBeLessThan(1.25);
  });

  it("covers the true remaining count in at least 80 % of 40 small labelled sets (90 % interval)", () => {
    let covered = 0;
    for (let t = 0; t < 40; t++) {
      const { lab, pool, truth } = labelledAndPool(300 + t, 60, 1000);
      const model = trainLogisticHead(lab.x, lab.y, 2, FAST, createRng(t));
      const e = estimateRemainingFromLogistic(model, pool.x, [1], 0, 10, createRng(400 + t));
      if (truth >= e.lo && truth <= e.hi) covered++;
    }
    expect(covered / 40).toBeGreaterThanOrEqual(0.8);
  });

  it("zero calibration weight keeps cases picked for their label from inflating the count", () => {
    // 80 random labels plus 12 minority cases chosen because they are minority (a forced seed set, enriched).
    const { lab, pool, truth, rng } = labelledAndPool(500, 80, 1500);
    const extra = population(600, rng);
    const forcedRows = Array.from(extra.y.keys()).filter((i) => extra.y[i] === 1).slice(0, 12);
    const d = lab.x.cols;
    const data = new Float32Array((lab.x.rows + forcedRows.length) * d);
    data.set(lab.x.data);
    forcedRows.forEach((r, j) => data.set(extra.x.data.subarray(r * d, r * d + d), (lab.x.rows + j) * d));
    const x = { data, rows: lab.x.rows + forcedRows.length, cols: d };
    const y = Int32Array.from([...lab.y, ...forcedRows.map(() => 1)]);
    const model = trainLogisticHead(x, y, 2, FAST, createRng(1));
    const weights = Float64Array.from(y, (_, i) => (i < lab.x.rows ? 1 : 0));
    const plain = estimateRemainingFromLogistic(model, pool.x, [1], 0, 10, createRng(2));
    const weighted = estimateRemainingFromLogistic(model, pool.x, [1], 0, 10, createRng(2), { calibrationWeights: weights });
    expect(Math.abs(weighted.estimate - truth)).toBeLessThan(Math.abs(plain.estimate - truth));
    expect(plain.estimate).toBeGreaterThan(truth);
  });

  it("rejects bad input with a named error", () => {
    const { lab, pool } = labelledAndPool(9, 40, 20);
    const model = trainLogisticHead(lab.x, lab.y, 2, FAST, createRng(1));
    expect(() => calibratedMinorityPasses(model, pool.x, [1], 1, createRng(1))).toThrow(/calibration members/);
    expect(() => calibratedMinorityPasses(model, { data: new Float32Array(6), rows: 2, cols: 3 }, [1], 4, createRng(1))).toThrow(/3 columns/);
    expect(() => calibratedMinorityPasses(model, pool.x, [0, 1], 4, createRng(1))).toThrow(/every class is minority/);
    expect(() => calibratedMinorityPasses(model, pool.x, [1], 4, createRng(1), { calibrationWeights: [1] })).toThrow(/1 calibration weights for 40/);
  });
});
