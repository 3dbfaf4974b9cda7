import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import type { Matrix } from "../types";
import { embeddingStateFeatures } from "./embedding-features";

const m = (rows: number[][]): Matrix => ({ data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0]!.length });

describe("embeddingStateFeatures (hand-computed)", () => {
  // Pool: four 2-d points; labelled: (1,0) minority and (0,1) rest.
  const pool = m([[2, 0], [1, 1], [0, 3], [-1, 0]]);
  const labelled = m([[1, 0], [0, 1]]);
  const labels = Int32Array.from([1, 0]);

  it("distance to the nearest labelled minority case and to the nearest labelled case (1 − cosine)", () => {
    const f = embeddingStateFeatures(pool, labelled, labels, [1], createRng(1), { neighbours: 1 });
    const s = Math.SQRT1_2;
    // cos to (1,0): 1, 1/√2, 0, −1 → distances 0, 1 − 1/√2, 1, 2.
    [0, 1 - s, 1, 2].forEach((v, i) => expect(f.distanceToMinority[i]).toBeCloseTo(v, 6));
    // Nearest of (1,0) and (0,1): cos max = 1, 1/√2, 1, 0 → 0, 1 − 1/√2, 0, 1.
    [0, 1 - s, 0, 1].forEach((v, i) => expect(f.distanceToLabelled[i]).toBeCloseTo(v, 6));
    expect(f.labelledMinority).toBe(1);
  });

  it("density = mean cosine to the k most similar other pool cases", () => {
    const s = Math.SQRT1_2;
    // Pairwise cosines: (0,1) = 1/√2, (0,2) = 0, (0,3) = −1, (1,2) = 1/√2, (1,3) = −1/√2, (2,3) = 0.
    const k1 = embeddingStateFeatures(pool, null, null, [1], createRng(1), { neighbours: 1 });
    [s, s, s, 0].forEach((v, i) => expect(k1.density[i]).toBeCloseTo(v, 6));
    const k2 = embeddingStateFeatures(pool, null, null, [1], createRng(1), { neighbours: 2 });
    // k = 2: case 1 has two neighbours at 1/√2; case 3 has 0 and −1/√2.
    [s / 2, s, s / 2, -s / 2].forEach((v, i) => expect(k2.density[i]).toBeCloseTo(v, 6));
  });

  it("without labelled cases (or labels) the distances are 1", () => {
    const none = embeddingStateFeatures(pool, null, null, [1], createRng(1));
    expect(Array.from(none.distanceToMinority)).toEqual([1, 1, 1, 1]);
    expect(Array.from(none.distanceToLabelled)).toEqual([1, 1, 1, 1]);
    const unlabelled = embeddingStateFeatures(pool, labelled, null, [1], createRng(1));
    expect(Array.from(unlabelled.distanceToMinority)).toEqual([1, 1, 1, 1]);
    expect(unlabelled.distanceToLabelled[0]).toBeCloseTo(0, 6);
  });

  it("a zero vector has cosine 0 to everything", () => {
    const f = embeddingStateFeatures(m([[0, 0], [1, 0]]), m([[1, 0]]), Int32Array.from([1]), [1], createRng(1), { neighbours: 1 });
    expect(f.distanceToMinority[0]).toBe(1);
    expect(f.distanceToMinority[1]).toBeCloseTo(0, 6);
  });

  it("samples the density reference set above the limit and rejects mismatched inputs", () => {
    const rng = createRng(3);
    const big = { data: Float32Array.from({ length: 50 * 3 }, () => rng.normal()), rows: 50, cols: 3 };
    expect(embeddingStateFeatures(big, null, null, [1], createRng(1), { referenceLimit: 20 }).referenceSize).toBe(20);
    expect(() => embeddingStateFeatures(pool, m([[1, 0, 0]]), null, [1], createRng(1))).toThrow(/columns|cols|width/);
    expect(() => embeddingStateFeatures(pool, labelled, Int32Array.from([1]), [1], createRng(1))).toThrow(/1 labelledLabels for 2/);
  });

  it("rows: only those cases are computed, with the same values as the full computation (sampled reference set too)", () => {
    const rng = createRng(5);
    const big = { data: Float32Array.from({ length: 60 * 4 }, () => rng.normal()), rows: 60, cols: 4 };
    const lab = { data: Float32Array.from({ length: 7 * 4 }, () => rng.normal()), rows: 7, cols: 4 };
    const labs = Int32Array.from([0, 1, 0, 0, 1, 0, 0]);
    for (const referenceLimit of [100, 25]) {
      const full = embeddingStateFeatures(big, lab, labs, [1], createRng(9), { neighbours: 3, referenceLimit });
      const rows = Int32Array.from([41, 3, 17, 3, 59, 0]);
      const part = embeddingStateFeatures(big, lab, labs, [1], createRng(9), { neighbours: 3, referenceLimit, rows });
      expect(part.referenceSize).toBe(full.referenceSize);
      for (let i = 0; i < 60; i++) {
        const wanted = rows.includes(i);
        for (const key of ["distanceToMinority", "distanceToLabelled", "density"] as const) {
          if (wanted) expect(part[key][i]).toBe(full[key][i]);
          else expect(part[key][i]).toBeNaN();
        }
      }
    }
    expect(() => embeddingStateFeatures(big, null, null, [1], createRng(9), { rows: Int32Array.from([60]) })).toThrow(/row 60 is outside the pool of 60/);
  });
});
