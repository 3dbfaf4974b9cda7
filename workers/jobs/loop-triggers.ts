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
 *   set of labels under one label set is trained once.
 * - `retrain-check` runs every minute on a pg-boss schedule (one delivery per minute across all
 *   workers) and on demand with a project id.
 * - `recoverInterruptedJobs`: a RUNNING JobRun whose run lock is free has lost its worker (the lock
 *   dies with the connection): it goes back to QUEUED and its message is re-delivered.
 * - `sweepOrphanArtifacts`: temp model files of dead runs, and published files no ModelVersion
 *   points at, are deleted at worker start.
 */
import crypto from "node:crypto";
import type PgBoss from "pg-boss";
import { z } from "zod";
import { parseStoredProjectConfig, ProjectConfigError } from "@/contracts/project-config";
import { isLockFree, LOCK_JOB_RUN, LOCK_PROJECT_TRAINING, openLockSession } from "@/server/db/advisory-lock";
import type { Db, Prisma } from "@/server/db/client";
import { findJobRunByDedupeKey, listJobRunsByStatus, requeueDeadJobRun } from "@/server/db/job-runs-repo";
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
import { enqueueJobRun } from "@/server/services/enqueue-job";
import { awaitsAdjudication, isMinorityCase } from "@/server/services/stats-math";
import { workerContextFor, type WorkerContext } from "./job-runtime";
import { labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import type { JobDefinition } from "./registry";

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

/** Evaluates the loop's triggers for one project and enqueues what is due; returns what it did. */
export async function checkRetrainTriggers(worker: WorkerContext, projectId: string, now = new Date()) {
  const { db } = worker;
  const project = await findProjectForLoop(db, projectId);
  // An archived project is read-only and out of every queue: no training, no rounds.
  if (!project || project.archivedAt) return { projectId, actions: [] as string[] };
  let triggers;
  try {
    triggers = parseStoredProjectConfig(project).settings.retrainTriggers;
  } catch (error) {
    if (!(error instanceof ProjectConfigError)) throw error;
    // One project's broken configuration must not stop the loop of the others.
    logger.error("loop check skipped: invalid project configuration", { projectId, error: error.message });
    return { projectId, actions: ["invalid-config"] };
  }
  const actions: string[] = [];

  const round = await findLatestRound(db, projectId);
  let roundComplete = false;
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
          await enqueueLoopJob(worker, { kind: "train", projectId, payload: { projectId, reason }, dedupeKey });
          actions.push(`train:${reason}`);
        }
      }
    }
  }

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
  return { projectId, actions };
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
    await boss.work<Record<string, unknown>>(RETRAIN_CHECK_JOB, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) {
        const message = ZCheckMessage.parse(job.data ?? {});
        if (!message.projectId && !scheduled) continue;
        const projects = message.projectId ? [message.projectId] : (await listProjectIds(worker.db)).map((p) => p.id);
        for (const projectId of projects) {
          const outcome = await checkRetrainTriggers(worker, projectId);
          if (outcome.actions.length) logger.info("loop triggers fired", outcome);
        }
        if (!message.projectId) await recoverInterruptedJobs(worker, boss);
      }
    });
    // At start: what a previous worker left behind.
    void (async () => {
      await recoverInterruptedJobs(worker, boss);
      await sweepOrphanArtifacts(worker);
    })().catch((error: Error) => logger.error("start-up recovery failed", { error: error.message }));
  },
};
