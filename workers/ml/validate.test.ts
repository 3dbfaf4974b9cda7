import { describe, expect, it } from "vitest";
import {
  assertAtLeastTwoClasses,
  assertFiniteMatrix,
  assertInRange,
  assertInteger,
  assertLabels,
  assertLength,
  assertMatrixShape,
  assertMcLogProbs,
  assertMcPasses,
  assertMinorityClasses,
  assertSameCols,
  MlInputError,
  resolveBudget,
  type MlErrorCode,
} from "./validate";

function codeOf(fn: () => unknown): MlErrorCode | "no error" {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MlInputError);
    expect(e).toBeInstanceOf(Error);
    return (e as MlInputError).code;
  }
  return "no error";
}

describe("validate", () => {
  it("rejects a matrix whose data does not match its shape", () => {
    expect(codeOf(() => assertMatrixShape({ data: new Float32Array(5), rows: 2, cols: 3 }, "x"))).toBe("dimension-mismatch");
    expect(codeOf(() => assertMatrixShape({ data: new Float32Array(6), rows: 2, cols: 3 }, "x"))).toBe("no error");
  });

  it("names the row and column of a NaN or Infinity", () => {
    const m = { data: Float32Array.of(0, 1, 2, 3, NaN, 5), rows: 2, cols: 3 };
    expect(() => assertFiniteMatrix(m, "embeddings")).toThrow(/embeddings: value NaN at row 1, column 1/);
    m.data[4] = 0;
    m.data[2] = -Infinity;
    expect(() => assertFiniteMatrix(m, "embeddings")).toThrow(/row 0, column 2/);
    expect(codeOf(() => assertFiniteMatrix(m, "e"))).toBe("non-finite");
  });

  it("rejects mismatched widths and lengths", () => {
    const a = { data: new Float32Array(6), rows: 2, cols: 3 };
    const b = { data: new Float32Array(8), rows: 2, cols: 4 };
    expect(codeOf(() => assertSameCols(a, b, "pool", "labelled"))).toBe("dimension-mismatch");
    expect(codeOf(() => assertLength(3, 4, "labels"))).toBe("dimension-mismatch");
  });

  it("checks integers and ranges", () => {
    expect(codeOf(() => assertInteger(1.5, 0, "n"))).toBe("invalid-argument");
    expect(codeOf(() => assertInteger(-1, 0, "n"))).toBe("invalid-argument");
    expect(codeOf(() => assertInRange(1, 0, 1, "p", true))).toBe("invalid-argument");
    expect(codeOf(() => assertInRange(NaN, 0, 1, "p"))).toBe("invalid-argument");
    expect(codeOf(() => assertInRange(1, 0, 1, "p"))).toBe("no error");
  });

  it("rejects labels outside the classes and single-class training sets", () => {
    expect(() => assertLabels(Int32Array.of(0, 1, 2), 2)).toThrow(/labels\[2\] = 2/);
    expect(codeOf(() => assertLabels(Int32Array.of(0, -1), 2))).toBe("invalid-label");
    expect(codeOf(() => assertAtLeastTwoClasses(Int32Array.of(1, 1, 1)))).toBe("single-class");
    expect(codeOf(() => assertAtLeastTwoClasses(new Int32Array(0)))).toBe("empty-input");
    expect(codeOf(() => assertAtLeastTwoClasses(Int32Array.of(1, 0)))).toBe("no error");
  });

  it("requires at least two MC passes", () => {
    expect(codeOf(() => assertMcPasses(1))).toBe("k-too-small");
    expect(codeOf(() => assertMcPasses(2))).toBe("no error");
    expect(codeOf(() => assertMcLogProbs({ data: new Float32Array(4), n: 2, k: 1, c: 2 }))).toBe("k-too-small");
    expect(codeOf(() => assertMcLogProbs({ data: new Float32Array(7), n: 2, k: 2, c: 2 }))).toBe("dimension-mismatch");
    expect(codeOf(() => assertMcLogProbs({ data: new Float32Array(8), n: 2, k: 2, c: 2 }, 3))).toBe("dimension-mismatch");
  });

  it("resolves budgets strictly or clamped", () => {
    expect(codeOf(() => resolveBudget(11, 10, "strict"))).toBe("budget-exceeds-pool");
    expect(() => resolveBudget(11, 10, "strict")).toThrow(/budget 11 exceeds the pool of 10/);
    expect(resolveBudget(11, 10, "clamp")).toBe(10);
    expect(resolveBudget(3, 10, "strict")).toBe(3);
    expect(codeOf(() => resolveBudget(-1, 10, "clamp"))).toBe("invalid-argument");
    expect(codeOf(() => resolveBudget(2.5, 10, "clamp"))).toBe("invalid-argument");
  });

  it("rejects unknown or duplicate minority labels", () => {
    expect(() => assertMinorityClasses([1, 3], 3)).toThrow(/minority class 3 is not one of the model's classes 0..2/);
    expect(codeOf(() => assertMinorityClasses([1, 1], 3))).toBe("unknown-minority-label");
    expect(codeOf(() => assertMinorityClasses([1, 2], 3))).toBe("no error");
  });
});
