import { describe, expect, it } from "vitest";
import { consensusLabel, entropyOf, equalWidthEdges, histogram, isMinorityCase, minorityShare } from "./stats-math";

describe("stats helpers", () => {
  it("bins values on shared edges, last bin closed, outliers clamped", () => {
    expect(equalWidthEdges([0, 1, 2, 4], 4)).toEqual([0, 1, 2, 3, 4]);
    expect(equalWidthEdges([3, 3], 2)).toEqual([2.5, 3, 3.5]);
    expect(histogram([0, 0.5, 1, 3.99, 4, 9, -2, Number.NaN], [0, 1, 2, 3, 4])).toEqual({ edges: [0, 1, 2, 3, 4], counts: [3, 1, 0, 3] });
  });

  it("entropy in nats", () => {
    expect(entropyOf([0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
    expect(entropyOf([1, 0])).toBe(0);
  });

  it("a case is minority when at least half of its annotators' latest labels say so", () => {
    const m = ["rare"];
    expect(isMinorityCase([], m)).toBeNull();
    expect(isMinorityCase([{ authorId: "a", version: 1, labels: ["rare"] }, { authorId: "a", version: 2, labels: ["common"] }], m)).toBe(false);
    expect(isMinorityCase([{ authorId: "a", version: 1, labels: ["common"] }, { authorId: "b", version: 1, labels: ["rare"] }], m)).toBe(true);
    expect(isMinorityCase([{ authorId: "a", version: 1, labels: ["common"] }, { authorId: "b", version: 1, labels: ["rare"] }, { authorId: "c", version: 3, labels: ["common"] }], m)).toBe(false);
  });

  it("consensus label: majority, ties toward the minority, imported label when nobody annotated", () => {
    const order = ["common", "other", "rare"];
    expect(consensusLabel([], "other", order, ["rare"])).toBe("other");
    expect(consensusLabel([{ authorId: "a", version: 1, labels: ["common"] }, { authorId: "b", version: 1, labels: ["rare"] }], null, order, ["rare"])).toBe("rare");
    expect(consensusLabel([{ authorId: "a", version: 1, labels: ["other"] }, { authorId: "b", version: 1, labels: ["other"] }, { authorId: "c", version: 1, labels: ["rare"] }], "rare", order, ["rare"])).toBe("other");
  });

  it("minority share from class-indexed vectors", () => {
    expect(minorityShare([0.7, 0.2, 0.1], [2], ["a", "b", "c"], [])).toBeCloseTo(0.1, 12);
    expect(minorityShare([0.7, 0.2, 0.1], undefined, ["a", "b", "c"], ["b", "c"])).toBeCloseTo(0.3, 12);
    expect(minorityShare(null, [1], ["a", "b"], ["b"])).toBeNull();
  });
});
