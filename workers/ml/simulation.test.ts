import { describe, expect, it } from "vitest";
import { createRng, permutation, type Rng } from "./rng";
import {
  meanStd,
  minorityMetrics,
  mlpHeadOps,
  noisyLabels,
  runSimulation,
  summarizeRuns,
  type HeadOps,
  type NamedStrategy,
  type SimulationInput,
} from "./simulation";
import type { Matrix, McLogProbs, SelectionInput, SelectionStrategy } from "./types";
import { MlInputError } from "./validate";

// A synthetic set whose column 0 holds the row's own index: whatever reaches the head's
// trainer can be traced back to the exact cases, independently of the loop's bookkeeping.
function syntheticSet(n: number, minorityEvery: number, seed: number): { x: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const d = 4;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % minorityEvery === 0 ? 1 : 0;
    x[i * d] = i;
    x[i * d + 1] = (y[i] === 1 ? 2 : -2) + rng.normal();
    x[i * d + 2] = rng.normal();
    x[i * d + 3] = rng.normal();
  }
  return { x: { data: x, rows: n, cols: d }, y };
}

interface FakeWeights {
  centroids: Float64Array; // [C, 3] over columns 1..3 (column 0 is the index tag)
  numClasses: number;
}

/** Nearest-centroid "head" that records the index tags of every training row it is given. */
function fakeHead(trainedOn: number[][]): HeadOps<FakeWeights> {
  const proba = (w: FakeWeights, x: Matrix, noise: Rng | null): Float32Array => {
    const C = w.numClasses;
    const out = new Float32Array(x.rows * C);
    for (let i = 0; i < x.rows; i++) {
      const logits = new Float64Array(C);
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        let d2 = 0;
        for (let j = 0; j < 3; j++) {
          const diff = x.data[i * x.cols + 1 + j]! - w.centroids[c * 3 + j]!;
          d2 += diff * diff;
        }
        logits[c] = -d2 + (noise ? noise.normal() : 0);
        max = Math.max(max, logits[c]!);
      }
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[c]! - max);
      for (let c = 0; c < C; c++) out[i * C + c] = Math.exp(logits[c]! - max) / z;
    }
    return out;
  };
  return {
    train(x, y, numClasses, _config, rng) {
      const tags: number[] = [];
      const centroids = new Float64Array(numClasses * 3);
      const counts = new Float64Array(numClasses);
      for (let i = 0; i < x.rows; i++) {
        tags.push(x.data[i * x.cols]!);
        counts[y[i]!]!++;
        for (let j = 0; j < 3; j++) centroids[y[i]! * 3 + j]! += x.data[i * x.cols + 1 + j]!;
      }
      for (let c = 0; c < numClasses; c++) for (let j = 0; j < 3; j++) centroids[c * 3 + j]! /= Math.max(1, counts[c]!);
      // Consume the rng like a real trainer would, so a change of stream shows in the results.
      centroids[0]! += rng.next() * 1e-3;
      trainedOn.push(tags);
      return { centroids, numClasses };
    },
    predictProba: (w, x) => proba(w, x, null),
    mcDropout(w, x, k, rng): McLogProbs {
      const C = w.numClasses;
      const data = new Float32Array(x.rows * k * C);
      for (let p = 0; p < k; p++) {
        const pr = proba(w, x, rng);
        for (let i = 0; i < x.rows; i++) for (let c = 0; c < C; c++) data[(i * k + p) * C + c] = Math.log(Math.max(pr[i * C + c]!, 1e-12));
      }
      return { data, n: x.rows, k, c: C };
    },
  };
}

/** Picks uniformly at random from the pool (uses the rng it is handed). */
const randomPick: SelectionStrategy = {
  name: "random-fake",
  needsModel: false,
  select(input: SelectionInput) {
    const idx = Array.from({ length: input.poolSize }, (_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = input.rng.int(i + 1);
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return { selected: Int32Array.from(idx.slice(0, Math.min(input.budget, input.poolSize))), features: {}, stats: { poolSize: input.poolSize, curve: [1, 2] } };
  },
};

/** Picks the cases with the highest mean minority probability: a model-driven strategy. */
const topMinority: SelectionStrategy = {
  name: "top-minority",
  needsModel: true,
  select(input: SelectionInput) {
    const mc = input.mc!;
    const score = new Float64Array(mc.n);
    for (let i = 0; i < mc.n; i++) {
      for (let p = 0; p < mc.k; p++) for (const c of input.minorityClasses) score[i]! += Math.exp(mc.data[(i * mc.k + p) * mc.c + c]!) / mc.k;
    }
    const order = Array.from({ length: mc.n }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
    return { selected: Int32Array.from(order.slice(0, Math.min(input.budget, mc.n))), features: {}, stats: {} };
  },
};

function baseInput(trainedOn: number[][], overrides: Partial<SimulationInput<FakeWeights>> = {}): SimulationInput<FakeWeights> {
  const { x, y } = syntheticSet(200, 10, 7);
  const test = permutation(200, createRng(99)).slice(0, 40).sort();
  // The test split must hold both classes, or every F1/AUPRC check below would be vacuous.
  const testMinority = Array.from(test).filter((i) => y[i] === 1).length;
  if (testMinority < 2 || testMinority > 10) throw new Error(`fixture: ${testMinority} minority test cases`);
  const strategies: NamedStrategy[] = [
    { label: "random", strategy: randomPick },
    { label: "top", strategy: topMinority },
  ];
  return {
    embeddings: x,
    labels: y,
    numClasses: 2,
    minorityClasses: [1],
    testIndices: test,
    seedSet: { kind: "random", size: 8, minMinority: 1 },
    strategies,
    budgets: [3, 5],
    rounds: 4,
    seeds: [1, 2, 3],
    head: fakeHead(trainedOn),
    headConfig: {},
    mcPasses: 4,
    coldStart: randomPick,
    ...overrides,
  };
}

describe("runSimulation", () => {
  it("is deterministic under seed, and different seeds draw different seed sets", () => {
    const a = runSimulation(baseInput([]));
    const b = runSimulation(baseInput([]));
    expect(b).toEqual(a);
    const seedSets = a.runs.filter((r) => r.strategy === "random" && r.budget === 3).map((r) => Array.from(r.seedSet).join(","));
    expect(new Set(seedSets).size).toBe(3);
  });

  it("never trains on or selects a test case; trains exactly on seed set ∪ revealed selections", () => {
    const trainedOn: number[][] = [];
    const input = baseInput(trainedOn);
    const res = runSimulation(input);
    const test = new Set(input.testIndices);
    expect(trainedOn.length).toBe(res.runs.length * (input.rounds + 1));
    for (const tags of trainedOn) for (const t of tags) expect(test.has(t)).toBe(false);

    // Calls happen run by run, round by round, in result order.
    let call = 0;
    for (const run of res.runs) {
      const expected = new Set(run.seedSet);
      for (let r = 0; r <= input.rounds; r++) {
        if (r > 0) for (const s of run.selected[r - 1]!) expected.add(s);
        const got = trainedOn[call++]!;
        expect(new Set(got)).toEqual(expected);
        expect(got.length).toBe(expected.size); // no case trained twice
        expect(run.curve[r]!.labelled).toBe(expected.size);
      }
      const all = run.selected.flatMap((s) => Array.from(s));
      expect(new Set(all).size).toBe(all.length); // never selected twice
      for (const s of all) expect(test.has(s) || run.seedSet.includes(s)).toBe(false);
    }
  });

  it("computes hit rates from the revealed labels of the selected cases", () => {
    const input = baseInput([]);
    const res = runSimulation(input);
    for (const run of res.runs) {
      let hits = 0, total = 0;
      run.selected.forEach((sel, j) => {
        const roundHits = Array.from(sel).filter((i) => input.labels[i] === 1).length;
        hits += roundHits;
        total += sel.length;
        expect(run.curve[j + 1]!.roundHitRate).toBeCloseTo(roundHits / sel.length, 12);
        expect(run.curve[j + 1]!.cumulativeHitRate).toBeCloseTo(hits / total, 12);
      });
      expect(Number.isNaN(run.curve[0]!.cumulativeHitRate)).toBe(true);
      if (run.strategy === "random") {
        // Scalar strategy stats are kept per round (arrays dropped): the pool shrinks by B each round.
        expect(run.curve.slice(1).map((p) => p.strategyStats)).toEqual(run.selected.map((_, j) => ({ poolSize: 160 - 8 - j * run.budget })));
      }
      // Pool prior: minority share of train split minus the seed set.
      const pool = [];
      for (let i = 0; i < 200; i++) if (!input.testIndices.includes(i) && !run.seedSet.includes(i)) pool.push(i);
      expect(run.poolPrior).toBeCloseTo(pool.filter((i) => input.labels[i] === 1).length / pool.length, 12);
    }
    // The model-driven strategy finds the separable minority far more often than the prior.
    const top = res.aggregates.find((a) => a.strategy === "top" && a.budget === 5)!;
    // (20 picks from a pool with ~15 minority cases: at most ~0.75 is possible.)
    expect(top.final.cumulativeHitRate.mean).toBeGreaterThan(0.5);
    expect(top.poolPrior.mean).toBeLessThan(0.15);
  });

  it("starts every strategy and budget of a seed from the same round-0 head", () => {
    const res = runSimulation(baseInput([]));
    for (const seed of [1, 2, 3]) {
      const r0 = res.runs.filter((r) => r.seed === seed).map((r) => r.curve[0]!);
      for (const p of r0) expect({ ...p, trainMs: 0 }).toEqual({ ...r0[0]!, trainMs: 0 });
    }
  });

  it("seeds each cell from its coordinates: a single cell alone reproduces the full grid's numbers", () => {
    const full = runSimulation(baseInput([]));
    const single = runSimulation(baseInput([], { seeds: [2], budgets: [5], strategies: [{ label: "top", strategy: topMinority }] }));
    const fromFull = full.runs.find((r) => r.seed === 2 && r.budget === 5 && r.strategy === "top")!;
    expect(single.runs[0]).toEqual(fromFull);
  });

  it("gives the full grid's result when shards run disjoint cells and are merged", () => {
    const input = baseInput([]);
    const full = runSimulation(input);
    const shard = (k: number) => runSimulation(input, { include: (c) => (c.seed + c.budget + (c.strategy === "top" ? 1 : 0)) % 2 === k }).runs;
    const a = shard(0);
    const b = shard(1);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(summarizeRuns(input, [...b, ...a])).toEqual(full);
  });

  it("aggregates mean ± sample std over seeds", () => {
    const res = runSimulation(baseInput([]));
    const agg = res.aggregates.find((a) => a.strategy === "random" && a.budget === 3)!;
    const finals = res.runs.filter((r) => r.strategy === "random" && r.budget === 3).map((r) => r.curve[4]!.minorityF1);
    const mean = finals.reduce((a, b) => a + b, 0) / 3;
    const std = Math.sqrt(finals.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    expect(agg.final.minorityF1.mean).toBeCloseTo(mean, 12);
    expect(agg.final.minorityF1.std).toBeCloseTo(std, 12);
    expect(agg.curve.map((p) => p.labelled.mean)).toEqual([8, 11, 14, 17, 20]);
    expect(res.aggregates.map((a) => `${a.strategy}/${a.budget}`)).toEqual(["random/3", "top/3", "random/5", "top/5"]);
  });

  it("reports progress once per round up to the total", () => {
    const calls: [number, number, string][] = [];
    runSimulation(baseInput([]), { onProgress: (d, t, l) => calls.push([d, t, l]) });
    const total = 2 * 2 * 3 * 4;
    expect(calls.length).toBe(total);
    expect(calls.map((c) => c[0])).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(calls.every((c) => c[1] === total)).toBe(true);
    expect(calls[0]![2]).toBe("random B=3 seed=1 round 1/4");
  });

  it("falls back to cold start while only one class is labelled, and says so", () => {
    const trainedOn: number[][] = [];
    // Seed set: two majority training rows (rows divisible by 10 are minority).
    const test = new Set(baseInput([]).testIndices);
    const majority = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 10 !== 0 && !test.has(i)).slice(0, 2);
    const input = baseInput(trainedOn, { seedSet: { kind: "fixed", indices: Int32Array.from(majority) }, seeds: [1], budgets: [3], rounds: 10, strategies: [{ label: "top", strategy: topMinority }] });
    const res = runSimulation(input);
    const run = res.runs[0]!;
    expect(run.curve[0]!.trained).toBe(false);
    expect(run.curve[0]!.minorityF1).toBe(0);
    expect(run.curve[0]!.minorityAuprc).toBeCloseTo(res.testPrior, 12);
    expect(run.curve[1]!.selectedBy).toBe("random-fake (cold start)");
    const firstTrained = run.curve.findIndex((p) => p.trained);
    expect(firstTrained).toBeGreaterThan(0);
    expect(res.aggregates[0]!.coldStartRounds).toBe(firstTrained);
    expect(() => runSimulation({ ...input, coldStart: undefined })).toThrow(/no cold-start strategy/);
  });

  it("rejects a seed set that overlaps the test split, and a strategy that breaks the contract", () => {
    const aTestCase = baseInput([]).testIndices[0]!;
    expect(() => runSimulation(baseInput([], { seedSet: { kind: "fixed", indices: Int32Array.from([aTestCase]) } }))).toThrow(MlInputError);
    const dup: SelectionStrategy = { name: "dup", needsModel: false, select: () => ({ selected: Int32Array.from([0, 0, 1]), features: {}, stats: {} }) };
    expect(() => runSimulation(baseInput([], { strategies: [{ label: "dup", strategy: dup }] }))).toThrow(/returned pool index 0 twice/);
    expect(() => runSimulation(baseInput([], { budgets: [3, 3] }))).toThrow(/listed twice/);
  });

  it("hands the pool over in a seeded shuffled order by default, in data order with poolOrder index", () => {
    // "first-B" takes pool positions 0..B-1: whatever order the loop presents decides its picks.
    const firstB: SelectionStrategy = { name: "first", needsModel: false, select: (i) => ({ selected: Int32Array.from({ length: i.budget }, (_, j) => j), features: {}, stats: {} }) };
    const one = { seeds: [1], budgets: [5], rounds: 2, strategies: [{ label: "first", strategy: firstB }] };
    const indexRun = runSimulation(baseInput([], { ...one, poolOrder: "index" })).runs[0]!;
    const pool = Array.from({ length: 200 }, (_, i) => i).filter((i) => !baseInput([]).testIndices.includes(i) && !indexRun.seedSet.includes(i));
    expect(Array.from(indexRun.selected[0]!)).toEqual(pool.slice(0, 5));
    expect(Array.from(indexRun.selected[1]!)).toEqual(pool.slice(5, 10));
    const shuffled = runSimulation(baseInput([], one)).runs[0]!;
    expect(Array.from(shuffled.selected[0]!)).not.toEqual(pool.slice(0, 5));
    expect(Math.max(...shuffled.selected.flatMap((s) => Array.from(s)))).toBeGreaterThan(pool[20]!);
    expect(runSimulation(baseInput([], one)).runs[0]).toEqual(shuffled);
  });

  it("stops a run early when the pool runs dry instead of inventing rounds", () => {
    const input = baseInput([], { budgets: [100], rounds: 3, seeds: [1], strategies: [{ label: "random", strategy: randomPick }] });
    const run = runSimulation(input).runs[0]!;
    // 160 training cases, 8 seeded: 100 then 52, then nothing left.
    expect(run.selected.map((s) => s.length)).toEqual([100, 52]);
    expect(run.curve.length).toBe(3);
  });
});

describe("runSimulation with label noise", () => {
  /** The fake head, also recording the (tag, label) pairs of every training call. */
  function recordingHead(seen: { tags: number[]; y: number[] }[]): HeadOps<FakeWeights> {
    const inner = fakeHead([]);
    return { ...inner, train: (x, y, c, config, rng) => {
      seen.push({ tags: Array.from({ length: x.rows }, (_, i) => x.data[i * x.cols]!), y: Array.from(y) });
      return inner.train(x, y, c, config, rng);
    } };
  }
  const noise = [{ kind: "none" as const }, { kind: "symmetric" as const, rate: 0.3 }, { kind: "minority" as const, rate: 0.5 }];

  it("trains on the noisy labels the annotators return, never on TEST, and scores on the true labels", () => {
    const seen: { tags: number[]; y: number[] }[] = [];
    const input = baseInput([], { head: recordingHead(seen), noise, budgets: [5], seeds: [1, 2] });
    const res = runSimulation(input);
    expect(res.runs.map((r) => r.noise)).toEqual([1, 2].flatMap(() => ["none", "symmetric:0.3", "minority:0.5"].flatMap((nz) => [nz, nz])));
    const test = new Set(input.testIndices);
    let call = 0;
    let differing = 0;
    for (const run of res.runs) {
      const observed = noisyLabels(input, run.seed, noise.find((n) => (n.kind === "none" ? "none" : `${n.kind}:${n.rate}`) === run.noise)!);
      for (const i of input.testIndices) expect(observed[i]).toBe(input.labels[i]);
      for (let r = 0; r <= input.rounds; r++) {
        const { tags, y } = seen[call++]!;
        tags.forEach((t, j) => {
          expect(test.has(t)).toBe(false);
          expect(y[j]).toBe(observed[t]);
          if (observed[t] !== input.labels[t]) differing++;
        });
      }
      // Hit rates count the cases that are truly minority.
      const all = run.selected.flatMap((s) => Array.from(s));
      expect(run.curve.at(-1)!.cumulativeHitRate).toBeCloseTo(all.filter((i) => input.labels[i] === 1).length / all.length, 12);
      if (run.noise === "minority:0.5") for (let i = 0; i < observed.length; i++) if (observed[i] !== input.labels[i]) expect([input.labels[i], observed[i]]).toEqual([1, 0]);
    }
    expect(differing).toBeGreaterThan(0);
    expect(res.aggregates.map((a) => `${a.noise}/${a.strategy}`)).toEqual(["none/random", "none/top", "symmetric:0.3/random", "symmetric:0.3/top", "minority:0.5/random", "minority:0.5/top"]);
  });

  it("leaves the noise-free cells exactly as a run without noise (common random numbers), and shards merge exactly", () => {
    const clean = runSimulation(baseInput([]));
    const input = baseInput([], { noise });
    const noisy = runSimulation(input);
    expect(noisy.runs.filter((r) => r.noise === "none")).toEqual(clean.runs);
    // Same seed sets for every noise setting of a seed.
    for (const r of noisy.runs) expect(r.seedSet).toEqual(clean.runs.find((c) => c.seed === r.seed && c.budget === r.budget && c.strategy === r.strategy)!.seedSet);
    const shard = (k: number) => runSimulation(input, { include: (c) => (c.seed + c.noise.length) % 2 === k }).runs;
    expect(summarizeRuns(input, [...shard(1), ...shard(0)])).toEqual(noisy);
  });

  it("refuses a setting listed twice or a rate outside [0, 1]", () => {
    expect(() => runSimulation(baseInput([], { noise: [{ kind: "symmetric", rate: 0.1 }, { kind: "symmetric", rate: 0.1 }] }))).toThrow(/listed twice/);
    expect(() => runSimulation(baseInput([], { noise: [{ kind: "minority", rate: -0.1 }] }))).toThrow(/\[0, 1\]/);
  });
});

describe("runSimulation with the real MLP head", () => {
  it("is deterministic and learns the minority class as labels arrive", () => {
    // Two Gaussian blobs in 8-d, minority 8 %: the head should find it once a few are labelled.
    const rng = createRng(5);
    const n = 300, d = 8;
    const x = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 12 === 0 ? 1 : 0;
      for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + (j < 2 ? (y[i] === 1 ? 2.5 : -0.5) : 0);
    }
    const input: SimulationInput<unknown> = {
      embeddings: { data: x, rows: n, cols: d },
      labels: y,
      numClasses: 2,
      minorityClasses: [1],
      testIndices: permutation(n, createRng(3)).slice(0, 80).sort(),
      seedSet: { kind: "random", size: 6, minMinority: 1 },
      strategies: [{ label: "top", strategy: topMinority }],
      budgets: [10],
      rounds: 3,
      seeds: [1, 2],
      head: mlpHeadOps as HeadOps<unknown>,
      headConfig: { hidden: [16], maxEpochs: 30, patience: 30, validationFraction: 0, learningRate: 0.01 },
      mcPasses: 5,
      coldStart: randomPick,
    };
    const a = runSimulation(input);
    expect(runSimulation(input)).toEqual(a);
    const agg = a.aggregates[0]!;
    expect(agg.final.minorityF1.mean).toBeGreaterThan(0.7);
    expect(agg.final.minorityAuprc.mean).toBeGreaterThan(agg.curve[0]!.minorityAuprc.mean - 1e-9);
  });
});

describe("minorityMetrics", () => {
  it("frames several minority classes as minority-vs-rest and also reports their mean F1", () => {
    // 3 classes, minority {1, 2}. Rows: truth 1 predicted 2 (a hit in the binary framing,
    // a miss per class), truth 2 predicted 2, truth 0 predicted 1, truth 0 predicted 0.
    const probs = Float32Array.from([
      0.1, 0.2, 0.7,
      0.1, 0.1, 0.8,
      0.3, 0.6, 0.1,
      0.9, 0.05, 0.05,
    ]);
    const y = Int32Array.from([1, 2, 0, 0]);
    const m = minorityMetrics(probs, y, 3, [1, 2]);
    // Binary: tp = 2, fp = 1, fn = 0 → F1 = 4/5.
    expect(m.minorityF1).toBeCloseTo(0.8, 12);
    // Class 1: tp 0, fp 1, fn 1 → 0; class 2: tp 1, fp 1, fn 0 → 2/3.
    expect(m.perClassF1[0]).toBe(0);
    expect(m.perClassF1[1]).toBeCloseTo(2 / 3, 12);
    expect(m.minorityMacroF1).toBeCloseTo(1 / 3, 12);
    // Scores 0.9, 0.9, 0.7, 0.1 (first two tie); positives are rows 0, 1 → AP = 1.
    expect(m.minorityAuprc).toBeCloseTo(1, 6);
  });

  it("scores AUPRC with tied scores as one threshold; a constant predictor gets the positive share", () => {
    const probs = Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const m = minorityMetrics(probs, Int32Array.from([0, 1, 0, 0]), 2, [1]);
    expect(m.minorityAuprc).toBeCloseTo(0.25, 12);
    // Ranked 1, 0, 1, 0 by minority probability: AP = ½·1 + ½·⅔.
    const ranked = Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]);
    expect(minorityMetrics(ranked, Int32Array.from([1, 0, 1, 0]), 2, [1]).minorityAuprc).toBeCloseTo(0.5 + 0.5 * (2 / 3), 6);
    expect(Number.isNaN(minorityMetrics(ranked, Int32Array.from([0, 0, 0, 0]), 2, [1]).minorityAuprc)).toBe(true);
  });

  it("meanStd leaves out NaN and uses the sample deviation", () => {
    expect(meanStd([1, 3, NaN])).toEqual({ mean: 2, std: Math.SQRT2, n: 2 });
    expect(meanStd([4])).toEqual({ mean: 4, std: 0, n: 1 });
    expect(meanStd([NaN]).n).toBe(0);
  });
});
