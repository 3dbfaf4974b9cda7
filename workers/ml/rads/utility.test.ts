import { describe, expect, it } from "vitest";
import { MlInputError } from "../validate";
import { caseUtility, minMaxNormalise } from "./utility";

describe("minMaxNormalise", () => {
  it("maps min to 0 and max to 1", () => {
    expect(Array.from(minMaxNormalise(Float64Array.from([2, 4, 3, 6])))).toEqual([0, 0.5, 0.25, 1]);
  });
  it("gives all zeros when the range is below 1e-8 (constant, near-constant, single, empty)", () => {
    expect(Array.from(minMaxNormalise(Float64Array.from([0.3, 0.3, 0.3])))).toEqual([0, 0, 0]);
    expect(Array.from(minMaxNormalise(Float64Array.from([0.3, 0.3 + 5e-9])))).toEqual([0, 0]);
    expect(Array.from(minMaxNormalise(Float64Array.from([7])))).toEqual([0]);
    expect(minMaxNormalise(new Float64Array(0)).length).toBe(0);
  });
  it("normalises a range just above the threshold", () => {
    expect(Array.from(minMaxNormalise(Float64Array.from([1, 1 + 2e-8])))).toEqual([0, 1]);
  });
  it("rejects NaN instead of spreading it", () => {
    expect(() => minMaxNormalise(Float64Array.from([0, NaN]))).toThrow(MlInputError);
  });
});

describe("caseUtility", () => {
  it("is normalised MI times the pseudo-label's class weight", () => {
    const u = caseUtility(Float64Array.from([0, 0.5, 1]), Int32Array.from([1, 0, 1]), Float64Array.from([1 / 9, 9]));
    expect(u[0]).toBe(0);
    expect(u[1]).toBeCloseTo(0.5 / 9, 12);
    expect(u[2]).toBeCloseTo(9, 12);
  });
  it("rejects mismatched lengths", () => {
    expect(() => caseUtility(Float64Array.from([0, 1]), Int32Array.from([0]), Float64Array.from([1, 1]))).toThrow(/2 MI values but 1/);
  });
});
