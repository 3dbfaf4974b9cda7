import { describe, expect, it } from "vitest";
import { goldPhase, goldSlots, isGoldSlot, plannedRoundTotal } from "./gold-mixing";

describe("gold slots", () => {
  it("holds floor(n·r + φ) gold slots among the first n positions, for every n", () => {
    for (const rate of [0.1, 0.2, 0.25, 1 / 3, 0.5]) {
      for (const phase of [0, 0.13, 0.5, 0.999]) {
        for (let n = 1; n <= 60; n++) expect(goldSlots(n, rate, phase).length).toBe(Math.floor(n * rate + phase));
      }
    }
  });

  it("spaces slots 1/r apart (never two in a row below r = 0.5), shifted by the phase", () => {
    expect(goldSlots(20, 0.2, 0)).toEqual([4, 9, 14, 19]);
    expect(goldSlots(20, 0.2, 0.5)).toEqual([2, 7, 12, 17]);
    expect(goldSlots(10, 0.5, 0.25)).toEqual([1, 3, 5, 7, 9]);
  });

  it("is off at rate 0 and refuses bad arguments", () => {
    expect(goldSlots(100, 0, 0.7)).toEqual([]);
    expect(() => isGoldSlot(-1, 0.2, 0)).toThrow(/position/);
    expect(() => isGoldSlot(1.5, 0.2, 0)).toThrow(/position/);
    expect(() => isGoldSlot(1, 1.2, 0)).toThrow(/rate/);
    expect(() => isGoldSlot(1, 0.2, 1)).toThrow(/phase/);
  });

  it("draws the phase per (round, clinician), deterministically, in [0, 1)", () => {
    const a = goldPhase("round-1", "user-1");
    expect(goldPhase("round-1", "user-1")).toBe(a);
    expect(goldPhase("round-1", "user-2")).not.toBe(a);
    expect(goldPhase("round-2", "user-1")).not.toBe(a);
    for (let i = 0; i < 200; i++) {
      const p = goldPhase(`r${i}`, "u");
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(1);
    }
  });

  it("plans a round's total that serving a gold slot does not change", () => {
    // Rate 0.5, phase 0: slots at odd positions. 4 items, 2 gold left: R G R G R R → 6.
    expect(plannedRoundTotal({ items: 4, servedRegular: 0, served: 0, goldLeft: 2, rate: 0.5, phase: 0 })).toBe(6);
    // Walk the plan position by position: the total is the same at every step.
    for (const [rate, phase, items, goldLeft] of [[0.2, 0.7, 20, 8], [0.5, 0.3, 6, 2], [1 / 3, 0, 9, 10], [0.25, 0.99, 3, 0]] as const) {
      let state: Parameters<typeof plannedRoundTotal>[0] = { items, servedRegular: 0, served: 0, goldLeft, rate, phase };
      const total = plannedRoundTotal(state);
      while (state.servedRegular < items) {
        const gold = state.goldLeft > 0 && isGoldSlot(state.served, rate, phase);
        state = { ...state, served: state.served + 1, servedRegular: state.servedRegular + (gold ? 0 : 1), goldLeft: state.goldLeft - (gold ? 1 : 0) };
        expect(plannedRoundTotal(state)).toBe(total);
      }
      expect(state.served).toBe(total);
      expect(total - items).toBe(goldLeft - state.goldLeft);
    }
    // Without gold it is the round's items; a clinician past the plan keeps their count.
    expect(plannedRoundTotal({ items: 7, servedRegular: 0, served: 0, goldLeft: 0, rate: 0.5, phase: 0 })).toBe(7);
    expect(plannedRoundTotal({ items: 2, servedRegular: 2, served: 5, goldLeft: 1, rate: 0.5, phase: 0 })).toBe(5);
    expect(() => plannedRoundTotal({ items: -1, servedRegular: 0, served: 0, goldLeft: 0, rate: 0.5, phase: 0 })).toThrow(/items/);
  });
});
