import { describe, expect, it } from "vitest";
import { setWasmKernelsEnabled, wasmKernelsEnabled } from "../linalg";
import { createRng, type Rng } from "../rng";
import type { Matrix } from "../types";
import { embeddingStateFeatures, embeddingStateFeaturesReference, type EmbeddingFeatureOptions } from "./embedding-features";

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

describe("embeddingStateFeatures (blocked float32 products) against the scalar float64 reference", () => {
  const gaussian = (rows: number, cols: number, rng: Rng): Matrix => ({ data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols });
  // Tolerance. Both compute cosines of unit rows; the new one rounds the unit rows to float32 (relative error
  // ≤ 2⁻²⁴ per entry) and, in the wasm kernel, accumulates the d products in float32. For unit rows
  // Σ|a_k·b_k| ≤ 1 (Cauchy–Schwarz), so the error of one cosine is at most about (d + 2)·2⁻²⁴ (≈ 6e-6 at d = 100,
  // 2.4e-5 at d = 384, worst case; typically √d times smaller). The features are 1 − max, 1 − max and the mean of
  // the k largest, each 1-Lipschitz in the largest error of the cosines (a max, or a top-k sum over k, moves by
  // no more than the largest change of its inputs even when the arg-max or the top-k set changes), so the same
  // bound holds for the features; we allow (d + 2)·2⁻²³ (twice the bound).
  const tolerance = (d: number): number => (d + 2) * 2 ** -23;
  const keys = ["distanceToMinority", "distanceToLabelled", "density"] as const;

  function compare(pool: Matrix, labelled: Matrix | null, labels: Int32Array | null, minority: number[], seed: number, options: EmbeddingFeatureOptions = {}): number {
    const fast = embeddingStateFeatures(pool, labelled, labels, minority, createRng(seed), options);
    const ref = embeddingStateFeaturesReference(pool, labelled, labels, minority, createRng(seed), options);
    expect(fast.labelledMinority).toBe(ref.labelledMinority);
    expect(fast.referenceSize).toBe(ref.referenceSize);
    let worst = 0;
    for (const key of keys) {
      expect(fast[key].length).toBe(ref[key].length);
      for (let i = 0; i < pool.rows; i++) {
        const a = fast[key][i]!;
        const b = ref[key][i]!;
        if (Number.isNaN(b)) {
          expect(a).toBeNaN();
          continue;
        }
        const diff = Math.abs(a - b);
        worst = Math.max(worst, diff);
        if (!(diff <= tolerance(pool.cols))) expect.fail(`${key}[${i}]: ${a} vs reference ${b} (|diff| ${diff} > ${tolerance(pool.cols)})`);
      }
    }
    return worst;
  }

  const shapes: [string, number, number, number, number][] = [
    // name, pool N, labelled L, d, referenceLimit
    ["pool below the reference limit", 300, 40, 16, 2000],
    ["sampled reference set, more rows than a block", 700, 90, 100, 150],
    ["wide embeddings, blocks of uneven size", 513, 17, 384, 400],
    ["tiny widths", 50, 5, 1, 20],
  ];
  it.each(shapes)("%s (N=%i, L=%i, d=%i, reference limit %i)", (_name, n, l, d, referenceLimit) => {
    const rng = createRng(n + d);
    const pool = gaussian(n, d, rng);
    const labelled = gaussian(l, d, rng);
    const labels = Int32Array.from({ length: l }, () => rng.int(3));
    const worst = compare(pool, labelled, labels, [1, 2], 11, { neighbours: 7, referenceLimit });
    // The new implementation is not the reference itself: at d ≥ 16 float32 rounding shows somewhere.
    if (d >= 16) expect(worst).toBeGreaterThan(0);
  });

  it("no labelled minority case, an empty labelled set, and no labelled set at all", () => {
    const rng = createRng(21);
    const pool = gaussian(120, 24, rng);
    const labelled = gaussian(15, 24, rng);
    compare(pool, labelled, new Int32Array(15), [1], 3, { neighbours: 5 });
    compare(pool, { data: new Float32Array(0), rows: 0, cols: 24 }, new Int32Array(0), [1], 3, { neighbours: 5 });
    compare(pool, null, null, [1], 3, { neighbours: 5 });
    compare(pool, labelled, null, [1], 3, { neighbours: 5 });
  });

  it("a single pool row (no density neighbour) and a single labelled row", () => {
    const rng = createRng(22);
    const one = gaussian(1, 10, rng);
    compare(one, gaussian(1, 10, rng), Int32Array.from([1]), [1], 4);
    expect(embeddingStateFeatures(one, null, null, [1], createRng(4)).density[0]).toBe(0);
  });

  it("duplicate rows, zero rows and more neighbours than the reference set", () => {
    const rng = createRng(23);
    const base = gaussian(30, 12, rng);
    // Every row twice, plus two zero rows; the labelled set repeats pool rows too.
    const data = new Float32Array(62 * 12);
    data.set(base.data, 0);
    data.set(base.data, 30 * 12);
    const pool = { data, rows: 62, cols: 12 };
    const labelled = { data: Float32Array.from([...base.data.subarray(0, 5 * 12), ...base.data.subarray(0, 12)]), rows: 6, cols: 12 };
    compare(pool, labelled, Int32Array.from([1, 0, 0, 1, 0, 1]), [1], 5, { neighbours: 3 });
    compare(pool, labelled, Int32Array.from([1, 0, 0, 1, 0, 1]), [1], 5, { neighbours: 100 });
    const f = embeddingStateFeatures(pool, labelled, Int32Array.from([1, 0, 0, 1, 0, 1]), [1], createRng(5), { neighbours: 1 });
    // A duplicated case is its twin's nearest neighbour (cosine 1, up to rounding) and at distance ~0 from itself in the labelled set.
    expect(f.density[0]).toBeCloseTo(1, 5);
    expect(f.distanceToMinority[0]).toBeCloseTo(0, 5);
  });

  it("rows (a shortlist, repeats and any order) with the sampled reference set", () => {
    const rng = createRng(24);
    const pool = gaussian(900, 32, rng);
    const labelled = gaussian(60, 32, rng);
    const labels = Int32Array.from({ length: 60 }, () => rng.int(2));
    const rows = Int32Array.from({ length: 300 }, () => rng.int(900));
    compare(pool, labelled, labels, [1], 6, { neighbours: 10, referenceLimit: 200, rows });
  });

  it("the JS kernels (no WebAssembly) agree with the reference as well", () => {
    const previous = wasmKernelsEnabled();
    setWasmKernelsEnabled(false);
    try {
      const rng = createRng(25);
      compare(gaussian(400, 48, rng), gaussian(30, 48, rng), Int32Array.from({ length: 30 }, (_, j) => j % 4), [1], 7, { neighbours: 6, referenceLimit: 100 });
    } finally {
      setWasmKernelsEnabled(previous);
    }
  });
});
