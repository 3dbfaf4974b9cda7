/**
 * Input validation for workers/ml. Every check throws an `MlInputError` whose `code` lets the
 * worker map a bad request to a clear message without parsing text, and whose message names
 * the offending argument (and row/column where that helps someone find the bad value).
 */
import type { Matrix, McLogProbs } from "./types";

/** Machine-readable reason for an `MlInputError`. */
export type MlErrorCode =
  | "dimension-mismatch"
  | "non-finite"
  | "budget-exceeds-pool"
  | "single-class"
  | "k-too-small"
  | "unknown-minority-label"
  | "invalid-label"
  | "invalid-argument"
  | "empty-input"
  | "invalid-serialized-head";

/** Error thrown for bad inputs to workers/ml functions; `code` is stable, the message is for humans. */
export class MlInputError extends Error {
  readonly code: MlErrorCode;

  constructor(code: MlErrorCode, message: string) {
    super(message);
    this.name = "MlInputError";
    this.code = code;
  }
}

/** Throws `dimension-mismatch` unless `m.data.length === m.rows * m.cols` with non-negative integer sizes. */
export function assertMatrixShape(m: Matrix, name: string): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    throw new MlInputError("dimension-mismatch", `${name}: rows and cols must be non-negative integers, got ${m.rows}×${m.cols}`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new MlInputError(
      "dimension-mismatch",
      `${name}: data has ${m.data.length} values but ${m.rows}×${m.cols} needs ${m.rows * m.cols}`,
    );
  }
}

/** Throws `non-finite` naming the first row/column holding NaN or ±Infinity in a [rows, cols] matrix. */
export function assertFiniteMatrix(m: Matrix, name: string): void {
  assertMatrixShape(m, name);
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    // v - v is NaN exactly for NaN and ±Infinity, which keeps this loop branch-light on large pools.
    if (v - v !== 0) {
      const row = Math.floor(i / m.cols);
      const col = i - row * m.cols;
      throw new MlInputError("non-finite", `${name}: value ${v} at row ${row}, column ${col} is not finite`);
    }
  }
}

/** Throws `dimension-mismatch` unless two matrices have the same number of columns (feature dimension). */
export function assertSameCols(a: Matrix, b: Matrix, nameA: string, nameB: string): void {
  if (a.cols !== b.cols) {
    throw new MlInputError("dimension-mismatch", `${nameA} has ${a.cols} columns but ${nameB} has ${b.cols}`);
  }
}

/** Throws `dimension-mismatch` unless `actual === expected` (e.g. label count vs. matrix rows). */
export function assertLength(actual: number, expected: number, what: string): void {
  if (actual !== expected) {
    throw new MlInputError("dimension-mismatch", `${what}: expected ${expected}, got ${actual}`);
  }
}

/** Throws `invalid-argument` unless `value` is an integer ≥ `min`. */
export function assertInteger(value: number, min: number, name: string): void {
  if (!Number.isInteger(value) || value < min) {
    throw new MlInputError("invalid-argument", `${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Throws `invalid-argument` unless `lo <= value <= hi` (or `< hi` when `hiExclusive`) and finite. */
export function assertInRange(value: number, lo: number, hi: number, name: string, hiExclusive = false): void {
  const ok = Number.isFinite(value) && value >= lo && (hiExclusive ? value < hi : value <= hi);
  if (!ok) {
    throw new MlInputError("invalid-argument", `${name} must be in [${lo}, ${hi}${hiExclusive ? ")" : "]"}, got ${value}`);
  }
}

/** Throws `invalid-label` naming the first label (y: Int32Array [N]) outside 0..numClasses-1. */
export function assertLabels(y: Int32Array, numClasses: number, name = "labels"): void {
  assertInteger(numClasses, 2, "numClasses");
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (v < 0 || v >= numClasses) {
      throw new MlInputError("invalid-label", `${name}[${i}] = ${v} is not a class index in 0..${numClasses - 1}`);
    }
  }
}

/** Throws `single-class` when every label in y (Int32Array [N]) is the same class: nothing to separate. */
export function assertAtLeastTwoClasses(y: Int32Array, name = "labels"): void {
  if (y.length === 0) throw new MlInputError("empty-input", `${name}: no labelled rows to train on`);
  const first = y[0]!;
  for (let i = 1; i < y.length; i++) if (y[i] !== first) return;
  throw new MlInputError(
    "single-class",
    `${name}: all ${y.length} labelled rows are class ${first}; training needs at least two classes`,
  );
}

/** Throws `k-too-small` unless k (MC-dropout passes) is an integer ≥ 2 — one pass carries no disagreement. */
export function assertMcPasses(k: number, name = "k"): void {
  if (!Number.isInteger(k) || k < 2) {
    throw new MlInputError("k-too-small", `${name} must be an integer >= 2 MC-dropout passes, got ${k}`);
  }
}

/** Throws unless `mc` is a consistent [n, k, c] array with k ≥ 2, c ≥ 2 and (optionally) n = expectedN. */
export function assertMcLogProbs(mc: McLogProbs, expectedN?: number): void {
  assertMcPasses(mc.k, "mc.k");
  if (!Number.isInteger(mc.c) || mc.c < 2) {
    throw new MlInputError("dimension-mismatch", `mc.c must be an integer >= 2 classes, got ${mc.c}`);
  }
  if (!Number.isInteger(mc.n) || mc.n < 0) {
    throw new MlInputError("dimension-mismatch", `mc.n must be a non-negative integer, got ${mc.n}`);
  }
  if (mc.data.length !== mc.n * mc.k * mc.c) {
    throw new MlInputError(
      "dimension-mismatch",
      `mc.data has ${mc.data.length} values but [${mc.n}, ${mc.k}, ${mc.c}] needs ${mc.n * mc.k * mc.c}`,
    );
  }
  if (expectedN !== undefined && mc.n !== expectedN) {
    throw new MlInputError("dimension-mismatch", `mc covers ${mc.n} cases but the pool has ${expectedN}`);
  }
}

/**
 * Checks a selection budget against the pool and returns how many cases to pick.
 * `mode: "strict"` throws `budget-exceeds-pool` when budget > poolSize; `"clamp"` (the SelectionResult
 * contract: length = min(budget, poolSize)) returns the smaller of the two. Budget must be an integer ≥ 0.
 */
export function resolveBudget(budget: number, poolSize: number, mode: "strict" | "clamp"): number {
  assertInteger(budget, 0, "budget");
  assertInteger(poolSize, 0, "poolSize");
  if (budget > poolSize) {
    if (mode === "strict") {
      throw new MlInputError("budget-exceeds-pool", `budget ${budget} exceeds the pool of ${poolSize} unlabelled cases`);
    }
    return poolSize;
  }
  return budget;
}

/** Throws `unknown-minority-label` naming any minority class index outside 0..numClasses-1 (or a duplicate). */
export function assertMinorityClasses(minority: readonly number[], numClasses: number): void {
  const seen = new Set<number>();
  for (const m of minority) {
    if (!Number.isInteger(m) || m < 0 || m >= numClasses) {
      throw new MlInputError(
        "unknown-minority-label",
        `minority class ${m} is not one of the model's classes 0..${numClasses - 1}`,
      );
    }
    if (seen.has(m)) throw new MlInputError("unknown-minority-label", `minority class ${m} is listed twice`);
    seen.add(m);
  }
}
