/**
 * What keeps the loop turning without anyone pressing a button, and what keeps it correct when
 * workers die:
 * - `checkRetrainTriggers`: retrain when the latest round's queue is fully annotated
 *   (settings.retrainTriggers.onRoundComplete), when retrainTriggers.everyNLabels new labels have
 *   accumulated, or when retrainTriggers.scheduleHours have passed with new labels — the settings
 *   read with contracts/project-config.ts `parseStoredProjectConfig`, the schema the settings page
 *   saves with (older rows' flat retrainEveryNLabels/retrainIntervalHours/autoRetrain included); fill in a finished round's hit rate; start a round for a newly
 *   approved model (a fallback for the approval's own select request), a round for a project whose
 *   label set changed under its approved model (the select job makes it a cold start and asks for
 *   the retraining), or a cold start for a project with no round. The `train` JobRun's dedupe key is
 *   the training-set hash with the class keys (`trainDedupeKey`), so however many triggers fire, one
 *   set of labels under one label set is trained once. Triggers are coalesced per project (issue 16):
 *   while a training of the project is queued or running, a trigger adds none (the queued one reads
 *   the labels when it starts; a check later catches what came after); within
 *   settings.minTrainingIntervalMinutes of the latest model a trigger is deferred, not dropped —
 *   the check asks for itself again at the end of the interval (`deferredCheckAt`), when the trigger
 *   still holds (new labels stay new, a complete round stays complete) and the training is queued.
 *   What users must be told is stored per project (`LoopStatus`, contracts/loop.ts, in the project's
 *   status JobRun: job-runs-repo `writeLoopStatus`): the deferral with its time, or a fully annotated
 *   round that added nothing trainable while cases of it wait for adjudication; cleared by the check
 *   that queues the training (or finds nothing to say). The jobs panel and the overview show it.
 * - `retrain-check` runs every minute on a pg-boss schedule (one delivery per minute across all
 *   workers) and on demand with a project id. On-demand checks (one per completed queue item) are
 *   folded: one check per project per delivery batch, and at most one per CHECK_SPACING_MS per project
 *   in a worker — a request inside that spacing becomes one check at its end.
 * - `recoverInterruptedJobs`: a RUNNING JobRun whose run lock is free has lost its worker (the lock
 *   dies with the connection): it goes back to QUEUED and its message is re-delivered.
 * - `sweepOrphanArtifacts`: temp model files of dead runs, and published files no ModelVersion
 *   points at, are deleted at worker start.
 */
import crypto from "node:crypto";
import type PgBoss from "pg-boss";
import { z } from "zod";
import { ZLoopStatus, type LoopStatus } from "@/contracts/loop";
import { parseStoredProjectConfig, ProjectConfigError } from "@/contracts/project-config";
import { isLockFree, LOCK_JOB_RUN, LOCK_PROJECT_TRAINING, openLockSession } from "@/server/db/advisory-lock";
import type { Db, Prisma } from "@/server/db/client";
import { findJobRunByDedupeKey, findLoopStatus, findPendingJobRun, listJobRunsByStatus, requeueDeadJobRun, writeLoopStatus } from "@/server/db/job-runs-repo";
import {
  countPendingItems,
  countRounds,
  countSubmittedAnnotationsSince,
  findActiveModel,
  findLatestRound,
  findProjectForLoop,
  findRoundWithAnnotations,
  latestModelVersion,
  listProjectIds,
  modelArtifactKeys,
  roundExistsForModel,
  setRoundStats,
} from "@/server/db/loop-repo";
import { loadServerEnv } from "@/server/env";
import { logger } from "@/server/log";
import { findOpenRound, hasSelectableCase } from "@/server/db/rounds-repo";
import { finishExhaustedItems } from "@/server/db/queue-repo";
import { enqueueJobRun } from "@/server/services/enqueue-job";
import { awaitsAdjudication, isMinorityCase } from "@/server/services/stats-math";
import { workerContextFor, type WorkerContext } from "./job-runtime";
import { labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import type { JobDefinition } from "./registry";
import { queueErrorLevel, workerStopping } from "../shutdown";

export const RETRAIN_CHECK_JOB = "retrain-check";
const MAX_ATTEMPTS = 6;

export interface EnqueueLoopJob {
  kind: string;
  projectId: string;
  payload: Record<string, unknown>;
  dedupeKey: string;
  requestedById?: string | null;
}

/** Writes the JobRun (once per dedupe key) and wakes a worker; returns the JobRun id and whether it is new. */
export async function enqueueLoopJob(worker: WorkerContext, job: EnqueueLoopJob): Promise<{ jobRunId: string; created: boolean }> {
  const row = await enqueueJobRun(worker.db, { kind: job.kind, projectId: job.projectId, payload: job.payload, dedupeKey: job.dedupeKey, requestedById: job.requestedById ?? null });
  if (row.created) await worker.send(job.kind, { jobRunId: row.jobRunId, projectId: job.projectId });
  return { jobRunId: row.jobRunId, created: row.created };
}

export interface RoundHitRate {
  roundId: string;
  selected: number;
  /** Cases with a training label from their annotations (server/services/training-label.ts): a split vote counts once adjudicated. */
  annotated: number;
  /** Of them, cases whose training label is a minority class (stats-math `isMinorityCase`). */
  minorityHits: number;
  /** minorityHits / annotated (null before any annotation). */
  hitRate: number | null;
  /** Annotated cases whose annotators split without a majority and that nobody adjudicated yet (absent in stats from before it). */
  awaitingAdjudication?: number;
  /** What random selection would hit: the minority share among the project's labelled non-TEST cases. */
  labelledPrior: number | null;
  /** The model's pseudo-label minority share π̂ of the pool at selection time (RADS rounds). */
  pseudoMinorityPrior: number | null;
  /** hitRate / labelledPrior. */
  lift: number | null;
}

/**
 * A round's minority hit rate against the pool prior: a selected case is a hit when its training label
 * (the rule training uses: adjudicated, else the annotators' strict majority) is a minority class.
 */
export async function computeRoundHitRate(db: Db, roundId: string): Promise<RoundHitRate> {
  const round = await findRoundWithAnnotations(db, roundId);
  if (!round) throw new Error(`No round ${roundId}`);
  const minority = round.project.minorityClasses;
  let annotated = 0;
  let hits = 0;
  let awaitingAdjudication = 0;
  for (const item of round.items) {
    const found = isMinorityCase(item.case.annotations, minority);
    if (found === null) {
      if (awaitsAdjudication(item.case.annotations)) awaitingAdjudication++;
      continue;
    }
    annotated++;
    if (found) hits++;
  }
  const project = await findProjectForLoop(db, round.projectId);
  let labelledPrior: number | null = null;
  if (project) {
    const classes = projectClasses(project);
    const { training } = await labelledSets(db, round.projectId, classes);
    const minorityIdx = new Set(classes.minority);
    labelledPrior = training.length ? training.filter((e) => minorityIdx.has(e.label)).length / training.length : null;
  }
  const hitRate = annotated ? hits / annotated : null;
  const pseudo = (round.stats as { pseudoMinorityPrior?: unknown } | null)?.pseudoMinorityPrior;
  return {
    roundId,
    selected: round.items.length,
    annotated,
    minorityHits: hits,
    hitRate,
    awaitingAdjudication,
    labelledPrior,
    pseudoMinorityPrior: typeof pseudo === "number" ? pseudo : null,
    lift: hitRate !== null && labelledPrior ? hitRate / labelledPrior : null,
  };
}

export type TriggerReason = "round-complete" | "n-labels" | "schedule";

/** How the project's label set differs from the one a model was trained with (class keys in head order). */
export interface LabelSetChange {
  trainedWith: string[];
  now: string[];
}

/**
 * Whether `model` was trained with other classes than the project has now (train.ts records the
 * class keys in head order as params.classes). Order counts: the head's output i is class i. A
 * renamed class keeps its key (no change); a change of the minority classes alone leaves the head
 * valid (it scores the same classes). Null: the same classes, or the model recorded none.
 */
export function labelSetChange(model: { params: unknown }, projectKeys: readonly string[]): LabelSetChange | null {
  const keys = (model.params as { classes?: unknown } | null)?.classes;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) return null;
  const trainedWith = keys as string[];
  if (trainedWith.length === projectKeys.length && trainedWith.every((k, i) => k === projectKeys[i])) return null;
  return { trainedWith, now: [...projectKeys] };
}

/**
 * The dedupe key of a training of `trainingHash` (loop-data trainingSetHash) under the class keys
 * `classKeys`: the loop check and the select job's retrain after a label-set change ask for the same
 * run, so one set of labels under one label set is trained once — and the same labels under a
 * changed label set are trained again.
 */
export function trainDedupeKey(projectId: string, trainingHash: string, classKeys: readonly string[]): string {
  return `train:${projectId}:${trainingHash}:classes-${classKeysHash(classKeys)}`;
}

function classKeysHash(classKeys: readonly string[]): string {
  return crypto.createHash("sha256").update(classKeys.join("\n")).digest("hex").slice(0, 12);
}

/**
 * The one line the selection page shows beside a round's strategy when the label set changed under
 * the approved model (stored as the round's stats.reason), e.g. "Label set changed since model v2
 * was trained (added: other): cold start instead of a round from that model; retraining queued."
 */
export function labelSetChangeReason(change: LabelSetChange, modelVersion: number, retrain: "queued" | "asked-before" | "too-few-labels"): string {
  const before = new Set(change.trainedWith);
  const after = new Set(change.now);
  const added = change.now.filter((k) => !before.has(k));
  const removed = change.trainedWith.filter((k) => !after.has(k));
  const parts = [added.length ? `added: ${added.join(", ")}` : null, removed.length ? `removed: ${removed.join(", ")}` : null].filter((p): p is string => p !== null);
  const what = parts.length ? parts.join("; ") : "classes reordered";
  const next =
    retrain === "queued"
      ? "retraining queued"
      : retrain === "asked-before"
        ? "a model of the current labels is trained or training (see Jobs)"
        : "too few labels to retrain yet (labelled cases of two classes needed)";
  return `Label set changed since model v${modelVersion} was trained (${what}): cold start instead of a round from that model; ${next}.`;
}

/** What one loop check did (`actions`), and when the project wants its next check (a deferred or coalesced training). */
export interface LoopCheckOutcome {
  projectId: string;
  actions: string[];
  /** Set when a trigger fired but its training waits: the check must run again at this time. */
  checkAgainAt?: Date;
  /** What users are told now (stored; null: nothing waits), and whether this check changed it (a new deferral, a cleared one). */
  status?: LoopStatus | null;
  statusChanged?: boolean;
}

/** Whether two statuses tell the same thing (the time first decided aside). */
function sameStatus(a: LoopStatus | null, b: LoopStatus | null): boolean {
  if (!a || !b) return a === b;
  if (a.kind === "deferred" && b.kind === "deferred") return a.until === b.until && a.reason === b.reason && a.minIntervalMinutes === b.minIntervalMinutes && a.latestModelVersion === b.latestModelVersion;
  if (a.kind === "no-trainable-labels" && b.kind === "no-trainable-labels") return a.roundNumber === b.roundNumber && a.awaitingAdjudication === b.awaitingAdjudication;
  return false;
}

/** Stores `next` unless the stored status says the same (then keeps its `since`); returns what is stored and whether it changed. */
async function storeLoopStatus(db: Db, projectId: string, next: LoopStatus | null): Promise<{ status: LoopStatus | null; changed: boolean }> {
  const parsed = ZLoopStatus.safeParse(await findLoopStatus(db, projectId));
  const stored = parsed.success ? parsed.data : null;
  if (sameStatus(stored, next)) return { status: stored, changed: false };
  await writeLoopStatus(db, projectId, next as Prisma.InputJsonValue | null);
  return { status: next, changed: true };
}

/** Cases of the round whose annotators split without a majority and that nobody adjudicated yet. */
async function countAwaitingAdjudication(db: Db, roundId: string): Promise<number> {
  const round = await findRoundWithAnnotations(db, roundId);
  return round ? round.items.filter((item) => awaitsAdjudication(item.case.annotations)).length : 0;
}

/**
 * Whether the loop check's log line is worth writing: not for a deferral it already reported (the
 * every-minute check finds the same one again until the interval ends; a new `until` is a new deferral).
 */
export function outcomeWorthLogging(outcome: LoopCheckOutcome): boolean {
  if (!outcome.actions.length) return false;
  const repeatable = outcome.actions.every((a) => a.endsWith(":deferred"));
  return !repeatable || outcome.statusChanged === true;
}

/** A fired trigger's decision: train now, fold into the queued/running training, or wait for the interval's end. */
export type TrainingDecision = { kind: "enqueue" } | { kind: "coalesced"; into: string; checkAgainAt: Date } | { kind: "deferred"; until: Date };

/** How long after a coalesced trigger the check looks again at the latest (the interval, at least a minute). */
const COALESCED_RECHECK_MIN_MS = 60_000;

/**
 * Whether a fired trigger trains now (issue 16): a queued or running training of the project takes
 * it in (`coalesced`; the check looks again after the interval, when that training has ended); a
 * model registered less than `minIntervalMinutes` ago holds it until the interval ends (`deferred`).
 */
export function trainingDecision(input: { now: Date; minIntervalMinutes: number; latestModelAt: Date | null; pending: { id: string } | null }): TrainingDecision {
  const intervalMs = input.minIntervalMinutes * 60_000;
  if (input.pending) return { kind: "coalesced", into: input.pending.id, checkAgainAt: new Date(input.now.getTime() + Math.max(intervalMs, COALESCED_RECHECK_MIN_MS)) };
  if (intervalMs > 0 && input.latestModelAt && input.now.getTime() < input.latestModelAt.getTime() + intervalMs) {
    return { kind: "deferred", until: new Date(input.latestModelAt.getTime() + intervalMs) };
  }
  return { kind: "enqueue" };
}

/** Evaluates the loop's triggers for one project and enqueues what is due; returns what it did. */
export async function checkRetrainTriggers(worker: WorkerContext, projectId: string, now = new Date()): Promise<LoopCheckOutcome> {
  const { db } = worker;
  const project = await findProjectForLoop(db, projectId);
  // An archived project is read-only and out of every queue: no training, no rounds.
  if (!project) return { projectId, actions: [] as string[] };
  if (project.archivedAt) {
    // Nothing waits any more: a stored deferral would promise a training that never comes.
    const stored = await storeLoopStatus(db, projectId, null);
    return { projectId, actions: [] as string[], status: null, statusChanged: stored.changed };
  }
  let triggers;
  let minIntervalMinutes: number;
  try {
    const settings = parseStoredProjectConfig(project).settings;
    triggers = settings.retrainTriggers;
    minIntervalMinutes = settings.minTrainingIntervalMinutes;
  } catch (error) {
    if (!(error instanceof ProjectConfigError)) throw error;
    // One project's broken configuration must not stop the loop of the others.
    logger.error("loop check skipped: invalid project configuration", { projectId, error: error.message });
    return { projectId, actions: ["invalid-config"] };
  }
  const actions: string[] = [];
  let checkAgainAt: Date | undefined;
  let status: LoopStatus | null = null;
  /** The project's labels hold nothing the latest model was not trained on (or too few classes to train). */
  let nothingNewToTrain = false;

  const round = await findLatestRound(db, projectId);
  let roundComplete = false;
  // Items no member is left to answer (removed or deactivated since their last skip) are finished first: the round is
  // complete when every item is DONE — N answers, or everyone who may annotate answered or skipped it (queue-repo.ts).
  if (round) await finishExhaustedItems(db, { projectId, roundId: round.id });
  if (round && round._count.items > 0 && (await countPendingItems(db, round.id)) === 0) {
    roundComplete = true;
    const stats = (round.stats ?? {}) as Record<string, unknown>;
    if (!stats.hitRate) {
      const hit = await computeRoundHitRate(db, round.id);
      await setRoundStats(db, round.id, { ...stats, hitRate: hit } as unknown as Prisma.InputJsonValue);
      actions.push(`hit-rate:${round.number}`);
    }
  }

  let classes: ReturnType<typeof projectClasses> | null = null;
  try {
    classes = projectClasses(project);
  } catch {
    classes = null; // a project without a usable label schema has nothing to train
  }
  if (triggers.onRoundComplete || triggers.everyNLabels !== null || triggers.scheduleHours !== null) {
    const latest = await latestModelVersion(db, projectId);
    if (classes) {
      const { training } = await labelledSets(db, projectId, classes);
      const hash = trainingSetHash(training);
      const trainedHash = (latest?.trainingSnapshot as { trainingSetHash?: unknown } | null)?.trainingSetHash;
      nothingNewToTrain = training.length === 0 || hash === trainedHash || new Set(training.map((e) => e.label)).size < 2;
      if (training.length > 0 && hash !== trainedHash && new Set(training.map((e) => e.label)).size >= 2) {
        const newLabels = await countSubmittedAnnotationsSince(db, projectId, latest?.createdAt ?? null);
        const overdue = triggers.scheduleHours !== null && newLabels > 0 && (!latest || now.getTime() - latest.createdAt.getTime() >= triggers.scheduleHours * 3_600_000);
        const reason: TriggerReason | null =
          triggers.onRoundComplete && roundComplete && newLabels > 0
            ? "round-complete"
            : triggers.everyNLabels !== null && newLabels >= triggers.everyNLabels
              ? "n-labels"
              : overdue
                ? "schedule"
                : null;
        const dedupeKey = trainDedupeKey(projectId, hash, classes.keys);
        if (reason && !(await findJobRunByDedupeKey(db, dedupeKey))) {
          const decision = trainingDecision({ now, minIntervalMinutes, latestModelAt: latest?.createdAt ?? null, pending: await findPendingJobRun(db, projectId, "train") });
          if (decision.kind === "enqueue") {
            await enqueueLoopJob(worker, { kind: "train", projectId, payload: { projectId, reason }, dedupeKey });
            actions.push(`train:${reason}`);
          } else if (decision.kind === "coalesced") {
            actions.push(`train:${reason}:coalesced`);
            checkAgainAt = decision.checkAgainAt;
          } else {
            actions.push(`train:${reason}:deferred`);
            checkAgainAt = decision.until;
            status = { kind: "deferred", reason, until: decision.until.toISOString(), minIntervalMinutes, latestModelVersion: latest?.version ?? null, since: now.toISOString() };
          }
        }
      }
    }
  }

  if (round && roundComplete && nothingNewToTrain) {
    const awaitingAdjudication = await countAwaitingAdjudication(db, round.id);
    if (awaitingAdjudication > 0) status = { kind: "no-trainable-labels", roundNumber: round.number, awaitingAdjudication, since: now.toISOString() };
  }
  const stored = await storeLoopStatus(db, projectId, status);

  const active = await findActiveModel(db, projectId);
  if (active && !(await roundExistsForModel(db, projectId, active.id))) {
    // Same key as the approval's own request, so this only fills in when that one never arrived.
    const queued = await enqueueLoopJob(worker, { kind: "select", projectId, payload: { projectId, modelVersionId: active.id, reason: "model-approved" }, dedupeKey: `select:${projectId}:approved:${active.id}` });
    if (queued.created) actions.push("select:approved");
  } else if (active && classes && labelSetChange(active, classes.keys) && !(await findOpenRound(db, projectId)) && (await hasSelectableCase(db, projectId))) {
    // The label set changed under the approved model and no round is open: without this nothing asks
    // for a round until a new model is approved. The select job writes a cold-start round saying why
    // and asks for the retraining; once per model and label set.
    const queued = await enqueueLoopJob(worker, { kind: "select", projectId, payload: { projectId, modelVersionId: active.id, reason: "label-set-changed" }, dedupeKey: `select:${projectId}:label-set:${active.id}:${classKeysHash(classes.keys)}` });
    if (queued.created) actions.push("select:label-set-changed");
  } else if (!active && (await countRounds(db, projectId)) === 0 && (await hasSelectableCase(db, projectId))) {
    // Only with cases to choose from: the dedupe key allows one cold start per project, and one run on a
    // project created before its import would find an empty pool and never come back.
    const queued = await enqueueLoopJob(worker, { kind: "select", projectId, payload: { projectId, reason: "cold-start" }, dedupeKey: `select:${projectId}:cold-start` });
    if (queued.created) actions.push("select:cold-start");
  }
  const told = { status: stored.status, statusChanged: stored.changed };
  return checkAgainAt ? { projectId, actions, checkAgainAt, ...told } : { projectId, actions, ...told };
}

/** pg-boss singleton key of a project's deferred check (at most one waits per project). */
export function deferredCheckKey(projectId: string, kind: "interval" | "spacing"): string {
  return `${RETRAIN_CHECK_JOB}:${kind}:${projectId}`;
}

/**
 * Asks for a check of `projectId` at `at` (pg-boss `startAfter`), unless one of the same kind is
 * already waiting — that one runs first and asks again if it still has to. Returns whether it sent one.
 */
export async function scheduleLoopCheck(boss: PgBoss, projectId: string, at: Date, kind: "interval" | "spacing"): Promise<boolean> {
  const key = deferredCheckKey(projectId, kind);
  const waiting = await boss.getDb().executeSql("SELECT 1 FROM pgboss.job WHERE name = $1 AND singleton_key = $2 AND state = 'created' LIMIT 1", [RETRAIN_CHECK_JOB, key]);
  if (waiting.rows.length > 0) return false;
  await boss.send(RETRAIN_CHECK_JOB, { projectId }, { startAfter: at, singletonKey: key });
  return true;
}

/** Least time between two on-demand checks of one project in a worker (the rest are folded into one at its end). */
export const CHECK_SPACING_MS = 5_000;

/**
 * Folds a batch of check requests: each project once, in order of first request; `scheduled` is
 * true for the every-minute check (all projects and the recovery).
 */
export function foldCheckRequests(messages: { projectId?: string }[], scheduledCheck: boolean): { projects: string[]; scheduled: boolean } {
  const projects: string[] = [];
  let scheduled = false;
  for (const m of messages) {
    if (m.projectId) {
      if (!projects.includes(m.projectId)) projects.push(m.projectId);
    } else if (scheduledCheck) {
      scheduled = true;
    }
  }
  return { projects, scheduled };
}

async function pendingBossJobs(boss: PgBoss, jobRunId: string): Promise<{ id: string; name: string; state: string }[]> {
  const result = await boss.getDb().executeSql("SELECT id, name, state::text AS state FROM pgboss.job WHERE data->>'jobRunId' = $1 AND state < 'completed'", [jobRunId]);
  return result.rows as { id: string; name: string; state: string }[];
}

/** Re-delivers runs whose worker died (RUNNING, run lock free) and runs whose message was lost (QUEUED > 1 min, no message). */
export async function recoverInterruptedJobs(worker: WorkerContext, boss: PgBoss): Promise<string[]> {
  const recovered: string[] = [];
  for (const run of await listJobRunsByStatus(worker.db, "RUNNING")) {
    const locks = await openLockSession(worker.databaseUrl);
    try {
      // Holding the run lock while re-queueing: no worker can claim the run in between.
      if (!(await locks.tryLock(LOCK_JOB_RUN, run.id))) continue;
      const outcome = await requeueDeadJobRun(worker.db, run.id, MAX_ATTEMPTS);
      if (outcome !== "requeued") continue;
      for (const job of await pendingBossJobs(boss, run.id)) {
        if (job.state === "active") await boss.fail(job.name, job.id, { error: "worker stopped" });
      }
      if ((await pendingBossJobs(boss, run.id)).length === 0) await worker.send(run.kind, { jobRunId: run.id, projectId: run.projectId });
      recovered.push(run.id);
      logger.warn("job run recovered after its worker stopped", { jobRunId: run.id, kind: run.kind });
    } finally {
      await locks.close();
    }
  }
  for (const run of await listJobRunsByStatus(worker.db, "QUEUED", new Date(Date.now() - 60_000))) {
    if ((await pendingBossJobs(boss, run.id)).length === 0) {
      await worker.send(run.kind, { jobRunId: run.id, projectId: run.projectId });
      recovered.push(run.id);
    }
  }
  return recovered;
}

/**
 * Deletes model files nothing will ever use: temp files of runs no worker is executing, and
 * published files no ModelVersion points at (a run killed between publishing and registering;
 * its retry would have rewritten them) — the latter only while no training of that project runs.
 */
export async function sweepOrphanArtifacts(worker: WorkerContext): Promise<string[]> {
  const { store } = worker;
  const deleted: string[] = [];
  for (const key of await store.list("tmp/models")) {
    const jobRunId = key.split("/")[3];
    if (jobRunId && (await isLockFree(worker.databaseUrl, LOCK_JOB_RUN, jobRunId))) {
      await store.delete(key);
      deleted.push(key);
    }
  }
  const byProject = new Map<string, string[]>();
  for (const key of await store.list("models")) {
    const projectId = key.split("/")[1];
    if (projectId) byProject.set(projectId, [...(byProject.get(projectId) ?? []), key]);
  }
  for (const [projectId, keys] of byProject) {
    const locks = await openLockSession(worker.databaseUrl);
    try {
      if (!(await locks.tryLock(LOCK_PROJECT_TRAINING, projectId))) continue;
      const registered = new Set((await modelArtifactKeys(worker.db, projectId)).map((m) => m.artifactKey?.replace(/\/head\.onnx$/, "")));
      for (const key of keys) {
        const dir = key.split("/").slice(0, 3).join("/");
        if (!registered.has(dir)) {
          await store.delete(key);
          deleted.push(key);
        }
      }
    } finally {
      await locks.close();
    }
  }
  if (deleted.length) logger.info("orphaned model files removed", { count: deleted.length });
  return deleted;
}

const ZCheckMessage = z.object({ projectId: z.string().min(1).optional() }).passthrough();

/** The scheduled loop check (every minute) and the on-demand one ({ projectId }). */
export const retrainCheckJob: JobDefinition = {
  name: RETRAIN_CHECK_JOB,
  async register(boss) {
    const worker = workerContextFor(boss);
    await boss.createQueue(RETRAIN_CHECK_JOB);
    // The schedule lives in the database (one delivery per minute whichever worker takes it); a
    // worker with LOOP_SCHEDULE=off neither creates it nor acts on its deliveries.
    const scheduled = loadServerEnv().LOOP_SCHEDULE === "on";
    if (scheduled) await boss.schedule(RETRAIN_CHECK_JOB, "* * * * *", {});
    const lastCheck = new Map<string, number>();
    const check = async (projectId: string, onDemand: boolean) => {
      const last = lastCheck.get(projectId);
      const now = Date.now();
      if (onDemand && last !== undefined && now - last < CHECK_SPACING_MS) {
        await scheduleLoopCheck(boss, projectId, new Date(last + CHECK_SPACING_MS), "spacing");
        return;
      }
      lastCheck.set(projectId, now);
      const outcome = await checkRetrainTriggers(worker, projectId);
      if (outcomeWorthLogging(outcome)) logger.info("loop triggers fired", { projectId, actions: outcome.actions, checkAgainAt: outcome.checkAgainAt?.toISOString() ?? null });
      if (outcome.checkAgainAt) await scheduleLoopCheck(boss, projectId, outcome.checkAgainAt, "interval");
    };
    // A burst of requests (a check per completed queue item) arrives as one batch: each project once.
    await boss.work<Record<string, unknown>>(RETRAIN_CHECK_JOB, { batchSize: 50, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      const folded = foldCheckRequests(
        jobs.map((job) => ZCheckMessage.parse(job.data ?? {})),
        scheduled,
      );
      for (const projectId of folded.projects) await check(projectId, true);
      if (folded.scheduled) {
        for (const { id } of await listProjectIds(worker.db)) if (!folded.projects.includes(id)) await check(id, false);
        await recoverInterruptedJobs(worker, boss);
      }
    });
    // At start: what a previous worker left behind.
    void (async () => {
      await recoverInterruptedJobs(worker, boss);
      await sweepOrphanArtifacts(worker);
    })().catch((error: Error) => {
      // A stop (Ctrl-C reaches the embedded database too) or an outage during it is no fault of the recovery.
      const level = queueErrorLevel(error, workerStopping());
      logger[level === "info" ? "warn" : level]("start-up recovery failed", { error: error.message });
    });
  },
};
