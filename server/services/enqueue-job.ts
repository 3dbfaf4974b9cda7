/**
 * How the web process asks the worker to do something: a JobRun row (what users see: status,
 * progress, result) written in the caller's transaction, then — after the commit — a pg-boss
 * message carrying the JobRun id, so the worker never picks up a job whose row was rolled back.
 *
 * The JobRun is the durable record; the pg-boss message is the wake-up. If sending fails (the
 * queue is down) the row stays QUEUED and the failure is logged; sending again for the same
 * dedupe key is harmless (`singletonKey` = JobRun id).
 */
import PgBoss from "pg-boss";
import type { Prisma } from "../db/client";
import { insertJobRunOnce } from "../db/enqueue-repo";
import type { DbOrTx } from "../db/tx";
import { logger } from "../log";

export interface EnqueueRequest {
  kind: string;
  projectId: string | null;
  payload: Record<string, unknown>;
  dedupeKey: string | null;
  requestedById: string | null;
}

export interface EnqueuedJob {
  jobRunId: string;
  kind: string;
  created: boolean;
  /** Sends the pg-boss wake-up; call it after the transaction that wrote the JobRun committed. */
  send(): Promise<boolean>;
}

/** Writes the JobRun (idempotently by dedupe key) inside `tx`; the message goes out with `send()`. */
export async function enqueueJobRun(tx: DbOrTx, request: EnqueueRequest): Promise<EnqueuedJob> {
  const row = await insertJobRunOnce(tx, {
    projectId: request.projectId,
    kind: request.kind,
    payload: request.payload as Prisma.InputJsonValue,
    dedupeKey: request.dedupeKey,
    requestedById: request.requestedById,
  });
  return {
    jobRunId: row.id,
    kind: request.kind,
    created: row.created,
    send: () => sendJobMessage(request.kind, { jobRunId: row.id, projectId: request.projectId, ...request.payload }),
  };
}

const globalForBoss = globalThis as unknown as { radsBoss?: { url: string; boss: Promise<PgBoss> } };

/**
 * One pg-boss client per process, started lazily without maintenance or scheduling (the worker
 * does those); starting it creates the pg-boss schema when the worker has not yet.
 */
function getBoss(): Promise<PgBoss> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set");
  if (!globalForBoss.radsBoss || globalForBoss.radsBoss.url !== url) {
    const boss = new PgBoss({ connectionString: url, schema: "pgboss", application_name: "rads-web", max: 2, supervise: false, schedule: false });
    boss.on("error", (error) => logger.error("job queue error", { error: error.message }));
    const started = boss.start().then(() => boss);
    started.catch(() => {
      if (globalForBoss.radsBoss?.boss === started) globalForBoss.radsBoss = undefined;
    });
    globalForBoss.radsBoss = { url, boss: started };
  }
  return globalForBoss.radsBoss.boss;
}

const createdQueues = new Set<string>();

/** Sends a job message; returns false (and logs) when the queue could not be reached. */
export async function sendJobMessage(kind: string, data: { jobRunId: string } & Record<string, unknown>): Promise<boolean> {
  try {
    const boss = await getBoss();
    if (!createdQueues.has(kind)) {
      // Queues must exist before a send (pg-boss 10); creating an existing one is a no-op.
      await boss.createQueue(kind);
      createdQueues.add(kind);
    }
    await boss.send(kind, data, { singletonKey: data.jobRunId });
    return true;
  } catch (error) {
    logger.error("could not send job message; the JobRun stays QUEUED", { kind, jobRunId: data.jobRunId, error: (error as Error).message });
    return false;
  }
}

/**
 * Asks the worker to look at a project's retraining triggers now (the worker's own schedule does
 * it every minute anyway): sent when a submission completes a queue item, so a finished round
 * starts training within seconds. One pending check per project is enough (singletonKey).
 */
export async function requestRetrainCheck(projectId: string): Promise<boolean> {
  const kind = "retrain-check";
  try {
    const boss = await getBoss();
    if (!createdQueues.has(kind)) {
      await boss.createQueue(kind);
      createdQueues.add(kind);
    }
    await boss.send(kind, { projectId }, { singletonKey: `${kind}:${projectId}` });
    return true;
  } catch (error) {
    logger.warn("could not request a retrain check; the worker's schedule will find it", { projectId, error: (error as Error).message });
    return false;
  }
}

/** Stops the lazily started client (tests and scripts that exit). */
export async function stopJobClient(): Promise<void> {
  const current = globalForBoss.radsBoss;
  globalForBoss.radsBoss = undefined;
  createdQueues.clear();
  if (current) await (await current.boss.catch(() => null))?.stop({ graceful: false, wait: true }).catch(() => undefined);
}

/**
 * `send(key)` at most once per key per `windowMs`: the first request sends at once; requests during the following
 * window are folded into one more send when it ends (which opens the next window). So the last request is always
 * followed by a send within `windowMs`, and a burst of n requests costs about n·(time)/windowMs sends instead of n.
 * The timers do not keep the process alive (unref).
 */
export function coalescePerKey(send: (key: string) => void, windowMs: number): (key: string) => void {
  const open = new Map<string, { again: boolean }>();
  const request = (key: string) => {
    const window = open.get(key);
    if (window) {
      window.again = true;
      return;
    }
    const opened = { again: false };
    open.set(key, opened);
    send(key);
    setTimeout(() => {
      open.delete(key);
      if (opened.again) request(key);
    }, windowMs).unref();
  };
  return request;
}

/**
 * requestRetrainCheck for submissions (annotation-service.ts): at most one send per project per second in this
 * process, the last completion always followed by a check within a second (coalescePerKey). At 100+ completed
 * items a second each submission paid a pg-boss send (an INSERT and its JavaScript) for a check the singleton key
 * then dropped (issue 16); a round that finished still starts training within seconds.
 */
export const requestRetrainCheckSoon = coalescePerKey((projectId) => void requestRetrainCheck(projectId), 1000);

