import { describe, expect, it } from "vitest";
import { MlInputError } from "../validate";
import { buildCaseTable, redundancyPenalty, SelectionEnvironment, withCosineRedundancy } from "./environment";

// Three cases, C = 2. log p̄ rows are chosen so the distances are easy: case 1 is 5 away from case 0 (3-4-5).
const logp = Float64Array.from([0, 0, 3, 4, 0, 1]);
const table = buildCaseTable(2, logp, Float64Array.from([0.6, 0.5, 0.4]), Float64Array.from([0.1, 0.2, 0.3]), Float64Array.from([1.5, 2, 0.25]));

describe("SelectionEnvironment", () => {
  it("states are [log p̄, H, MI, selected/B]", () => {
    const env = new SelectionEnvironment(table, 2, 0.01);
    env.reset(Int32Array.from([1, 0, 2]));
    const s = new Float64Array(5);
    env.writeState(s);
    expect(Array.from(s)).toEqual([3, 4, 0.5, 0.2, 0]);
    env.step(1);
    env.writeState(s);
    expect(Array.from(s)).toEqual([0, 0, 0.6, 0.1, 0.5]);
  });

  it("rewards utility minus λ/(1 + d_min), with no penalty for the first pick, and 0 for a skip", () => {
    const env = new SelectionEnvironment(table, 3, 0.01);
    env.reset(Int32Array.from([0, 1, 2]));
    expect(env.step(1)).toEqual({ reward: 1.5, done: false });
    // Case 1 is at distance 5 from case 0: 2 − 0.01/6.
    const second = env.step(1);
    expect(second.reward).toBeCloseTo(2 - 0.01 / 6, 15);
    // Case 2: distance 1 to case 0, √(9+9) to case 1 → d_min = 1: 0.25 − 0.01/2.
    const third = env.step(1);
    expect(third.reward).toBeCloseTo(0.25 - 0.005, 15);
    expect(third.done).toBe(true);
    expect(Array.from(env.selected())).toEqual([0, 1, 2]);

    env.reset(Int32Array.from([2, 0]));
    expect(env.step(0)).toEqual({ reward: 0, done: false });
  });

  it("ends once B are selected, or at the end of the walk", () => {
    const env = new SelectionEnvironment(table, 1, 0.01);
    env.reset(Int32Array.from([0, 1, 2]));
    expect(env.step(1).done).toBe(true);
    expect(() => env.step(0)).toThrow(MlInputError);
    const env2 = new SelectionEnvironment(table, 3, 0.01);
    env2.reset(Int32Array.from([0, 1]));
    expect(env2.step(0).done).toBe(false);
    expect(env2.step(1).done).toBe(true);
  });

  it("penalty helper matches λ/(1 + d_min) and is 0 with nothing selected", () => {
    expect(redundancyPenalty(table, 2, Int32Array.from([0, 1]), 0, 0.01)).toBe(0);
    expect(redundancyPenalty(table, 2, Int32Array.from([1]), 1, 0.01)).toBeCloseTo(0.01 / (1 + Math.sqrt(18)), 15);
  });

  it("cosine redundancy: λ·max(0, max cos) over the chosen cases on unit-scaled vectors; a zero row is never redundant", () => {
    // Case 0 = (3, 4), case 1 = (−4, 3) (orthogonal to 0), case 2 = (1, 1), case 3 = (0, 0).
    const cos = withCosineRedundancy(buildCaseTable(2, new Float64Array(8), new Float64Array(4), new Float64Array(4), new Float64Array(4)), [3, 4, -4, 3, 1, 1, 0, 0], 2);
    expect(redundancyPenalty(cos, 2, Int32Array.from([0]), 0, 0.5)).toBe(0);
    // cos(2, 0) = 7/(5√2), cos(2, 1) = −1/(5√2): the larger counts.
    expect(redundancyPenalty(cos, 2, Int32Array.from([1, 0]), 2, 0.5)).toBeCloseTo(0.5 * 7 / (5 * Math.SQRT2), 12);
    // Opposite-leaning or orthogonal cases cost nothing (clamped at 0).
    expect(redundancyPenalty(cos, 1, Int32Array.from([0]), 1, 0.5)).toBeCloseTo(0, 12);
    expect(redundancyPenalty(cos, 3, Int32Array.from([0, 2]), 2, 0.5)).toBe(0);
    // The environment charges the same penalty.
    const env = new SelectionEnvironment({ ...cos, utility: Float64Array.from([1, 1, 1, 1]) }, 2, 0.5);
    env.reset(Int32Array.from([0, 2]));
    env.step(1);
    expect(env.step(1).reward).toBeCloseTo(1 - 0.5 * 7 / (5 * Math.SQRT2), 12);
    expect(() => withCosineRedundancy(cos, [1, 2, 3], 2)).toThrow(/expected \[4, 2\]/);
    expect(() => withCosineRedundancy(cos, [1, 2, 3, 4, 5, 6, 7, NaN], 2)).toThrow(/NaN/);
  });

  it("rejects bad budgets, actions and walk indices", () => {
    expect(() => new SelectionEnvironment(table, 0, 0.01)).toThrow(/budget/);
    const env = new SelectionEnvironment(table, 1, 0.01);
    expect(() => env.reset(Int32Array.from([5]))).toThrow(/outside the pool/);
    env.reset(Int32Array.from([0]));
    expect(() => env.step(2)).toThrow(/0 or 1/);
  });
});
