/**
 * The active-learning simulation ("what-if") loop: replay annotation rounds on data whose
 * labels are already known, hiding them until a strategy selects a case, and measure how fast
 * each strategy finds and learns the minority class.
 *
 * Pure: typed arrays in, plain objects out, randomness only through `Rng`, no clock unless one
 * is passed in. The CLI (scripts/simulate.ts) and the worker's background job both call
 * `runSimulation`; the head is injected (`HeadOps`) so tests can use a tiny fake and the
 * worker can swap in a different trainer without touching the loop.
 *
 * Metric framing (documented in docs/simulation.md):
 * - `minorityF1` (headline): binary minority-vs-rest. A test case counts as predicted minority
 *   when the head's argmax class is any minority class; truth is "label is a minority class".
 *   With several minority classes this answers the clinic's question "did we catch the rare
 *   cases?" without penalising confusion between two rare classes.
 * - `minorityMacroF1`: mean over minority classes of the one-vs-rest F1 of each class (argmax
 *   decisions); equal to `minorityF1` when there is one minority class.
 * - `minorityAuprc`: average precision of the score Σ_{c∈minority} p_c against the binary truth.
 * - hit rate: share of the cases a strategy selected (over all rounds so far) whose revealed label
 *   is a minority class, beside `poolPrior`, the share a uniformly random pick would expect.
 *
 * Label noise (`SimulationInput.noise`, workers/ml/label-noise.ts): each setting is a further grid
 * dimension. Under noise the simulated annotators return the noisy label of a case (the same for
 * every strategy and budget of a seed): heads are trained on it and strategies see it
 * (`labelledLabels`). Everything that measures the strategy stays on the TRUE labels: the TEST
 * metrics (TEST is never flipped), the hit rate and `labelledMinority` (minority cases really found),
 * the pool prior and the stopping check's truth. The seed set is drawn by the true labels, so every
 * noise setting of a seed starts from the same cases (their returned labels may be flipped).
 */
import { precisionRecallCurve } from "./metrics";
import { bootstrapLogProbs, logisticCalibratedProba, logisticProba, trainLogisticHead, type LogisticConfig, type LogisticModel } from "./heads/logistic";
import { mcDropoutLogProbs, predictProba, trainHead } from "./mlp-head";
import { applyLabelNoise, NO_NOISE, noiseName, type LabelNoise } from "./label-noise";
import { createRng, permutation, type Rng } from "./rng";
import { estimateRemainingFromLogistic } from "./calibration-logistic";
import { estimateRemainingMinority, minorityMass, type RemainingMinorityEstimate } from "./stopping";
import type { HeadConfig, HeadWeights, Matrix, McLogProbs, SelectionStrategy, StrategyState } from "./types";
import {
  assertFiniteMatrix,
  assertInteger,
  assertLabels,
  assertLength,
  assertMcPasses,
  assertMinorityClasses,
  MlInputError,
} from "./validate";

/** The three head operations the loop needs; `W` is whatever the trainer returns as weights. */
export interface HeadOps<W> {
  /** Train on x [n, d] with labels y [n] in 0..numClasses-1. */
  train(x: Matrix, y: Int32Array, numClasses: number, config: Partial<HeadConfig>, rng: Rng): W;
  /** Class probabilities [n, numClasses] row-major. */
  predictProba(weights: W, x: Matrix): Float32Array;
  /** MC-dropout log-probabilities [n, k, numClasses]. */
  mcDropout(weights: W, x: Matrix, k: number, rng: Rng): McLogProbs;
  /**
   * Calibrated probabilities [n, numClasses] of the rows of x, for counting (the stopping
   * estimate); heads whose `predictProba` is already calibrated leave it out.
   */
  calibratedProba?(weights: W, x: Matrix): Float32Array;
  /**
   * The "when to stop" estimate over the rows of x (the unlabelled pool) from `members` calibrated
   * predictions (e.g. the logistic head's calibrated bootstrap members, calibration-logistic.ts);
   * `found` = minority cases labelled; `calibrationWeights` [labelled cases, in training order] is 0 for a case
   * chosen because of its label (the seed set's forced minority), which must not teach the calibration
   * the base rate, else 1. Heads without it give one prediction from `calibratedProba`
   * (or `predictProba`), which carries no model uncertainty.
   */
  remainingMinority?(weights: W, x: Matrix, minorityClasses: number[], found: number, members: number, rng: Rng, calibrationWeights: Float64Array): RemainingMinorityEstimate;
}

/** The project's MLP head (workers/ml/mlp-head.ts) as the loop's `HeadOps`. */
export const mlpHeadOps: HeadOps<HeadWeights> = {
  train: (x, y, numClasses, config, rng) => trainHead(x, y, numClasses, config, rng).weights,
  predictProba,
  mcDropout: mcDropoutLogProbs,
};

/**
 * The class-weighted logistic-regression head (workers/ml/heads/logistic.ts) as the loop's
 * `HeadOps`: c chosen per round by cross-validation on the labelled set, uncertainty from a
 * bootstrap ensemble of K refits (in place of MC dropout). `config` is the head's own; the
 * loop's MLP `headConfig` is ignored.
 */
export function logisticHeadOps(config: Partial<LogisticConfig> = {}): HeadOps<LogisticModel> {
  return {
    train: (x, y, numClasses, _mlpConfig, rng) => trainLogisticHead(x, y, numClasses, config, rng),
    predictProba: logisticProba,
    mcDropout: bootstrapLogProbs,
    calibratedProba: logisticCalibratedProba,
    remainingMinority: (model, x, minority, found, members, rng, calibrationWeights) => estimateRemainingFromLogistic(model, x, minority, found, members, rng, { calibrationWeights }),
  };
}

/** A strategy under a display name (e.g. "rads-exact"), so one strategy can run in two modes. */
export interface NamedStrategy {
  label: string;
  strategy: SelectionStrategy;
}

/** How the initial labelled set is chosen. */
export type SeedSetSpec =
  /** The same given training indices for every seed (e.g. the project's SEED split). */
  | { kind: "fixed"; indices: Int32Array }
  /** Drawn per seed from the training split: `size` cases, at least `minMinority` of them minority. */
  | { kind: "random"; size: number; minMinority: number };

export interface SimulationInput<W> {
  /** Embeddings of every case [N, d]. */
  embeddings: Matrix;
  /** Known labels [N] in 0..numClasses-1 (hidden from strategies until selected). */
  labels: Int32Array;
  numClasses: number;
  /** Class indices that count as minority (at least one). */
  minorityClasses: number[];
  /** Held-out cases: evaluated on every round, never selected, never trained on. */
  testIndices: Int32Array;
  seedSet: SeedSetSpec;
  strategies: NamedStrategy[];
  /** Cases selected per round, one simulation per budget. */
  budgets: number[];
  /** Selection rounds per run (after the seed set). */
  rounds: number;
  /** One run per seed for every strategy × budget; aggregates are over these. */
  seeds: number[];
  head: HeadOps<W>;
  headConfig: Partial<HeadConfig>;
  /** MC-dropout passes for strategies that need a model (K = 10 in the paper). */
  mcPasses: number;
  /** Used for model-needing strategies while no model can be trained yet (fewer than 2 classes labelled). */
  coldStart?: SelectionStrategy;
  /**
   * Order in which the unlabelled pool is handed to strategies. "shuffled" (default): a seeded
   * permutation per (seed, budget, round), because a strategy that walks the pool in order
   * (RADS does) would otherwise inherit the file's order — mtsamples is sorted by specialty, so
   * "the first cases" means "the alphabetically first specialties". "index": ascending data
   * order, the behaviour before this option existed.
   */
  poolOrder?: "shuffled" | "index";
  /**
   * Label-noise settings, one simulation per setting (default: none only). Noise changes only what the
   * annotators return for train/seed cases, never TEST (see the file comment).
   */
  noise?: LabelNoise[];
}

export interface SimulationOptions {
  /** Called after every finished round: `done` of `total` rounds, `label` names the run. */
  onProgress?: (done: number, total: number, label: string) => void;
  /** Milliseconds clock for timings (e.g. `performance.now`); timings are 0 without one. */
  clock?: () => number;
  /**
   * Run only the cells this returns true for (default: all). Cells are seeded by their
   * coordinates, so shards run in separate processes and merged with `summarizeRuns` give
   * exactly the numbers of one full run.
   */
  include?: (cell: { strategy: string; budget: number; seed: number; noise: string }) => boolean;
}

/** Test-set metrics of one trained head. */
export interface MinorityMetrics {
  minorityF1: number;
  minorityMacroF1: number;
  minorityAuprc: number;
  /** Per minority class one-vs-rest F1, in `minorityClasses` order. */
  perClassF1: number[];
}

export interface RoundPoint extends MinorityMetrics {
  /** 0 = the seed set alone; r = after the r-th selection round. */
  round: number;
  /** Labelled cases the head was trained on. */
  labelled: number;
  /** Minority cases among them. */
  labelledMinority: number;
  /** Hit rate of this round's selection (NaN for round 0). */
  roundHitRate: number;
  /** Hit rate over all selections so far (NaN for round 0). */
  cumulativeHitRate: number;
  /** False when fewer than 2 classes were labelled and the metrics describe a constant "rest" predictor. */
  trained: boolean;
  /** The strategy that selected this round's cases ("" for round 0; the cold-start name on fallback). */
  selectedBy: string;
  selectMs: number;
  trainMs: number;
  /**
   * The strategy's scalar per-round statistics (e.g. RADS: mode, toppedUp, envSteps), so a
   * surprising curve can be traced to what the strategy did; arrays such as return curves are
   * left out to keep results small. Empty for round 0.
   */
  strategyStats: Record<string, number | string | boolean>;
  /**
   * "When to stop" check (workers/ml/stopping.ts) after this round's retrain: minority cases
   * left in the unlabelled pool as estimated from the head's probabilities over that pool
   * (Σp, 90 % interval) against the truth, and the expected vs true minority recall of the
   * labelled set. Absent while no head can be trained.
   */
  remainingMinority?: { estimate: number; lo: number; hi: number; truth: number; expectedRecall: number; trueRecall: number };
}

export interface RunResult {
  strategy: string;
  budget: number;
  seed: number;
  /** The label-noise setting (`noiseName`); absent = "none" (runs from before noise existed, the notebook baseline). */
  noise?: string;
  /** Minority share of the unlabelled pool at round 0 (what random selection expects to hit). */
  poolPrior: number;
  /** Initial labelled indices (into the full data). */
  seedSet: Int32Array;
  /** Per round, the selected indices into the full data, in queue order. */
  selected: Int32Array[];
  curve: RoundPoint[];
}

export interface MeanStd {
  mean: number;
  std: number;
  /** Values that entered the mean (NaNs are left out, e.g. a hit rate with nothing selected). */
  n: number;
}

export interface AggregatePoint {
  round: number;
  labelled: MeanStd;
  minorityF1: MeanStd;
  minorityMacroF1: MeanStd;
  minorityAuprc: MeanStd;
  cumulativeHitRate: MeanStd;
}

export interface AggregateResult {
  strategy: string;
  budget: number;
  /** The label-noise setting (`noiseName`), "none" without noise; absent in results saved before noise existed. */
  noise?: string;
  seeds: number;
  /** Metrics after the last round. */
  final: AggregatePoint;
  curve: AggregatePoint[];
  poolPrior: MeanStd;
  /** Rounds (summed over seeds) where a model-needing strategy fell back to cold start. */
  coldStartRounds: number;
  selectMs: MeanStd;
}

export interface SimulationResult {
  runs: RunResult[];
  aggregates: AggregateResult[];
  testSize: number;
  testPrior: number;
  trainSize: number;
  trainPrior: number;
}

/**
 * Run every strategy × budget × seed and aggregate over seeds.
 * Each run is seeded from its own coordinates (seed, budget, strategy label, round), so a
 * single cell can be recomputed alone (e.g. by a background job) and gives the same numbers;
 * the seed set, round-0 head and MC-dropout masks are shared between strategies of one seed
 * (common random numbers), so differences between strategies are not seed noise.
 * @throws MlInputError for inconsistent shapes, labels, indices or parameters.
 */
export function runSimulation<W>(input: SimulationInput<W>, options: SimulationOptions = {}): SimulationResult {
  validateInput(input);
  const { labels, numClasses, minorityClasses, embeddings } = input;
  const isMinority = minorityMask(numClasses, minorityClasses);
  const n = labels.length;

  const trainIdx = trainIndices(n, input.testIndices);
  const testX = gatherRows(embeddings, input.testIndices);
  const testY = gatherLabels(labels, input.testIndices);

  const include = options.include ?? (() => true);
  const noises = input.noise ?? [NO_NOISE];
  let cells = 0;
  for (const seed of input.seeds) for (const nz of noises) for (const budget of input.budgets) for (const s of input.strategies) if (include({ strategy: s.label, budget, seed, noise: noiseName(nz) })) cells++;
  const total = cells * input.rounds;
  let done = 0;
  const clock = options.clock ?? (() => 0);
  const runs: RunResult[] = [];

  for (const seed of input.seeds) {
    const { indices: seedSet, forced: seedForced } = drawSeedSet(input, trainIdx, isMinority, seed);
    for (const nz of noises) {
      const noise = noiseName(nz);
      if (!input.budgets.some((budget) => input.strategies.some((s) => include({ strategy: s.label, budget, seed, noise })))) continue;
      const observed = noisyLabels(input, seed, nz);
      for (const budget of input.budgets) {
        for (const named of input.strategies) {
          if (!include({ strategy: named.label, budget, seed, noise })) continue;
          const run = runOne(input, { seed, budget, named, seedSet, seedForced, trainIdx, testX, testY, isMinority, clock, observed, noise }, (r) => {
            done++;
            options.onProgress?.(done, total, `${named.label} B=${budget} seed=${seed}${noise === "none" ? "" : ` noise ${noise}`} round ${r}/${input.rounds}`);
          });
          runs.push(run);
        }
      }
    }
  }

  return summarizeRuns(input, runs);
}

/**
 * The labels the simulated annotators of `seed` return under `noise`: the true labels without noise,
 * else a seeded draw of workers/ml/label-noise.ts (seeded by the seed and the setting's name, so every
 * strategy and budget of a seed, and every shard, sees the same flips). TEST is never flipped.
 */
export function noisyLabels(input: Pick<SimulationInput<unknown>, "labels" | "numClasses" | "minorityClasses" | "testIndices">, seed: number, noise: LabelNoise): Int32Array {
  if (noise.kind === "none") return input.labels;
  return applyLabelNoise(input.labels, input.numClasses, input.minorityClasses, input.testIndices, noise, createRng(mixSeed(seed, 0x1abe1, hashString(noiseName(noise))))).labels;
}

/**
 * Aggregates runs (from one `runSimulation` or merged from shards) over seeds, in the input's
 * budget × strategy order, with the split's sizes and minority priors.
 */
export function summarizeRuns<W>(
  input: Pick<SimulationInput<W>, "labels" | "numClasses" | "minorityClasses" | "testIndices" | "budgets" | "seeds" | "noise"> & {
    /** Row labels in table order (only `label` is read, so runs from outside the loop, e.g. a baseline script, can join). */
    strategies: readonly { label: string }[];
  },
  runs: RunResult[],
): SimulationResult {
  const isMinority = minorityMask(input.numClasses, input.minorityClasses);
  const trainIdx = trainIndices(input.labels.length, input.testIndices);
  // Canonical order (seed, budget, strategy as in the input), so merged shards sum their
  // floating-point means in the same order as a single run and agree to the last bit.
  const labels = input.strategies.map((s) => s.label);
  const noises = (input.noise ?? [NO_NOISE]).map(noiseName);
  const key = (r: RunResult) => [input.seeds.indexOf(r.seed), noises.indexOf(r.noise ?? "none"), input.budgets.indexOf(r.budget), labels.indexOf(r.strategy)];
  const sorted = runs.slice().sort((a, b) => {
    const ka = key(a), kb = key(b);
    return ka[0]! - kb[0]! || ka[1]! - kb[1]! || ka[2]! - kb[2]! || ka[3]! - kb[3]!;
  });
  return {
    runs: sorted,
    aggregates: aggregateRuns(sorted, labels, input.budgets, noises),
    testSize: input.testIndices.length,
    testPrior: prior(gatherLabels(input.labels, input.testIndices), isMinority),
    trainSize: trainIdx.length,
    trainPrior: prior(gatherLabels(input.labels, Int32Array.from(trainIdx)), isMinority),
  };
}

function trainIndices(n: number, testIndices: Int32Array): number[] {
  const inTest = new Uint8Array(n);
  for (const t of testIndices) inTest[t] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!inTest[i]) out.push(i);
  return out;
}

interface RunContext {
  seed: number;
  budget: number;
  named: NamedStrategy;
  seedSet: Int32Array;
  /** The first `seedForced` cases of `seedSet` were drawn because they are minority (SeedSetSpec.minMinority). */
  seedForced: number;
  trainIdx: number[];
  testX: Matrix;
  testY: Int32Array;
  isMinority: Uint8Array;
  clock: () => number;
  /** The labels the annotators return (`noisyLabels`): what heads are trained on and strategies see. */
  observed: Int32Array;
  /** The noise setting's name. */
  noise: string;
}

function runOne<W>(input: SimulationInput<W>, ctx: RunContext, onRound: (round: number) => void): RunResult {
  const { labels, embeddings, minorityClasses } = input;
  const { seed, budget, named, isMinority, clock } = ctx;
  const n = labels.length;
  // 1 = labelled (seed set or revealed by a selection); test cases are never in `trainIdx`.
  const labelled = new Uint8Array(n);
  const labelledList: number[] = [];
  for (const i of ctx.seedSet) {
    labelled[i] = 1;
    labelledList.push(i);
  }
  const pool0 = ctx.trainIdx.filter((i) => !labelled[i]);
  const poolPrior = pool0.length === 0 ? NaN : pool0.filter((i) => isMinority[labels[i]!]).length / pool0.length;

  const curve: RoundPoint[] = [];
  const selectedPerRound: Int32Array[] = [];
  let selectedTotal = 0;
  let hitsTotal = 0;
  // What the strategy handed to its next round (e.g. RADS agent weights), per run.
  let warmStart: StrategyState | null = null;

  // Round 0: trained on the seed set with an rng that depends on the seed only, so every
  // strategy and budget starts from the very same head.
  let t0 = clock();
  let model = trainIfPossible(input, ctx.observed, labelledList, createRng(mixSeed(seed, 0x7a11, 0)));
  let trainMs = clock() - t0;
  curve.push(pointFor(input, model, ctx, 0, labelledList, NaN, NaN, "", 0, trainMs, {}));

  for (let r = 1; r <= input.rounds; r++) {
    const pool = ctx.trainIdx.filter((i) => !labelled[i]);
    if ((input.poolOrder ?? "shuffled") === "shuffled") {
      // Same permutation stream for every strategy of a (seed, budget, round).
      const order = permutation(pool.length, createRng(mixSeed(seed, budget, r, 0x0d)));
      const sortedPool = pool.slice();
      for (let j = 0; j < pool.length; j++) pool[j] = sortedPool[order[j]!]!;
    }
    if (pool.length === 0) {
      // Nothing left to select: the curve stops early rather than inventing rounds.
      onRound(r);
      continue;
    }
    const poolIdx = Int32Array.from(pool);
    const poolX = gatherRows(embeddings, poolIdx);
    const useColdStart = named.strategy.needsModel && model === null;
    const strategy = useColdStart ? input.coldStart : named.strategy;
    if (!strategy) {
      throw new MlInputError(
        "invalid-argument",
        `${named.label} needs a model but the labelled set has fewer than 2 classes and no cold-start strategy was given`,
      );
    }
    t0 = clock();
    // MC masks depend on (seed, budget, round) only: strategies of one cell see the same noise.
    const mc = strategy.needsModel && model !== null
      ? input.head.mcDropout(model, poolX, input.mcPasses, createRng(mixSeed(seed, budget, r, 0x3c)))
      : null;
    const result = strategy.select({
      poolSize: pool.length,
      budget,
      mc,
      embeddings: poolX,
      labelledEmbeddings: labelledList.length > 0 ? gatherRows(embeddings, Int32Array.from(labelledList)) : null,
      minorityClasses: minorityClasses.slice(),
      rng: createRng(mixSeed(seed, budget, hashString(named.label), r, 0x5e)),
      // What the annotators returned (noisy under label noise), never the hidden truth.
      labelledLabels: gatherLabels(ctx.observed, Int32Array.from(labelledList)),
      warmStart,
    });
    if (result.warmStart) warmStart = result.warmStart;
    const selectMs = clock() - t0;
    const picked = checkSelection(result.selected, pool.length, budget, strategy.name);
    const global = new Int32Array(picked.length);
    let hits = 0;
    picked.forEach((p, j) => {
      const idx = poolIdx[p]!;
      global[j] = idx;
      // Reveal: the label becomes known only now, and only for the selected case.
      labelled[idx] = 1;
      labelledList.push(idx);
      if (isMinority[labels[idx]!]) hits++;
    });
    selectedPerRound.push(global);
    selectedTotal += picked.length;
    hitsTotal += hits;

    t0 = clock();
    // Common random numbers across strategies for the head's initialisation and batches.
    model = trainIfPossible(input, ctx.observed, labelledList, createRng(mixSeed(seed, 0x7a11, r)));
    trainMs = clock() - t0;
    curve.push(
      pointFor(
        input,
        model,
        ctx,
        r,
        labelledList,
        picked.length > 0 ? hits / picked.length : NaN,
        selectedTotal > 0 ? hitsTotal / selectedTotal : NaN,
        useColdStart ? `${strategy.name} (cold start)` : strategy.name,
        selectMs,
        trainMs,
        scalarStats(result.stats),
      ),
    );
    onRound(r);
  }
  return { strategy: named.label, budget, seed, noise: ctx.noise, poolPrior, seedSet: ctx.seedSet, selected: selectedPerRound, curve };
}

/** Trains on the labelled cases with the labels the annotators returned (`observed`); null while fewer than 2 classes are labelled. */
function trainIfPossible<W>(input: SimulationInput<W>, observed: Int32Array, labelledList: number[], rng: Rng): W | null {
  const idx = Int32Array.from(labelledList);
  const y = gatherLabels(observed, idx);
  if (distinctCount(y) < 2) return null;
  return input.head.train(gatherRows(input.embeddings, idx), y, input.numClasses, input.headConfig, rng);
}

function pointFor<W>(
  input: SimulationInput<W>,
  model: W | null,
  ctx: RunContext,
  round: number,
  labelledList: number[],
  roundHitRate: number,
  cumulativeHitRate: number,
  selectedBy: string,
  selectMs: number,
  trainMs: number,
  strategyStats: Record<string, number | string | boolean>,
): RoundPoint {
  const probs = model === null ? constantRestProbs(ctx.testY.length, input.numClasses, input.minorityClasses) : input.head.predictProba(model, ctx.testX);
  const metrics = minorityMetrics(probs, ctx.testY, input.numClasses, input.minorityClasses);
  let labelledMinority = 0;
  for (const i of labelledList) if (ctx.isMinority[input.labels[i]!]) labelledMinority++;
  const remainingMinority = model === null ? undefined : remainingMinorityCheck(input, model, ctx, round, labelledList, labelledMinority);
  return {
    round,
    labelled: labelledList.length,
    labelledMinority,
    roundHitRate,
    cumulativeHitRate,
    trained: model !== null,
    selectedBy,
    selectMs,
    trainMs,
    strategyStats,
    ...(remainingMinority ? { remainingMinority } : {}),
    ...metrics,
  };
}

/**
 * The stopping estimate over the still-unlabelled training pool, beside the truth (see RoundPoint).
 * Its randomness (folds, bootstrap members) comes from its own stream seeded by (seed, budget, round),
 * so it never changes what the strategies select, and strategies of one cell share it.
 */
function remainingMinorityCheck<W>(
  input: SimulationInput<W>, model: W, ctx: RunContext, round: number, labelledList: number[], found: number,
): RoundPoint["remainingMinority"] {
  const isLabelled = new Set(labelledList);
  const pool = Int32Array.from(ctx.trainIdx.filter((i) => !isLabelled.has(i)));
  let truth = 0;
  for (const i of pool) truth += ctx.isMinority[input.labels[i]!]!;
  const poolX = gatherRows(input.embeddings, pool);
  let e: RemainingMinorityEstimate;
  if (input.head.remainingMinority) {
    // The seed set's forced minority cases were picked by their label: a calibration that counted them
    // would learn the seed set's inflated minority share (2 forced of 20 is already 10 % against a 7.6 % pool).
    const calibrationWeights = Float64Array.from(labelledList, (_, j) => (j < ctx.seedForced ? 0 : 1));
    e = input.head.remainingMinority(model, poolX, input.minorityClasses, found, input.mcPasses, createRng(mixSeed(ctx.seed, ctx.budget, round, 0x570b)), calibrationWeights);
  } else {
    const probs = input.head.calibratedProba ? input.head.calibratedProba(model, poolX) : input.head.predictProba(model, poolX);
    e = estimateRemainingMinority(minorityMass(probs, input.numClasses, input.minorityClasses), 1, found, { level: 0.9 });
  }
  const trueRecall = found + truth === 0 ? NaN : found / (found + truth);
  return { estimate: e.estimate, lo: e.lo, hi: e.hi, truth, expectedRecall: e.expectedRecall, trueRecall };
}

function scalarStats(stats: Record<string, unknown>): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(stats)) if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") out[k] = v;
  return out;
}

/** Without a model, score as a predictor that always says the first non-minority class. */
function constantRestProbs(rows: number, numClasses: number, minority: number[]): Float32Array {
  const out = new Float32Array(rows * numClasses);
  let rest = 0;
  while (minority.includes(rest)) rest++;
  for (let i = 0; i < rows; i++) out[i * numClasses + rest] = 1;
  return out;
}

/**
 * Minority metrics of class probabilities `probs` [n, numClasses] against labels `y` [n]
 * (framing in the file comment). F1 is 0 when there are no true and no predicted positives
 * (nothing was found); AUPRC is NaN when the truth has no positive at all.
 */
export function minorityMetrics(probs: Float32Array, y: Int32Array, numClasses: number, minorityClasses: number[]): MinorityMetrics {
  assertLength(probs.length, y.length * numClasses, "probs length (rows × classes)");
  const isMinority = minorityMask(numClasses, minorityClasses);
  const n = y.length;
  const score = new Float64Array(n);
  const truth = new Uint8Array(n);
  const argmax = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestP = -Infinity;
    let s = 0;
    for (let c = 0; c < numClasses; c++) {
      const p = probs[i * numClasses + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
      if (isMinority[c]) s += p;
    }
    score[i] = s;
    argmax[i] = best;
    truth[i] = isMinority[y[i]!]!;
  }
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < n; i++) {
    const pred = isMinority[argmax[i]!]!;
    if (pred && truth[i]) tp++;
    else if (pred) fp++;
    else if (truth[i]) fn++;
  }
  const perClassF1 = minorityClasses.map((c) => {
    let ctp = 0, cfp = 0, cfn = 0;
    for (let i = 0; i < n; i++) {
      const p = argmax[i] === c, t = y[i] === c;
      if (p && t) ctp++;
      else if (p) cfp++;
      else if (t) cfn++;
    }
    return f1(ctp, cfp, cfn);
  });
  return {
    minorityF1: f1(tp, fp, fn),
    minorityMacroF1: perClassF1.reduce((a, b) => a + b, 0) / perClassF1.length,
    // Same step-wise AP as the platform's evaluation (ties enter together), so numbers agree.
    minorityAuprc: precisionRecallCurve(score, truth).ap ?? NaN,
    perClassF1,
  };
}

function f1(tp: number, fp: number, fn: number): number {
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}

/** Mean and sample standard deviation (n − 1) of the finite values; std is 0 for a single value. */
export function meanStd(values: readonly number[]): MeanStd {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length === 1) return { mean, std: 0, n: 1 };
  const ss = v.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { mean, std: Math.sqrt(ss / (v.length - 1)), n: v.length };
}

function aggregateRuns(runs: RunResult[], strategyLabels: string[], budgets: number[], noises: string[]): AggregateResult[] {
  const out: AggregateResult[] = [];
  for (const noise of noises) for (const budget of budgets) {
    for (const strategy of strategyLabels) {
      const cell = runs.filter((r) => r.strategy === strategy && r.budget === budget && (r.noise ?? "none") === noise);
      if (cell.length === 0) continue;
      const rounds = Math.max(...cell.map((r) => r.curve.length));
      const curve: AggregatePoint[] = [];
      for (let k = 0; k < rounds; k++) {
        // A run whose pool ran dry has a shorter curve: its last point carries forward.
        const pts = cell.map((r) => r.curve[Math.min(k, r.curve.length - 1)]!);
        curve.push({
          round: k,
          labelled: meanStd(pts.map((p) => p.labelled)),
          minorityF1: meanStd(pts.map((p) => p.minorityF1)),
          minorityMacroF1: meanStd(pts.map((p) => p.minorityMacroF1)),
          minorityAuprc: meanStd(pts.map((p) => p.minorityAuprc)),
          cumulativeHitRate: meanStd(pts.map((p) => p.cumulativeHitRate)),
        });
      }
      const selectTimes = cell.flatMap((r) => r.curve.slice(1).map((p) => p.selectMs));
      out.push({
        strategy,
        budget,
        noise,
        seeds: cell.length,
        final: curve[curve.length - 1]!,
        curve,
        poolPrior: meanStd(cell.map((r) => r.poolPrior)),
        coldStartRounds: cell.reduce((a, r) => a + r.curve.filter((p) => p.selectedBy.endsWith("(cold start)")).length, 0),
        selectMs: meanStd(selectTimes),
      });
    }
  }
  return out;
}

/** The seed set, its forced minority cases first (`forced` of them; 0 for a fixed seed set). */
function drawSeedSet<W>(input: SimulationInput<W>, trainIdx: number[], isMinority: Uint8Array, seed: number): { indices: Int32Array; forced: number } {
  const spec = input.seedSet;
  if (spec.kind === "fixed") return { indices: spec.indices, forced: 0 };
  const rng = createRng(mixSeed(seed, 0x5eed));
  const minority = trainIdx.filter((i) => isMinority[input.labels[i]!]);
  const forced = Math.min(spec.minMinority, minority.length, spec.size);
  const chosen = new Set<number>(sample(minority, forced, rng));
  // The remaining seed cases come uniformly from the whole training split (minority included),
  // so the seed set's class mix beyond the forced few mirrors the data.
  const others = sample(trainIdx.filter((i) => !chosen.has(i)), Math.min(spec.size - forced, trainIdx.length - forced), rng);
  for (const i of others) chosen.add(i);
  return { indices: Int32Array.from(chosen), forced };
}

/** k distinct elements of `from`, in draw order (partial Fisher–Yates). */
function sample(from: readonly number[], k: number, rng: Rng): number[] {
  const a = from.slice();
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    const pick = j + rng.int(a.length - j);
    const t = a[j]!;
    a[j] = a[pick]!;
    a[pick] = t;
    out.push(a[j]!);
  }
  return out;
}

/** Validates a strategy's output against the SelectionResult contract; names the strategy. */
function checkSelection(selected: Int32Array, poolSize: number, budget: number, name: string): number[] {
  const want = Math.min(budget, poolSize);
  if (selected.length !== want) {
    throw new MlInputError("invalid-argument", `strategy ${name} returned ${selected.length} cases, expected min(budget ${budget}, pool ${poolSize}) = ${want}`);
  }
  const seen = new Set<number>();
  for (const s of selected) {
    if (!Number.isInteger(s) || s < 0 || s >= poolSize) throw new MlInputError("invalid-argument", `strategy ${name} returned pool index ${s} outside 0..${poolSize - 1}`);
    if (seen.has(s)) throw new MlInputError("invalid-argument", `strategy ${name} returned pool index ${s} twice`);
    seen.add(s);
  }
  return Array.from(selected);
}

function validateInput<W>(input: SimulationInput<W>): void {
  const { embeddings, labels, numClasses, minorityClasses } = input;
  assertFiniteMatrix(embeddings, "embeddings");
  assertLength(labels.length, embeddings.rows, "labels length vs embeddings rows");
  assertLabels(labels, numClasses);
  assertMinorityClasses(minorityClasses, numClasses);
  if (minorityClasses.length === 0) throw new MlInputError("unknown-minority-label", "at least one minority class is needed");
  if (minorityClasses.length >= numClasses) throw new MlInputError("unknown-minority-label", "every class is minority: nothing is the majority");
  assertInteger(input.rounds, 1, "rounds");
  assertMcPasses(input.mcPasses, "mcPasses");
  if (input.budgets.length === 0) throw new MlInputError("invalid-argument", "budgets: at least one budget is needed");
  for (const b of input.budgets) assertInteger(b, 1, "budget");
  if (new Set(input.budgets).size !== input.budgets.length) throw new MlInputError("invalid-argument", "budgets are listed twice");
  if (input.seeds.length === 0) throw new MlInputError("invalid-argument", "seeds: at least one seed is needed");
  for (const s of input.seeds) assertInteger(s, 0, "seed");
  if (new Set(input.seeds).size !== input.seeds.length) throw new MlInputError("invalid-argument", "seeds are listed twice");
  if (input.strategies.length === 0) throw new MlInputError("invalid-argument", "strategies: at least one strategy is needed");
  if (input.noise) {
    if (input.noise.length === 0) throw new MlInputError("invalid-argument", "noise: at least one setting is needed (none for no noise)");
    const seen = new Set<string>();
    for (const nz of input.noise) {
      if (nz.kind !== "none" && !(nz.rate >= 0 && nz.rate <= 1)) throw new MlInputError("invalid-argument", `noise ${noiseName(nz)}: the rate must be in [0, 1]`);
      if (seen.has(noiseName(nz))) throw new MlInputError("invalid-argument", `noise ${noiseName(nz)} is listed twice`);
      seen.add(noiseName(nz));
    }
  }
  const names = new Set<string>();
  for (const s of input.strategies) {
    if (names.has(s.label)) throw new MlInputError("invalid-argument", `strategy label ${s.label} is used twice`);
    names.add(s.label);
  }
  const n = labels.length;
  const inTest = new Uint8Array(n);
  for (const t of input.testIndices) {
    if (!Number.isInteger(t) || t < 0 || t >= n) throw new MlInputError("invalid-argument", `test index ${t} is outside 0..${n - 1}`);
    if (inTest[t]) throw new MlInputError("invalid-argument", `test index ${t} is listed twice`);
    inTest[t] = 1;
  }
  if (input.testIndices.length === 0) throw new MlInputError("empty-input", "the test split is empty: nothing to evaluate on");
  if (input.seedSet.kind === "fixed") {
    const seen = new Set<number>();
    for (const i of input.seedSet.indices) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new MlInputError("invalid-argument", `seed-set index ${i} is outside 0..${n - 1}`);
      // The guarantee the whole simulation rests on: nothing from the test split is ever trained on.
      if (inTest[i]) throw new MlInputError("invalid-argument", `seed-set index ${i} is in the test split`);
      if (seen.has(i)) throw new MlInputError("invalid-argument", `seed-set index ${i} is listed twice`);
      seen.add(i);
    }
  } else {
    assertInteger(input.seedSet.size, 0, "seedSet.size");
    assertInteger(input.seedSet.minMinority, 0, "seedSet.minMinority");
    if (input.seedSet.minMinority > input.seedSet.size) throw new MlInputError("invalid-argument", "seedSet.minMinority exceeds seedSet.size");
  }
}

function minorityMask(numClasses: number, minority: readonly number[]): Uint8Array {
  const m = new Uint8Array(numClasses);
  for (const c of minority) m[c] = 1;
  return m;
}

function prior(y: Int32Array, isMinority: Uint8Array): number {
  if (y.length === 0) return NaN;
  let k = 0;
  for (const v of y) k += isMinority[v]!;
  return k / y.length;
}

function distinctCount(y: Int32Array): number {
  return new Set(y).size;
}

/** Rows `idx` of `m` as a new matrix. */
export function gatherRows(m: Matrix, idx: Int32Array): Matrix {
  const d = m.cols;
  const out = new Float32Array(idx.length * d);
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j]!;
    out.set(m.data.subarray(i * d, i * d + d), j * d);
  }
  return { data: out, rows: idx.length, cols: d };
}

function gatherLabels(y: Int32Array, idx: Int32Array): Int32Array {
  const out = new Int32Array(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = y[idx[j]!]!;
  return out;
}

/** A 32-bit seed from several integers (murmur3-style finaliser), so runs are seeded by coordinates. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/** FNV-1a of a string (strategy labels enter the seed this way). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
