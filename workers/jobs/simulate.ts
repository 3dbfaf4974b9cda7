/**
 * The `simulate` job: a what-if replay of active learning on the project's already-labelled cases
 * (workers/ml/simulation.ts, the engine behind `npm run simulate`), for the strategies, budgets and
 * seed-set size a data scientist chose on the selection page. Progress and the aggregated learning
 * curves go to the JobRun the page polls.
 *
 * Inputs: the training labels (server/services/training-label.ts: adjudicated, else majority, else imported), and the STORED vectors of the project's current encoder (the version
 * its encoder writes, models/encoders/encoder-version.ts) — never a stand-in: a run fails with a
 * message the data scientist can act on when vectors are missing, the features are degenerate (all
 * zero or constant), or TEST lacks two classes or a minority case. The head is the train job's
 * (models/trainers/head-config.ts).
 *
 * Label noise (`payload.noise`, issue 14): each setting adds a copy of the grid whose simulated
 * annotators return noisy labels for train/seed cases (TEST stays true), beside the noise-free grid
 * (workers/ml/label-noise.ts, workers/ml/simulation.ts). Result rows carry their `noise` setting.
 *
 * The grid runs one (strategy, budget, seed) cell at a time — every noise setting of it — on an ML
 * thread (workers/threads), with a progress message per cell; the cells are merged with `summarizeRuns` (cells are seeded by their
 * coordinates, so this gives exactly the numbers of one full run).
 *
 * Runs under the worker's job runtime (./job-runtime.ts: run lock, claim, throttled progress,
 * outcome), so a finished JobRun is never run again and a run whose worker died is recovered.
 * No queue retries: the result is seeded, so a failed simulation would fail the same way again.
 */
import { z } from "zod";
import { ZLabelNoiseSetting, ZSimulationStrategy } from "@/contracts/selection-stats";
import { projectHeadConfig, projectHeadKind, projectLogisticOptions, HeadSettingsError } from "@/models/trainers/head-config";
import { OnnxModelError } from "@/models/onnx-sessions";
import { findProjectForSelection } from "@/server/db/rounds-repo";
import { listLabelledCases } from "@/server/db/stats-repo";
import { logger } from "@/server/log";
import { loadProjectEmbeddings } from "@/server/services/embedding-service";
import { trainingLabel } from "@/server/services/training-label";
import { NO_NOISE, noiseName } from "../ml/label-noise";
import { summarizeRuns, type RunResult } from "../ml/simulation";
import type { Matrix } from "../ml/types";
import { runInMlThread } from "../threads/ml-pool";
import { strategyFromSpec, type SimulationCell, type SimulationSpec, type StrategySpec } from "../threads/ml-tasks";
import { resolveEncoderVersion, type EmbedDeps } from "./embed";
import { degenerateFeatures } from "./feature-checks";
import { defineJob } from "./job-runtime";

export const SIMULATE_JOB = "simulate";

export const ZSimulatePayload = z.object({
  projectId: z.string().min(1),
  strategies: z.array(ZSimulationStrategy).min(1),
  budgets: z.array(z.number().int().min(1)).min(1),
  rounds: z.number().int().min(1),
  seeds: z.number().int().min(1),
  episodes: z.number().int().min(1),
  /** Labelled cases each simulated run starts from (at least one minority case among them); runs queued before it existed use 5. */
  seedSize: z.number().int().min(2).default(5),
  /** Label-noise settings run beside noise-free (workers/ml/label-noise.ts); runs queued before it existed have none. */
  noise: z.array(ZLabelNoiseSetting).default([]),
});
export type SimulatePayload = z.infer<typeof ZSimulatePayload>;

/** A simulation the data cannot support: the message says what is missing, and the JobRun fails with it. */
export class SimulationDataError extends Error {}

function labelKeys(labelSchema: unknown): string[] {
  const labels = (labelSchema as { labels?: unknown } | null)?.labels;
  return Array.isArray(labels) ? labels.map((l) => (l as { key?: unknown })?.key).filter((k): k is string => typeof k === "string") : [];
}

const ENCODER_NAMES = { builtin: "built-in text featuriser", lsa: "LSA text encoder", "onnx-text": "ONNX text encoder", "onnx-image": "ONNX image encoder" } as const;

/** The stored vectors of the project's current encoder for `caseIds`; SimulationDataError when any is missing. */
async function storedEmbeddings(deps: EmbedDeps, projectId: string, caseIds: string[]): Promise<{ matrix: Matrix; encoderVersion: string; encoder: string }> {
  let resolved: Awaited<ReturnType<typeof resolveEncoderVersion>>;
  try {
    resolved = await resolveEncoderVersion(deps, projectId);
  } catch (error) {
    // The configuration or the model file is the data scientist's to fix: say so. Anything else is internal.
    if (error instanceof OnnxModelError || (error instanceof Error && error.message.startsWith("Invalid encoder configuration"))) {
      throw new SimulationDataError(`The project's encoder cannot be loaded, so there are no features to simulate on: ${error.message}`);
    }
    throw error;
  }
  const encoder = ENCODER_NAMES[resolved.config.kind];
  const loaded = await loadProjectEmbeddings(deps.db, projectId, resolved.version, caseIds);
  if (loaded.missing.length > 0) {
    const imageHint = resolved.config.kind === "onnx-image" ? " and check that every labelled case has a readable image" : "";
    throw new SimulationDataError(
      loaded.missing.length === caseIds.length
        ? `None of the ${caseIds.length} labelled cases has an embedding from the project's current encoder (${encoder}): run the embed job for this project${imageHint}, then start the what-if again.`
        : `${loaded.missing.length} of the ${caseIds.length} labelled cases have no embedding from the project's current encoder (${encoder}): run the embed job for this project (it embeds only what is missing)${imageHint}, then start the what-if again.`,
    );
  }
  return { matrix: loaded.matrix, encoderVersion: resolved.version, encoder };
}

/** The strategies as the select job builds them (`rads` = the platform variant, `rads-paper` = the paper's), episodes from the form. */
function strategySpecs(names: SimulatePayload["strategies"], episodes: number): { label: string; spec: StrategySpec }[] {
  return names.map((name): { label: string; spec: StrategySpec } => {
    // budgetOverflow "clamp": the last round of a nearly exhausted pool takes what is left.
    if (name === "rads" || name === "rads-paper") return { label: name, spec: { name, options: { budgetOverflow: "clamp", agent: { episodes } } } };
    return { label: name, spec: { name } };
  });
}

export interface SimulationData {
  spec: SimulationSpec;
  classes: string[];
  encoderVersion: string;
  /** Stored vectors read (one per labelled case). */
  vectorsRead: number;
  embeddingSource: string;
}

/**
 * Builds the simulation from the project's labelled cases and the stored vectors of its current
 * encoder, with the head configuration the train job uses (models/trainers/head-config.ts).
 * @throws SimulationDataError (a message for the page) when the labels or features cannot support it.
 */
export async function buildSimulationInput(deps: EmbedDeps, payload: SimulatePayload): Promise<SimulationData> {
  const { db } = deps;
  const project = await findProjectForSelection(db, payload.projectId);
  if (!project) throw new SimulationDataError("The project no longer exists.");
  const classes = labelKeys(project.labelSchema);
  const minority = project.minorityClasses.map((k) => classes.indexOf(k)).filter((i) => i >= 0);
  if (minority.length === 0) throw new SimulationDataError("The project names no minority class of its label schema.");
  let headConfig;
  let headKind;
  try {
    headConfig = projectHeadConfig(project.settings);
    headKind = projectHeadKind(project.settings);
  } catch (error) {
    if (error instanceof HeadSettingsError) throw new SimulationDataError(error.message);
    throw error;
  }
  const rows = (await listLabelledCases(db, payload.projectId))
    .map((c) => ({ ...c, label: trainingLabel(c.annotations, c.importedLabel, { gold: c.gold !== null }).label }))
    .filter((c): c is typeof c & { label: string } => c.label !== null && classes.includes(c.label));
  const labels = Int32Array.from(rows, (r) => classes.indexOf(r.label));
  const testIndices = Int32Array.from(rows.flatMap((r, i) => (r.split === "TEST" ? [i] : [])));
  if (testIndices.length === 0) throw new SimulationDataError("No labelled TEST cases: the simulation has nothing to evaluate on. Import TEST cases with labels first.");
  const testClasses = new Set(Array.from(testIndices, (i) => labels[i]!));
  if (testClasses.size < 2) {
    throw new SimulationDataError(`The labelled TEST cases are all of one class (${classes[[...testClasses][0]!]}): F1 and AUPRC need at least two classes in TEST. Label or import TEST cases of the other classes first.`);
  }
  if (!Array.from(testIndices).some((i) => minority.includes(labels[i]!))) {
    throw new SimulationDataError("No labelled TEST case is of a minority class: minority F1 and AUPRC could not be measured. Label or import minority TEST cases first.");
  }
  const train = rows.flatMap((r, i) => (r.split === "TEST" ? [] : [i]));
  const trainMinority = train.filter((i) => minority.includes(labels[i]!)).length;
  if (trainMinority === 0) throw new SimulationDataError("No labelled minority case outside the TEST split: no strategy could find one, so there is nothing to compare.");
  const minBudget = Math.min(...payload.budgets);
  if (train.length < payload.seedSize + minBudget) {
    throw new SimulationDataError(`Only ${train.length} labelled cases outside the TEST split: too few for a seed set of ${payload.seedSize} and one round of budget ${minBudget}.`);
  }

  const { matrix, encoderVersion, encoder } = await storedEmbeddings(deps, payload.projectId, rows.map((r) => r.id));
  const degenerate = degenerateFeatures(matrix);
  if (degenerate) {
    throw new SimulationDataError(`The stored features of the project's ${encoder} cannot separate any classes: ${degenerate}. Check the encoder configuration and the cases' narratives or images, re-run the embed job, then start the what-if again.`);
  }
  return {
    classes,
    encoderVersion,
    vectorsRead: matrix.rows,
    embeddingSource: `stored embeddings of the ${encoder} (${encoderVersion})`,
    spec: {
      embeddings: matrix,
      labels,
      numClasses: classes.length,
      minorityClasses: minority,
      testIndices,
      // Drawn per seed from the labelled non-test cases, with one minority case so the first head can learn it exists.
      seedSet: { kind: "random", size: payload.seedSize, minMinority: 1 },
      strategies: strategySpecs(payload.strategies, payload.episodes),
      budgets: payload.budgets,
      rounds: payload.rounds,
      seeds: Array.from({ length: payload.seeds }, (_, i) => i + 1),
      headConfig,
      // The head the train job fits (train.ts): the logistic head's options as it passes them.
      ...(headKind === "logistic" ? { logistic: projectLogisticOptions(minority, encoderVersion) } : {}),
      mcPasses: 10,
      coldStart: true,
      // Noise-free first, then each chosen setting: the annotators' labels of train/seed cases are flipped, TEST never.
      noise: [NO_NOISE, ...payload.noise.map((n) => ({ kind: n.kind, rate: n.rate }))],
    },
  };
}

const round4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null);

/**
 * The simulation of one JobRun: progress through `reportProgress`, the aggregated curves as result
 * (with the encoder version and the number of stored vectors read). The cells run on an ML thread
 * (workers/threads), one progress message per cell, so the worker's event loop stays free.
 * @throws SimulationDataError (with a message for the page) when the project's data cannot support
 * it; any other failure is logged and reported to the page without its internal text.
 */
export async function simulateProject(deps: EmbedDeps, payload: SimulatePayload, reportProgress: (stage: string, percent: number) => Promise<void>, jobRunId = "") {
  try {
    await reportProgress("loading labelled cases", 2);
    const data = await buildSimulationInput(deps, payload);
    const { spec } = data;
    const cells: SimulationCell[] = spec.seeds.flatMap((seed) => spec.budgets.flatMap((budget) => spec.strategies.map((s) => ({ seed, budget, strategy: s.label }))));
    // Kept here: the thread gets the arrays themselves (transferred, not copied).
    const summaryInput = { labels: spec.labels.slice(), testIndices: spec.testIndices.slice(), numClasses: spec.numClasses, minorityClasses: [...spec.minorityClasses], budgets: [...spec.budgets], seeds: [...spec.seeds], noise: spec.noise ? [...spec.noise] : undefined, strategies: spec.strategies.map((s) => ({ label: s.label, strategy: strategyFromSpec(s.spec) })) };
    await reportProgress(`${cells[0]!.strategy}, budget ${cells[0]!.budget}, seed ${cells[0]!.seed}`, 5);
    const runs: RunResult[] = await runInMlThread("simulateCells", { spec, cells }, {
      transferArgs: true,
      onProgress: (p) => void reportProgress(p.label, 5 + (90 * p.done) / p.total).catch((error: unknown) => logger.warn("simulation progress not written", { jobRunId, error: error instanceof Error ? error.message : String(error) })),
    });
    const summary = summarizeRuns(summaryInput, runs);
    logger.info("simulation finished", { projectId: payload.projectId, cells: cells.length, vectorsRead: data.vectorsRead });
    return {
      embeddings: data.embeddingSource,
      encoderVersion: data.encoderVersion,
      vectorsRead: data.vectorsRead,
      seedSize: payload.seedSize,
      noise: (spec.noise ?? [NO_NOISE]).map(noiseName),
      head: spec.headConfig,
      headKind: spec.logistic ? "logistic" : "mlp",
      classes: data.classes,
      testSize: summary.testSize,
      testPrior: round4(summary.testPrior),
      trainSize: summary.trainSize,
      trainPrior: round4(summary.trainPrior),
      aggregates: summary.aggregates.map((a) => ({
        strategy: a.strategy,
        budget: a.budget,
        noise: a.noise ?? "none",
        seeds: a.seeds,
        poolPrior: round4(a.poolPrior.mean),
        coldStartRounds: a.coldStartRounds,
        final: { labelled: round4(a.final.labelled.mean), minorityF1: round4(a.final.minorityF1.mean), minorityF1Std: round4(a.final.minorityF1.std), minorityAuprc: round4(a.final.minorityAuprc.mean), hitRate: round4(a.final.cumulativeHitRate.mean) },
        curve: a.curve.map((p) => ({ round: p.round, labelled: round4(p.labelled.mean), minorityF1: round4(p.minorityF1.mean), minorityAuprc: round4(p.minorityAuprc.mean), hitRate: round4(p.cumulativeHitRate.mean) })),
      })),
    };
  } catch (error) {
    if (error instanceof SimulationDataError) throw error;
    logger.error("simulation failed", { projectId: payload.projectId, jobRunId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    throw new Error("The simulation stopped on an internal error (logged by the worker); please report it with the time of this run.");
  }
}

export const simulateJob = defineJob({
  name: SIMULATE_JOB,
  payload: ZSimulatePayload,
  retryLimit: 0,
  retryDelaySeconds: 5,
  expireInSeconds: 3600,
  run: (ctx) => simulateProject(ctx.worker, ctx.payload, ctx.reportProgress, ctx.jobRunId),
});
