import { describe, expect, it } from "vitest";
import { baldFeatures } from "../bald";
import { marginStrategy } from "./margin";
import { errorCode, mcFromProbs, selectionInput } from "./test-fixtures";
import { topTwoMargin } from "./uncertainty-ranking";

describe("margin baseline", () => {
  // Three classes, two passes each. Mean predictions (hand-computed):
  //   0: [0.50, 0.30, 0.20] → margin 0.20
  //   1: [0.40, 0.38, 0.22] → margin 0.02   (top-2 nearly tied)
  //   2: [0.34, 0.33, 0.33] → margin 0.01   (everything tied)
  //   3: [0.90, 0.05, 0.05] → margin 0.85
  //   4: [0.45, 0.10, 0.45] → margin 0.00 via disagreeing passes: [0.8,0.1,0.1] and [0.1,0.1,0.8]
  const mc = mcFromProbs([
    [[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]],
    [[0.4, 0.38, 0.22], [0.4, 0.38, 0.22]],
    [[0.34, 0.33, 0.33], [0.34, 0.33, 0.33]],
    [[0.9, 0.05, 0.05], [0.9, 0.05, 0.05]],
    [[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]],
  ]);

  it("computes the top-2 gap of the mean prediction", () => {
    const m = topTwoMargin(baldFeatures(mc));
    const expected = [0.2, 0.02, 0.01, 0.85, 0];
    expected.forEach((v, i) => expect(m[i]).toBeCloseTo(v, 5));
  });

  it("selects the smallest margins first and reports them", () => {
    const r = marginStrategy.select(selectionInput({ poolSize: 5, budget: 3, mc }));
    expect(Array.from(r.selected)).toEqual([4, 2, 1]);
    expect(r.features.margin![0]).toBeCloseTo(0, 5);
    expect(r.features.margin![2]).toBeCloseTo(0.02, 5);
    expect(r.stats.strategy).toBe("margin");
    expect(marginStrategy.needsModel).toBe(true);
  });

  it("differs from max-entropy with three classes: the top-2 tie outranks a flatter but clearer-topped case", () => {
    // Case a: [0.48, 0.48, 0.04] (margin 0, H ≈ 0.85); case b: [0.4, 0.3, 0.3] (margin 0.1, H ≈ 1.09).
    const mc2 = mcFromProbs([[[0.4, 0.3, 0.3], [0.4, 0.3, 0.3]], [[0.48, 0.48, 0.04], [0.48, 0.48, 0.04]]]);
    expect(Array.from(marginStrategy.select(selectionInput({ poolSize: 2, budget: 1, mc: mc2 })).selected)).toEqual([1]);
  });

  it("rejects a missing model and clamps the budget to the pool", () => {
    expect(errorCode(() => marginStrategy.select(selectionInput({ poolSize: 5, budget: 1, mc: null })))).toBe("invalid-argument");
    expect(marginStrategy.select(selectionInput({ poolSize: 5, budget: 9, mc })).selected).toHaveLength(5);
  });
});
