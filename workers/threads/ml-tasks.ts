/**
 * The CPU-bound ML work the worker hands to a thread (workers/threads/ml-pool.ts), as a table of
 * tasks whose arguments and results are plain data and typed arrays (structured-cloneable: no
 * functions, no Rng objects — a seed instead). The thread (ml-thread.ts) and the inline fallback
 * both call `runMlTask`, so a task gives the same result wherever it runs.
 *
 * - `trainHead`: workers/ml `trainHead` (the CPU trainer's work).
 * - `fitTextFeaturizer`: the built-in encoder's IDF over a project's narratives (seconds for thousands).
 * - `fitLsa`: the LSA encoder's vocabulary, IDF and projection over a project's narratives (sorted first, so order does not matter).
 * - `trainLogistic`: the class-balanced logistic head (workers/ml/heads/logistic.ts), c by cross-validation.
 * - `bootstrapLogProbs`: a logistic head's bootstrap-ensemble log-probabilities (its uncertainty for BALD/RADS).
 * - `remainingMinority`: the "when to stop" estimate from a logistic head's calibrated bootstrap members (workers/ml/calibration-logistic.ts).
 * - `prepareImages`: decode + resize + normalise images for an ONNX image encoder (the JS part of embedding).
 * - `mcDropout`: MC-dropout log-probabilities of a head in workers/ml.
 * - `select`: one selection strategy over a pool (RADS: MC-dropout-based agent training + greedy pass).
 * - `simulateCells`: what-if cells of workers/ml `runSimulation` (head training, MC dropout and the
 *   strategies of every simulated round), one progress message per cell.
 */
import type { ImagePreprocess } from "@/contracts/encoder-config";
import { decodeImage } from "@/models/encoders/image-decode";
import { preprocessImage } from "@/models/encoders/image-preprocess";
import { radsPlatformStrategy, type RadsPlatformOptions } from "@/workers/ml/rads/rads-platform";
import { radsStrategy, type RadsOptions } from "@/workers/ml/rads/rads-strategy";
import { mcDropoutLogProbs, trainHead } from "@/workers/ml/mlp-head";
import { createRng, type Rng } from "@/workers/ml/rng";
import { bootstrapLogProbs, bootstrapLogProbsReference, trainLogisticHead, type LogisticConfig, type LogisticModel } from "@/workers/ml/heads/logistic";
import { estimateRemainingFromLogistic } from "@/workers/ml/calibration-logistic";
import type { RemainingMinorityEstimate } from "@/workers/ml/stopping";
import { fitLsa, type LsaState } from "@/workers/ml/text/lsa";
import { logisticHeadOps, mlpHeadOps, runSimulation, type RunResult, type SimulationInput } from "@/workers/ml/simulation";
import { getBaselineStrategy } from "@/workers/ml/strategies/registry";
import { createTextFeaturizer, fitTextFeaturizer, type TextFeaturizerState } from "@/workers/ml/text-featurizer";
import type { HeadConfig, HeadWeights, Matrix, McLogProbs, SelectionInput, SelectionResult, SelectionStrategy, TrainReport } from "@/workers/ml/types";

/**
 * A strategy by name, as the select job and the what-if name them: `rads` = the platform's variant
 * (workers/ml/rads/rads-platform.ts), `rads-paper` = the paper's algorithm (rads-strategy.ts), each
 * with its options; any other name is a baseline of workers/ml/strategies/registry.ts.
 */
export type StrategySpec = { name: "rads"; options?: RadsPlatformOptions } | { name: "rads-paper"; options?: RadsOptions } | { name: string; options?: undefined };

/** The strategy a spec names. @throws MlInputError for an unknown name or bad RADS options. */
export function strategyFromSpec(spec: StrategySpec): SelectionStrategy {
  if (spec.name === "rads") return radsPlatformStrategy((spec.options ?? {}) as RadsPlatformOptions);
  if (spec.name === "rads-paper") return radsStrategy((spec.options ?? {}) as RadsOptions);
  return getBaselineStrategy(spec.name);
}

/**
 * The seed that stands for `rng.fork()` in a task's arguments: `createRng(forkSeed(rng))` is the
 * generator `rng.fork()` would have returned (fork draws one uint32 and seeds a new Rng with it;
 * `int(2^32)` draws the same uint32), and it advances `rng` the same way.
 */
export function forkSeed(rng: Rng): number {
  return rng.int(0x100000000);
}

/** A SimulationInput of the MLP head with its strategies named instead of built (so it can be posted). */
export type SimulationSpec = Omit<SimulationInput<HeadWeights>, "strategies" | "head" | "coldStart"> & {
  strategies: { label: string; spec: StrategySpec }[];
  /** Seed-set rounds use the cold-start strategy (k-means strata) when true. */
  coldStart: boolean;
  /** The head retrained every round: the MLP (`headConfig`) when absent, else the logistic head with this config. */
  logistic?: Partial<LogisticConfig>;
};

export interface SimulationCell {
  strategy: string;
  budget: number;
  seed: number;
}

export interface MlTaskTable {
  trainHead: {
    args: { x: Matrix; y: Int32Array; numClasses: number; config: Partial<HeadConfig>; seed: number };
    result: { weights: HeadWeights; report: TrainReport };
  };
  fitTextFeaturizer: {
    /** The corpus (a project's narratives) and the featuriser's width; an empty corpus gives the unfitted featuriser. */
    args: { corpus: string[]; dim?: number };
    result: TextFeaturizerState;
  };
  fitLsa: {
    /** The corpus (a project's narratives, any order), the embedding dimension and the SVD's seed. */
    args: { corpus: string[]; dim: number; seed: number };
    result: LsaState;
  };
  trainLogistic: {
    args: { x: Matrix; y: Int32Array; numClasses: number; config: Partial<LogisticConfig>; seed: number };
    result: LogisticModel;
  };
  bootstrapLogProbs: {
    /**
     * A logistic model (as `trainLogistic` returns it), the rows to score, the ensemble size K; `method`
     * "reference" runs `bootstrapLogProbsReference` (the first implementation, for comparisons; default: `bootstrapLogProbs`).
     */
    args: { model: LogisticModel; x: Matrix; passes: number; seed: number; method?: "stacked" | "reference" };
    result: McLogProbs;
  };
  remainingMinority: {
    /** A logistic model, the pool rows, the minority classes, minority cases labelled so far, the members K. */
    args: { model: LogisticModel; x: Matrix; minority: number[]; found: number; members: number; seed: number };
    result: RemainingMinorityEstimate & { calibration: { members: number; folds: number } };
  };
  prepareImages: {
    /** Image files (PNG/JPEG/DICOM bytes) and the encoder's preprocessing; `label` names an image in errors. */
    args: { images: { bytes: Uint8Array; label?: string }[]; preprocess: ImagePreprocess };
    /** Per image, in order: the model input [3, crop, crop], or why it could not be decoded (the error's name and message). */
    result: ({ ok: true; data: Float32Array } | { ok: false; name: string; message: string })[];
  };
  mcDropout: {
    args: { weights: HeadWeights; x: Matrix; passes: number; seed: number };
    result: McLogProbs;
  };
  select: {
    /** The strategy's input with `seed` in place of the Rng (`createRng(seed)` is what the strategy gets). */
    args: { strategy: StrategySpec; input: Omit<SelectionInput, "rng"> & { seed: number } };
    result: SelectionResult;
  };
  simulateCells: {
    args: { spec: SimulationSpec; cells: SimulationCell[] };
    result: RunResult[];
  };
}
export type MlTaskName = keyof MlTaskTable;
export type MlTaskArgs<K extends MlTaskName> = MlTaskTable[K]["args"];
export type MlTaskResult<K extends MlTaskName> = MlTaskTable[K]["result"];

/** Progress of a running task: `done` of `total` steps, and what runs now. */
export interface MlTaskProgress {
  done: number;
  total: number;
  label: string;
}

/** Builds the SimulationInput a spec describes. */
export function simulationInputFromSpec(spec: SimulationSpec): SimulationInput<HeadWeights> | SimulationInput<LogisticModel> {
  const { strategies, coldStart, logistic, ...rest } = spec;
  const common = {
    ...rest,
    strategies: strategies.map((s) => ({ label: s.label, strategy: strategyFromSpec(s.spec) })),
    coldStart: coldStart ? getBaselineStrategy("cold-start") : undefined,
  };
  return logistic ? { ...common, head: logisticHeadOps(logistic) } : { ...common, head: mlpHeadOps };
}

/** Runs `task` here, synchronously (the thread's body; also the inline fallback and the tests' reference). */
export function runMlTask<K extends MlTaskName>(task: K, args: MlTaskArgs<K>, onProgress: (p: MlTaskProgress) => void = () => undefined): MlTaskResult<K> {
  switch (task) {
    case "trainHead": {
      const a = args as MlTaskArgs<"trainHead">;
      const { weights, report } = trainHead(a.x, a.y, a.numClasses, a.config, createRng(a.seed));
      return { weights, report } as MlTaskResult<K>;
    }
    case "fitTextFeaturizer": {
      const a = args as MlTaskArgs<"fitTextFeaturizer">;
      return (a.corpus.length > 0 ? fitTextFeaturizer(a.corpus, { dim: a.dim }) : createTextFeaturizer({ dim: a.dim })) as MlTaskResult<K>;
    }
    case "fitLsa": {
      const a = args as MlTaskArgs<"fitLsa">;
      const sorted = [...a.corpus].sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
      return fitLsa(sorted, createRng(a.seed), { dim: a.dim }) as MlTaskResult<K>;
    }
    case "trainLogistic": {
      const a = args as MlTaskArgs<"trainLogistic">;
      return trainLogisticHead(a.x, a.y, a.numClasses, a.config, createRng(a.seed)) as MlTaskResult<K>;
    }
    case "bootstrapLogProbs": {
      const a = args as MlTaskArgs<"bootstrapLogProbs">;
      return (a.method === "reference" ? bootstrapLogProbsReference : bootstrapLogProbs)(a.model, a.x, a.passes, createRng(a.seed)) as MlTaskResult<K>;
    }
    case "remainingMinority": {
      const a = args as MlTaskArgs<"remainingMinority">;
      return estimateRemainingFromLogistic(a.model, a.x, a.minority, a.found, a.members, createRng(a.seed)) as MlTaskResult<K>;
    }
    case "prepareImages": {
      const a = args as MlTaskArgs<"prepareImages">;
      // What OnnxImageEncoder.prepare does (models/encoders/onnx-image-encoder.ts), one image at a time so one bad file fails alone.
      return a.images.map((image) => {
        try {
          return { ok: true, data: preprocessImage(decodeImage(image.bytes, { label: image.label, dicomWindow: a.preprocess.dicomWindow }), a.preprocess) };
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          return { ok: false, name: e.name, message: e.message };
        }
      }) as MlTaskResult<K>;
    }
    case "mcDropout": {
      const a = args as MlTaskArgs<"mcDropout">;
      return mcDropoutLogProbs(a.weights, a.x, a.passes, createRng(a.seed)) as MlTaskResult<K>;
    }
    case "select": {
      const a = args as MlTaskArgs<"select">;
      const { seed, ...input } = a.input;
      return strategyFromSpec(a.strategy).select({ ...input, rng: createRng(seed) }) as MlTaskResult<K>;
    }
    case "simulateCells": {
      const a = args as MlTaskArgs<"simulateCells">;
      const input = simulationInputFromSpec(a.spec);
      const runs: RunResult[] = [];
      a.cells.forEach((cell, i) => {
        onProgress({ done: i, total: a.cells.length, label: `${cell.strategy}, budget ${cell.budget}, seed ${cell.seed}` });
        runs.push(...runSimulation<HeadWeights | LogisticModel>(input as SimulationInput<HeadWeights | LogisticModel>, { include: (c) => c.seed === cell.seed && c.budget === cell.budget && c.strategy === cell.strategy }).runs);
      });
      return runs as MlTaskResult<K>;
    }
    default:
      throw new Error(`Unknown ML task "${String(task)}"`);
  }
}

/**
 * The ArrayBuffers behind the typed arrays in `value` (walked through plain objects and arrays) that
 * may be transferred: only a buffer a single view covers whole (a pooled Node Buffer or a
 * sub-array view shares its buffer with other data, so it is copied instead), each once.
 */
export function transferableBuffers(value: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number) => {
    if (!v || typeof v !== "object" || depth > 12 || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.byteLength > 0) out.add(v.buffer);
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child, depth + 1);
  };
  walk(value, 0);
  return [...out];
}
