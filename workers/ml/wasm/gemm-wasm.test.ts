import { afterEach, describe, expect, it } from "vitest";
import { gemmNN, gemmNT, gemmNTJs, gemmTN, releaseResidentBuffers, residentBuffers, setWasmKernelsEnabled, wasmKernelsEnabled } from "../linalg";
import { trainHead } from "../mlp-head";
import { createRng } from "../rng";
import type { Matrix } from "../types";
import { wasmKernels } from "./gemm-wasm";

function randomArray(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/**
 * |x − y| ≤ tol·(1 + |y|) element-wise over the first `len` values. The wasm kernels accumulate k products in
 * f32 and the JS ones in f64, so the allowed rounding grows with k (≈ k·2⁻²⁴ per unit of Σ|a·b|); a wrong index
 * or a missed term is off by O(1) and still fails.
 */
function expectClose(x: Float32Array, y: Float32Array, len: number, k: number): void {
  const tol = 1e-6 + 3e-7 * k;
  let worst = 0;
  for (let i = 0; i < len; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
  expect(worst).toBeLessThan(tol);
}

// Straddle every tile and remainder: the 4×2 dot tile, the 2-row × 4-vector broadcast tile, single vectors,
// n % 4 scalar columns, k % 4 tails, the m ≥ 8 switch to transpose+broadcast, and 1s everywhere.
const shapes: [number, number, number][] = [
  [1, 1, 1], [1, 5, 3], [3, 1, 7], [2, 16, 4], [4, 2, 4], [5, 17, 1], [7, 6, 5], [8, 8, 8], [9, 3, 13],
  [3, 9, 2], [13, 21, 19], [64, 64, 384], [64, 2, 64], [2, 64, 64], [33, 35, 37],
];

afterEach(() => {
  setWasmKernelsEnabled(true);
  releaseResidentBuffers();
});

describe("wasm SIMD kernels", () => {
  it("are available in this Node and selected by default", () => {
    expect(wasmKernels).not.toBeNull();
    expect(wasmKernelsEnabled()).toBe(true);
  });

  it.each(shapes)("gemmNT matches the JS kernel for m=%i n=%i k=%i (A read from an offset)", (m, n, k) => {
    const off = 5;
    const a = randomArray(off + m * k, m * 1000 + n * 10 + k);
    const b = randomArray(n * k, k + 7);
    const viaWasm = new Float32Array(m * n + 3).fill(7);
    const viaJs = new Float32Array(m * n + 3).fill(7);
    gemmNT(m, n, k, a, off, b, viaWasm);
    gemmNTJs(m, n, k, a, off, b, viaJs);
    expectClose(viaWasm, viaJs, m * n, k);
    // Nothing past m·n is written.
    expect(Array.from(viaWasm.subarray(m * n))).toEqual([7, 7, 7]);
  });

  it.each(shapes)("gemmTN and gemmNN match their JS fallbacks for m=%i n=%i k=%i", (m, n, k) => {
    const aT = randomArray(k * m, m + 3 * n + 5 * k); // A [k, m] for TN
    const a = randomArray(m * k, 11 * m + k); // A [m, k] for NN
    const bOff = 3;
    const b = randomArray(bOff + k * n, n * 31 + k);
    const tnWasm = new Float32Array(m * n);
    const nnWasm = new Float32Array(m * n);
    gemmTN(m, n, k, aT, b, bOff, tnWasm);
    gemmNN(m, n, k, a, b.subarray(bOff), nnWasm);
    setWasmKernelsEnabled(false);
    const tnJs = new Float32Array(m * n);
    const nnJs = new Float32Array(m * n);
    gemmTN(m, n, k, aT, b, bOff, tnJs);
    gemmNN(m, n, k, a, b.subarray(bOff), nnJs);
    expectClose(tnWasm, tnJs, m * n, k);
    expectClose(nnWasm, nnJs, m * n, k);
    // And the fallbacks themselves against the definition, so the cross-check is not circular.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let tn = 0;
        let nn = 0;
        for (let t = 0; t < k; t++) {
          tn += aT[t * m + i]! * b[bOff + t * n + j]!;
          nn += a[i * k + t]! * b[bOff + t * n + j]!;
        }
        expect(tnJs[i * n + j]).toBeCloseTo(tn, 4);
        expect(nnJs[i * n + j]).toBeCloseTo(nn, 4);
      }
    }
  });

  it("gives bit-identical results on repeated calls, resident or copied", () => {
    const [m, n, k] = [37, 29, 101];
    const a = randomArray(m * k, 1);
    const b = randomArray(n * k, 2);
    const first = new Float32Array(m * n);
    const second = new Float32Array(m * n);
    gemmNT(m, n, k, a, 0, b, first);
    gemmNT(m, n, k, a, 0, b, second);
    expect(Array.from(second)).toEqual(Array.from(first));
    const [ra, rb, ro] = residentBuffers([m * k, n * k, m * n])!;
    ra!.set(a);
    rb!.set(b);
    gemmNT(m, n, k, ra!, 0, rb!, ro!);
    expect(Array.from(ro!)).toEqual(Array.from(first));
  });

  it("falls back to JS instead of growing memory (which would detach resident views) while a resident set is live", () => {
    const [w] = residentBuffers([16])!;
    w!.fill(3);
    // 800×800 A and B = 5 MiB of scratch, more than the 1 MiB reserved next to the resident set.
    const [m, n, k] = [8, 800, 800];
    const a = randomArray(m * k, 3);
    const b = randomArray(n * k, 4);
    expect(wasmKernels!.gemmNT(m, n, k, a, 0, b, new Float32Array(m * n))).toBe(false);
    const out = new Float32Array(m * n);
    const ref = new Float32Array(m * n);
    gemmNT(m, n, k, a, 0, b, out);
    gemmNTJs(m, n, k, a, 0, b, ref);
    expect(Array.from(out)).toEqual(Array.from(ref));
    // The resident view is still attached and intact.
    expect(w!.length).toBe(16);
    expect(Array.from(w!)).toEqual(new Array(16).fill(3));
    // Once released, the same call may grow the memory and run in wasm.
    releaseResidentBuffers();
    expect(wasmKernels!.gemmNT(m, n, k, a, 0, b, out)).toBe(true);
    expectClose(out, ref, m * n, k);
  });

  it("resident buffers start zeroed even when the memory held an earlier set", () => {
    const [x] = residentBuffers([100])!;
    x!.fill(9);
    const [y, z] = residentBuffers([50, 50])!;
    expect(y!.every((v) => v === 0) && z!.every((v) => v === 0)).toBe(true);
  });

  it("Adam step in wasm f32 matches the f64 formula and leaves non-resident arrays to the caller", () => {
    const len = 103; // 25 vectors and a 3-value scalar tail
    const [w, g, m, v] = residentBuffers([len, len, len, len])!;
    w!.set(randomArray(len, 5));
    g!.set(randomArray(len, 6));
    m!.set(randomArray(len, 7).map((x) => x * 0.1));
    v!.set(randomArray(len, 8).map((x) => x * x * 0.01));
    const [w0, g0, m0, v0] = [w!.slice(), g!.slice(), m!.slice(), v!.slice()];
    const [stepScale, invBc2, decay] = [1e-3 / 0.19, 1 / 0.002, 1e-7];
    expect(wasmKernels!.adam(w!, g!, m!, v!, stepScale, invBc2, decay)).toBe(true);
    for (let i = 0; i < len; i++) {
      const mi = 0.9 * m0[i]! + 0.1 * g0[i]!;
      const vi = 0.999 * v0[i]! + 0.001 * g0[i]! * g0[i]!;
      const wi = w0[i]! - (stepScale * mi) / (Math.sqrt(vi * invBc2) + 1e-8) - decay * w0[i]!;
      expect(m![i]).toBeCloseTo(mi, 6);
      expect(v![i]).toBeCloseTo(vi, 6);
      expect(w![i]).toBeCloseTo(wi, 5);
    }
    expect(wasmKernels!.adam(w0, g0, m0, v0, stepScale, invBc2, decay)).toBe(false);
  });
});

describe("trainHead with the wasm kernels", () => {
  function data(n: number, dim: number, seed: number): { x: Matrix; y: Int32Array } {
    const rng = createRng(seed);
    const x = new Float32Array(n * dim);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3 === 0 ? 1 : 0;
      for (let j = 0; j < dim; j++) x[i * dim + j] = rng.normal() + (y[i] === 1 && j < 3 ? 1.5 : 0);
    }
    return { x: { data: x, rows: n, cols: dim }, y };
  }
  // Odd sizes on purpose: 37 inputs, hidden 10 and 6, batch 20 against 255 training rows (last batch partial).
  const config = { hidden: [10, 6], batchSize: 20, maxEpochs: 6, patience: 6 };

  it("is deterministic: same seed, identical weights and losses", () => {
    const { x, y } = data(300, 37, 1);
    const a = trainHead(x, y, 2, config, createRng(9));
    const b = trainHead(x, y, 2, config, createRng(9));
    expect(a.report).toEqual(b.report);
    a.weights.layers.forEach((l, i) => {
      expect(Array.from(b.weights.layers[i]!.weight)).toEqual(Array.from(l.weight));
      expect(Array.from(b.weights.layers[i]!.bias)).toEqual(Array.from(l.bias));
    });
    // Returned weights are heap copies, not views of wasm memory that the next run overwrites.
    expect(wasmKernels!.isResident(a.weights.layers[0]!.weight)).toBe(false);
  });

  it("trains like the JS kernels (same losses to float tolerance)", () => {
    const { x, y } = data(300, 37, 2);
    const viaWasm = trainHead(x, y, 2, config, createRng(4));
    setWasmKernelsEnabled(false);
    const viaJs = trainHead(x, y, 2, config, createRng(4));
    expect(viaWasm.report.epochsRun).toBe(viaJs.report.epochsRun);
    viaJs.report.trainLoss.forEach((l, i) => expect(viaWasm.report.trainLoss[i]).toBeCloseTo(l, 4));
    viaJs.report.validationLoss.forEach((l, i) => expect(viaWasm.report.validationLoss[i]).toBeCloseTo(l, 4));
    expect(viaWasm.report.trainLoss.at(-1)!).toBeLessThan(viaWasm.report.trainLoss[0]!);
  });
});
