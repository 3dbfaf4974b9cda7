/**
 * The loop as the UI sees it: a project's background jobs with progress, the data scientist's
 * "retrain now" button, and the active model's prediction for a case (only where the project
 * shows predictions). Membership scopes everything: a non-member finds nothing.
 */
import { ZLoopStatus, type CasePredictionInput, type LoopStatus, type ProjectJobsInput, type RequestTrainingInput } from "@/contracts/loop";
import { can } from "@/contracts/permissions";
import { findJobRunByDedupeKey, findLoopStatus, findPendingJobRun, listJobRunsForMember } from "../db/job-runs-repo";
import type { DbOrTx } from "../db/tx";
import { findActivePredictionForMember } from "../db/loop-repo";
import { labelStateOfProject } from "../db/loop-read-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { enqueueJobRun, type EnqueuedJob } from "./enqueue-job";
import { minorityWatch } from "./minority-watch";
import { requireActor, requireProject } from "./project-access";

/** Short, identifier-free summary of a job's result for the panel. */
function summarise(result: unknown): Record<string, string | number | boolean | null> {
  if (!result || typeof result !== "object") return {};
  const out: Record<string, string | number | boolean | null> = {};
  for (const key of ["version", "labelCount", "testCases", "macroF1", "number", "selected", "strategy", "coldStart", "embedded", "skipped", "predictions"]) {
    const v = (result as Record<string, unknown>)[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null) out[key] = v ?? null;
  }
  return out;
}

/**
 * What the loop is waiting for, as the loop check last stored it (workers/jobs/loop-triggers.ts):
 * an automatic training deferred to `until` by settings.minTrainingIntervalMinutes, or a fully
 * annotated round that added nothing trainable while `awaitingAdjudication` of its cases wait for
 * adjudication. Null when nothing was stored, the stored row is unreadable, or a training is queued
 * or running (it took the trigger in: the stored decision no longer holds). `overdue`: `until` has
 * passed and the worker's next check (every minute) starts the training.
 */
export async function projectLoopStatus(db: DbOrTx, projectId: string, now = new Date()): Promise<(LoopStatus & { overdue: boolean }) | null> {
  const parsed = ZLoopStatus.safeParse(await findLoopStatus(db, projectId));
  if (!parsed.success) return null;
  if (await findPendingJobRun(db, projectId, "train")) return null;
  const status = parsed.data;
  return { ...status, overdue: status.kind === "deferred" && new Date(status.until).getTime() <= now.getTime() };
}

export async function listProjectJobs(ctx: ServiceContext, input: ProjectJobsInput) {
  const actor = requireActor(ctx);
  const { project, role, archived, config } = await requireProject(ctx, input.projectId, "jobs.view");
  const rows = await listJobRunsForMember(ctx.db, actor.id, project.id, input.limit);
  return {
    projectId: project.id,
    projectName: project.name,
    /** Whether the caller's role in this project may press "Retrain now" (and the project is not archived). */
    canTrain: can(role, "jobs.train") && !archived,
    /** Whether the active model sees (almost) no minority case, with what helps (issue 15). */
    minorityWatch: await minorityWatch(ctx.db, project.id, config),
    /** What the loop waits for (a deferred automatic training, a round with nothing trainable), or null. */
    loopStatus: await projectLoopStatus(ctx.db, project.id),
    /** settings.minTrainingIntervalMinutes: at most one automatic training per this many minutes (0: no minimum). */
    minTrainingIntervalMinutes: config.settings.minTrainingIntervalMinutes,
    jobs: rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      status: row.status,
      stage: row.stage,
      percent: row.percent,
      attempts: row.attempts,
      error: row.error,
      result: summarise(row.result),
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      finishedAt: row.finishedAt?.toISOString() ?? null,
    })),
  };
}

/**
 * Queues a training of the project's current labels. Asking twice for the same labels returns
 * the same job (dedupe key = label state); after a failed run a new one is queued.
 */
export async function requestTraining(ctx: ServiceContext, input: RequestTrainingInput) {
  const actor = requireActor(ctx);
  const { project } = await requireProject(ctx, input.projectId, "jobs.train", { write: true });
  const labels = await labelStateOfProject(ctx.db, project.id);
  let dedupeKey = `train:${project.id}:manual:${labels.count}:${labels.latestId}`;
  const previous = await findJobRunByDedupeKey(ctx.db, dedupeKey);
  if (previous?.status === "FAILED") dedupeKey = `${dedupeKey}:retry-${previous.attempts}-${Date.now()}`;
  let job: EnqueuedJob | null = null;
  await ctx.db.$transaction(async (tx) => {
    job = await enqueueJobRun(tx, { kind: "train", projectId: project.id, payload: { projectId: project.id, reason: "manual" }, dedupeKey, requestedById: actor.id });
    await ctx.audit.record(tx, { action: "job.train-requested", targetType: "JobRun", targetId: job.jobRunId, projectId: project.id, details: { created: job.created, labels: labels.count } });
  });
  const enqueued = job as EnqueuedJob | null;
  if (!enqueued) throw new Error("unreachable: the transaction did not enqueue");
  const sent = enqueued.created ? await enqueued.send() : true;
  return { jobRunId: enqueued.jobRunId, created: enqueued.created, sent };
}

/**
 * The active (APPROVED) model's prediction for a case, or `shown: false` when the project does
 * not show predictions to clinicians (settings.showPredictions, off by default).
 */
export async function getCasePrediction(ctx: ServiceContext, input: CasePredictionInput) {
  const actor = requireActor(ctx);
  const found = await findActivePredictionForMember(ctx.db, actor.id, input.caseId);
  if (!found) throw new DomainError("NOT_FOUND", "No such case.");
  const { config } = await requireProject(ctx, found.projectId, "predictions.view");
  if (!config.settings.showPredictions) return { shown: false as const, prediction: null };
  const p = found.predictions[0];
  if (!p) return { shown: true as const, prediction: null };
  const labels = config.labelSchema.labels;
  const nameOf = new Map(labels.map((l) => [l.key, l.name]));
  const probabilities = Array.isArray(p.probabilities) ? (p.probabilities as number[]) : [];
  return {
    shown: true as const,
    prediction: {
      label: p.predictedLabel,
      labelName: nameOf.get(p.predictedLabel) ?? p.predictedLabel,
      confidence: p.confidence,
      probabilities: labels.map((l, i) => ({ key: l.key, name: nameOf.get(l.key)!, probability: probabilities[i] ?? null })),
      modelVersion: p.modelVersion.version,
      modelVersionId: p.modelVersion.id,
      predictedAt: p.createdAt.toISOString(),
    },
  };
}
