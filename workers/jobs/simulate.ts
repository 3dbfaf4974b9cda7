/**
 * The `simulate` job: a what-if replay of active learning on the project's already-labelled cases
 * (workers/ml/simulation.ts, the engine behind `npm run simulate`), for the strategies and budgets a
 * data scientist chose on the selection page. Progress and the aggregated learning curves go to the
 * JobRun the page polls.
 *
 * The grid runs one (strategy, budget) cell at a time and the cells are merged with `summarizeRuns`
 * (cells are seeded by their coordinates, so this gives exactly the numbers of one full run) —
 * that lets the handler await a progress write between cells instead of blocking for the whole grid.
 *
 * Runs under the worker's job runtime (./job-runtime.ts: run lock, claim, throttled progress,
 * outcome), so a finished JobRun is never run again and a run whose worker died is recovered.
 * No queue retries: the result is seeded, so a failed simulation would fail the same way again.
 */
import { z } from "zod";
import { ZSimulationStrategy } from "@/contracts/selection-stats";
import type { Db } from "@/server/db/client";
import { findProjectForSelection } from "@/server/db/rounds-repo";
import { listEmbeddingsFor, listLabelledCases } from "@/server/db/stats-repo";
import { logger } from "@/server/log";
import { projectEncoderVersion } from "@/server/services/selection-rounds";
import { consensusLabel } from "@/server/services/stats-math";
import { radsStrategy } from "../ml/rads/rads-strategy";
import { mlpHeadOps, runSimulation, summarizeRuns, type NamedStrategy, type RunResult, type SimulationInput } from "../ml/simulation";
import { getBaselineStrategy } from "../ml/strategies/registry";
import { featurize, fitTextFeaturizer } from "../ml/text-featurizer";
import type { HeadWeights, Matrix } from "../ml/types";
import { defineJob } from "./job-runtime";

export const SIMULATE_JOB = "simulate";

export const ZSimulatePayload = z.object({
  projectId: z.string().min(1),
  strategies: z.array(ZSimulationStrategy).min(1),
  budgets: z.array(z.number().int().min(1)).min(1),
  rounds: z.number().int().min(1),
  seeds: z.number().int().min(1),
  episodes: z.number().int().min(1),
});
export type SimulatePayload = z.infer<typeof ZSimulatePayload>;

/** A simulation the data cannot support: the message says what is missing, and the JobRun fails with it. */
export class SimulationDataError extends Error {}

function labelKeys(labelSchema: unknown): string[] {
  const labels = (labelSchema as { labels?: unknown } | null)?.labels;
  return Array.isArray(labels) ? labels.map((l) => (l as { key?: unknown })?.key).filter((k): k is string => typeof k === "string") : [];
}

async function embeddingsOf(db: Db, cases: { id: string; narrative: string | null }[], encoderConfig: unknown): Promise<{ matrix: Matrix; source: string }> {
  const version = projectEncoderVersion(encoderConfig);
  const stored = await listEmbeddingsFor(db, cases.map((c) => c.id), version);
  const dim = stored[0]?.dim ?? 0;
  if (dim > 0 && stored.length === cases.length && stored.every((s) => s.dim === dim && s.vector.byteLength === dim * 4)) {
    const byCase = new Map(stored.map((s) => [s.caseId, s.vector]));
    const data = new Float32Array(cases.length * dim);
    cases.forEach((c, i) => {
      const bytes = byCase.get(c.id)!;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let j = 0; j < dim; j++) data[i * dim + j] = view.getFloat32(j * 4, true);
    });
    return { matrix: { data, rows: cases.length, cols: dim }, source: `stored embeddings (${version})` };
  }
  const texts = cases.map((c) => c.narrative ?? "");
  const state = fitTextFeaturizer(texts, {});
  return { matrix: featurize(state, texts), source: "built-in text featuriser fitted on the labelled narratives" };
}

function strategiesFor(names: SimulatePayload["strategies"], episodes: number): NamedStrategy[] {
  return names.map((name) =>
    name === "rads"
      ? { label: "rads", strategy: radsStrategy({ budgetOverflow: "clamp", agent: { episodes } }) }
      : { label: name, strategy: getBaselineStrategy(name) },
  );
}

/** Builds the simulation input from the project's labelled cases; throws SimulationDataError when it cannot. */
export async function buildSimulationInput(db: Db, payload: SimulatePayload): Promise<{ input: SimulationInput<HeadWeights>; embeddingSource: string; classes: string[] }> {
  const project = await findProjectForSelection(db, payload.projectId);
  if (!project) throw new SimulationDataError("The project no longer exists.");
  const classes = labelKeys(project.labelSchema);
  const minority = project.minorityClasses.map((k) => classes.indexOf(k)).filter((i) => i >= 0);
  if (minority.length === 0) throw new SimulationDataError("The project names no minority class of its label schema.");
  const rows = (await listLabelledCases(db, payload.projectId))
    .map((c) => ({ ...c, label: consensusLabel(c.annotations, c.importedLabel, classes, project.minorityClasses) }))
    .filter((c): c is typeof c & { label: string } => c.label !== null && classes.includes(c.label));
  const labels = Int32Array.from(rows, (r) => classes.indexOf(r.label));
  const testIndices = Int32Array.from(rows.flatMap((r, i) => (r.split === "TEST" ? [i] : [])));
  if (testIndices.length === 0) throw new SimulationDataError("No labelled TEST cases: the simulation has nothing to evaluate on. Import TEST cases with labels first.");
  const train = rows.flatMap((r, i) => (r.split === "TEST" ? [] : [i]));
  const trainMinority = train.filter((i) => minority.includes(labels[i]!)).length;
  if (trainMinority === 0) throw new SimulationDataError("No labelled minority case outside the TEST split: no strategy could find one, so there is nothing to compare.");
  const minBudget = Math.min(...payload.budgets);
  const seedSize = Math.min(Math.max(4, minBudget), Math.floor(train.length / 2));
  if (train.length < seedSize + minBudget) {
    throw new SimulationDataError(`Only ${train.length} labelled cases outside the TEST split: too few for a seed set and one round of budget ${minBudget}.`);
  }
  const { matrix, source } = await embeddingsOf(db, rows, project.encoderConfig);
  return {
    classes,
    embeddingSource: source,
    input: {
      embeddings: matrix,
      labels,
      numClasses: classes.length,
      minorityClasses: minority,
      testIndices,
      // Drawn per seed from the labelled non-test cases, with one minority case so the first head can learn it exists.
      seedSet: { kind: "random", size: seedSize, minMinority: 1 },
      strategies: strategiesFor(payload.strategies, payload.episodes),
      budgets: payload.budgets,
      rounds: payload.rounds,
      seeds: Array.from({ length: payload.seeds }, (_, i) => i + 1),
      head: mlpHeadOps,
      headConfig: { hidden: [32], maxEpochs: 60, validationFraction: 0, loss: "weighted-cross-entropy" },
      mcPasses: 10,
      coldStart: getBaselineStrategy("cold-start"),
    },
  };
}

const round4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null);

/**
 * The simulation of one JobRun: progress through `reportProgress`, the aggregated curves as result.
 * @throws SimulationDataError (with a message for the page) when the project's labels cannot support it.
 */
export async function simulateProject(db: Db, payload: SimulatePayload, reportProgress: (stage: string, percent: number) => Promise<void>) {
  await reportProgress("loading labelled cases", 2);
  const { input, embeddingSource, classes } = await buildSimulationInput(db, payload);
  const cells = input.seeds.flatMap((seed) => input.budgets.flatMap((budget) => input.strategies.map((s) => ({ seed, budget, strategy: s.label }))));
  const runs: RunResult[] = [];
  for (const [i, cell] of cells.entries()) {
    await reportProgress(`${cell.strategy}, budget ${cell.budget}, seed ${cell.seed}`, 5 + (90 * i) / cells.length);
    const part = runSimulation(input, { include: (c) => c.seed === cell.seed && c.budget === cell.budget && c.strategy === cell.strategy });
    runs.push(...part.runs);
  }
  const summary = summarizeRuns(input, runs);
  logger.info("simulation finished", { projectId: payload.projectId, cells: cells.length });
  return {
    embeddings: embeddingSource,
    classes,
    testSize: summary.testSize,
    testPrior: round4(summary.testPrior),
    trainSize: summary.trainSize,
    trainPrior: round4(summary.trainPrior),
    aggregates: summary.aggregates.map((a) => ({
      strategy: a.strategy,
      budget: a.budget,
      seeds: a.seeds,
      poolPrior: round4(a.poolPrior.mean),
      coldStartRounds: a.coldStartRounds,
      final: { labelled: round4(a.final.labelled.mean), minorityF1: round4(a.final.minorityF1.mean), minorityF1Std: round4(a.final.minorityF1.std), minorityAuprc: round4(a.final.minorityAuprc.mean), hitRate: round4(a.final.cumulativeHitRate.mean) },
      curve: a.curve.map((p) => ({ round: p.round, labelled: round4(p.labelled.mean), minorityF1: round4(p.minorityF1.mean), minorityAuprc: round4(p.minorityAuprc.mean), hitRate: round4(p.cumulativeHitRate.mean) })),
    })),
  };
}

export const simulateJob = defineJob({
  name: SIMULATE_JOB,
  payload: ZSimulatePayload,
  retryLimit: 0,
  retryDelaySeconds: 5,
  expireInSeconds: 3600,
  run: (ctx) => simulateProject(ctx.worker.db, ctx.payload, ctx.reportProgress),
});
