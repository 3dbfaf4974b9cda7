import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import type { McLogProbs, SelectionInput } from "../types";
import { MlInputError } from "../validate";
import { baldFeatures } from "../bald";
import { priorAwareWeights, pseudoPrior, resolveTargetMix } from "./prior";
import { caseUtility } from "./utility";
import { radsStrategy, selectWithRads, type RadsOptions } from "./rads-strategy";
import { plantedPool, syntheticPool } from "./test-pools";

/** Narrow layers keep tests fast; every other constant is the paper's unless a test says otherwise. */
const fast: RadsOptions = { agent: { sharedHidden: 32, headHidden: 32 } };

function input(mc: McLogProbs | null, budget: number, seed = 1, minorityClasses = [1], poolSize = mc?.n ?? 0): SelectionInput {
  return { poolSize, budget, mc, embeddings: null, labelledEmbeddings: null, minorityClasses, rng: createRng(seed) };
}

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof MlInputError ? e.code : `not an MlInputError: ${String(e)}`;
  }
  return "no error";
}

describe("selectWithRads", () => {
  it("is deterministic under a seed (queue and stats)", () => {
    const mc = syntheticPool(300, 5, 3, 0.1);
    const options: RadsOptions = { ...fast, agent: { ...fast.agent, episodes: 40 } };
    const a = selectWithRads(input(mc, 4, 7), options);
    const b = selectWithRads(input(mc, 4, 7), options);
    const c = selectWithRads(input(mc, 4, 8), options);
    expect(Array.from(a.selected)).toEqual(Array.from(b.selected));
    expect(a.stats).toEqual(b.stats);
    expect(a.stats.returnCurve).not.toEqual(c.stats.returnCurve);
  });

  it("exact and scaled modes agree on a pool whose best cases are planted", () => {
    const planted = [4, 17];
    const mc = plantedPool(30, planted);
    let agreeing = 0;
    for (const seed of [1, 2, 3]) {
      const exact = selectWithRads(input(mc, 2, seed), { ...fast, mode: "exact" });
      const scaled = selectWithRads(input(mc, 2, seed), { ...fast, mode: "scaled", candidateLimit: 15 });
      expect(exact.stats.mode).toBe("exact");
      expect(scaled.stats.mode).toBe("scaled");
      expect(scaled.stats.candidates).toBe(15);
      const e = Array.from(exact.selected).sort((x, y) => x - y);
      const s = Array.from(scaled.selected).sort((x, y) => x - y);
      if (JSON.stringify(e) === JSON.stringify(planted) && JSON.stringify(s) === JSON.stringify(planted)) {
        expect(exact.stats.toppedUp).toBe(0);
        expect(scaled.stats.toppedUp).toBe(0);
        agreeing += 1;
      }
    }
    // RL training is noisy at 300 episodes; agreement on the planted answer in most seeds is the claim.
    expect(agreeing).toBeGreaterThanOrEqual(2);
  });

  it("switches to scaled mode above exactPoolLimit, pre-filters candidates and returns a complete queue", () => {
    const mc = syntheticPool(2500, 4, 5, 0.05);
    const r = selectWithRads(input(mc, 5, 2), { ...fast, agent: { ...fast.agent, episodes: 30 }, candidateLimit: 200 });
    const s = r.stats;
    expect(s.mode).toBe("scaled");
    expect(s.candidates).toBe(200);
    expect(s.subPoolSize).toBe(200); // max(20·B, 500) capped at the candidates
    expect(s.updatesPerEpisode).toBe(10);
    expect(s.gradientSteps as number).toBeLessThanOrEqual(300);
    expect(r.selected.length).toBe(5);
    expect(new Set(r.selected).size).toBe(5);
    // The policy only walks the 200 best-utility cases; anything else could only come from a top-up.
    const bald = baldFeatures(mc);
    const weights = priorAwareWeights(pseudoPrior(bald.pseudoLabel, 2), [1], resolveTargetMix(2, [1], 0.9));
    const utility = caseUtility(bald.mutualInformation, bald.pseudoLabel, weights);
    const cutoff = Array.from(utility).sort((x, y) => y - x)[199]!;
    const byPolicy = Array.from(r.features.byPolicy!);
    r.selected.forEach((i, j) => {
      expect(r.features.utility![j]).toBe(utility[i]);
      if (byPolicy[j] === 1) expect(utility[i]!).toBeGreaterThanOrEqual(cutoff);
    });
    expect(byPolicy.filter((v) => v === 0).length).toBe(s.toppedUp);
    expect(s.episodes).toBe(30);
    expect((s.returnCurve as number[]).length).toBe(30);
  });

  it("lets an explicit agent.maxUpdatesPerEpisode (null = every env step) override the scaled cap", () => {
    const options: RadsOptions = { ...fast, mode: "scaled", scaledUpdatesPerEpisode: 1 };
    const capped = selectWithRads(input(plantedPool(30, [3, 9, 20]), 3), { ...options, agent: { ...fast.agent, episodes: 60 } });
    expect(capped.stats.updatesPerEpisode).toBe(1);
    expect(capped.stats.gradientSteps as number).toBeLessThanOrEqual(60);
    const paper = selectWithRads(input(plantedPool(30, [3, 9, 20]), 3), { ...options, agent: { ...fast.agent, episodes: 60, maxUpdatesPerEpisode: null } });
    expect(paper.stats.updatesPerEpisode).toBeNull();
    expect(paper.stats.envSteps as number).toBeGreaterThan(130);
    expect(paper.stats.gradientSteps).toBe((paper.stats.envSteps as number) - 63);
  });

  it("reports what a data scientist needs, JSON-safe", () => {
    const mc = plantedPool(20, [2, 9, 15]);
    const r = selectWithRads(input(mc, 3, 1), { ...fast, agent: { ...fast.agent, episodes: 20 } });
    const s = r.stats;
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.prior).toEqual([17 / 20, 3 / 20]);
    expect(s.rho).toEqual([0, 0.9]);
    expect((s.classWeights as number[])[1]).toBeCloseTo(0.9 / 0.15, 12);
    expect(s).toMatchObject({ lambda: 0.01, budget: 3, k: 4, episodes: 20, mode: "exact", minorityClasses: [1] });
    expect(Number.isFinite(s.bestMovingAverage)).toBe(true);
    for (const key of ["bald", "entropy", "expectedEntropy", "utility", "classWeight", "pseudoLabel", "byPolicy"]) {
      expect(r.features[key]!.length).toBe(3);
    }
    r.selected.forEach((i, j) => expect(r.features.pseudoLabel![j]).toBe(i === 2 || i === 9 || i === 15 ? 1 : 0));
  });

  it("handles several classes with a minority target mix", () => {
    const n = 40, k = 3, c = 3;
    const data = new Float32Array(n * k * c);
    for (let i = 0; i < n; i++) {
      for (let kk = 0; kk < k; kk++) {
        const p = i % 10 === 0 ? (kk % 2 ? [0.2, 0.1, 0.7] : [0.3, 0.5, 0.2]) : [0.8, 0.15, 0.05];
        p.forEach((v, cc) => (data[(i * k + kk) * c + cc] = Math.log(v)));
      }
    }
    const r = selectWithRads(input({ data, n, k, c }, 2, 1, [1, 2]), { ...fast, agent: { ...fast.agent, episodes: 10 }, rho: [0.5, 0.3] });
    expect(r.stats.rho).toEqual([0, 0.5, 0.3]);
    expect(r.selected.length).toBe(2);
  });

  it("returns an empty queue for a zero budget", () => {
    const r = selectWithRads(input(plantedPool(5, [1]), 0), fast);
    expect(r.selected.length).toBe(0);
    expect(r.stats.toppedUp).toBe(0);
  });

  it("gives a clear MlInputError for each bad input, before any training", () => {
    const good = plantedPool(6, [1]);
    const k1: McLogProbs = { data: good.data.slice(0, 6 * 2), n: 6, k: 1, c: 2 };
    const nan: McLogProbs = { ...good, data: Float32Array.from(good.data) };
    nan.data[5] = NaN;
    const oneClass: McLogProbs = { data: new Float32Array(6 * 4), n: 6, k: 4, c: 1 };
    expect(errorCode(() => selectWithRads(input(k1, 2), fast))).toBe("k-too-small");
    expect(errorCode(() => selectWithRads(input(good, 7), fast))).toBe("budget-exceeds-pool");
    expect(errorCode(() => selectWithRads(input(nan, 2), fast))).toBe("non-finite");
    expect(errorCode(() => selectWithRads(input(good, 2, 1, [2]), fast))).toBe("unknown-minority-label");
    expect(errorCode(() => selectWithRads(input(oneClass, 2), fast))).toBe("single-class");
    expect(errorCode(() => selectWithRads(input(null, 2, 1, [1], 6), fast))).toBe("invalid-argument");
    expect(errorCode(() => selectWithRads(input(good, 2, 1, [1], 7), fast))).toBe("dimension-mismatch");
    expect(errorCode(() => selectWithRads(input(good, 2), { ...fast, lambda: -1 }))).toBe("invalid-argument");
  });

  it("can clamp an oversized budget to the pool instead", () => {
    const r = selectWithRads(input(plantedPool(4, [1]), 9), { ...fast, agent: { ...fast.agent, episodes: 2 }, budgetOverflow: "clamp" });
    expect(Array.from(r.selected).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe("radsStrategy", () => {
  it("is a SelectionStrategy that needs a model and validates its options up front", () => {
    const s = radsStrategy({ ...fast, agent: { ...fast.agent, episodes: 5 } });
    expect(s.name).toBe("rads");
    expect(s.needsModel).toBe(true);
    expect(s.select(input(plantedPool(8, [3]), 1)).selected.length).toBe(1);
    expect(() => radsStrategy({ agent: { episodes: -3 } })).toThrow(MlInputError);
    expect(() => radsStrategy({ mode: "fast" as never })).toThrow(/mode/);
    // An explicit undefined is "not given", not a value that breaks the defaults.
    expect(() => radsStrategy({ lambda: undefined, agent: { episodes: undefined } })).not.toThrow();
  });
});
