import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { kCenterStrategy } from "./k-center";
import { errorCode, matrix, selectionInput } from "./test-fixtures";

// Pool on a line at x = 0..10.
const line = matrix(Array.from({ length: 11 }, (_, i) => [i, 0]));

describe("k-center greedy", () => {
  it("picks the farthest points from the labelled set, then splits the gaps", () => {
    const r = kCenterStrategy.select(selectionInput({ poolSize: 11, budget: 3, embeddings: line, labelledEmbeddings: matrix([[0, 0]]) }));
    // Farthest from 0 is 10; then 5 (5 away from both); then 2, 3, 7 and 8 all lie 2 away from a centre and the
    // lowest index wins.
    expect(Array.from(r.selected)).toEqual([10, 5, 2]);
    expect(Array.from(r.features.distanceToNearest!)).toEqual([10, 5, 2]);
    expect(r.stats.coverageRadiusBefore).toBe(10);
    expect(r.stats.coverageRadiusAfter).toBe(2);
    expect(kCenterStrategy.needsModel).toBe(false);
  });

  it("works without a labelled set: random first pick, then the farthest case", () => {
    const r = kCenterStrategy.select(selectionInput({ poolSize: 11, budget: 2, embeddings: line, rng: createRng(4) }));
    const first = r.selected[0]!;
    expect(r.selected[1]).toBe(first <= 5 ? 10 : 0);
    expect(Number.isNaN(r.features.distanceToNearest![0]!)).toBe(true);
    expect(r.stats.coverageRadiusBefore).toBeNull();
  });

  it("finds a far outlier cluster before points near the labelled data", () => {
    const rng = createRng(9);
    const rows: number[][] = [];
    for (let i = 0; i < 200; i++) rows.push([rng.normal(), rng.normal(), rng.normal()]);
    rows.push([40, 40, 40]);
    const r = kCenterStrategy.select(selectionInput({ poolSize: 201, budget: 1, embeddings: matrix(rows), labelledEmbeddings: matrix([[0, 0, 0]]) }));
    expect(Array.from(r.selected)).toEqual([200]);
  });

  it("returns distinct cases even when the pool is all duplicates, and clamps the budget", () => {
    const dup = matrix([[1, 1], [1, 1], [1, 1]]);
    const r = kCenterStrategy.select(selectionInput({ poolSize: 3, budget: 5, embeddings: dup }));
    expect(new Set(r.selected).size).toBe(3);
  });

  it("rejects missing, mismatched and non-finite embeddings", () => {
    expect(errorCode(() => kCenterStrategy.select(selectionInput({ poolSize: 11, budget: 1 })))).toBe("invalid-argument");
    expect(errorCode(() => kCenterStrategy.select(selectionInput({ poolSize: 12, budget: 1, embeddings: line })))).toBe("dimension-mismatch");
    expect(errorCode(() => kCenterStrategy.select(selectionInput({ poolSize: 11, budget: 1, embeddings: line, labelledEmbeddings: matrix([[0, 0, 0]]) })))).toBe("dimension-mismatch");
    const bad = matrix([[0, 0], [1, Infinity]]);
    expect(() => kCenterStrategy.select(selectionInput({ poolSize: 2, budget: 1, embeddings: bad }))).toThrow(/row 1, column 1/);
  });
});
