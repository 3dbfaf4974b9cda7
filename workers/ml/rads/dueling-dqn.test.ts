import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import {
  cloneDqn, createDqnWorkspace, createDuelingDqn, dqnForward, dqnGreedyAction, dqnLossAndGradient, dqnLayout,
} from "./dueling-dqn";

const config = { stateDim: 5, sharedHidden: 6, headHidden: 5, numActions: 2 };

function randomBatch(batch: number, seed: number): { states: Float64Array; actions: Int32Array; targets: Float64Array } {
  const rng = createRng(seed);
  return {
    states: Float64Array.from({ length: batch * config.stateDim }, () => rng.normal()),
    actions: Int32Array.from({ length: batch }, () => rng.int(2)),
    targets: Float64Array.from({ length: batch }, () => 2 * rng.normal()),
  };
}

describe("dueling DQN", () => {
  it("layout holds every tensor of the paper's architecture", () => {
    const L = dqnLayout({ stateDim: 5, sharedHidden: 128, headHidden: 128, numActions: 2 });
    expect(L.size).toBe(128 * 5 + 128 + (128 * 128 + 128 + 128 + 1) + (128 * 128 + 128 + 2 * 128 + 2));
  });

  it("computes Q = V + A − mean(A) from its heads", () => {
    const net = createDuelingDqn(config, createRng(1));
    const ws = createDqnWorkspace(config, 8);
    const { states } = randomBatch(7, 2);
    const q = dqnForward(net, states, 7, ws);
    for (let b = 0; b < 7; b++) {
      const a0 = ws.adv[b * 2]!, a1 = ws.adv[b * 2 + 1]!, v = ws.v[b]!;
      expect(q[b * 2]).toBeCloseTo(v + a0 - (a0 + a1) / 2, 12);
      expect(q[b * 2 + 1]).toBeCloseTo(v + a1 - (a0 + a1) / 2, 12);
      expect(q[b * 2 + 1]! - q[b * 2]!).toBeCloseTo(a1 - a0, 12);
    }
  });

  it("batched forward agrees with one-state forwards (blocked and tail rows)", () => {
    const net = createDuelingDqn(config, createRng(3));
    const ws = createDqnWorkspace(config, 16);
    const wsOne = createDqnWorkspace(config, 1);
    const { states } = randomBatch(11, 4);
    const q = Float64Array.from(dqnForward(net, states, 11, ws).subarray(0, 22));
    for (let b = 0; b < 11; b++) {
      const one = dqnForward(net, states, 1, wsOne, b);
      expect(one[0]).toBeCloseTo(q[b * 2]!, 13);
      expect(one[1]).toBeCloseTo(q[b * 2 + 1]!, 13);
      expect(dqnGreedyAction(net, states, wsOne, b * config.stateDim)).toBe(q[b * 2 + 1]! > q[b * 2]! ? 1 : 0);
    }
  });

  it("analytic gradient matches central finite differences for every parameter", () => {
    for (const batch of [7, 8]) {
      const net = createDuelingDqn(config, createRng(10 + batch));
      const ws = createDqnWorkspace(config, batch);
      const { states, actions, targets } = randomBatch(batch, 20 + batch);
      const grad = new Float64Array(net.layout.size);
      dqnLossAndGradient(net, states, actions, targets, batch, grad, ws);
      const scratch = new Float64Array(net.layout.size);
      const probe = cloneDqn(net);
      const h = 1e-6;
      let worst = 0;
      for (let j = 0; j < net.layout.size; j++) {
        const orig = probe.params[j]!;
        probe.params[j] = orig + h;
        const up = dqnLossAndGradient(probe, states, actions, targets, batch, scratch, ws);
        probe.params[j] = orig - h;
        const down = dqnLossAndGradient(probe, states, actions, targets, batch, scratch, ws);
        probe.params[j] = orig;
        const numeric = (up - down) / (2 * h);
        const err = Math.abs(numeric - grad[j]!) / Math.max(1e-4, Math.abs(numeric) + Math.abs(grad[j]!));
        worst = Math.max(worst, err);
      }
      expect(worst).toBeLessThan(1e-5);
      // The check must be able to fail: some gradients are genuinely non-zero.
      expect(grad.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    }
  });

  it("initialisation is seeded", () => {
    const a = createDuelingDqn(config, createRng(5));
    const b = createDuelingDqn(config, createRng(5));
    const c = createDuelingDqn(config, createRng(6));
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
    expect(Array.from(a.params)).not.toEqual(Array.from(c.params));
  });

  it("rejects bad widths", () => {
    expect(() => createDuelingDqn({ ...config, numActions: 1 }, createRng(1))).toThrow(/numActions/);
    expect(() => createDuelingDqn({ ...config, sharedHidden: 0 }, createRng(1))).toThrow(/sharedHidden/);
  });
});
