import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { randomStrategy } from "./random";
import { errorCode, selectionInput } from "./test-fixtures";

describe("random strategy", () => {
  it("picks distinct in-range indices, reproducibly under a seed", () => {
    const a = randomStrategy.select(selectionInput({ poolSize: 50, budget: 10, rng: createRng(5) }));
    const b = randomStrategy.select(selectionInput({ poolSize: 50, budget: 10, rng: createRng(5) }));
    const c = randomStrategy.select(selectionInput({ poolSize: 50, budget: 10, rng: createRng(6) }));
    expect(a.selected).toHaveLength(10);
    expect(new Set(a.selected).size).toBe(10);
    expect(Array.from(a.selected).every((i) => i >= 0 && i < 50)).toBe(true);
    expect(a.selected).toEqual(b.selected);
    expect(a.selected).not.toEqual(c.selected);
    expect(randomStrategy.needsModel).toBe(false);
  });

  it("is roughly uniform over many rounds", () => {
    const counts = new Array<number>(5).fill(0);
    const rng = createRng(3);
    for (let r = 0; r < 2000; r++) counts[randomStrategy.select(selectionInput({ poolSize: 5, budget: 1, rng })).selected[0]!]!++;
    for (const c of counts) expect(Math.abs(c - 400)).toBeLessThan(80);
  });

  it("clamps the budget to the pool and rejects invalid budgets", () => {
    expect(randomStrategy.select(selectionInput({ poolSize: 3, budget: 10 })).selected).toHaveLength(3);
    expect(randomStrategy.select(selectionInput({ poolSize: 3, budget: 0 })).selected).toHaveLength(0);
    expect(randomStrategy.select(selectionInput({ poolSize: 0, budget: 2 })).selected).toHaveLength(0);
    expect(errorCode(() => randomStrategy.select(selectionInput({ poolSize: 3, budget: -1 })))).toBe("invalid-argument");
    expect(errorCode(() => randomStrategy.select(selectionInput({ poolSize: 3, budget: 1.5 })))).toBe("invalid-argument");
  });
});
