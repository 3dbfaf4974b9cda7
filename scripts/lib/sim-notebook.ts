/**
 * The "notebook" rows of `npm run simulate -- --notebook`: scikit-learn TF-IDF + balanced
 * logistic regression (scripts/notebook_baseline.py), run in the same invocation on the same
 * split, seed sets and rounds — and, for `notebook-random`, the very cases the platform's
 * `random` runs selected — so baseline and platform are compared pair by pair.
 *
 * Python is optional: `findPythonWithSklearn` tries `python3` on PATH, then `/usr/bin/python3`;
 * without scikit-learn the rows are skipped with a note and the simulation still succeeds.
 */
import { spawnSync } from "node:child_process";
import type { RunResult } from "../../workers/ml/simulation";
import { deserializeRuns } from "./sim-shards";

/** What the Python script reads (indices are into `texts`). */
export interface NotebookSpec {
  /** A float32 .npy [cases, d] of precomputed features: the notebook fits on them instead of TF-IDF of `texts`. */
  featuresFile: string | null;
  texts: string[];
  labels: number[];
  minorityClasses: number[];
  train: number[];
  test: number[];
  rounds: number;
  budgets: number[];
  strategies: ("random" | "entropy")[];
  seeds: { seed: number; seedSet: number[] }[];
  /** Per (seed, budget), the platform's random selections per round. */
  randomSelections: { seed: number; budget: number; selected: number[][] }[];
}

export const NOTEBOOK_LABELS = { random: "notebook-random", entropy: "notebook-entropy" } as const;

/**
 * The spec for the script from a finished simulation. `notebook-random` needs the platform's
 * `random` runs (the strategy must have been simulated); without them only `notebook-entropy` runs.
 */
export function notebookSpec(args: {
  featuresFile?: string | null;
  texts: string[];
  labels: Int32Array;
  minorityClasses: number[];
  train: Int32Array;
  test: Int32Array;
  rounds: number;
  budgets: number[];
  runs: RunResult[];
}): NotebookSpec {
  const random = args.runs.filter((r) => r.strategy === "random");
  const seeds = new Map<number, number[]>();
  for (const r of args.runs) if (!seeds.has(r.seed)) seeds.set(r.seed, Array.from(r.seedSet));
  return {
    featuresFile: args.featuresFile ?? null,
    texts: args.featuresFile ? [] : args.texts,
    labels: Array.from(args.labels),
    minorityClasses: args.minorityClasses.slice(),
    train: Array.from(args.train),
    test: Array.from(args.test),
    rounds: args.rounds,
    budgets: args.budgets.slice(),
    strategies: random.length > 0 ? ["random", "entropy"] : ["entropy"],
    seeds: [...seeds].map(([seed, seedSet]) => ({ seed, seedSet })),
    randomSelections: random.map((r) => ({ seed: r.seed, budget: r.budget, selected: r.selected.map((s) => Array.from(s)) })),
  };
}

/** The first of `candidates` that imports sklearn, or null. */
export function findPythonWithSklearn(candidates: readonly string[] = ["python3", "/usr/bin/python3"]): string | null {
  for (const py of candidates) {
    const r = spawnSync(py, ["-c", "import sklearn"], { stdio: "ignore", timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/**
 * Runs the script on `specFile`, writing runs to `outFile`; returns them.
 * @throws Error with the script's stderr when it fails.
 */
export function runNotebook(python: string, script: string, specFile: string, outFile: string, readText: (f: string) => string): RunResult[] {
  const r = spawnSync(python, [script, specFile, outFile], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`notebook baseline (${python} ${script}) failed with exit code ${r.status}: ${(r.stderr ?? "").trim().slice(-2000)}`);
  return parseNotebookRuns(readText(outFile));
}

/** The script's output as RunResults (NaN arrives as the string "NaN", as in shard files). */
export function parseNotebookRuns(text: string): RunResult[] {
  const runs = deserializeRuns(text);
  for (const r of runs) {
    if (!Object.values(NOTEBOOK_LABELS).includes(r.strategy as (typeof NOTEBOOK_LABELS)[keyof typeof NOTEBOOK_LABELS])) {
      throw new Error(`notebook baseline returned an unexpected strategy ${JSON.stringify(r.strategy)}`);
    }
    if (!Array.isArray(r.curve) || r.curve.length === 0) throw new Error(`notebook baseline run ${r.strategy} B=${r.budget} seed=${r.seed} has no curve`);
  }
  return runs;
}
