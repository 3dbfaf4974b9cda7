import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { createDqnWorkspace, createDuelingDqn, dqnForward, dqnGreedyAction, type DuelingDqn } from "./dueling-dqn";
import { buildCaseTable, type RadsCaseTable } from "./environment";
import { greedyPass } from "./greedy-pass";

/** The definition: walk one case at a time, select where argmax Q says so, stop at B. */
function naivePass(net: DuelingDqn, table: RadsCaseTable, walk: Int32Array, budget: number): number[] {
  const ws = createDqnWorkspace(net.config, 1);
  const width = table.c + 2;
  const s = new Float64Array(width + 1);
  const picked: number[] = [];
  for (let j = 0; j < walk.length && picked.length < budget; j++) {
    const i = walk[j]!;
    s.set(table.features.subarray(i * width, (i + 1) * width));
    s[width] = picked.length / budget;
    if (dqnGreedyAction(net, s, ws) === 1) picked.push(i);
  }
  return picked;
}

/** A₁ − A₀ of every case at selected/B = 0. */
function advantageMargins(net: DuelingDqn, table: RadsCaseTable): Float64Array {
  const ws = createDqnWorkspace(net.config, 1);
  const width = table.c + 2;
  const s = new Float64Array(width + 1);
  return Float64Array.from({ length: table.n }, (_, i) => {
    s.set(table.features.subarray(i * width, (i + 1) * width));
    const q = dqnForward(net, s, 1, ws);
    return q[1]! - q[0]!;
  });
}

function randomTable(n: number, seed: number): RadsCaseTable {
  const rng = createRng(seed);
  const logp = Float64Array.from({ length: n * 2 }, () => -3 * rng.next());
  return buildCaseTable(2, logp, Float64Array.from({ length: n }, () => rng.next()), Float64Array.from({ length: n }, () => rng.next()), new Float64Array(n));
}

describe("greedyPass", () => {
  const config = { stateDim: 5, sharedHidden: 16, headHidden: 12, numActions: 2 };
  it("equals the one-case-at-a-time definition, including across chunk boundaries", () => {
    const table = randomTable(5000, 1);
    const walk = Int32Array.from({ length: 5000 }, (_, j) => (j * 7919) % 5000);
    let sparseChecked = false;
    for (let seed = 1; seed <= 6; seed++) {
      const net = createDuelingDqn(config, createRng(seed));
      // Shift the select advantage so selections become rare (a quantile of A₁ − A₀ at count 0): the pass
      // must then cross many chunk boundaries and rescore after each selection.
      const margins = advantageMargins(net, table).sort();
      for (const shift of [0, -margins[Math.floor(0.99 * margins.length)]!, -margins[Math.floor(0.999 * margins.length)]!]) {
        const shifted = { ...net, params: Float64Array.from(net.params) };
        shifted.params[shifted.layout.ba2 + 1] = shifted.params[shifted.layout.ba2 + 1]! + shift;
        const expected = naivePass(shifted, table, walk, 5);
        expect(Array.from(greedyPass(shifted, table, walk, 5))).toEqual(expected);
        if (expected.length > 0 && walk.indexOf(expected[expected.length - 1]!) > 2000) sparseChecked = true;
      }
    }
    expect(sparseChecked).toBe(true);
  });
  it("returns fewer than B when the policy never selects", () => {
    const net = createDuelingDqn(config, createRng(1));
    net.params[net.layout.ba2 + 1] = -1e6;
    expect(greedyPass(net, randomTable(100, 2), Int32Array.from({ length: 100 }, (_, j) => j), 3).length).toBe(0);
  });
});
