import { describe, expect, it } from "vitest";
import { baldTopBStrategy } from "./bald-top-b";
import { maxEntropyStrategy } from "./max-entropy";
import { errorCode, mcFromProbs, selectionInput } from "./test-fixtures";

/**
 * Four cases, two passes, two classes:
 *   0: confident, agreeing            → H ≈ 0,   MI ≈ 0
 *   1: 50/50 in every pass            → H = ln 2, MI = 0     (ambiguous, not model uncertainty)
 *   2: passes disagree confidently    → H = ln 2, MI ≈ 0.64  (the model does not know)
 *   3: mildly uncertain, agreeing     → H ≈ 0.5, MI = 0
 */
const mc = mcFromProbs([
  [[0.99, 0.01], [0.99, 0.01]],
  [[0.5, 0.5], [0.5, 0.5]],
  [[0.99, 0.01], [0.01, 0.99]],
  [[0.8, 0.2], [0.8, 0.2]],
]);

describe("max-entropy", () => {
  it("ranks by predictive entropy of the mean prediction", () => {
    const r = maxEntropyStrategy.select(selectionInput({ poolSize: 4, budget: 3, mc }));
    // Cases 1 and 2 tie at ln 2 (up to float32 rounding); either order is a valid top-2, then case 3.
    expect(new Set(Array.from(r.selected.subarray(0, 2)))).toEqual(new Set([1, 2]));
    expect(r.selected[2]).toBe(3);
    expect(r.features.entropy![0]).toBeCloseTo(Math.log(2), 5);
    expect(r.stats.k).toBe(2);
    expect(maxEntropyStrategy.needsModel).toBe(true);
  });

  it("picks the single most uncertain case", () => {
    const mc2 = mcFromProbs([[[0.9, 0.1], [0.9, 0.1]], [[0.6, 0.4], [0.6, 0.4]], [[0.7, 0.3], [0.7, 0.3]]]);
    expect(Array.from(maxEntropyStrategy.select(selectionInput({ poolSize: 3, budget: 1, mc: mc2 })).selected)).toEqual([1]);
  });
});

describe("BALD top-B", () => {
  it("prefers disagreement between passes over consistent ambiguity", () => {
    const r = baldTopBStrategy.select(selectionInput({ poolSize: 4, budget: 1, mc }));
    expect(Array.from(r.selected)).toEqual([2]);
    expect(r.features.mutualInformation![0]).toBeGreaterThan(0.5);
    expect(r.features.pseudoLabel).toHaveLength(1);
    expect(r.stats.selectedPseudoMinorityShare).toBe(0);
  });

  it("reports pseudo-prior and minority probability against the minority classes", () => {
    const r = baldTopBStrategy.select(selectionInput({ poolSize: 4, budget: 4, mc, minorityClasses: [1] }));
    // Pseudo-labels: 0, 0 (tie → lower index), 0 (mean 0.5/0.5 → 0), 0 → no pseudo-positives.
    expect(r.stats.pseudoPrior).toBe(0);
    expect(r.features.minorityProb![0]).toBeCloseTo(0.5, 5);
    expect(r.selected).toHaveLength(4);
  });
});

describe("model-driven strategies reject bad input", () => {
  it.each([maxEntropyStrategy, baldTopBStrategy])("$name", (s) => {
    expect(errorCode(() => s.select(selectionInput({ poolSize: 4, budget: 1, mc: null })))).toBe("invalid-argument");
    expect(errorCode(() => s.select(selectionInput({ poolSize: 5, budget: 1, mc })))).toBe("dimension-mismatch");
    expect(errorCode(() => s.select(selectionInput({ poolSize: 4, budget: 1, mc, minorityClasses: [2] })))).toBe("unknown-minority-label");
    const oneK = mcFromProbs([[[0.5, 0.5]], [[0.5, 0.5]]]);
    expect(errorCode(() => s.select(selectionInput({ poolSize: 2, budget: 1, mc: oneK })))).toBe("k-too-small");
    expect(s.select(selectionInput({ poolSize: 4, budget: 9, mc })).selected).toHaveLength(4);
  });
});
