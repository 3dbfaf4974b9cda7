import { describe, expect, it } from "vitest";
import { baldFeatures } from "../bald";
import { createRng } from "../rng";
import { DEFAULT_AGENT_CONFIG, trainAgent, type AgentConfig } from "./agent-training";
import { buildCaseTable, type RadsCaseTable } from "./environment";
import { greedyPass } from "./greedy-pass";
import { priorAwareWeights, pseudoPrior, resolveTargetMix } from "./prior";
import { plantedPool } from "./test-pools";
import { caseUtility } from "./utility";

/** Paper hyper-parameters except narrower layers, so the test stays fast (the widths are parameters). */
const small: AgentConfig = { ...DEFAULT_AGENT_CONFIG, sharedHidden: 32, headHidden: 32 };

function tableFor(n: number, planted: number[]): RadsCaseTable {
  const bald = baldFeatures(plantedPool(n, planted));
  const weights = priorAwareWeights(pseudoPrior(bald.pseudoLabel, 2), [1], resolveTargetMix(2, [1], 0.9));
  const utility = caseUtility(bald.mutualInformation, bald.pseudoLabel, weights);
  return buildCaseTable(2, bald.meanLogProb, bald.entropy, bald.mutualInformation, utility);
}

describe("trainAgent", () => {
  const table = tableFor(10, [3, 7]);
  const walk = Int32Array.from({ length: 10 }, (_, i) => i);

  it("learns to skip to the two obviously best cases of a pool of 10 (B = 2), without any top-up", () => {
    // Sanity of the setup: the planted cases really are the two highest-utility ones.
    expect(table.utility[3]).toBeGreaterThan(1);
    expect(Math.max(...Array.from(table.utility).filter((_, i) => i !== 3 && i !== 7))).toBeLessThan(0.2);
    for (const seed of [1, 2, 3]) {
      const trained = trainAgent(table, 2, () => walk, small, createRng(seed));
      expect(Array.from(greedyPass(trained.net, table, walk, 2))).toEqual([3, 7]);
      // Selecting both pays ≈ 2·w₊; the kept weights come from a window that earned a good part of it.
      expect(trained.bestMovingAverage).toBeGreaterThan(table.utility[3]!);
    }
  });

  it("is deterministic under a seed", () => {
    const config = { ...small, episodes: 40 };
    const a = trainAgent(table, 2, () => walk, config, createRng(9));
    const b = trainAgent(table, 2, () => walk, config, createRng(9));
    const c = trainAgent(table, 2, () => walk, config, createRng(10));
    expect(Array.from(a.returns)).toEqual(Array.from(b.returns));
    expect(Array.from(a.net.params)).toEqual(Array.from(b.net.params));
    expect(Array.from(a.net.params)).not.toEqual(Array.from(c.net.params));
  });

  it("takes one gradient step per environment step once the buffer holds a minibatch, or a capped number per episode", () => {
    const every = trainAgent(table, 2, () => walk, { ...small, episodes: 30 }, createRng(4));
    expect(every.returns.length).toBe(30);
    expect(every.gradientSteps).toBe(every.envSteps - (small.batchSize - 1));
    const capped = trainAgent(table, 2, () => walk, { ...small, episodes: 30, maxUpdatesPerEpisode: 1 }, createRng(4));
    expect(capped.gradientSteps).toBeLessThanOrEqual(30);
    expect(capped.gradientSteps).toBeGreaterThan(0);
  });

  it("rejects meaningless hyper-parameters", () => {
    expect(() => trainAgent(table, 2, () => walk, { ...small, episodes: 0 }, createRng(1))).toThrow(/episodes/);
    expect(() => trainAgent(table, 2, () => walk, { ...small, gamma: 1.5 }, createRng(1))).toThrow(/gamma/);
    expect(() => trainAgent(table, 2, () => walk, { ...small, batchSize: 20_000 }, createRng(1))).toThrow(/batchSize/);
  });
});
