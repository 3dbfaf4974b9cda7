/**
 * JobRun rows written by the web process when it asks the worker for something (the select job
 * after an approval, a what-if simulation). The dedupe key makes asking twice harmless.
 */
import type { Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

export interface NewJobRun {
  projectId: string | null;
  kind: string;
  payload: Prisma.InputJsonValue;
  dedupeKey: string | null;
  requestedById: string | null;
}

/** Inserts a QUEUED JobRun, or returns the existing one with the same dedupe key. */
export async function insertJobRunOnce(tx: DbOrTx, row: NewJobRun): Promise<{ id: string; created: boolean }> {
  if (row.dedupeKey) {
    const existing = await tx.jobRun.findUnique({ where: { dedupeKey: row.dedupeKey }, select: { id: true } });
    if (existing) return { id: existing.id, created: false };
  }
  const created = await tx.jobRun.create({ data: { ...row, status: "QUEUED", stage: "queued" }, select: { id: true } });
  return { id: created.id, created: true };
}

export function findJobRunInProject(db: DbOrTx, projectId: string, jobRunId: string) {
  return db.jobRun.findFirst({
    where: { id: jobRunId, projectId },
    select: { id: true, kind: true, status: true, stage: true, percent: true, payload: true, result: true, error: true, createdAt: true, startedAt: true, finishedAt: true },
  });
}

export function listJobRunsInProject(db: DbOrTx, projectId: string, kind: string, take: number) {
  return db.jobRun.findMany({
    where: { projectId, kind },
    orderBy: { createdAt: "desc" },
    take,
    select: { id: true, kind: true, status: true, stage: true, percent: true, payload: true, error: true, createdAt: true, finishedAt: true },
  });
}

/** Serialises starts of one kind of job platform-wide (transaction lock 727005 + hashtext(kind)), so counts cannot race. */
export async function lockJobStarts(tx: DbOrTx, kind: string): Promise<void> {
  await tx.$executeRawUnsafe("SELECT pg_advisory_xact_lock(727005, hashtext($1))", kind);
}

/** QUEUED or RUNNING runs of `kind` created since `since`, platform-wide and in `projectId`. */
export async function countActiveJobRuns(tx: DbOrTx, kind: string, projectId: string, since: Date): Promise<{ platform: number; project: number }> {
  const where = { kind, status: { in: ["QUEUED", "RUNNING"] as ("QUEUED" | "RUNNING")[] }, createdAt: { gte: since } };
  const [platform, project] = await Promise.all([tx.jobRun.count({ where }), tx.jobRun.count({ where: { ...where, projectId } })]);
  return { platform, project };
}
