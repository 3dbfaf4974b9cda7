import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { createReplayBatch, ReplayBuffer } from "./replay-buffer";

describe("ReplayBuffer", () => {
  it("keeps the newest `capacity` transitions and samples only those", () => {
    const buf = new ReplayBuffer(3, 2);
    for (let t = 0; t < 5; t++) buf.push(Float64Array.from([t, -t]), 0, t % 2, t * 10, Float64Array.from([t + 1, 0]), 0, t === 4);
    expect(buf.size).toBe(3);
    const batch = createReplayBatch(200, 2);
    buf.sample(200, createRng(1), batch);
    const seen = new Set<number>();
    for (let b = 0; b < 200; b++) {
      const t = batch.states[b * 2]!;
      seen.add(t);
      expect(batch.states[b * 2 + 1]).toBe(-t);
      expect(batch.rewards[b]).toBe(t * 10);
      expect(batch.actions[b]).toBe(t % 2);
      expect(batch.nextStates[b * 2]).toBe(t + 1);
      expect(batch.dones[b]).toBe(t === 4 ? 1 : 0);
    }
    expect([...seen].sort()).toEqual([2, 3, 4]);
  });
  it("refuses to sample when empty", () => {
    expect(() => new ReplayBuffer(2, 1).sample(1, createRng(1), createReplayBatch(1, 1))).toThrow(/nothing to sample/);
  });
});
