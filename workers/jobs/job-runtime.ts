/**
 * How the loop's jobs (train, evaluate, select, retrain-check) run: a zod-typed payload, a JobRun
 * row updated with stage and percent as the job goes (throttled writes), and the guarantees the
 * queue's retries need.
 *
 * Execution of one JobRun:
 *   1. take the run lock (session advisory lock on a dedicated connection, LOCK_JOB_RUN): if another
 *      live worker holds it, this delivery is a duplicate — acknowledge and do nothing;
 *   2. claim the row (QUEUED/RUNNING → RUNNING, attempts + 1); a finished row is left alone;
 *   3. for jobs with `projectLock`, wait for the per-project lock (one training per project at a
 *      time, across processes and machines: the lock is PostgreSQL's, not the process's);
 *   4. run; the handler may finish the row itself inside its own transaction (train does, so the
 *      model and the SUCCEEDED status commit together); otherwise it is finished here;
 *   5. on error: back to QUEUED for the queue's retry, or FAILED on the last attempt.
 * The locks live on the connection, so a worker killed mid-job releases them at once and
 * `recoverInterruptedJobs` can tell a dead run from a slow one.
 */
import type PgBoss from "pg-boss";
import { z } from "zod";
import { getDb, type Db } from "@/server/db/client";
import { LOCK_JOB_RUN, LOCK_PROJECT_TRAINING, openLockSession, type LockSession } from "@/server/db/advisory-lock";
import { claimJobRun, failJobRun, findJobRun, setJobProgress, succeedJobRun } from "@/server/db/job-runs-repo";
import type { Prisma } from "@/server/db/client";
import { loadServerEnv } from "@/server/env";
import { logger } from "@/server/log";
import { createLocalBlobStore, type BlobStore } from "@/server/storage/blob-store";
import type { JobDefinition } from "./registry";

/** What every job handler may use; one per worker process (tests build their own). */
export interface WorkerContext {
  db: Db;
  store: BlobStore;
  databaseUrl: string;
  provider: "cpu" | "cuda";
  /** Wakes the worker for a JobRun already written (pg-boss message carrying its id). */
  send(kind: string, data: { jobRunId: string; projectId: string | null }): Promise<void>;
}

export interface JobRunContext<P> {
  worker: WorkerContext;
  jobRunId: string;
  projectId: string | null;
  requestedById: string | null;
  payload: P;
  attempt: number;
  /** Records stage and percent; writes at most every PROGRESS_INTERVAL_MS unless the stage changes or percent hits 100. */
  reportProgress(stage: string, percent: number): Promise<void>;
}

export interface JobSpec<P> {
  name: string;
  payload: z.ZodType<P>;
  /** Retries after the first attempt. */
  retryLimit: number;
  retryDelaySeconds: number;
  /** pg-boss considers an active job lost after this long (a safety net; recovery is lock-based). */
  expireInSeconds: number;
  /** Hold the per-project training lock for the whole run. */
  projectLock?: boolean;
  run(ctx: JobRunContext<P>): Promise<Record<string, unknown>>;
}

const PROGRESS_INTERVAL_MS = 1000;
const LOCK_WAIT_POLL_MS = 500;

export type JobOutcome = { status: "succeeded"; result: Record<string, unknown> } | { status: "skipped"; reason: string } | { status: "failed"; error: string; final: boolean };

/** A payload that cannot be parsed will never succeed: fail at once instead of retrying. */
class PermanentJobError extends Error {}

function progressReporter(db: Db, jobRunId: string) {
  let lastStage = "";
  let lastAt = 0;
  return async (stage: string, percent: number) => {
    const now = Date.now();
    const clamped = Math.max(0, Math.min(100, percent));
    if (stage === lastStage && clamped < 100 && now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastStage = stage;
    lastAt = now;
    await setJobProgress(db, jobRunId, stage, clamped);
  };
}

/**
 * Runs one delivery of JobRun `jobRunId` with `spec`. `finalAttempt` tells whether a failure now is
 * final (the queue has no retries left). Never throws for a job failure; returns the outcome.
 */
export async function executeJobRun<P>(spec: JobSpec<P>, worker: WorkerContext, jobRunId: string, finalAttempt: boolean): Promise<JobOutcome> {
  let locks: LockSession | null = null;
  try {
    locks = await openLockSession(worker.databaseUrl);
    if (!(await locks.tryLock(LOCK_JOB_RUN, jobRunId))) return { status: "skipped", reason: "running in another worker" };
    const row = await findJobRun(worker.db, jobRunId);
    if (!row) return { status: "skipped", reason: "no such JobRun" };
    if (row.kind !== spec.name) return { status: "skipped", reason: `JobRun is a ${row.kind} job` };
    if (!(await claimJobRun(worker.db, jobRunId))) return { status: "skipped", reason: `already ${row.status.toLowerCase()}` };

    const reportProgress = progressReporter(worker.db, jobRunId);
    try {
      const parsed = spec.payload.safeParse(row.payload);
      if (!parsed.success) {
        throw new PermanentJobError(`Invalid ${spec.name} payload — ${parsed.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ")}`);
      }
      if (spec.projectLock) {
        if (!row.projectId) throw new PermanentJobError(`${spec.name} needs a project`);
        let waited = false;
        while (!(await locks.tryLock(LOCK_PROJECT_TRAINING, row.projectId))) {
          if (!waited) await reportProgress("waiting for another training of this project", 0);
          waited = true;
          await new Promise((resolve) => setTimeout(resolve, LOCK_WAIT_POLL_MS));
        }
      }
      const result = await spec.run({
        worker,
        jobRunId,
        projectId: row.projectId,
        requestedById: row.requestedById,
        payload: parsed.data,
        attempt: row.attempts + 1,
        reportProgress,
      });
      // A no-op when the handler already finished the row in its own transaction.
      await succeedJobRun(worker.db, jobRunId, result as Prisma.InputJsonValue);
      return { status: "succeeded", result };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const final = finalAttempt || error instanceof PermanentJobError;
      logger.error("job failed", { job: spec.name, jobRunId, projectId: row.projectId, final, error: message });
      await failJobRun(worker.db, jobRunId, message.slice(0, 2000), final);
      return { status: "failed", error: message, final };
    }
  } finally {
    // Closing the connection releases the run lock and the project lock together.
    await locks?.close();
  }
}

let sharedContext: WorkerContext | null = null;

/** The worker process's context: its Prisma client, blob store and pg-boss sender. */
export function workerContextFor(boss: PgBoss): WorkerContext {
  if (sharedContext) return sharedContext;
  const env = loadServerEnv();
  const created = new Set<string>();
  sharedContext = {
    db: getDb(),
    store: createLocalBlobStore(env.STORAGE_DIR),
    databaseUrl: env.DATABASE_URL,
    provider: env.ONNX_EXECUTION_PROVIDER,
    async send(kind, data) {
      if (!created.has(kind)) {
        await boss.createQueue(kind);
        created.add(kind);
      }
      await boss.send(kind, data);
    },
  };
  return sharedContext;
}

/** For tests: the context the registered jobs use. */
export function setWorkerContext(context: WorkerContext | null): void {
  sharedContext = context;
}

const ZMessage = z.object({ jobRunId: z.string().min(1) }).passthrough();

/** A pg-boss job definition around `spec`: one message = one delivery of a JobRun. */
export function defineJob<P>(spec: JobSpec<P>): JobDefinition & { spec: JobSpec<P> } {
  return {
    name: spec.name,
    spec,
    async register(boss: PgBoss) {
      const options = { name: spec.name, retryLimit: spec.retryLimit, retryDelay: spec.retryDelaySeconds, expireInSeconds: spec.expireInSeconds };
      // The web process may have created the queue with defaults first: apply ours either way.
      await boss.createQueue(spec.name, options);
      await boss.updateQueue(spec.name, options);
      const worker = workerContextFor(boss);
      await boss.work<Record<string, unknown>>(spec.name, { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true }, async (jobs) => {
        for (const job of jobs) {
          const message = ZMessage.safeParse(job.data);
          if (!message.success) {
            logger.error("job message without a JobRun id", { job: spec.name, bossJobId: job.id });
            continue;
          }
          const outcome = await executeJobRun(spec, worker, message.data.jobRunId, job.retryCount >= job.retryLimit);
          // Throwing hands the message back to pg-boss for its retry.
          if (outcome.status === "failed" && !outcome.final) throw new Error(outcome.error);
        }
      });
    },
  };
}
