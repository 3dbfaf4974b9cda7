import { describe, expect, it } from "vitest";
import {
  addRowVector,
  argmax,
  argmaxRows,
  gatherRows,
  gemmNT,
  logSoftmaxRows,
  reluInPlace,
  softmaxRows,
  squaredDistance,
  sumRows,
  transpose,
} from "./linalg";
import { createRng } from "./rng";

function randomArray(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe("gemmNT", () => {
  // Sizes straddle the 4×4 blocking so the main block and both remainder loops are exercised.
  it.each([
    [1, 1, 1],
    [4, 4, 8],
    [7, 6, 5],
    [9, 3, 13],
    [3, 9, 2],
  ])("matches a naive A·Bᵀ for m=%i n=%i k=%i, reading A from an offset", (m, n, k) => {
    const offset = 3 * k;
    const a = randomArray(offset + m * k, m * 100 + n);
    const b = randomArray(n * k, k);
    const out = new Float32Array(m * n).fill(99);
    gemmNT(m, n, k, a, offset, b, out);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a[offset + i * k + t]! * b[j * k + t]!;
        expect(out[i * n + j]).toBeCloseTo(s, 4);
      }
    }
  });
});

describe("row helpers", () => {
  it("transposes with an offset", () => {
    const src = Float32Array.of(9, 9, 1, 2, 3, 4, 5, 6);
    expect(Array.from(transpose(src, 2, 3, undefined, 2))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it("adds a bias row, sums rows and applies ReLU", () => {
    const x = Float32Array.of(1, -2, 3, -4);
    addRowVector(x, 2, 2, Float32Array.of(10, 1));
    expect(Array.from(x)).toEqual([11, -1, 13, -3]);
    const s = new Float32Array(2);
    sumRows(x, 2, 2, s);
    expect(Array.from(s)).toEqual([24, -4]);
    reluInPlace(x, 4);
    expect(Array.from(x)).toEqual([11, 0, 13, 0]);
  });

  it("softmax and log-softmax agree, sum to one and survive huge logits", () => {
    const logits = Float32Array.of(1000, 1001, 1002, 0, Math.log(3), 0);
    const p = new Float32Array(6);
    const lp = new Float32Array(6);
    softmaxRows(logits, 2, 3, p);
    logSoftmaxRows(logits, 2, 3, lp);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
    // exp(0)/(exp(0)+3+exp(0)) = 1/5 by hand.
    expect(p[3]).toBeCloseTo(0.2, 6);
    expect(p[4]).toBeCloseTo(0.6, 6);
    for (let i = 0; i < 6; i++) expect(Math.exp(lp[i]!)).toBeCloseTo(p[i]!, 6);
    expect(Number.isFinite(lp[0]!)).toBe(true);
  });

  it("argmax takes the lowest index on ties", () => {
    expect(argmax([1, 3, 3, 2], 0, 4)).toBe(1);
    expect(Array.from(argmaxRows(Float32Array.of(0, 1, 5, 5), 2, 2))).toEqual([1, 0]);
  });

  it("computes squared distances for odd lengths", () => {
    const a = Float32Array.of(0, 1, 2, 3, 4);
    const b = Float32Array.of(7, 1, 0, 0, 0, 0);
    // (1-0)²+(2-0)²+(3-0)²+(4-0)² = 30 with b read from offset 1 → b = [1,0,0,0,0]; first term (0-1)² = 1.
    expect(squaredDistance(a, 0, b, 1, 5)).toBe(1 + 1 + 4 + 9 + 16);
  });

  it("gathers rows by index", () => {
    const src = Float32Array.of(0, 0, 1, 1, 2, 2, 3, 3);
    const dst = new Float32Array(4);
    gatherRows(src, 2, Int32Array.of(3, 1, 2), 1, 2, dst);
    expect(Array.from(dst)).toEqual([1, 1, 2, 2]);
  });
});
