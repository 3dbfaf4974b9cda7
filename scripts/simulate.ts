/**
 * npm run simulate -- --data <csv|jsonl> --text-col … --label-col … --minority <label>[,label…] [options]
 * npm run simulate -- --data <csv> --image-col … --featurizer <ONNX image encoder> --label-col … --minority … [options]
 *
 * Replays active learning on already-labelled data: strategies select from the unlabelled
 * pool, the selected labels are revealed, the head is retrained and scored on a held-out split
 * that shares no text group with the pool. Prints a table (stdout), writes results.json and
 * learning-curves.svg under --out. Progress goes to stderr. See docs/simulation.md.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fitTextFeaturizer, featurize } from "../workers/ml/text-featurizer";
import { gatherRows } from "../workers/ml/simulation";
import { defaultLogisticConfig } from "../workers/ml/heads/logistic";
import { createRng } from "../workers/ml/rng";
import { logisticHeadOps, mixSeed, mlpHeadOps, runSimulation, summarizeRuns, type HeadOps, type RunResult, type SimulationInput, type SimulationResult } from "../workers/ml/simulation";
import { NO_NOISE, noiseName, parseLabelNoise, type LabelNoise } from "../workers/ml/label-noise";
import { DEFAULT_LSA_DIM, embedLsa, fitLsa, LSA_HEAD_PREFIXES } from "../workers/ml/text/lsa";
import type { HeadConfig, LossKind, Matrix } from "../workers/ml/types";
import { TableInputError } from "./lib/csv";
import { parseNpy, writeNpy } from "./lib/npy";
import { ProgressBar } from "./lib/progress";
import { groupsFromColumn, groupsFromSidecar, prepareTask, stratifiedTestSplit, type DedupeRule } from "./lib/sim-data";
import { exactVsScaledTable, learningCurveSvg, noiseTable, notebookComparisonTable, resultsTable } from "./lib/sim-report";
import { findPythonWithSklearn, NOTEBOOK_LABELS, notebookSpec, runNotebook } from "./lib/sim-notebook";
import { assignShards, deserializeRuns, serializeRuns, type Cell } from "./lib/sim-shards";
import { buildStrategies, coldStartStrategy, RADS_MODES, type RadsMode } from "./lib/sim-strategies";
import { radsPlatformStrategy, type RadsPlatformOptions } from "../workers/ml/rads/rads-platform";
import { imagePaths, embedWithOnnx, isOnnxFeaturizer, onnxEncoderConfig, type OnnxEncoderChoice } from "./lib/sim-encoder";
import { formatFromPath, readTable, requireColumn, type TableFormat } from "./lib/table";

const USAGE = `Usage: npm run simulate -- --data <file.csv|file.jsonl> --text-col <col> --label-col <col> --minority <label>[,<label>…] [options]
       npm run simulate -- --embeddings <matrix.npy|matrix.csv> [--data <labels.csv|.jsonl>] --label-col <col> --minority <label>[,…] [options]
       npm run simulate -- --data <file.csv> --image-col <col> --featurizer <model.onnx|dir> --label-col <col> --minority <label>[,…] [options]

Task and data
  --embeddings <file>       precomputed embeddings instead of text: a .npy [N, d] matrix (labels from --data,
                            row i = data row i) or a .csv with a header (labels from its --label-col; every other
                            column except --id-col/--group-col is a feature; --data optional)
  --minority <labels>       minority label(s), comma-separated; repeat the flag for labels containing commas
  --format csv|jsonl        file format (default: from the extension)
  --group-col <col>         text-group id column (rows sharing it are one case); read from --groups when given
  --groups <file.csv>       sidecar with --id-col and --group-col (e.g. mtsamples_text_groups.csv)
  --id-col <col>            join column between --data and --groups (default: first sidecar column also in the data)
  --dedupe <rule>           one label per text group: minority-wins (default) | drop-conflicts | keep-first
  --test-fraction <f>       stratified held-out share of cases (default 0.25)
  --split-seed <n>          seed of the train/test split (default 20240601)

Simulation
  --strategies <list>       rads,random,entropy,bald,coreset (default: all five)
  --rads-mode <list>        exact,scaled: RADS runs once per mode, labelled rads-exact / rads-scaled (default exact)
  --budget <list>           cases selected per round (default 5,10,20,50)
  --rounds <n>              selection rounds per run (default 5)
  --seeds <n>               runs per strategy × budget, seeds 1..n (default 5)
  --seed-from <n>           first seed: seeds n..n+(--seeds)−1 instead (default 1), e.g. a development range apart
                            from the reported one
  --rads-variant <l>=<json> also run the platform RADS with these options (RadsPlatformOptions as JSON) under
                            label l; repeatable, e.g. v1='{"policy":"utility","utilityRedundancy":0.4}'
  --seed-size <n>           initial labelled cases drawn per seed from the training split (default 20)
  --seed-minority <n>       of which at least this many minority (default 2)
  --pool-order <order>      shuffled (default: a seeded permutation per round) | index (data-file order)
  --noise <list>            label noise the simulated annotators add to train/seed labels (never TEST), e.g.
                            symmetric:0.1,minority:0.2 — symmetric:r flips each label to another class with rate r,
                            minority:r flips minority labels to the majority class with rate r; seeded. Every setting
                            adds rows beside noise-free ones (default: none)
  --episodes <n>            RADS agent episodes (default 300, the paper's)
  --mc-passes <n>           MC-dropout passes / bootstrap members K (default 10)
  --head <kind>             logistic (default: class-balanced logistic regression, c by cross-validation,
                            bootstrap ensemble for BALD/RADS) | mlp (the MLP head with MC dropout)
  --head-c <list>           logistic: c values cross-validated per round (default ${defaultLogisticConfig.cGrid.join(",")}); one value = fixed c
  --head-dims <list>        logistic: leading embedding columns cross-validated beside c (e.g. 25,50,100 on LSA);
                            default: all columns
  --head-average <list>     logistic: average the logits of one head per leading-column count (default with the
                            LSA featurizer: ${LSA_HEAD_PREFIXES.join(",")}; "" = one head on all columns)
  --head-hidden <list>      mlp: hidden widths, e.g. 64 or 128,64; "" for a linear head (default 64)
  --head-epochs <n>         mlp: epochs (default 100; no early stopping, see docs/simulation.md)
  --head-loss <loss>        mlp: cross-entropy | weighted-cross-entropy (default) | focal
  --featurizer <kind>       lsa (default: TF-IDF word 1–2-grams → LSA, fitted on the training split) |
                            builtin (hashed TF-IDF, 384-d) | an ONNX encoder, run by the platform's own encoder
                            code (models/encoders): a directory with tokenizer.json (text, fed --text-col), or a
                            .onnx file / a directory with one .onnx file (image, fed the files of --image-col)
  --image-col <col>         image encoder: column with each case's image file (PNG/JPEG/DICOM), relative to the
                            data file's folder; replaces --text-col
  --encoder-output <name>   ONNX encoder: the model output used as the embedding (default: its first output)
  --lsa-dim <n>             LSA dimension (default ${DEFAULT_LSA_DIM})
  --notebook                also run the scikit-learn notebook baseline (scripts/notebook_baseline.py: TF-IDF +
                            balanced logistic regression; notebook-random on the platform's random selections,
                            notebook-entropy with its own max-entropy loop) when python3 with scikit-learn is present
  --out <dir>               output folder (default sim-results/<data file name>)
  --jobs <n>                worker processes sharing the grid (default 1); results are identical for any n
  --replot <results.json>   redraw learning-curves.svg (into --out or beside the file) and reprint the table from a saved run
  --help`;

interface CliOptions {
  data: string;
  embeddings: string | null;
  format: TableFormat;
  textCol: string | null;
  labelCol: string;
  minority: string[];
  groupCol: string | null;
  groups: string | null;
  idCol: string | null;
  dedupe: DedupeRule;
  testFraction: number;
  splitSeed: number;
  strategies: string[];
  radsModes: RadsMode[];
  budgets: number[];
  rounds: number;
  seeds: number;
  /** First seed (--seed-from): the runs use seeds seedFrom..seedFrom+seeds−1. */
  seedFrom: number;
  /** --rads-variant: extra platform RADS strategies (options as given, budgetOverflow "clamp"). */
  radsVariants: { label: string; options: RadsPlatformOptions }[];
  seedSize: number;
  seedMinority: number;
  poolOrder: "shuffled" | "index";
  /** Label-noise settings, "none" first (workers/ml/label-noise.ts). */
  noise: LabelNoise[];
  episodes: number;
  mcPasses: number;
  head: "logistic" | "mlp";
  headC: number[];
  headDims: number[] | null;
  headAverage: number[] | null;
  lsaDim: number;
  notebook: boolean;
  headHidden: number[];
  headEpochs: number;
  headLoss: LossKind;
  featurizer: string;
  /** --image-col: the column naming each case's image file (ONNX image encoder). */
  imageCol: string | null;
  encoderOutput: string | null;
  out: string;
  jobs: number;
  /** Internal (set by the parent of --jobs): run shard i of n and write its runs to shardOut. */
  shard: { index: number; count: number } | null;
  shardOut: string | null;
  /** Internal: the parent's features as .npy, so shards do not refit the encoder (same float32 values). */
  featuresIn: string | null;
}

class UsageError extends Error {}

function intList(flag: string, raw: string, min: number): number[] {
  const parts = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const out = parts.map((p) => {
    const v = Number(p);
    if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag}: ${JSON.stringify(p)} is not an integer >= ${min}`);
    return v;
  });
  if (out.length === 0) throw new UsageError(`${flag}: give at least one value`);
  if (new Set(out).size !== out.length) throw new UsageError(`${flag}: a value is listed twice`);
  return out;
}

function int(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag}: ${JSON.stringify(raw)} is not an integer >= ${min}`);
  return v;
}

function parseCli(argv: string[]): CliOptions | { replot: string; out: string | undefined } | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: "string" },
        embeddings: { type: "string" },
        format: { type: "string" },
        "text-col": { type: "string" },
        "label-col": { type: "string" },
        minority: { type: "string", multiple: true },
        "group-col": { type: "string" },
        groups: { type: "string" },
        "id-col": { type: "string" },
        dedupe: { type: "string" },
        "test-fraction": { type: "string" },
        "split-seed": { type: "string" },
        strategies: { type: "string" },
        "rads-mode": { type: "string" },
        budget: { type: "string" },
        rounds: { type: "string" },
        seeds: { type: "string" },
        "seed-from": { type: "string" },
        "rads-variant": { type: "string", multiple: true },
        "seed-size": { type: "string" },
        "seed-minority": { type: "string" },
        "pool-order": { type: "string" },
        noise: { type: "string" },
        episodes: { type: "string" },
        "mc-passes": { type: "string" },
        head: { type: "string" },
        "head-c": { type: "string" },
        "head-dims": { type: "string" },
        "head-average": { type: "string" },
        "lsa-dim": { type: "string" },
        notebook: { type: "boolean" },
        "head-hidden": { type: "string" },
        "head-epochs": { type: "string" },
        "head-loss": { type: "string" },
        featurizer: { type: "string" },
        "image-col": { type: "string" },
        "encoder-output": { type: "string" },
        out: { type: "string" },
        jobs: { type: "string" },
        shard: { type: "string" },
        "shard-out": { type: "string" },
        "features-in": { type: "string" },
        replot: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return null;
  if (v.replot !== undefined) return { replot: v.replot, out: v.out };
  const embeddings = v.embeddings ?? null;
  if (embeddings !== null) {
    if (!/\.(npy|csv)$/i.test(embeddings)) throw new UsageError(`--embeddings ${embeddings}: expected a .npy or .csv file`);
    if (v.data === undefined) {
      if (/\.npy$/i.test(embeddings)) throw new UsageError("--embeddings <file.npy> needs --data with the labels (row i of the data = row i of the matrix)");
      v.data = embeddings;
    }
    if (v["text-col"] !== undefined) throw new UsageError("--text-col and --embeddings exclude each other: the features come from the embeddings file");
    if (v.featurizer !== undefined) throw new UsageError("--featurizer and --embeddings exclude each other");
    if (v["image-col"] !== undefined) throw new UsageError("--image-col and --embeddings exclude each other: the features come from the embeddings file");
  }
  for (const req of ["data", "label-col", "minority"] as const) {
    if (v[req] === undefined) throw new UsageError(`--${req} is required`);
  }
  if (v["image-col"] !== undefined && v["text-col"] !== undefined) throw new UsageError("--image-col and --text-col exclude each other: a case is either a text or an image");
  if (v["image-col"] !== undefined && !isOnnxFeaturizer(v.featurizer ?? "lsa")) throw new UsageError("--image-col needs --featurizer <ONNX image encoder> (a .onnx file or a directory with one)");
  if (embeddings === null && v["text-col"] === undefined && v["image-col"] === undefined) throw new UsageError("--text-col is required (or --image-col with an ONNX image encoder, or --embeddings)");
  const minority = v.minority!.flatMap((m) => (v.minority!.length === 1 ? m.split(",") : [m])).map((m) => m.trim()).filter((m) => m !== "");
  const format = (v.format ?? formatFromPath(v.data!)) as TableFormat;
  if (format !== "csv" && format !== "jsonl") throw new UsageError(`--format must be csv or jsonl, got ${JSON.stringify(v.format)}`);
  const dedupe = (v.dedupe ?? "minority-wins") as DedupeRule;
  if (!["minority-wins", "drop-conflicts", "keep-first"].includes(dedupe)) throw new UsageError(`--dedupe must be minority-wins, drop-conflicts or keep-first, got ${JSON.stringify(v.dedupe)}`);
  const strategies = (v.strategies ?? "rads,random,entropy,bald,coreset").split(",").map((s) => s.trim()).filter(Boolean);
  const radsModes = (v["rads-mode"] ?? "exact").split(",").map((s) => s.trim()).filter(Boolean);
  for (const m of radsModes) if (!(RADS_MODES as readonly string[]).includes(m)) throw new UsageError(`--rads-mode: unknown mode ${JSON.stringify(m)} (expected ${RADS_MODES.join(" or ")})`);
  const testFraction = v["test-fraction"] === undefined ? 0.25 : Number(v["test-fraction"]);
  if (!(testFraction > 0 && testFraction < 1)) throw new UsageError(`--test-fraction must be a number in (0, 1), got ${JSON.stringify(v["test-fraction"])}`);
  const headHidden = v["head-hidden"] === undefined ? [64] : v["head-hidden"].trim() === "" ? [] : intList("--head-hidden", v["head-hidden"], 1);
  const poolOrder = (v["pool-order"] ?? "shuffled") as CliOptions["poolOrder"];
  if (poolOrder !== "shuffled" && poolOrder !== "index") throw new UsageError(`--pool-order must be shuffled or index, got ${JSON.stringify(v["pool-order"])}`);
  const headLoss = (v["head-loss"] ?? "weighted-cross-entropy") as LossKind;
  if (!["cross-entropy", "weighted-cross-entropy", "focal"].includes(headLoss)) throw new UsageError(`--head-loss must be cross-entropy, weighted-cross-entropy or focal, got ${JSON.stringify(v["head-loss"])}`);
  const head = (v.head ?? "logistic") as CliOptions["head"];
  if (head !== "logistic" && head !== "mlp") throw new UsageError(`--head must be logistic or mlp, got ${JSON.stringify(v.head)}`);
  const headC = v["head-c"] === undefined ? defaultLogisticConfig.cGrid.slice() : v["head-c"].split(",").map((x) => Number(x.trim()));
  for (const c of headC) if (!(c > 0) || !Number.isFinite(c)) throw new UsageError(`--head-c: values must be positive numbers, got ${JSON.stringify(v["head-c"])}`);
  if (v.groups !== undefined && v["group-col"] === undefined) throw new UsageError("--groups needs --group-col (the group id column in that file)");
  const noise = parseNoiseFlag(v.noise);
  if (noise.length > 1 && v.notebook === true) throw new UsageError("--noise and --notebook exclude each other: the notebook baseline trains on true labels");
  return {
    data: v.data!,
    embeddings,
    format,
    textCol: v["text-col"] ?? null,
    labelCol: v["label-col"]!,
    minority,
    groupCol: v["group-col"] ?? null,
    groups: v.groups ?? null,
    idCol: v["id-col"] ?? null,
    dedupe,
    testFraction,
    splitSeed: int("--split-seed", v["split-seed"], 20240601, 0),
    strategies,
    radsModes: radsModes as RadsMode[],
    budgets: intList("--budget", v.budget ?? "5,10,20,50", 1),
    rounds: int("--rounds", v.rounds, 5, 1),
    seeds: int("--seeds", v.seeds, 5, 1),
    seedFrom: int("--seed-from", v["seed-from"], 1, 1),
    radsVariants: parseRadsVariants(v["rads-variant"] ?? [], strategies),
    seedSize: int("--seed-size", v["seed-size"], 20, 0),
    seedMinority: int("--seed-minority", v["seed-minority"], 2, 0),
    poolOrder,
    noise,
    episodes: int("--episodes", v.episodes, 300, 1),
    mcPasses: int("--mc-passes", v["mc-passes"], 10, 2),
    head,
    headC,
    headDims: v["head-dims"] === undefined ? null : intList("--head-dims", v["head-dims"], 1),
    headAverage:
      v["head-average"] !== undefined
        ? v["head-average"].trim() === "" ? null : intList("--head-average", v["head-average"], 1)
        : embeddings === null && (v.featurizer ?? "lsa") === "lsa" && v["head-dims"] === undefined ? LSA_HEAD_PREFIXES.slice() : null,
    lsaDim: int("--lsa-dim", v["lsa-dim"], DEFAULT_LSA_DIM, 1),
    notebook: v.notebook === true,
    headHidden,
    headEpochs: int("--head-epochs", v["head-epochs"], 100, 1),
    headLoss,
    featurizer: embeddings !== null ? "embeddings" : (v.featurizer ?? "lsa"),
    imageCol: v["image-col"] ?? null,
    encoderOutput: v["encoder-output"] ?? null,
    out: v.out ?? join("sim-results", basename(v.data!).replace(/\.(csv|jsonl|ndjson)$/i, "")),
    jobs: int("--jobs", v.jobs, 1, 1),
    shard: parseShard(v.shard),
    shardOut: v["shard-out"] ?? null,
    featuresIn: v["features-in"] ?? null,
  };
}

/** --rads-variant label=json (repeatable): checked here so a bad option stops the run before any work. */
function parseRadsVariants(raw: string[], strategies: string[]): { label: string; options: RadsPlatformOptions }[] {
  const out: { label: string; options: RadsPlatformOptions }[] = [];
  for (const item of raw) {
    const eq = item.indexOf("=");
    const label = eq > 0 ? item.slice(0, eq).trim() : "";
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(label)) throw new UsageError(`--rads-variant: expected label=<json options>, got ${JSON.stringify(item)}`);
    if (strategies.includes(label) || out.some((o) => o.label === label)) throw new UsageError(`--rads-variant: label ${JSON.stringify(label)} is used twice`);
    let options: unknown;
    try {
      options = JSON.parse(item.slice(eq + 1));
    } catch {
      throw new UsageError(`--rads-variant ${label}: the options are not valid JSON: ${item.slice(eq + 1)}`);
    }
    if (typeof options !== "object" || options === null || Array.isArray(options)) throw new UsageError(`--rads-variant ${label}: the options must be a JSON object`);
    try {
      radsPlatformStrategy({ budgetOverflow: "clamp", ...(options as RadsPlatformOptions) });
    } catch (err) {
      throw new UsageError(`--rads-variant ${label}: ${err instanceof Error ? err.message : String(err)}`);
    }
    out.push({ label, options: options as RadsPlatformOptions });
  }
  return out;
}

/** --noise: always "none" first, then each listed setting once (a rate of 0 is "none"). */
function parseNoiseFlag(raw: string | undefined): LabelNoise[] {
  const out: LabelNoise[] = [NO_NOISE];
  for (const part of (raw ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
    let setting: LabelNoise;
    try {
      setting = parseLabelNoise(part);
    } catch (err) {
      throw new UsageError(`--noise: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (out.some((n) => noiseName(n) === noiseName(setting))) {
      if (setting.kind === "none") continue;
      throw new UsageError(`--noise: ${noiseName(setting)} is listed twice`);
    }
    out.push(setting);
  }
  return out;
}

function parseShard(raw: string | undefined): { index: number; count: number } | null {
  if (raw === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be i/n with 0 <= i < n, got ${JSON.stringify(raw)}`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/**
 * The ONNX encoder a --featurizer path names, checked against the columns given (text encoder ↔
 * --text-col, image encoder ↔ --image-col), or null for lsa / builtin / --embeddings.
 */
function onnxEncoderOf(opts: CliOptions): OnnxEncoderChoice | null {
  if (opts.embeddings !== null || !isOnnxFeaturizer(opts.featurizer)) return null;
  let config: OnnxEncoderChoice;
  try {
    config = onnxEncoderConfig(opts.featurizer, opts.encoderOutput);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (config.kind === "onnx-image" && opts.imageCol === null) throw new UsageError(`--featurizer ${opts.featurizer} is an image encoder: give --image-col (the column with each case's image file) instead of --text-col`);
  if (config.kind === "onnx-text" && opts.textCol === null) throw new UsageError(`--featurizer ${opts.featurizer} is a text encoder (it has tokenizer.json): give --text-col`);
  return config;
}

function embed(featurizer: string, texts: string[], trainIdx: Int32Array, lsaDim: number, seed: number): { x: Matrix; description: string } {
  if (featurizer === "lsa") {
    // Vocabulary, IDF and SVD from the training split only (the project's unlabelled pool); test texts are projected.
    const state = fitLsa(Array.from(trainIdx, (i) => texts[i]!), createRng(mixSeed(seed, 0x15a)), { dim: lsaDim });
    return {
      x: embedLsa(state, texts),
      description: `LSA ${state.dim}-d of TF-IDF word 1–2-grams (min_df 2, sublinear tf; ${state.tfidf.terms.length} terms), fitted on ${state.tfidf.docCount} training texts`,
    };
  }
  // IDF is fitted on the training split only: test texts must not shape the features either.
  const state = fitTextFeaturizer(Array.from(trainIdx, (i) => texts[i]!));
  return { x: featurize(state, texts), description: `builtin hashed TF-IDF (${state.dim}-d, IDF fitted on ${state.docCount} training texts)` };
}

/** The image file of every case (its first row's --image-col cell), resolved against the data file's folder. */
function caseImageFiles(table: ReturnType<typeof readTable>, caseRows: number[], imageCol: string, dataFile: string): string[] {
  const c = requireColumn(table, imageCol, "--image-col");
  return imagePaths(caseRows.map((r) => table.rows[r]![c] ?? ""), dirname(dataFile));
}

/**
 * The case rows of a precomputed embedding matrix (--embeddings): .npy (rows aligned with the
 * data table) or a CSV whose feature columns are every column but the label, id and group ones.
 */
function loadEmbeddings(file: string, table: ReturnType<typeof readTable>, caseRows: number[], opts: CliOptions): { x: Matrix; description: string } {
  let m: Matrix;
  if (/\.npy$/i.test(file)) {
    m = parseNpy(new Uint8Array(readFileSync(file)), file);
  } else {
    const t = file === opts.data ? table : readTable(file, "csv");
    const skip = new Set([opts.labelCol, opts.idCol, opts.groupCol].filter((c): c is string => c !== null));
    const cols = t.columns.map((c, j) => ({ c, j })).filter(({ c }) => !skip.has(c));
    if (cols.length === 0) throw new UsageError(`--embeddings ${file}: no feature columns besides ${[...skip].join(", ")}`);
    const data = new Float32Array(t.rows.length * cols.length);
    t.rows.forEach((row, r) =>
      cols.forEach(({ c, j }, k) => {
        const v = Number(row[j] ?? "");
        if (row[j] === undefined || row[j]!.trim() === "" || !Number.isFinite(v)) {
          throw new TableInputError(t.file, t.cellLine(r, j), t.cellColumn(r, j), `column ${JSON.stringify(c)} holds ${JSON.stringify(row[j] ?? "")}, not a finite number (every column but the label, id and group ones is a feature)`);
        }
        data[r * cols.length + k] = v;
      }),
    );
    m = { data, rows: t.rows.length, cols: cols.length };
  }
  if (m.rows !== table.rows.length) throw new UsageError(`--embeddings ${file} has ${m.rows} rows but ${opts.data} has ${table.rows.length}: row i of the matrix must be data row i`);
  const x = gatherRows(m, Int32Array.from(caseRows));
  return { x, description: `precomputed embeddings ${basename(file)} (${m.cols}-d)` };
}

async function main(): Promise<void> {
  const opts = parseCli(process.argv.slice(2));
  if (opts === null) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if ("replot" in opts) {
    replot(opts.replot, opts.out);
    return;
  }
  const started = performance.now();
  // Fail on an unusable encoder or strategy before spending seconds reading the data.
  const onnx = onnxEncoderOf(opts);
  const strategies = [
    ...buildStrategies(opts.strategies, opts.radsModes, { episodes: opts.episodes }),
    ...opts.radsVariants.map((v) => ({ label: v.label, strategy: radsPlatformStrategy({ budgetOverflow: "clamp", ...v.options }) })),
  ];
  const table = readTable(opts.data, opts.format);
  let groups: string[] | null = null;
  if (opts.groups) {
    const sidecar = readTable(opts.groups);
    const idCol = opts.idCol ?? sidecar.columns.find((c) => table.columns.includes(c) && c !== opts.groupCol);
    if (!idCol) throw new UsageError(`--groups ${opts.groups}: no column in common with ${opts.data} to join on; pass --id-col`);
    groups = groupsFromSidecar(table, sidecar, idCol, opts.groupCol!);
  } else if (opts.groupCol) {
    groups = groupsFromColumn(table, opts.groupCol);
  }
  const task = prepareTask(table, { textCol: opts.textCol, labelCol: opts.labelCol, minority: opts.minority, groups, dedupe: opts.dedupe });
  const numClasses = task.classNames.length;
  const split = stratifiedTestSplit(task.labels, numClasses, opts.testFraction, opts.splitSeed);
  const s = task.summary;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`${opts.data}: ${s.rowsRead} rows, ${s.rowsEmptyText} with empty text dropped, ${s.groups} text groups (by ${s.groupedBy}), ${s.groupsDropped} dropped by --dedupe ${opts.dedupe}`);
  log(`cases: ${task.texts.length} (${task.classNames.map((c, i) => `${c} ${s.classCounts[i]}`).join(", ")}); train ${split.train.length}, test ${split.test.length}`);

  const tEmbed = performance.now();
  const { x, description: featurizerDescription } =
    opts.featuresIn !== null
      ? { x: parseNpy(new Uint8Array(readFileSync(opts.featuresIn)), opts.featuresIn), description: "features from the parent process" }
      : opts.embeddings !== null
        ? loadEmbeddings(opts.embeddings, table, task.caseRows, opts)
        : onnx !== null
          ? await embedWithOnnx(onnx, onnx.kind === "onnx-text" ? { texts: task.texts } : { imageFiles: caseImageFiles(table, task.caseRows, opts.imageCol!, opts.data) }, log)
          : embed(opts.featurizer, task.texts, split.train, opts.lsaDim, opts.splitSeed);
  log(`features: ${featurizerDescription}, ${((performance.now() - tEmbed) / 1000).toFixed(1)} s`);

  // No validation split: a labelled set of 20–300 cases cannot spare one, and early stopping on
  // three held-out cases is noise. Class-balanced loss by default, because with a few minority
  // cases among dozens a plain cross-entropy head never predicts the minority at all.
  const headConfig: Partial<HeadConfig> = { hidden: opts.headHidden, maxEpochs: opts.headEpochs, validationFraction: 0, loss: opts.headLoss };
  const head = (opts.head === "mlp" ? mlpHeadOps : logisticHeadOps({ cGrid: opts.headC, prefixDims: opts.headDims, prefixEnsemble: opts.headAverage, minorityClasses: task.minorityClasses })) as HeadOps<unknown>;
  const input: SimulationInput<unknown> = {
    embeddings: x,
    labels: task.labels,
    numClasses,
    minorityClasses: task.minorityClasses,
    testIndices: split.test,
    seedSet: { kind: "random", size: opts.seedSize, minMinority: opts.seedMinority },
    strategies,
    budgets: opts.budgets,
    rounds: opts.rounds,
    seeds: Array.from({ length: opts.seeds }, (_, i) => i + opts.seedFrom),
    head,
    headConfig,
    mcPasses: opts.mcPasses,
    coldStart: coldStartStrategy(),
    poolOrder: opts.poolOrder,
    noise: opts.noise,
  };
  const cells: Cell[] = [];
  for (const seed of input.seeds) for (const budget of input.budgets) for (const st of strategies) cells.push({ strategy: st.label, budget, seed });
  const cellKey = (c: Cell) => `${c.strategy}\u0000${c.budget}\u0000${c.seed}`;
  const clock = () => performance.now();

  if (opts.shard) {
    // Child of --jobs: progress as JSON lines on stdout for the parent's single bar.
    const assignment = assignShards(cells, opts.shard.count);
    const mine = new Set(cells.filter((_, i) => assignment[i] === opts.shard!.index).map(cellKey));
    const result = runSimulation(input, {
      include: (c) => mine.has(cellKey(c)),
      onProgress: (d, t, label) => process.stdout.write(`${JSON.stringify({ done: d, total: t, label })}\n`),
      clock,
    });
    writeFileSync(opts.shardOut!, serializeRuns(result.runs));
    return;
  }

  const bar = new ProgressBar(process.stderr, { unit: "rounds" });
  let result =
    opts.jobs > 1
      ? summarizeRuns(input, await runShards(opts.jobs, cells.length * opts.noise.length * opts.rounds, x, (d, t, l) => bar.update(d, t, l)))
      : runSimulation(input, { onProgress: (d, t, label) => bar.update(d, t, label), clock });
  bar.finish(`simulation done in ${((performance.now() - started) / 1000).toFixed(0)} s${opts.jobs > 1 ? ` with ${opts.jobs} worker processes` : ""}`);
  const notes: string[] = [];
  if (opts.notebook) {
    const python = findPythonWithSklearn();
    if (python === null) {
      notes.push("Notebook rows skipped: neither python3 nor /usr/bin/python3 can import scikit-learn.");
    } else {
      mkdirSync(opts.out, { recursive: true });
      const specFile = join(opts.out, "notebook-input.json");
      const outFile = join(opts.out, "notebook-runs.json");
      let featuresFile: string | null = null;
      if (opts.embeddings !== null || onnx !== null) {
        featuresFile = join(opts.out, "notebook-features.npy");
        writeFileSync(featuresFile, writeNpy(x));
      }
      const spec = notebookSpec({ featuresFile, texts: task.texts, labels: task.labels, minorityClasses: task.minorityClasses, train: split.train, test: split.test, rounds: opts.rounds, budgets: opts.budgets, runs: result.runs });
      writeFileSync(specFile, JSON.stringify(spec));
      const tNb = performance.now();
      log(`notebook baseline: ${python} scripts/notebook_baseline.py (${spec.strategies.join(", ")}) …`);
      const script = join(dirname(fileURLToPath(import.meta.url)), "notebook_baseline.py");
      const nbRuns = runNotebook(python, script, specFile, outFile, (f) => readFileSync(f, "utf8"));
      log(`notebook baseline done in ${((performance.now() - tNb) / 1000).toFixed(0)} s`);
      if (!spec.strategies.includes("random")) notes.push("notebook-random skipped: it replays the platform's random selections, and --strategies has no random.");
      const labels = [...strategies, ...spec.strategies.map((st) => ({ label: NOTEBOOK_LABELS[st] }))];
      result = summarizeRuns({ ...input, strategies: labels }, [...result.runs, ...nbRuns]);
    }
  }

  const showMacro = task.minorityClasses.length > 1;
  const mainTable = resultsTable(result, { showMacro });
  const comparison = exactVsScaledTable(result);
  const noiseLine = opts.noise.length > 1 ? `; label noise ${opts.noise.map(noiseName).join(", ")} (train/seed labels only, TEST true)` : "";
  const taskLine = `minority = ${opts.minority.join(" + ")} vs rest; test ${result.testSize} cases (minority ${(100 * result.testPrior).toFixed(1)} %); ${opts.seeds} seeds; seed set ${opts.seedSize} (≥ ${opts.seedMinority} minority); ${opts.rounds} rounds${noiseLine}`;
  const out: string[] = [`Task: ${taskLine}`, "", mainTable, "", ...notes.flatMap((n) => [n, ""])];
  const byNoise = noiseTable(result);
  if (byNoise) out.push("Label noise: final minority F1 / AUPRC per setting (Δ = noisy − noise-free, paired by seed; TEST labels true):", "", byNoise, "");
  if (comparison) out.push("RADS scaled vs exact (paired by seed; Δ = scaled − exact):", "", comparison, "");
  const vsNotebook = notebookComparisonTable(result);
  if (vsNotebook) out.push("Platform vs notebook (paired by seed; notebook-random trained on the same selected cases):", "", vsNotebook, "");
  process.stdout.write(out.join("\n"));

  mkdirSync(opts.out, { recursive: true });
  const svg = learningCurveSvg(result, ...chartTitles(opts, featurizerDescription));
  writeFileSync(join(opts.out, "learning-curves.svg"), svg);
  writeFileSync(join(opts.out, "results.json"), JSON.stringify(toJson(opts, task.classNames, task.caseIds, featurizerDescription, result), null, 1));
  log(`wrote ${join(opts.out, "results.json")} and ${join(opts.out, "learning-curves.svg")}`);
}

/**
 * Re-run this script once per shard (same flags plus --shard i/n) and collect the runs.
 * Children report progress as JSON lines; the parent sums them into one bar.
 */
async function runShards(jobs: number, totalRounds: number, x: Matrix, onProgress: (done: number, total: number, label: string) => void): Promise<RunResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "simulate-shards-"));
  // The shards read the parent's features instead of refitting the encoder (minutes for LSA on a busy box).
  const features = join(dir, "features.npy");
  writeFileSync(features, writeNpy(x));
  const script = fileURLToPath(import.meta.url);
  const doneBy = new Array<number>(jobs).fill(0);
  try {
    const outs = Array.from({ length: jobs }, (_, i) => join(dir, `shard-${i}.json`));
    await Promise.all(
      outs.map(
        (out, i) =>
          new Promise<void>((resolve, reject) => {
            // process.execArgv carries tsx's loader flags, so the child runs TypeScript the same way.
            const child = spawn(process.execPath, [...process.execArgv, script, ...process.argv.slice(2), "--shard", `${i}/${jobs}`, "--shard-out", out, "--features-in", features], {
              stdio: ["ignore", "pipe", "pipe"],
            });
            let stderr = "";
            let pending = "";
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.stdout.on("data", (chunk: Buffer) => {
              pending += chunk.toString();
              let nl: number;
              while ((nl = pending.indexOf("\n")) >= 0) {
                const line = pending.slice(0, nl);
                pending = pending.slice(nl + 1);
                const msg = JSON.parse(line) as { done: number; total: number; label: string };
                doneBy[i] = msg.done;
                onProgress(doneBy.reduce((a, b) => a + b, 0), totalRounds, `[worker ${i + 1}/${jobs}] ${msg.label}`);
              }
            });
            child.on("error", reject);
            child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i + 1}/${jobs} exited with code ${code}:\n${stderr.trim()}`))));
          }),
      ),
    );
    return outs.flatMap((out) => deserializeRuns(readFileSync(out, "utf8")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function chartTitles(opts: Pick<CliOptions, "data" | "minority" | "seeds" | "seedSize" | "rounds">, featurizer: string): [string, string] {
  return [
    `Active learning on ${basename(opts.data)}: ${opts.minority.join(" + ")} vs rest`,
    `${opts.seeds} seeds, mean ± std band; seed set ${opts.seedSize}, ${opts.rounds} rounds of B cases; ${featurizer}`,
  ];
}

/**
 * --replot <results.json>: redraw the chart (and reprint the table) from a saved run, e.g.
 * after a change to the chart, without recomputing hours of simulation. JSON has no NaN, so
 * missing values come back as null and are skipped by the chart and the table alike.
 */
function replot(file: string, outDir: string | undefined): void {
  const saved = JSON.parse(readFileSync(file, "utf8")) as {
    options: CliOptions;
    featurizer: string;
    aggregates: SimulationResult["aggregates"];
    runs: unknown[];
  };
  const nullToNaN = (v: unknown): unknown =>
    v === null ? NaN : Array.isArray(v) ? v.map(nullToNaN) : typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nullToNaN(x)])) : v;
  const aggregates = nullToNaN(saved.aggregates) as SimulationResult["aggregates"];
  // The chart and the main table read aggregates only.
  const result: SimulationResult = { runs: [], aggregates, testSize: 0, testPrior: NaN, trainSize: 0, trainPrior: NaN };
  const dir = outDir ?? dirname(file);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "learning-curves.svg"), learningCurveSvg(result, ...chartTitles(saved.options, saved.featurizer)));
  process.stdout.write(`${resultsTable(result, { showMacro: saved.options.minority.length > 1 })}\n`);
  process.stderr.write(`wrote ${join(dir, "learning-curves.svg")}\n`);
}

function toJson(opts: CliOptions, classNames: string[], caseIds: string[], featurizer: string, result: SimulationResult): unknown {
  return {
    command: `npm run simulate -- ${process.argv.slice(2).join(" ")}`,
    environment: { node: process.version, platform: process.platform, arch: process.arch },
    options: opts,
    classNames,
    featurizer,
    testSize: result.testSize,
    testPrior: result.testPrior,
    trainSize: result.trainSize,
    trainPrior: result.trainPrior,
    aggregates: result.aggregates,
    // Indices mapped to case ids (text groups), so a selection can be looked up in the source file.
    runs: result.runs.map((r) => ({
      ...r,
      seedSet: Array.from(r.seedSet, (i) => caseIds[i]),
      selected: r.selected.map((sel) => Array.from(sel, (i) => caseIds[i])),
    })),
  };
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`simulate: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  // Input problems (bad file, unknown label, bad parameter) are the user's to fix: the message
  // names the place; a stack trace would only bury it. SIMULATE_DEBUG=1 shows the stack anyway.
  const debug = process.env.SIMULATE_DEBUG === "1";
  const known = err instanceof TableInputError || (err instanceof Error && err.name === "MlInputError");
  if (err instanceof Error && (!debug || known)) process.stderr.write(`simulate: ${err.message}\n`);
  else process.stderr.write(`simulate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
