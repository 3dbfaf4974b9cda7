import { describe, expect, it } from "vitest";
import { logisticHeadOps, runSimulation, type SimulationInput } from "./simulation";
import { createRng } from "./rng";
import type { LogisticModel } from "./heads/logistic";
import { getBaselineStrategy } from "./strategies/registry";
import type { Matrix } from "./types";

/** x ~ N(0, I₄), P(minority | x) = σ(2·x₀ − 3.5) (≈ 8 % minority): a population the logistic head models exactly. */
function population(n: number, seed: number): { x: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const d = 4;
  const data = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = rng.normal();
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * data[i * d]! - 3.5))) ? 1 : 0;
  }
  return { x: { data, rows: n, cols: d }, y };
}

describe("runSimulation: the stopping check against the truth", () => {
  it("reports the remaining-minority estimate beside the true count, covers it in >= 80 % of rounds, and keeps forced seed cases out of the calibration", () => {
    const { x, y } = population(1000, 5);
    const testIndices = Int32Array.from({ length: 250 }, (_, i) => i * 4);
    const weightsSeen: Float64Array[] = [];
    const base = logisticHeadOps({ cGrid: [1, 10], cvFolds: 3 });
    const input: SimulationInput<LogisticModel> = {
      embeddings: x,
      labels: y,
      numClasses: 2,
      minorityClasses: [1],
      testIndices,
      seedSet: { kind: "random", size: 30, minMinority: 2 },
      strategies: [
        { label: "random", strategy: getBaselineStrategy("random") },
        { label: "entropy", strategy: getBaselineStrategy("max-entropy") },
      ],
      budgets: [10],
      rounds: 3,
      seeds: [1, 2, 3, 4],
      head: {
        ...base,
        remainingMinority: (m, px, minority, found, k, rng, w) => {
          weightsSeen.push(w);
          return base.remainingMinority!(m, px, minority, found, k, rng, w);
        },
      },
      headConfig: {},
      mcPasses: 6,
    };
    const result = runSimulation(input);
    const inTest = new Set(testIndices);
    let trainMinority = 0;
    y.forEach((v, i) => (trainMinority += !inTest.has(i) && v === 1 ? 1 : 0));
    let rounds = 0;
    let covered = 0;
    for (const run of result.runs) {
      for (const p of run.curve) {
        const e = p.remainingMinority!;
        expect(e).toBeDefined();
        // The truth is every training-split minority case not yet labelled.
        expect(e.truth).toBe(trainMinority - p.labelledMinority);
        expect(e.trueRecall).toBeCloseTo(p.labelledMinority / trainMinority, 12);
        expect(e.lo).toBeLessThanOrEqual(e.estimate);
        expect(e.estimate).toBeLessThanOrEqual(e.hi);
        rounds++;
        if (e.truth >= e.lo && e.truth <= e.hi) covered++;
      }
    }
    expect(rounds).toBe(4 * 2 * 4);
    expect(covered / rounds).toBeGreaterThanOrEqual(0.8);
    // Two forced minority cases lead every seed set: weight 0, everything else weight 1.
    for (const w of weightsSeen) {
      expect(Array.from(w.subarray(0, 2))).toEqual([0, 0]);
      expect(Array.from(w.subarray(2)).every((v) => v === 1)).toBe(true);
    }
  });
});
