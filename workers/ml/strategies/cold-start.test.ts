import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { coldStartStrategy } from "./cold-start";
import { matrix, selectionInput } from "./test-fixtures";

/** Blobs of the given sizes around well-separated centres; returns rows and each row's blob. */
function blobs(sizes: number[], seed: number): { rows: number[][]; blob: number[] } {
  const rng = createRng(seed);
  const rows: number[][] = [];
  const blob: number[] = [];
  sizes.forEach((size, b) => {
    for (let i = 0; i < size; i++) {
      rows.push([b * 20 + 0.5 * rng.normal(), (b % 2) * 20 + 0.5 * rng.normal()]);
      blob.push(b);
    }
  });
  return { rows, blob };
}

describe("cold start", () => {
  it("takes one typical case per stratum, largest stratum first, and flags the round as cold start", () => {
    const { rows, blob } = blobs([40, 10, 25], 1);
    const r = coldStartStrategy.select(selectionInput({ poolSize: rows.length, budget: 3, embeddings: matrix(rows), rng: createRng(2) }));
    expect(r.stats.coldStart).toBe(true);
    expect(Array.from(r.selected, (i) => blob[i])).toEqual([0, 2, 1]);
    expect(Array.from(r.features.clusterSize!)).toEqual([40, 25, 10]);
    // Representatives are central: within ~1 noise radius of their blob centre.
    for (const d of r.features.distanceToCentroid!) expect(d).toBeLessThan(1.5);
  });

  it("is reproducible under a seed and needs no model", () => {
    const { rows } = blobs([30, 30, 30, 30], 3);
    const input = () => selectionInput({ poolSize: rows.length, budget: 4, embeddings: matrix(rows), rng: createRng(8) });
    expect(coldStartStrategy.select(input()).selected).toEqual(coldStartStrategy.select(input()).selected);
    expect(coldStartStrategy.needsModel).toBe(false);
  });

  it("fills the budget with distinct cases even when strata collapse", () => {
    const same = matrix(Array.from({ length: 6 }, () => [3, 3]));
    const r = coldStartStrategy.select(selectionInput({ poolSize: 6, budget: 4, embeddings: same }));
    expect(r.selected).toHaveLength(4);
    expect(new Set(r.selected).size).toBe(4);
  });

  it("falls back to random sampling without embeddings and says so", () => {
    const r = coldStartStrategy.select(selectionInput({ poolSize: 10, budget: 3 }));
    expect(r.selected).toHaveLength(3);
    expect(r.stats.coldStart).toBe(true);
    expect(String(r.stats.method)).toMatch(/random/);
  });

  it("handles budget 0 and budget > pool", () => {
    const { rows } = blobs([5], 4);
    expect(coldStartStrategy.select(selectionInput({ poolSize: 5, budget: 0, embeddings: matrix(rows) })).selected).toHaveLength(0);
    const all = coldStartStrategy.select(selectionInput({ poolSize: 5, budget: 8, embeddings: matrix(rows) }));
    expect(new Set(all.selected).size).toBe(5);
  });
});
