/**
 * What-if simulations from the selection page: start one as a background `simulate` job
 * (workers/jobs/simulate.ts) and read its progress and result. Scoped to the caller's projects.
 * Simulations are CPU-heavy, so starts are limited (issue 12, fault 12): one queued or running per
 * project, and at most SIMULATIONS_MAX_ACTIVE on the whole platform.
 */
import type { JobRunIdInput, ProjectIdInput, StartSimulationInput } from "@/contracts/selection-stats";
import { countActiveJobRuns, findJobRunInProject, listJobRunsInProject, lockJobStarts } from "../db/enqueue-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { enqueueJobRun } from "./enqueue-job";
import { requireProject } from "./project-access";

export const SIMULATE_KIND = "simulate";
/** Most what-if simulations queued or running at once on the platform. */
export const SIMULATIONS_MAX_ACTIVE = 2;
/** A run still QUEUED/RUNNING after this long is taken as lost (the worker's recovery fails it): it blocks nothing. */
const ACTIVE_RUN_MAX_AGE_MS = 6 * 60 * 60 * 1000;

export async function startSimulation(ctx: ServiceContext, input: StartSimulationInput) {
  const { project } = await requireProject(ctx, input.projectId, "selection.simulate", { write: true });
  const budgets = [...new Set(input.budgets)].sort((a, b) => a - b);
  const payload = { projectId: project.id, strategies: input.strategies, budgets, rounds: input.rounds, seeds: input.seeds, episodes: input.episodes, seedSize: input.seedSize, noise: input.noise ?? [] };
  const job = await ctx.db.$transaction(async (tx) => {
    // Counted under a lock, so parallel starts cannot all see "none running".
    await lockJobStarts(tx, SIMULATE_KIND);
    const active = await countActiveJobRuns(tx, SIMULATE_KIND, project.id, new Date(Date.now() - ACTIVE_RUN_MAX_AGE_MS));
    if (active.project > 0) throw new DomainError("CONFLICT", "A what-if simulation is already running in this project; wait for it to finish (its progress is on this page).");
    if (active.platform >= SIMULATIONS_MAX_ACTIVE) {
      throw new DomainError("THROTTLED", `The platform already runs ${SIMULATIONS_MAX_ACTIVE} what-if simulations; start this one when one of them has finished.`);
    }
    // No dedupe key: the same what-if may run again once the previous one finished.
    const enqueued = await enqueueJobRun(tx, { kind: SIMULATE_KIND, projectId: project.id, payload, dedupeKey: null, requestedById: ctx.actor?.id ?? null });
    await ctx.audit.record(tx, { action: "simulation.start", targetType: "JobRun", targetId: enqueued.jobRunId, projectId: project.id, details: payload });
    return enqueued;
  });
  const sent = await job.send();
  return { jobRunId: job.jobRunId, queued: sent };
}

function view(run: NonNullable<Awaited<ReturnType<typeof findJobRunInProject>>>) {
  return {
    id: run.id,
    status: run.status,
    stage: run.stage,
    percent: run.percent,
    error: run.error,
    payload: run.payload as Record<string, unknown>,
    result: (run.result ?? null) as SimulationResultView | null,
    createdAt: run.createdAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

export interface SimulationCurvePoint {
  round: number;
  labelled: number | null;
  minorityF1: number | null;
  minorityAuprc: number | null;
  hitRate: number | null;
}
export interface SimulationResultView {
  embeddings: string;
  /** The Embedding.encoderVersion read and how many stored vectors (absent in runs from before it was recorded). */
  encoderVersion?: string;
  vectorsRead?: number;
  seedSize?: number;
  testSize: number;
  testPrior: number | null;
  trainSize: number;
  trainPrior: number | null;
  aggregates: {
    strategy: string;
    budget: number;
    /** The label-noise setting of the row ("none", "symmetric:0.1", "minority:0.3"); absent in runs from before noise existed. */
    noise?: string;
    seeds: number;
    poolPrior: number | null;
    coldStartRounds: number;
    final: { labelled: number | null; minorityF1: number | null; minorityF1Std: number | null; minorityAuprc: number | null; hitRate: number | null };
    curve: SimulationCurvePoint[];
  }[];
}

export async function getSimulation(ctx: ServiceContext, input: JobRunIdInput) {
  const { project } = await requireProject(ctx, input.projectId, "selection.view");
  const run = await findJobRunInProject(ctx.db, project.id, input.jobRunId);
  if (!run || run.kind !== SIMULATE_KIND) throw new DomainError("NOT_FOUND", "No such simulation in this project.");
  return view(run);
}

export async function listSimulations(ctx: ServiceContext, input: ProjectIdInput) {
  const { project } = await requireProject(ctx, input.projectId, "selection.view");
  const runs = await listJobRunsInProject(ctx.db, project.id, SIMULATE_KIND, 10);
  return runs.map((r) => ({ id: r.id, status: r.status, stage: r.stage, percent: r.percent, error: r.error, payload: r.payload as Record<string, unknown>, createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null }));
}
