import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { createDqnWorkspace, createDuelingDqn, dqnForward, dqnLayout, type DuelingDqn } from "./dueling-dqn";
import { buildWideCaseTable, redundancyPenalty, withCosineRedundancy } from "./environment";
import { blendedPass, rankedPass, rankedScorePass } from "./ranked-pass";

describe("rankedPass", () => {
  const rng = createRng(4);
  const n = 700; // more than one scoring chunk
  const c = 2;
  const width = 5;
  const features = Float64Array.from({ length: n * width }, () => rng.next());
  const table = buildWideCaseTable(c, width, features, Float64Array.from({ length: n }, () => rng.next()));
  const net = createDuelingDqn({ stateDim: width + 1, sharedHidden: 8, headHidden: 8, numActions: 2 }, createRng(2));

  /** The definition: at step t score every remaining case by Q(select) − Q(skip) − penalty with a full forward. */
  function naive(shortlist: Int32Array, budget: number, lambda: number): number[] {
    return naiveOn(table, shortlist, budget, lambda);
  }

  /** The same definition on any table of this width. */
  function naiveOn(tab: typeof table, shortlist: Int32Array, budget: number, lambda: number): number[] {
    const ws = createDqnWorkspace(net.config, 1);
    const s = new Float64Array(width + 1);
    const chosen = new Int32Array(budget);
    const out: number[] = [];
    for (let t = 0; t < budget; t++) {
      let best = -1;
      let bestScore = -Infinity;
      shortlist.forEach((i, r) => {
        if (out.includes(i)) return;
        s.set(tab.features.subarray(i * width, (i + 1) * width));
        s[width] = t / budget;
        const q = dqnForward(net, s, 1, ws);
        const score = q[1]! - q[0]! - redundancyPenalty(tab, i, chosen, t, lambda);
        if (score > bestScore) {
          bestScore = score;
          best = r;
        }
      });
      out.push(shortlist[best]!);
      chosen[t] = shortlist[best]!;
    }
    return out;
  }

  it("matches the one-case-at-a-time definition (λ = 0 and a large λ)", () => {
    // A permutation of the pool (13 is coprime to 700), so the tie-break order differs from index order.
    const shortlist = Int32Array.from({ length: n }, (_, i) => (i * 13) % n);
    for (const lambda of [0, 0.5]) {
      const r = rankedPass(net, table, shortlist, 6, lambda);
      const want = naive(shortlist, 6, lambda);
      expect(Array.from(r.selected)).toEqual(want);
      expect(r.scores).toHaveLength(6);
    }
  });

  it("matches the definition with cosine (embedding) redundancy too", () => {
    const cosTable = withCosineRedundancy(table, Float64Array.from({ length: n * 3 }, () => rng.normal()), 3);
    const shortlist = Int32Array.from({ length: 40 }, (_, i) => (i * 17) % n);
    for (const lambda of [0, 2]) {
      expect(Array.from(rankedPass(net, cosTable, shortlist, 5, lambda).selected)).toEqual(naiveOn(cosTable, shortlist, 5, lambda));
    }
    // A large λ changes the picks (near-duplicates are pushed out), so the penalty is really applied.
    expect(Array.from(rankedPass(net, cosTable, shortlist, 5, 50).selected)).not.toEqual(Array.from(rankedPass(net, cosTable, shortlist, 5, 0).selected));
  });

  it("takes at most the shortlist and rejects a network of another state size", () => {
    expect(rankedPass(net, table, Int32Array.from([3, 1]), 5, 0).selected).toHaveLength(2);
    const other = createDuelingDqn({ stateDim: 3, sharedHidden: 4, headHidden: 4, numActions: 2 }, createRng(1));
    expect(() => rankedPass(other, table, Int32Array.from([0]), 1, 0)).toThrow(/expects states of 3/);
    expect(() => rankedPass(net, table, Int32Array.from([4, 4]), 1, 0)).toThrow(/twice/);
  });
});

describe("rankedScorePass", () => {
  // Four 2-d unit directions: cases 0 and 1 are near duplicates, 2 and 3 point elsewhere.
  const vectors = [1, 0, 0.99, 0.141, 0, 1, -1, 0];
  const base = buildWideCaseTable(2, 2, new Float64Array(8), new Float64Array(4));
  const table = withCosineRedundancy(base, vectors, 2);
  const score = Float64Array.from([1, 0.95, 0.9, 0.2]);
  const all = Int32Array.from([0, 1, 2, 3]);

  it("with λ = 0 takes the top cases by score", () => {
    expect(Array.from(rankedScorePass(table, score, all, 3, 0).selected)).toEqual([0, 1, 2]);
  });

  it("with λ > 0 skips a near duplicate of a chosen case (hand-computed penalties)", () => {
    const r = rankedScorePass(table, score, all, 3, 0.5);
    // Step 1: case 1 pays 0.5·cos(0, 1) ≈ 0.495 → 0.455 < 0.9 of case 2. Step 2: case 1 pays 0.495 again (max over
    // 0 and 2) → 0.455; case 3 pays 0.5·max(0, −1, 0) = 0 → 0.2.
    expect(Array.from(r.selected)).toEqual([0, 2, 1]);
    const cos01 = 0.99 / Math.hypot(0.99, 0.141);
    expect(r.scores[2]).toBeCloseTo(0.95 - 0.5 * cos01, 10);
  });

  it("depends on the shortlist's content, not its order, when scores differ", () => {
    const a = rankedScorePass(table, score, Int32Array.from([3, 1, 0, 2]), 4, 0.5);
    const b = rankedScorePass(table, score, all, 4, 0.5);
    expect(Array.from(a.selected)).toEqual(Array.from(b.selected));
  });

  it("rejects a repeated or out-of-pool shortlist entry and a score vector of another length", () => {
    expect(() => rankedScorePass(table, score, Int32Array.from([0, 0]), 1, 0)).toThrow(/twice/);
    expect(() => rankedScorePass(table, score, Int32Array.from([4]), 1, 0)).toThrow(/outside/);
    expect(() => rankedScorePass(table, new Float64Array(3), all, 1, 0)).toThrow(/3 scores for 4/);
  });
});

describe("blendedPass", () => {
  // Table of width 2 (C = 2), no cosine vectors; feature column 1 is what the hand-made agents read.
  const gapFeature = [0, 1, 0.2, 0.5];
  const features = Float64Array.from(gapFeature.flatMap((g) => [0, g]));
  const table = buildWideCaseTable(2, 2, features, new Float64Array(4));
  const score = Float64Array.from([1, 0.95, 0.5, 0.94]);
  const all = Int32Array.from([0, 1, 2, 3]);

  /**
   * A 1-wide agent whose advantage gap A(select) − A(skip) is sign·feature 1 (for feature 1 >= 0): h = relu(f1),
   * a1 = relu(h), A = [0, sign·a1]; the count column has weight 0.
   */
  function agent(sign: number): DuelingDqn {
    const config = { stateDim: 3, sharedHidden: 1, headHidden: 1, numActions: 2 };
    const layout = dqnLayout(config);
    const params = new Float64Array(layout.size);
    params[layout.w1 + 1] = 1;
    params[layout.wa1] = 1;
    params[layout.wa2 + 1] = sign;
    return { config, layout, params };
  }

  it("adds β times the min-max normalised gap of the remaining cases (hand-computed)", () => {
    const r = blendedPass([agent(1)], table, score, all, 3, 0, 0.1);
    // Step 0: g̃ = (0, 1, 0.2, 0.5) → s = (1, 1.05, 0.52, 0.99): case 1. Step 1: remaining 0, 2, 3 with gaps 0, 0.2,
    // 0.5 → g̃ = (0, 0.4, 1) → s = (1, 0.54, 1.04): case 3. Step 2: remaining 0, 2 → g̃ = (0, 1) → s = (1, 0.6): case 0.
    expect(Array.from(r.selected)).toEqual([1, 3, 0]);
    expect(Array.from(r.scores)).toEqual([expect.closeTo(1.05, 12), expect.closeTo(1.04, 12), expect.closeTo(1, 12)]);
    expect(Array.from(r.agentTerms)).toEqual([1, 1, 0]);
  });

  it("with β = 0, no agents, or agents whose mean gap is constant, is the utility's ranked pass", () => {
    const plain = Array.from(rankedScorePass(table, score, all, 3, 0).selected);
    expect(plain).toEqual([0, 1, 3]);
    expect(Array.from(blendedPass([agent(1)], table, score, all, 3, 0, 0).selected)).toEqual(plain);
    expect(Array.from(blendedPass([], table, score, all, 3, 0, 0.1).selected)).toEqual(plain);
    // Two agents with opposite gaps average to 0 for every case: the agent term vanishes.
    const averaged = blendedPass([agent(1), agent(-1)], table, score, all, 3, 0, 0.1);
    expect(Array.from(averaged.selected)).toEqual(plain);
    expect(Array.from(averaged.agentTerms)).toEqual([0, 0, 0]);
  });

  it("with β = 0 equals rankedScorePass with redundancy; with β > 0 is order-invariant and keeps the agent term in [0, 1]", () => {
    const rng = createRng(9);
    const n = 60;
    const wide = buildWideCaseTable(2, 4, Float64Array.from({ length: n * 4 }, () => rng.next()), new Float64Array(n));
    const cos = withCosineRedundancy(wide, Float64Array.from({ length: n * 3 }, () => rng.next() - 0.5), 3);
    const s = Float64Array.from({ length: n }, () => rng.next());
    const list = Int32Array.from({ length: 30 }, (_, k) => 2 * k);
    const net = createDuelingDqn({ stateDim: 5, sharedHidden: 6, headHidden: 4, numActions: 2 }, createRng(3));
    expect(Array.from(blendedPass([net], cos, s, list, 8, 0.3, 0).selected)).toEqual(Array.from(rankedScorePass(cos, s, list, 8, 0.3).selected));
    const a = blendedPass([net], cos, s, list, 8, 0.3, 0.2);
    const reversed = blendedPass([net], cos, s, list.slice().reverse(), 8, 0.3, 0.2);
    expect(Array.from(reversed.selected)).toEqual(Array.from(a.selected));
    for (const t of a.agentTerms) expect(t >= 0 && t <= 1).toBe(true);
  });

  it("rejects a negative β, a network of another state size and a bad shortlist", () => {
    expect(() => blendedPass([agent(1)], table, score, all, 2, 0, -1)).toThrow(/agentWeight/);
    const other = createDuelingDqn({ stateDim: 4, sharedHidden: 2, headHidden: 2, numActions: 2 }, createRng(1));
    expect(() => blendedPass([other], table, score, all, 2, 0, 0.1)).toThrow(/expects states of 4/);
    expect(() => blendedPass([agent(1)], table, score, Int32Array.from([1, 1]), 1, 0, 0.1)).toThrow(/twice/);
  });
});
