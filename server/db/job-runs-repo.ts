/**
 * JobRun rows as the worker drives them (claim, progress, finish, recovery) and as the jobs panel
 * reads them. Every state change is a conditional update, so a late write from a worker that lost
 * its job (crashed, expired) cannot overwrite the outcome another worker recorded.
 */
import { Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

const JOB_SELECT = {
  id: true,
  projectId: true,
  kind: true,
  status: true,
  stage: true,
  percent: true,
  payload: true,
  result: true,
  error: true,
  dedupeKey: true,
  requestedById: true,
  attempts: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} as const satisfies Prisma.JobRunSelect;

export function findJobRun(db: DbOrTx, id: string) {
  return db.jobRun.findUnique({ where: { id }, select: JOB_SELECT });
}

/** QUEUED (or RUNNING left by a dead worker) → RUNNING, attempts + 1; false if it is already finished. */
export async function claimJobRun(db: DbOrTx, id: string): Promise<boolean> {
  const updated = await db.jobRun.updateMany({
    where: { id, status: { in: ["QUEUED", "RUNNING"] } },
    data: { status: "RUNNING", stage: "starting", percent: 0, error: null, startedAt: new Date(), finishedAt: null, attempts: { increment: 1 } },
  });
  return updated.count === 1;
}

export async function setJobProgress(db: DbOrTx, id: string, stage: string, percent: number): Promise<void> {
  await db.jobRun.updateMany({ where: { id, status: "RUNNING" }, data: { stage, percent } });
}

/** RUNNING → SUCCEEDED with its result; false when the run was no longer RUNNING. */
export async function succeedJobRun(db: DbOrTx, id: string, result: Prisma.InputJsonValue): Promise<boolean> {
  const updated = await db.jobRun.updateMany({
    where: { id, status: "RUNNING" },
    data: { status: "SUCCEEDED", stage: "done", percent: 100, result, error: null, finishedAt: new Date() },
  });
  return updated.count === 1;
}

/** RUNNING → FAILED (final) or back to QUEUED (the queue will retry), with the error message. */
export async function failJobRun(db: DbOrTx, id: string, error: string, final: boolean): Promise<void> {
  await db.jobRun.updateMany({
    where: { id, status: "RUNNING" },
    data: final
      ? { status: "FAILED", stage: "failed", error, finishedAt: new Date() }
      : { status: "QUEUED", stage: "waiting to retry", error },
  });
}

/**
 * A RUNNING run whose worker is gone goes back to QUEUED (recovery re-delivers it), unless it has
 * already used `maxAttempts` attempts — a run that keeps killing its worker (out of memory) fails.
 */
export async function requeueDeadJobRun(db: DbOrTx, id: string, maxAttempts: number): Promise<"requeued" | "failed" | "none"> {
  const requeued = await db.jobRun.updateMany({ where: { id, status: "RUNNING", attempts: { lt: maxAttempts } }, data: { status: "QUEUED", stage: "recovering: its worker stopped" } });
  if (requeued.count === 1) return "requeued";
  const failed = await db.jobRun.updateMany({
    where: { id, status: "RUNNING" },
    data: { status: "FAILED", stage: "failed", error: `Gave up after ${maxAttempts} attempts whose worker stopped (out of memory? killed?)`, finishedAt: new Date() },
  });
  return failed.count === 1 ? "failed" : "none";
}

export function listJobRunsByStatus(db: DbOrTx, status: "QUEUED" | "RUNNING", createdBefore?: Date) {
  return db.jobRun.findMany({
    where: { status, ...(createdBefore ? { createdAt: { lt: createdBefore } } : {}) },
    select: { id: true, kind: true, projectId: true, payload: true },
    orderBy: { createdAt: "asc" },
    take: 500,
  });
}

/** The latest jobs of a project the user is a member of (a non-member gets []). */
export function listJobRunsForMember(db: DbOrTx, userId: string, projectId: string, take: number) {
  return db.jobRun.findMany({
    where: { projectId, project: { members: { some: { userId } } }, NOT: { kind: LOOP_STATUS_KIND } },
    orderBy: { createdAt: "desc" },
    take,
    select: { ...JOB_SELECT, payload: false, result: true },
  });
}

export function findJobRunByDedupeKey(db: DbOrTx, dedupeKey: string) {
  return db.jobRun.findUnique({ where: { dedupeKey }, select: JOB_SELECT });
}

/** The project's oldest QUEUED or RUNNING run of `kind` (null when none): the loop check folds new triggers into it. */
export function findPendingJobRun(db: DbOrTx, projectId: string, kind: string) {
  return db.jobRun.findFirst({
    where: { projectId, kind, status: { in: ["QUEUED", "RUNNING"] } },
    orderBy: { createdAt: "asc" },
    select: { id: true, status: true, createdAt: true },
  });
}

/** Kind of the one JobRun per project that holds the loop check's latest decision (never queued or run; not listed as a job). */
export const LOOP_STATUS_KIND = "retrain-check";
const loopStatusKey = (projectId: string) => `${LOOP_STATUS_KIND}:${projectId}:status`;

/** The loop check's stored decision for `projectId` (its JobRun's `result`; null when none was stored or it was cleared). */
export async function findLoopStatus(db: DbOrTx, projectId: string): Promise<unknown> {
  const row = await db.jobRun.findUnique({ where: { dedupeKey: loopStatusKey(projectId) }, select: { result: true } });
  return row?.result ?? null;
}

/** Stores (or clears, with null) the loop check's decision for `projectId` in its status JobRun (SUCCEEDED, never delivered). */
export async function writeLoopStatus(db: DbOrTx, projectId: string, status: Prisma.InputJsonValue | null): Promise<void> {
  const result = status ?? Prisma.DbNull;
  const now = new Date();
  await db.jobRun.upsert({
    where: { dedupeKey: loopStatusKey(projectId) },
    create: { projectId, kind: LOOP_STATUS_KIND, status: "SUCCEEDED", stage: "done", percent: 100, dedupeKey: loopStatusKey(projectId), result, startedAt: now, finishedAt: now },
    update: { result, finishedAt: now },
  });
}
