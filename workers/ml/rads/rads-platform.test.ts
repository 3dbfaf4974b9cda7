import { describe, expect, it } from "vitest";
import { createRng, permutation } from "../rng";
import type { Matrix, McLogProbs, SelectionInput } from "../types";
import {
  DEFAULT_SMALL_BUDGET_MIX, decodeRadsWarmStart, encodeRadsWarmStart, expectedGradientLength, floorMinorityWeights, mergeRankings, minorityDecisionCloseness, minorityVoteDisagreement, RADS_WARM_START_KIND, radsPlatformStrategy, selectWithRadsPlatform,
  resolveRadsPlatformParams, utilityMixForBudget, type RadsPlatformOptions, type RadsWarmStart,
} from "./rads-platform";
import { embeddingStateFeatures } from "./embedding-features";
import { syntheticPool } from "./test-pools";

/** Narrow layers and few episodes keep the tests fast; the claims do not depend on them. */
const fast: RadsPlatformOptions = { policy: "agent", agent: { sharedHidden: 16, headHidden: 16, episodes: 30 }, warmEpisodes: 10 };

/** A binary pool whose head never ranks the minority first: minority probability 0.02–0.45 (K = 4 passes). */
function timidPool(n: number, seed: number): { mc: McLogProbs; minorityP: Float64Array } {
  const rng = createRng(seed);
  const k = 4;
  const data = new Float32Array(n * k * 2);
  const minorityP = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const centre = 0.02 + 0.4 * rng.next();
    for (let kk = 0; kk < k; kk++) {
      const p = Math.min(0.45, Math.max(0.01, centre + 0.04 * (rng.next() - 0.5)));
      data[(i * k + kk) * 2] = Math.log(1 - p);
      data[(i * k + kk) * 2 + 1] = Math.log(p);
      minorityP[i] = minorityP[i]! + p / k;
    }
  }
  return { mc: { data, n, k, c: 2 }, minorityP };
}

function randomEmbeddings(n: number, d: number, seed: number): Matrix {
  const rng = createRng(seed);
  return { data: Float32Array.from({ length: n * d }, () => rng.normal()), rows: n, cols: d };
}

function input(mc: McLogProbs, budget: number, seed: number, extra: Partial<SelectionInput> = {}): SelectionInput {
  return { poolSize: mc.n, budget, mc, embeddings: null, labelledEmbeddings: null, minorityClasses: [1], rng: createRng(seed), ...extra };
}

/** The pool (mc rows and embedding rows) reordered: new case j is old case order[j]. */
function reorder(mc: McLogProbs, emb: Matrix, order: Int32Array): { mc: McLogProbs; emb: Matrix } {
  const row = mc.k * mc.c;
  const data = new Float32Array(mc.data.length);
  const e = new Float32Array(emb.data.length);
  order.forEach((old, j) => {
    data.set(mc.data.subarray(old * row, (old + 1) * row), j * row);
    e.set(emb.data.subarray(old * emb.cols, (old + 1) * emb.cols), j * emb.cols);
  });
  return { mc: { ...mc, data }, emb: { ...emb, data: e } };
}

describe("platform RADS: soft prior", () => {
  it("keeps π̂ above 0 and the weights finite when the head predicts no minority at all", () => {
    const { mc, minorityP } = timidPool(200, 1);
    // The paper's ρ = 0.9, where the argmax prior's collapse hurt most.
    const r = selectWithRadsPlatform(input(mc, 5, 1), { ...fast, rho: 0.9 });
    const argmaxPrior = r.stats.argmaxPrior as number[];
    const prior = r.stats.prior as number[];
    const weights = r.stats.classWeights as number[];
    // The paper's argmax prior collapses ...
    expect(argmaxPrior[1]).toBe(0);
    // ... the soft prior is the mean minority mass.
    const mean = minorityP.reduce((a, b) => a + b, 0) / minorityP.length;
    expect(prior[1]).toBeCloseTo(mean, 5);
    expect(prior[1]).toBeGreaterThan(0.1);
    for (const w of weights) expect(Number.isFinite(w)).toBe(true);
    // w₊ = 0.9/π̂₊, w₋ = 0.1/(1 − π̂₊): no 0.9/1e-3 blow-up.
    expect(weights[1]).toBeCloseTo(0.9 / prior[1]!, 9);
    expect(weights[1]).toBeLessThan(10);
    // Expected weight follows the minority mass, so the queue leans to the likelier minority cases.
    const ew = r.features.expectedWeight!;
    r.features.minorityMass!.forEach((m, j) => expect(ew[j]).toBeCloseTo(m * weights[1]! + (1 - m) * weights[0]!, 9));
    const selectedMass = Array.from(r.features.minorityMass!).reduce((a, b) => a + b, 0) / r.selected.length;
    expect(selectedMass).toBeGreaterThan(mean);
  });
});

describe("platform RADS: ranked pass", () => {
  it("is order-invariant: a shuffled pool gives the same selection (same cases, same queue order)", () => {
    const mc = syntheticPool(240, 4, 11, 0.1);
    const emb = randomEmbeddings(240, 6, 3);
    const labelledEmbeddings = randomEmbeddings(12, 6, 4);
    const labelledLabels = Int32Array.from({ length: 12 }, (_, j) => (j % 4 === 0 ? 1 : 0));
    const base = selectWithRadsPlatform(input(mc, 6, 9, { embeddings: emb, labelledEmbeddings, labelledLabels }), fast);
    for (const shuffleSeed of [1, 2]) {
      const order = permutation(240, createRng(shuffleSeed));
      const s = reorder(mc, emb, order);
      const r = selectWithRadsPlatform(input(s.mc, 6, 9, { embeddings: s.emb, labelledEmbeddings, labelledLabels }), fast);
      expect(Array.from(r.selected, (j) => order[j]!)).toEqual(Array.from(base.selected));
      expect(r.stats.returnCurve).toEqual(base.stats.returnCurve);
    }
    expect(new Set(base.selected).size).toBe(6);
  });

  it("ranks within the utility shortlist and reports the agent's score per pick", () => {
    const mc = syntheticPool(300, 4, 5, 0.08);
    const r = selectWithRadsPlatform(input(mc, 5, 2), { ...fast, shortlist: "utility", shortlistFactor: 3 });
    expect(r.stats.shortlist).toBe(15);
    expect(r.features.agentScore).toHaveLength(5);
    // Utility of every case (a queue of the whole pool reports each one), and the 15th largest.
    const everything = selectWithRadsPlatform(input(mc, 300, 2), { ...fast, agent: { ...fast.agent, episodes: 2 } });
    const cutoff = Array.from(everything.features.utility!).sort((x, y) => y - x)[14]!;
    for (const u of r.features.utility!) expect(u).toBeGreaterThanOrEqual(cutoff);
    // The scores are the winners' at each step, so they are finite.
    for (const v of r.features.agentScore!) expect(Number.isFinite(v)).toBe(true);
  });
});

describe("platform RADS: experts shortlist and embedding redundancy", () => {
  it("mergeRankings takes each ranking's next case in turn, skipping repeats, up to the size", () => {
    const a = Int32Array.from([5, 1, 2, 0]);
    const b = Int32Array.from([5, 3, 1, 4]);
    const c = Int32Array.from([2, 5]);
    expect(Array.from(mergeRankings([a, b, c], 5))).toEqual([5, 2, 1, 3, 0]);
    expect(Array.from(mergeRankings([a, b, c], 100))).toEqual([5, 2, 1, 3, 0, 4]);
    expect(Array.from(mergeRankings([a], 2))).toEqual([5, 1]);
    expect(mergeRankings([], 3)).toHaveLength(0);
  });

  it("expectedGradientLength is Σ_c p̄_c·‖p̄ − e_c‖ (hand-computed) and 0 for a sure case", () => {
    const g = expectedGradientLength(Float64Array.from([0.5, 0.5, 0, 1, 0, 0, 0.6, 0.3, 0.1]), 3);
    // (0.5, 0.5, 0): each label's gradient has norm √(0.25 + 0.25) = √0.5.
    expect(g[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(g[1]).toBe(0);
    const n0 = Math.hypot(0.4, 0.3, 0.1), n1 = Math.hypot(0.6, 0.7, 0.1), n2 = Math.hypot(0.6, 0.3, 0.9);
    expect(g[2]).toBeCloseTo(0.6 * n0 + 0.3 * n1 + 0.1 * n2, 12);
  });

  const opts: RadsPlatformOptions = { ...fast, shortlist: "experts", shortlistFactor: 3, redundancy: "embedding", embeddingLambda: 0.3 };

  it("is order-invariant and deterministic under a seed", () => {
    const mc = syntheticPool(240, 4, 21, 0.1);
    const emb = randomEmbeddings(240, 6, 5);
    const base = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), opts);
    expect(base.stats.redundancy).toBe("embedding");
    expect(base.stats.lambda).toBe(0.3);
    expect(base.stats.shortlist).toBe(18);
    const again = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), opts);
    expect(Array.from(again.selected)).toEqual(Array.from(base.selected));
    const order = permutation(240, createRng(8));
    const s = reorder(mc, emb, order);
    const r = selectWithRadsPlatform(input(s.mc, 6, 4, { embeddings: s.emb }), opts);
    expect(Array.from(r.selected, (j) => order[j]!)).toEqual(Array.from(base.selected));
    expect(r.stats.returnCurve).toEqual(base.stats.returnCurve);
  });

  it("computes embedding features only for the rows it uses, with the values of the full-pool computation", () => {
    const mc = syntheticPool(260, 4, 11, 0.1);
    const emb = randomEmbeddings(260, 5, 3);
    const labelledEmbeddings = randomEmbeddings(9, 5, 4);
    const labelledLabels = Int32Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0]);
    const extra = { embeddings: emb, labelledEmbeddings, labelledLabels };
    // A density reference limit below the pool size: the sampled reference set must be the same draw.
    const o: RadsPlatformOptions = { ...opts, densityReferenceLimit: 50, densityNeighbours: 4 };
    const r = selectWithRadsPlatform(input(mc, 5, 7, extra), o);
    const full = embeddingStateFeatures(emb, labelledEmbeddings, labelledLabels, [1], createRng(7).fork(), { neighbours: 4, referenceLimit: 50 });
    Array.from(r.selected).forEach((i, j) => {
      expect(r.features.distanceToMinority![j]).toBe(full.distanceToMinority[i]);
      expect(r.features.distanceToLabelled![j]).toBe(full.distanceToLabelled[i]);
      expect(r.features.density![j]).toBe(full.density[i]);
    });
    // The utility ablation computes them for its queue only; still the full-pool values.
    const u = selectWithRadsPlatform(input(mc, 5, 7, extra), { ...o, policy: "utility" });
    Array.from(u.selected).forEach((i, j) => expect(u.features.density![j]).toBe(full.density[i]));
  });

  it("picks only from the experts' shortlist: top cases by utility, by smallest margin and by largest entropy", () => {
    const mc = syntheticPool(300, 4, 6, 0.1);
    const emb = randomEmbeddings(300, 6, 2);
    const r = selectWithRadsPlatform(input(mc, 4, 2, { embeddings: emb }), { ...opts, shortlistFactor: 2 });
    // 8 shortlisted cases: the top 3 of each of the three rankings cover at least 8 − 2 of them; any pick must be
    // within the top 8 of at least one ranking.
    const everything = selectWithRadsPlatform(input(mc, 300, 2, { embeddings: emb }), { policy: "utility" });
    const util = new Map(Array.from(everything.selected, (i, j) => [i, everything.features.utility![j]!]));
    const ent = new Map(Array.from(everything.selected, (i, j) => [i, everything.features.entropy![j]!]));
    const topBy = (m: Map<number, number>) => new Set([...m.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 8).map(([i]) => i));
    const topUtil = topBy(util);
    const topEnt = topBy(ent);
    for (const i of r.selected) expect(topUtil.has(i) || topEnt.has(i)).toBe(true);
  });

  it("falls back to the probability redundancy without embeddings, and rejects bad options", () => {
    const r = selectWithRadsPlatform(input(syntheticPool(80, 4, 3, 0.1), 3, 1), opts);
    expect(r.stats.redundancy).toBe("probability");
    expect(r.stats.lambda).toBe(0.01);
    expect(() => radsPlatformStrategy({ shortlist: "nope" as "utility" })).toThrow(/shortlist/);
    expect(() => radsPlatformStrategy({ embeddingLambda: -1 })).toThrow(/embeddingLambda/);
    expect(() => radsPlatformStrategy({ redundancy: "x" as "embedding" })).toThrow(/redundancy/);
  });
});

describe("platform RADS: minority weight floor", () => {
  it("raises each minority weight to the largest rest weight and leaves larger ones alone", () => {
    const w = Float64Array.from([2, 0.5, 3, 1]);
    floorMinorityWeights(w, [1, 2]);
    expect(Array.from(w)).toEqual([2, 2, 3, 1]);
  });

  it("a head that over-predicts the minority (π̂₊ > ρ) no longer turns the utility against it", () => {
    // Two classes, p̄₊ = 0.4, 0.6, 0.8 (π̂₊ = 0.6 > ρ = 0.3): the paper's weights are w₊ = 0.5 < w₋ = 1.75.
    const lp = (p: number) => [Math.log(1 - p), Math.log(p)];
    const mc = { n: 3, k: 2, c: 2, data: Float32Array.from([0.4, 0.4, 0.6, 0.6, 0.8, 0.8].flatMap(lp)) };
    const mix = { margin: 1, minorityBoundary: 0, entropy: 0 };
    const paper = selectWithRadsPlatform(input(mc, 3, 1), { policy: "utility", utilityMix: mix, minorityWeightFloor: false });
    expect((paper.stats.classWeights as number[])[1]).toBeCloseTo(0.5, 5);
    // Cases 0.4 and 0.6 are equally uncertain; the paper's weights prefer the likelier majority case.
    expect(paper.selected[0]).toBe(0);
    const floored = selectWithRadsPlatform(input(mc, 3, 1), { policy: "utility", utilityMix: mix, minorityWeightFloor: true });
    const [w0, w1] = floored.stats.classWeights as number[];
    expect(w1).toBeCloseTo(w0!, 12);
    expect((floored.stats.unflooredClassWeights as number[])[1]).toBeCloseTo(0.5, 5);
    // Equal weights: the utility is 1 − margin, so 0.4 and 0.6 tie (ties → lower pool index) ahead of 0.8.
    expect(Array.from(floored.features.utility!)).toEqual([expect.closeTo(0.8, 5), expect.closeTo(0.8, 5), expect.closeTo(0.4, 5)]);
    expect(floored.stats.minorityPrior).toBeCloseTo(0.6, 5);
  });
});

describe("platform RADS: warm start", () => {
  it("is deterministic under a seed with and without a warm start, and hands its agent to the next round", () => {
    const mc = syntheticPool(200, 4, 7, 0.1);
    const cold1 = selectWithRadsPlatform(input(mc, 4, 3), fast);
    const cold2 = selectWithRadsPlatform(input(mc, 4, 3), fast);
    expect(Array.from(cold1.selected)).toEqual(Array.from(cold2.selected));
    expect(cold1.stats.warmStarted).toBe(false);
    const warmState = cold1.warmStart as RadsWarmStart;
    expect(warmState.kind).toBe(RADS_WARM_START_KIND);
    expect(warmState.rounds).toBe(1);

    const next = syntheticPool(200, 4, 8, 0.1);
    const a = selectWithRadsPlatform(input(next, 4, 5, { warmStart: warmState }), fast);
    const b = selectWithRadsPlatform(input(next, 4, 5, { warmStart: warmState }), fast);
    expect(a.stats.warmStarted).toBe(true);
    expect(a.stats.episodes).toBe(10);
    expect(Array.from(a.selected)).toEqual(Array.from(b.selected));
    expect(Array.from((a.warmStart as RadsWarmStart).params)).toEqual(Array.from((b.warmStart as RadsWarmStart).params));
    expect((a.warmStart as RadsWarmStart).rounds).toBe(2);
    // The warm start changes the training (it starts from other weights): the return curves differ from a cold round's.
    const c = selectWithRadsPlatform(input(next, 4, 5), { ...fast, agent: { ...fast.agent, episodes: 10 } });
    expect(c.stats.returnCurve).not.toEqual(a.stats.returnCurve);
  });

  it("ignores a warm start of another shape or kind (the round starts cold)", () => {
    const mc = syntheticPool(100, 4, 2, 0.1);
    const first = selectWithRadsPlatform(input(mc, 3, 1), fast).warmStart as RadsWarmStart;
    const wider = selectWithRadsPlatform(input(mc, 3, 1, { warmStart: first }), { ...fast, agent: { ...fast.agent, sharedHidden: 8 } });
    expect(wider.stats.warmStarted).toBe(false);
    const other = selectWithRadsPlatform(input(mc, 3, 1, { warmStart: { kind: "something-else/1" } }), fast);
    expect(other.stats.warmStarted).toBe(false);
  });

  it("round-trips through its JSON-safe encoding", () => {
    const mc = syntheticPool(80, 4, 2, 0.1);
    const w = selectWithRadsPlatform(input(mc, 2, 1), fast).warmStart as RadsWarmStart;
    const decoded = decodeRadsWarmStart(JSON.parse(JSON.stringify(encodeRadsWarmStart(w))));
    expect(decoded).not.toBeNull();
    expect(Array.from(decoded!.params)).toEqual(Array.from(w.params));
    expect(decoded!.stateDim).toBe(w.stateDim);
    expect(decodeRadsWarmStart({ kind: RADS_WARM_START_KIND, paramsBase64: 3 })).toBeNull();
    expect(decodeRadsWarmStart(null)).toBeNull();
  });
});

describe("platform RADS: utility policy", () => {
  it("selects the top-B by utility without training an agent, and is order-invariant", () => {
    const mc = syntheticPool(150, 4, 3, 0.1);
    const emb = randomEmbeddings(150, 5, 1);
    const r = selectWithRadsPlatform(input(mc, 7, 1, { embeddings: emb }), { policy: "utility", utilityRedundancy: 0 });
    expect(r.stats.policy).toBe("utility");
    expect(r.stats.episodes).toBe(0);
    expect(r.warmStart).toBeUndefined();
    // The whole pool with the same (small-budget) mix as the B = 7 round.
    const all = selectWithRadsPlatform(input(mc, 150, 1, { embeddings: emb }), { policy: "utility", utilityRedundancy: 0, smallBudgetMix: { ...DEFAULT_SMALL_BUDGET_MIX, maxBudget: 150 } });
    const sorted = Array.from(all.features.utility!).sort((x, y) => y - x);
    expect(Array.from(r.features.utility!)).toEqual(sorted.slice(0, 7));
    const order = permutation(150, createRng(5));
    const s = reorder(mc, emb, order);
    const shuffled = selectWithRadsPlatform(input(s.mc, 7, 1, { embeddings: s.emb }), { policy: "utility", utilityRedundancy: 0 });
    expect(Array.from(shuffled.selected, (j) => order[j]!)).toEqual(Array.from(r.selected));
  });

  it("utility = (expected weight / max weight) · mean of (1 − top-2 margin) and (1 − |2·minority mass − 1|)", () => {
    // Two classes, minority 1, K = 2 identical passes: p̄₊ = 0.2, 0.5, 0.9.
    const lp = (p: number) => [Math.log(1 - p), Math.log(p)];
    const mc = { n: 3, k: 2, c: 2, data: Float32Array.from([...lp(0.2), ...lp(0.2), ...lp(0.5), ...lp(0.5), ...lp(0.9), ...lp(0.9)]) };
    const r = selectWithRadsPlatform(input(mc, 3, 1), { policy: "utility", utilityMix: { margin: 1, minorityBoundary: 1, entropy: 0 }, minorityWeightFloor: false, weightStrength: 1 });
    // Soft prior π̂₊ = (0.2 + 0.5 + 0.9)/3; ρ = 0.3: w₊ = 0.3/π̂₊, w₋ = 0.7/(1 − π̂₊).
    const pi = 1.6 / 3;
    const w1 = 0.3 / pi, w0 = 0.7 / (1 - pi);
    const util = (p: number) => ((p * w1 + (1 - p) * w0) / Math.max(w0, w1)) * ((1 - Math.abs(2 * p - 1)) + (1 - Math.abs(2 * p - 1))) / 2;
    const byCase = new Map(Array.from(r.selected, (i, j) => [i, r.features.utility![j]!]));
    [0.2, 0.5, 0.9].forEach((p, i) => expect(byCase.get(i)).toBeCloseTo(util(p), 5));
    expect(r.selected[0]).toBe(1);
  });
});

describe("platform RADS: argmax-decision utility terms (minority vs rest)", () => {
  it("minorityDecisionCloseness = 1 − |max minority p̄ − max rest p̄| (hand-computed), 0 without a minority/rest split", () => {
    // Three classes, minority {1, 2}: (0.4, 0.3, 0.3) has minority mass 0.6 but argmax rest.
    const p = Float64Array.from([0.4, 0.3, 0.3, 0.1, 0.8, 0.1, 0.5, 0.5, 0, 0.2, 0.35, 0.45]);
    const d = minorityDecisionCloseness(p, 3, [1, 2]);
    expect(Array.from(d).map((v) => +v.toFixed(12))).toEqual([0.9, 0.3, 1, 0.75]);
    expect(Array.from(minorityDecisionCloseness(p, 3, []))).toEqual([0, 0, 0, 0]);
    expect(Array.from(minorityDecisionCloseness(p, 3, [0, 1, 2]))).toEqual([0, 0, 0, 0]);
  });

  it("minorityVoteDisagreement = 1 − |2q − 1| over the members' own argmax (hand-computed; ties to the lower class)", () => {
    // N = 4 cases, K = 4 members, C = 3, minority {1, 2}. Members given as probabilities (logged below).
    const members: number[][][] = [
      [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.2, 0.3], [0.1, 0.1, 0.8]], // 2 of 4 minority → 1
      [[0.6, 0.3, 0.1], [0.6, 0.3, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]], // 1 of 4 → 0.5
      [[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6]], // 4 of 4 → 0
      [[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.4, 0.2, 0.4], [0.3, 0.4, 0.3]], // ties to class 0 thrice, 1 of 4 → 0.5
    ];
    const data = Float32Array.from(members.flat(2).map(Math.log));
    const v = minorityVoteDisagreement({ data, n: 4, k: 4, c: 3 }, [1, 2]);
    expect(Array.from(v)).toEqual([1, 0.5, 0, 0.5]);
  });

  it("as utility terms: the utility is their mean, the selection order-invariant and deterministic under a seed", () => {
    const mc = syntheticPool(120, 5, 21, 0.15);
    const emb = randomEmbeddings(120, 4, 2);
    const o: RadsPlatformOptions = { policy: "utility", utilityMix: { minorityBoundary: 0, entropy: 0, decisionMargin: 1, decisionVote: 1 } };
    const r = selectWithRadsPlatform(input(mc, 6, 1, { embeddings: emb }), o);
    const bald = Array.from({ length: 120 }, (_, i) => {
      let s = 0;
      for (let k = 0; k < 5; k++) s += Math.exp(mc.data[(i * 5 + k) * 2 + 1]!) / 5;
      return s;
    });
    const closeness = minorityDecisionCloseness(Float64Array.from(bald.flatMap((q) => [1 - q, q])), 2, [1]);
    const vote = minorityVoteDisagreement(mc, [1]);
    Array.from(r.selected).forEach((i, j) => expect(r.features.utility![j]).toBeCloseTo((closeness[i]! + vote[i]!) / 2, 6));
    expect(Array.from(selectWithRadsPlatform(input(mc, 6, 1, { embeddings: emb }), o).selected)).toEqual(Array.from(r.selected));
    const order = permutation(120, createRng(8));
    const s = reorder(mc, emb, order);
    const shuffled = selectWithRadsPlatform(input(s.mc, 6, 1, { embeddings: s.emb }), o);
    expect(Array.from(shuffled.selected, (j) => order[j]!)).toEqual(Array.from(r.selected));
  });
});

describe("platform RADS: weight strength and diverse utility pass", () => {
  const lp = (p: number) => [Math.log(1 - p), Math.log(p)];
  // Two classes, minority 1, K = 2 identical passes: p̄₊ = 0.1, 0.3, 0.6.
  const mc = { n: 3, k: 2, c: 2, data: Float32Array.from([...lp(0.1), ...lp(0.1), ...lp(0.3), ...lp(0.3), ...lp(0.6), ...lp(0.6)]) };
  const margin = (p: number) => 1 - Math.abs(2 * p - 1);

  it("u = term · ((1 − γ) + γ·ew/max w): γ = 0 is plain uncertainty, γ = 1 the weighted utility", () => {
    const pi = 1.0 / 3;
    const w1 = 0.3 / pi, w0 = 0.7 / (1 - pi);
    const rel = (p: number) => (p * w1 + (1 - p) * w0) / Math.max(w0, w1);
    for (const gamma of [0, 0.5, 1]) {
      const r = selectWithRadsPlatform(input(mc, 3, 1), { policy: "utility", utilityMix: { margin: 1, entropy: 0 }, minorityWeightFloor: false, weightStrength: gamma });
      const byCase = new Map(Array.from(r.selected, (i, j) => [i, r.features.utility![j]!]));
      [0.1, 0.3, 0.6].forEach((p, i) => expect(byCase.get(i)).toBeCloseTo(margin(p) * (1 - gamma + gamma * rel(p)), 6));
    }
    expect(() => radsPlatformStrategy({ weightStrength: 1.5 })).toThrow(/weightStrength/);
    expect(() => radsPlatformStrategy({ utilityRedundancy: -0.1 })).toThrow(/utilityRedundancy/);
  });

  it("utilityRedundancy > 0 picks from the shortlist with embedding redundancy: order-invariant, deterministic, no near duplicates", () => {
    const pool = syntheticPool(200, 4, 9, 0.1);
    // Embeddings: cases come in identical pairs (2j, 2j + 1), so a plain top-B by utility takes both of a pair when
    // their utilities are close; the diverse pass must never take both members of a pair at a large λ.
    const rng = createRng(12);
    const emb = { data: new Float32Array(200 * 6), rows: 200, cols: 6 };
    for (let j = 0; j < 100; j++) for (let k = 0; k < 6; k++) emb.data[2 * j * 6 + k] = emb.data[(2 * j + 1) * 6 + k] = rng.normal();
    // Pair the MC rows too, so both members of a pair have the same utility.
    const row = pool.k * pool.c;
    for (let j = 0; j < 100; j++) pool.data.copyWithin((2 * j + 1) * row, 2 * j * row, (2 * j + 1) * row);
    const o: RadsPlatformOptions = { policy: "utility", utilityRedundancy: 5, shortlistFactor: 4 };
    const r = selectWithRadsPlatform(input(pool, 8, 3, { embeddings: emb }), o);
    const pairs = new Set(Array.from(r.selected, (i) => i >> 1));
    expect(pairs.size).toBe(8);
    expect(r.stats.redundancy).toBe("embedding");
    expect(r.stats.lambda).toBe(5);
    const plain = selectWithRadsPlatform(input(pool, 8, 3, { embeddings: emb }), { policy: "utility", utilityRedundancy: 0 });
    expect(new Set(Array.from(plain.selected, (i) => i >> 1)).size).toBeLessThan(8);
    const again = selectWithRadsPlatform(input(pool, 8, 3, { embeddings: emb }), o);
    expect(Array.from(again.selected)).toEqual(Array.from(r.selected));
    // Shuffle whole pairs (a within-pair tie is broken by pool index, so swapping twins would change which twin).
    const pairOrder = permutation(100, createRng(4));
    const order = Int32Array.from({ length: 200 }, (_, j) => 2 * pairOrder[j >> 1]! + (j & 1));
    const s = reorder(pool, emb, order);
    const shuffled = selectWithRadsPlatform(input(s.mc, 8, 3, { embeddings: s.emb }), o);
    expect(new Set(Array.from(shuffled.selected, (j) => order[j]! >> 1))).toEqual(pairs);
  });
});

describe("platform RADS: contract", () => {
  it("defaults to the agent policy", () => {
    const r = selectWithRadsPlatform(input(syntheticPool(60, 4, 1, 0.2), 3, 1), { agent: { sharedHidden: 8, headHidden: 8, episodes: 3 } });
    expect(r.stats.policy).toBeUndefined();
    expect(r.stats.returnCurve).toHaveLength(3);
    expect(r.warmStart?.kind).toBe(RADS_WARM_START_KIND);
  });

  it("is named rads, needs a model and returns min(B, N) distinct cases", () => {
    const s = radsPlatformStrategy(fast);
    expect(s.name).toBe("rads");
    expect(s.needsModel).toBe(true);
    const mc = syntheticPool(30, 4, 1, 0.2);
    const r = s.select(input(mc, 8, 1));
    expect(new Set(r.selected).size).toBe(8);
    expect(() => s.select(input(mc, 31, 1))).toThrow(/budget/);
    expect(() => radsPlatformStrategy({ utilityMix: { mi: 0, entropy: 0, margin: 0, minorityBoundary: 0, closeness: 0, minorityMass: 0, gradient: 0 } })).toThrow(/utilityMix/);
  });
});

describe("platform RADS: blended final pass (default)", () => {
  const mc = syntheticPool(240, 4, 31, 0.1);
  const emb = randomEmbeddings(240, 6, 7);
  const blend: RadsPlatformOptions = { ...fast, agentWeight: 0.1 };

  it("is the default, ranks the utility shortlist with the utility policy's redundancy, and reports the agent term", () => {
    const r = selectWithRadsPlatform(input(mc, 6, 2, { embeddings: emb }), { agent: { sharedHidden: 8, headHidden: 8, episodes: 3 } });
    expect(r.stats).toMatchObject({ finalPass: "blend", agentWeight: 0.1, agentEnsemble: 1, passLambda: 0.2, shortlist: 24 });
    expect(r.features.agentTerm).toHaveLength(6);
    for (const t of r.features.agentTerm!) expect(t >= 0 && t <= 1).toBe(true);
  });

  it("with β = 0 selects exactly what the utility policy selects (same shortlist, same redundancy)", () => {
    const a = selectWithRadsPlatform(input(mc, 6, 2, { embeddings: emb }), { ...fast, agentWeight: 0 });
    const u = selectWithRadsPlatform(input(mc, 6, 2, { embeddings: emb }), { policy: "utility" });
    expect(Array.from(a.selected)).toEqual(Array.from(u.selected));
  });

  it("is order-invariant and deterministic under a seed", () => {
    const base = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), blend);
    const again = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), blend);
    expect(Array.from(again.selected)).toEqual(Array.from(base.selected));
    const order = permutation(240, createRng(3));
    const s = reorder(mc, emb, order);
    const r = selectWithRadsPlatform(input(s.mc, 6, 4, { embeddings: s.emb }), blend);
    expect(Array.from(r.selected, (j) => order[j]!)).toEqual(Array.from(base.selected));
  });

  it("an ensemble of agents averages their gaps: deterministic, hands on the first agent, counts every agent's steps", () => {
    const one = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), blend);
    const two = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), { ...blend, agentEnsemble: 2 });
    const twoAgain = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), { ...blend, agentEnsemble: 2 });
    expect(Array.from(twoAgain.selected)).toEqual(Array.from(two.selected));
    expect(two.stats.agentEnsemble).toBe(2);
    expect(Array.from((two.warmStart as RadsWarmStart).params)).toEqual(Array.from((one.warmStart as RadsWarmStart).params));
    expect(two.stats.gradientSteps as number).toBeGreaterThan(one.stats.gradientSteps as number);
    expect(() => radsPlatformStrategy({ agentEnsemble: 0 })).toThrow(/agentEnsemble/);
    expect(() => radsPlatformStrategy({ agentWeight: -0.1 })).toThrow(/agentWeight/);
  });

  it("agentWeight null keeps the agent's own ranking (the earlier final pass)", () => {
    const r = selectWithRadsPlatform(input(mc, 6, 4, { embeddings: emb }), { ...fast, agentWeight: null });
    expect(r.stats.finalPass).toBe("agent");
    expect(r.features.agentTerm).toBeUndefined();
  });
});

describe("platform RADS: budget-dependent utility (default: decision margin at B ≤ 20, Σ-boundary above)", () => {
  // Three classes, minority {1, 2}, K = 2 identical passes (so p̄ is exact and MI = 0). Four designed cases, then 30
  // confident rest cases (0.96, 0.02, 0.02) that every utility puts last (ties in pool order).
  const designed = [[0.4, 0.3, 0.3], [0.5, 0.45, 0.05], [0.36, 0.34, 0.3], [0.7, 0.2, 0.1]];
  const rows = [...designed, ...Array.from({ length: 30 }, () => [0.96, 0.02, 0.02])];
  const mc: McLogProbs = { n: rows.length, k: 2, c: 3, data: Float32Array.from(rows.flatMap((p) => [...p, ...p]).map(Math.log)) };
  const three = (budget: number, seed = 1, extra: Partial<SelectionInput> = {}): SelectionInput => ({ ...input(mc, budget, seed, extra), minorityClasses: [1, 2] });
  const h = (p: number[]) => -p.reduce((acc, q) => acc + q * Math.log(q), 0);
  const hMin = h(rows[4]!);
  const hMax = h(designed[2]!);
  const normH = (p: number[]) => (h(p) - hMin) / (hMax - hMin);
  // Hand formulas: Σ-boundary 1 − |2(p₁ + p₂) − 1|; argmax decision 1 − |max(p₁, p₂) − p₀|.
  const boundary = (p: number[]) => 1 - Math.abs(2 * (p[1]! + p[2]!) - 1);
  const decision = (p: number[]) => 1 - Math.abs(Math.max(p[1]!, p[2]!) - p[0]!);
  const plain: RadsPlatformOptions = { policy: "utility" };

  it("B ≤ 20 ranks by (entropy + argmax-decision closeness)/2: C, A, B, D (hand-checked)", () => {
    // decision A 0.9, B 0.95, C 0.98, D 0.5; normalised entropy A 0.99, B 0.73, C 1, D 0.67.
    for (const budget of [5, 20]) {
      const r = selectWithRadsPlatform(three(budget), plain);
      expect(Array.from(r.selected.subarray(0, 4))).toEqual([2, 0, 1, 3]);
      Array.from(r.selected.subarray(0, 4)).forEach((i, j) => expect(r.features.utility![j]).toBeCloseTo((normH(rows[i]!) + decision(rows[i]!)) / 2, 5));
      expect(r.stats.smallBudgetMix).toBe(true);
      expect(r.stats.utilityMix).toMatchObject({ entropy: 1, minorityBoundary: 0, decisionMargin: 1 });
    }
  });

  it("B > 20 ranks by (entropy + Σ-boundary closeness)/2, the unchanged mix: A, B, C, D (hand-checked)", () => {
    // boundary A 0.8, B 1, C 0.72, D 0.6.
    const r = selectWithRadsPlatform(three(21), plain);
    expect(Array.from(r.selected.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    Array.from(r.selected.subarray(0, 4)).forEach((i, j) => expect(r.features.utility![j]).toBeCloseTo((normH(rows[i]!) + boundary(rows[i]!)) / 2, 5));
    expect(r.stats.smallBudgetMix).toBe(false);
    expect(r.stats.utilityMix).toMatchObject({ entropy: 1, minorityBoundary: 1, decisionMargin: 0 });
  });

  it("is the default with the agent kept (β = 0.1); the agent sees the budget's utility; deterministic under a seed", () => {
    const agentFast: RadsPlatformOptions = { agent: { sharedHidden: 8, headHidden: 8, episodes: 6 } };
    const small = selectWithRadsPlatform(three(5, 3), agentFast);
    expect(small.stats.finalPass).toBe("blend");
    expect(small.stats.agentWeight).toBe(0.1);
    expect(small.stats.smallBudgetMix).toBe(true);
    const byCase = new Map(Array.from(small.selected, (i, j) => [i, small.features.utility![j]!]));
    for (const [i, u] of byCase) expect(u).toBeCloseTo((normH(rows[i]!) + decision(rows[i]!)) / 2, 5);
    const again = selectWithRadsPlatform(three(5, 3), agentFast);
    expect(Array.from(again.selected)).toEqual(Array.from(small.selected));
    expect(again.stats.returnCurve).toEqual(small.stats.returnCurve);
    const large = selectWithRadsPlatform(three(21, 3), agentFast);
    expect(large.stats.smallBudgetMix).toBe(false);
    const byCaseLarge = new Map(Array.from(large.selected, (i, j) => [i, large.features.utility![j]!]));
    for (const i of [0, 1, 2, 3]) expect(byCaseLarge.get(i)).toBeCloseTo((normH(rows[i]!) + boundary(rows[i]!)) / 2, 5);
    expect(Array.from(selectWithRadsPlatform(three(21, 3), agentFast).selected)).toEqual(Array.from(large.selected));
  });

  it("smallBudgetMix null, or an explicit utilityMix, gives one mix at every budget; a small-budget mix can be set", () => {
    expect(resolveRadsPlatformParams().smallBudgetMix).toEqual(DEFAULT_SMALL_BUDGET_MIX);
    expect(Array.from(selectWithRadsPlatform(three(5), { ...plain, smallBudgetMix: null }).selected.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    const explicit = resolveRadsPlatformParams({ utilityMix: { decisionVote: 1 } });
    expect(explicit.smallBudgetMix).toBeNull();
    expect(utilityMixForBudget(explicit, 5)).toEqual(explicit.utilityMix);
    const both = resolveRadsPlatformParams({ utilityMix: { entropy: 0 }, smallBudgetMix: { maxBudget: 3, utilityMix: { margin: 1 } } });
    expect(utilityMixForBudget(both, 3)).toMatchObject({ entropy: 0, minorityBoundary: 1, margin: 1 });
    expect(utilityMixForBudget(both, 4)).toMatchObject({ entropy: 0, minorityBoundary: 1, margin: 0 });
  });

  it("rejects a bad small-budget mix, naming the field", () => {
    expect(() => radsPlatformStrategy({ smallBudgetMix: { maxBudget: -1, utilityMix: {} } })).toThrow(/smallBudgetMix.maxBudget/);
    expect(() => radsPlatformStrategy({ smallBudgetMix: { maxBudget: 2.5, utilityMix: {} } })).toThrow(/smallBudgetMix.maxBudget/);
    expect(() => radsPlatformStrategy({ smallBudgetMix: { maxBudget: 20, utilityMix: { nope: 1 } as never } })).toThrow(/smallBudgetMix.utilityMix.*nope/);
    expect(() => radsPlatformStrategy({ smallBudgetMix: { maxBudget: 20, utilityMix: { entropy: -1 } } })).toThrow(/smallBudgetMix.utilityMix/);
    expect(() => radsPlatformStrategy({ smallBudgetMix: { maxBudget: 20, utilityMix: { entropy: 0, minorityBoundary: 0 } } })).toThrow(/no utility weight/);
  });
});
