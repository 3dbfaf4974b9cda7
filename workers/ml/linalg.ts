/**
 * Small dense linear-algebra kernels on row-major Float32Array buffers, written for V8.
 * Callers own and reuse every buffer; nothing here allocates except `transpose`'s optional output.
 *
 * Loop order. The usual advice for C is i-k-j (stream a row of B into a row of the output). In V8
 * without SIMD that form re-loads and re-stores the output row on every k, and measured 0.5 G
 * multiply-adds/s here, whereas a register-blocked dot-product form (4 rows of A × 4 rows of B held
 * in 16 scalar accumulators, both operands read along contiguous rows) measured 2–3 G/s. Because
 * our weights are stored [out, in] row-major, the forward pass X·Wᵀ is exactly that "A times B
 * transposed" form; the JS versions of gemmTN/gemmNN transpose and route through it too. With WebAssembly
 * SIMD the loop-order trade-off changes (f32x4 lanes make the broadcast i-k-j form fast), hence the separate
 * TN/NN entry points that let the wasm kernels skip the transposes.
 */

import { wasmKernels } from "./wasm/gemm-wasm";

/*
 * Kernel selection. Where WebAssembly 128-bit SIMD is available the products (gemmNT/gemmTN/gemmNN) and the
 * Adam step run in the generated wasm kernels (wasm/gemm-wasm.ts; ~10 G multiply-adds/s vs 1–3 G/s here);
 * otherwise, or after `setWasmKernelsEnabled(false)` (tests cross-check the two), the JS kernels below run.
 * The wasm kernels accumulate in f32 and the JS ones in f64, so the two agree to float tolerance, not bit for
 * bit; each is deterministic on its own.
 */
let wasmEnabled = wasmKernels !== null;

/** Turns the wasm kernels on or off (on only takes effect where they are available); returns the previous state. */
export function setWasmKernelsEnabled(enabled: boolean): boolean {
  const previous = wasmEnabled;
  wasmEnabled = enabled && wasmKernels !== null;
  return previous;
}

/** Whether products currently run in WebAssembly SIMD. */
export function wasmKernelsEnabled(): boolean {
  return wasmEnabled;
}

/**
 * Zeroed buffers of the given lengths that live inside the wasm memory, so the kernels read and write them in
 * place instead of copying (trainHead keeps its weights, Adam state and activations there for a whole run).
 * Null when the wasm kernels are off. Only one set exists at a time; call `releaseResidentBuffers` when done.
 */
export function residentBuffers(lengths: readonly number[]): Float32Array[] | null {
  return wasmEnabled && wasmKernels !== null ? wasmKernels.resident(lengths) : null;
}

/** Ends the current resident set (its views must not be used afterwards). */
export function releaseResidentBuffers(): void {
  wasmKernels?.releaseResident();
}

/**
 * One AdamW step (β1 0.9, β2 0.999, ε 1e-8) in wasm f32 when all four arrays are resident buffers; returns
 * false (nothing done) otherwise so the caller runs its JS loop.
 */
export function adamStepWasm(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  stepScale: number,
  invBc2: number,
  decay: number,
): boolean {
  return wasmEnabled && wasmKernels !== null && wasmKernels.adam(w, g, m, v, stepScale, invBc2, decay);
}

/**
 * out[m, n] = A[m, k] · B[n, k]ᵀ, i.e. out[i, j] = Σ_t A[i, t]·B[j, t]. A is read from `a` starting at
 * `aOffset` (so a batch can be a contiguous slice of a larger matrix); `out` is overwritten.
 */
export function gemmNT(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  out: Float32Array,
): void {
  if (wasmEnabled && wasmKernels!.gemmNT(m, n, k, a, aOffset, b, out)) return;
  gemmNTJs(m, n, k, a, aOffset, b, out);
}

// Scratch for the JS fallbacks of gemmTN/gemmNN (grown on demand, never shrunk).
let scratchA = new Float32Array(0);
let scratchB = new Float32Array(0);
function scratch(which: "a" | "b", length: number): Float32Array {
  if (which === "a") return scratchA.length >= length ? scratchA : (scratchA = new Float32Array(length));
  return scratchB.length >= length ? scratchB : (scratchB = new Float32Array(length));
}

/**
 * out[m, n] = A[k, m]ᵀ · B[k, n] (e.g. a weight gradient dzᵀ·input with both read along the batch). B is read
 * from `bOffset`. The JS fallback transposes both operands and runs the blocked `gemmNTJs`.
 */
export function gemmTN(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  bOffset: number,
  out: Float32Array,
): void {
  if (wasmEnabled && wasmKernels!.gemmTN(m, n, k, a, b, bOffset, out)) return;
  const aT = transpose(a, k, m, scratch("a", m * k));
  const bT = transpose(b, k, n, scratch("b", n * k), bOffset);
  gemmNTJs(m, n, k, aT, 0, bT, out);
}

/** out[m, n] = A[m, k] · B[k, n]. The JS fallback transposes B and runs the blocked `gemmNTJs`. */
export function gemmNN(m: number, n: number, k: number, a: Float32Array, b: Float32Array, out: Float32Array): void {
  if (wasmEnabled && wasmKernels!.gemmNN(m, n, k, a, b, out)) return;
  gemmNTJs(m, n, k, a, 0, transpose(b, k, n, scratch("b", n * k)), out);
}

/** The JS `gemmNT` (the fallback, and the reference the wasm kernel is tested against). */
export function gemmNTJs(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  out: Float32Array,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = aOffset + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const o0 = i * n;
    for (let j = 0; j < n4; j += 4) {
      const b0 = j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let t = 0; t < k; t++) {
        const x0 = a[a0 + t]!;
        const x1 = a[a1 + t]!;
        const x2 = a[a2 + t]!;
        const x3 = a[a3 + t]!;
        let w = b[b0 + t]!;
        s00 += x0 * w; s10 += x1 * w; s20 += x2 * w; s30 += x3 * w;
        w = b[b1 + t]!;
        s01 += x0 * w; s11 += x1 * w; s21 += x2 * w; s31 += x3 * w;
        w = b[b2 + t]!;
        s02 += x0 * w; s12 += x1 * w; s22 += x2 * w; s32 += x3 * w;
        w = b[b3 + t]!;
        s03 += x0 * w; s13 += x1 * w; s23 += x2 * w; s33 += x3 * w;
      }
      const o = o0 + j;
      out[o] = s00; out[o + 1] = s01; out[o + 2] = s02; out[o + 3] = s03;
      out[o + n] = s10; out[o + n + 1] = s11; out[o + n + 2] = s12; out[o + n + 3] = s13;
      out[o + 2 * n] = s20; out[o + 2 * n + 1] = s21; out[o + 2 * n + 2] = s22; out[o + 2 * n + 3] = s23;
      out[o + 3 * n] = s30; out[o + 3 * n + 1] = s31; out[o + 3 * n + 2] = s32; out[o + 3 * n + 3] = s33;
    }
    // Leftover columns of B (n not a multiple of 4): 4 rows against one column at a time.
    for (let j = n4; j < n; j++) {
      const bj = j * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let t = 0; t < k; t++) {
        const w = b[bj + t]!;
        s0 += a[a0 + t]! * w; s1 += a[a1 + t]! * w; s2 += a[a2 + t]! * w; s3 += a[a3 + t]! * w;
      }
      out[o0 + j] = s0; out[o0 + n + j] = s1; out[o0 + 2 * n + j] = s2; out[o0 + 3 * n + j] = s3;
    }
  }
  // Leftover rows of A: plain dot products with two accumulators.
  for (let i = m4; i < m; i++) {
    const ai = aOffset + i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s0 = 0, s1 = 0;
      let t = 0;
      for (; t + 1 < k; t += 2) {
        s0 += a[ai + t]! * b[bj + t]!;
        s1 += a[ai + t + 1]! * b[bj + t + 1]!;
      }
      if (t < k) s0 += a[ai + t]! * b[bj + t]!;
      out[i * n + j] = s0 + s1;
    }
  }
}

/** dst[cols, rows] = src[rows, cols]ᵀ (src read from `srcOffset`); allocates dst when omitted. */
export function transpose(
  src: Float32Array,
  rows: number,
  cols: number,
  dst: Float32Array = new Float32Array(rows * cols),
  srcOffset = 0,
): Float32Array {
  for (let i = 0; i < rows; i++) {
    const s = srcOffset + i * cols;
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[s + j]!;
  }
  return dst;
}

/** out[m, n] += bias[n] on every row. */
export function addRowVector(out: Float32Array, m: number, n: number, bias: Float32Array): void {
  for (let i = 0; i < m; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + bias[j]!;
  }
}

/** out[n] = Σ_i src[i, n] over m rows (e.g. a bias gradient); out is overwritten. */
export function sumRows(src: Float32Array, m: number, n: number, out: Float32Array): void {
  out.fill(0, 0, n);
  for (let i = 0; i < m; i++) {
    const s = i * n;
    for (let j = 0; j < n; j++) out[j] = out[j]! + src[s + j]!;
  }
}

/** In place max(0, x) over the first `length` values. */
export function reluInPlace(x: Float32Array, length: number): void {
  for (let i = 0; i < length; i++) if (!(x[i]! > 0)) x[i] = 0;
}

/**
 * out[m, n] = log-softmax of each row of logits[m, n] (max-shifted so large logits cannot overflow).
 * `out` may be `logits` itself.
 */
export function logSoftmaxRows(logits: Float32Array, m: number, n: number, out: Float32Array): void {
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(logits[o + j]! - max);
    const lse = max + Math.log(sum);
    for (let j = 0; j < n; j++) out[o + j] = logits[o + j]! - lse;
  }
}

/** out[m, n] = softmax of each row of logits[m, n] (max-shifted); `out` may be `logits` itself. */
export function softmaxRows(logits: Float32Array, m: number, n: number, out: Float32Array): void {
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(logits[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < n; j++) out[o + j] = out[o + j]! * inv;
  }
}

/** Index of the largest of x[offset .. offset+n) (lowest index on ties; NaN never wins). */
export function argmax(x: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  let bestV = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[offset + j]!;
    if (v > bestV) {
      bestV = v;
      best = j;
    }
  }
  return best;
}

/** Row-wise argmax of x[m, n] into out[m] (allocated when omitted). */
export function argmaxRows(x: ArrayLike<number>, m: number, n: number, out: Int32Array = new Int32Array(m)): Int32Array {
  for (let i = 0; i < m; i++) out[i] = argmax(x, i * n, n);
  return out;
}

/** Squared Euclidean distance between a[aOffset .. +d) and b[bOffset .. +d), accumulated in float64. */
export function squaredDistance(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, d: number): number {
  let s0 = 0, s1 = 0;
  let t = 0;
  for (; t + 1 < d; t += 2) {
    const u = a[aOffset + t]! - b[bOffset + t]!;
    const v = a[aOffset + t + 1]! - b[bOffset + t + 1]!;
    s0 += u * u;
    s1 += v * v;
  }
  if (t < d) {
    const u = a[aOffset + t]! - b[bOffset + t]!;
    s0 += u * u;
  }
  return s0 + s1;
}

/** Copies rows `indices[from .. from+count)` of src[*, cols] into dst[count, cols] (a shuffled batch). */
export function gatherRows(
  src: Float32Array,
  cols: number,
  indices: Int32Array,
  from: number,
  count: number,
  dst: Float32Array,
): void {
  for (let r = 0; r < count; r++) {
    const s = indices[from + r]! * cols;
    dst.set(src.subarray(s, s + cols), r * cols);
  }
}
