import { describe, expect, it } from "vitest";
import { adamStep, createAdam } from "./adam";

describe("adamStep", () => {
  it("first step moves each parameter by lr against the gradient's sign", () => {
    const params = Float64Array.from([1, -2, 0.5]);
    const state = createAdam(3, { learningRate: 1e-4 });
    adamStep(state, params, Float64Array.from([3, -0.2, 0]));
    expect(params[0]).toBeCloseTo(1 - 1e-4, 10);
    expect(params[1]).toBeCloseTo(-2 + 1e-4, 10);
    expect(params[2]).toBe(0.5);
  });
  it("minimises a quadratic", () => {
    const params = Float64Array.from([3]);
    const state = createAdam(1, { learningRate: 0.05 });
    for (let t = 0; t < 2000; t++) adamStep(state, params, Float64Array.from([2 * (params[0]! - 1)]));
    expect(params[0]).toBeCloseTo(1, 3);
  });
  it("rejects a non-positive learning rate and mismatched lengths", () => {
    expect(() => createAdam(2, { learningRate: 0 })).toThrow(/learningRate/);
    expect(() => adamStep(createAdam(2), new Float64Array(3), new Float64Array(3))).toThrow(/differ/);
  });
});
