import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { orthonormalizeColumns, randomizedSvd, symmetricEigen } from "./svd";
import type { CsrMatrix } from "./tfidf";

function toCsr(dense: number[][]): CsrMatrix {
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const row of dense) {
    row.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    });
    indptr.push(indices.length);
  }
  return { rows: dense.length, cols: dense[0]!.length, indptr: Int32Array.from(indptr), indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

describe("symmetricEigen", () => {
  it("decomposes a 2×2 matrix by hand: [[2,1],[1,2]] has eigenvalues 3 and 1", () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    // First eigenvector ∝ (1, 1)/√2 (up to sign).
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0]! * vectors[2]!).toBeGreaterThan(0);
  });

  it("reconstructs a random symmetric matrix as V Λ Vᵀ", () => {
    const rng = createRng(3);
    const m = 6;
    const s = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) s[i * m + j] = s[j * m + i] = rng.normal();
    const { values, vectors } = symmetricEigen(s, m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let v = 0;
        for (let k = 0; k < m; k++) v += vectors[i * m + k]! * values[k]! * vectors[j * m + k]!;
        expect(v).toBeCloseTo(s[i * m + j]!, 10);
      }
    }
    for (let k = 1; k < m; k++) expect(values[k - 1]!).toBeGreaterThanOrEqual(values[k]!);
  });
});

describe("orthonormalizeColumns", () => {
  it("returns orthonormal columns spanning the input's columns", () => {
    const rng = createRng(5);
    const n = 40, l = 5;
    const y = new Float64Array(n * l);
    for (let i = 0; i < y.length; i++) y[i] = rng.normal();
    const orig = Float64Array.from(y);
    orthonormalizeColumns(y, n, l);
    for (let a = 0; a < l; a++) {
      for (let b = 0; b < l; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += y[i * l + a]! * y[i * l + b]!;
        expect(s).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
    // Column 0 of the input is a multiple of output column 0 (Cholesky QR keeps the first direction).
    let dot = 0, nn = 0;
    for (let i = 0; i < n; i++) {
      dot += orig[i * l]! * y[i * l]!;
      nn += orig[i * l]! * orig[i * l]!;
    }
    expect(Math.abs(dot)).toBeCloseTo(Math.sqrt(nn), 8);
  });
});

describe("randomizedSvd", () => {
  // Rank-3 matrix with singular values 5, 3, 1 on orthogonal supports, plus zeros.
  const dense = [
    [5, 0, 0, 0, 0],
    [0, 3, 0, 0, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0],
  ];

  it("recovers known singular values and right singular vectors (sign fixed positive)", () => {
    const svd = randomizedSvd(toCsr(dense), 3, createRng(1), { oversample: 1 });
    expect(Array.from(svd.singularValues).map((v) => Number(v.toFixed(8)))).toEqual([5, 3, 1]);
    // Component 0 = e0, 1 = e1, 2 = e3 (columns of the [cols, k] matrix).
    expect(svd.components[0 * 3 + 0]).toBeCloseTo(1, 8);
    expect(svd.components[1 * 3 + 1]).toBeCloseTo(1, 8);
    expect(svd.components[3 * 3 + 2]).toBeCloseTo(1, 8);
  });

  it("matches the exact top singular values of a random sparse matrix", () => {
    const rng = createRng(11);
    const rows = 30, cols = 20;
    const m: number[][] = [];
    for (let i = 0; i < rows; i++) m.push(Array.from({ length: cols }, () => (rng.next() < 0.3 ? rng.normal() : 0)));
    // Exact: eigenvalues of AᵀA.
    const ata = new Float64Array(cols * cols);
    for (const row of m) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) ata[a * cols + b] = ata[a * cols + b]! + row[a]! * row[b]!;
    const exact = symmetricEigen(ata, cols).values.map(Math.sqrt);
    const svd = randomizedSvd(toCsr(m), 4, createRng(2));
    for (let k = 0; k < 4; k++) expect(svd.singularValues[k]!).toBeCloseTo(exact[k]!, 3);
  });

  it("is deterministic under a seed", () => {
    const a = randomizedSvd(toCsr(dense), 2, createRng(9));
    const b = randomizedSvd(toCsr(dense), 2, createRng(9));
    expect(Array.from(a.components)).toEqual(Array.from(b.components));
  });

  it("rejects k above min(rows, cols)", () => {
    expect(() => randomizedSvd(toCsr(dense), 5, createRng(1))).toThrow(/exceeds/);
  });
});
