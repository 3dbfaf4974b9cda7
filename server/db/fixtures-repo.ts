/**
 * Rows that benchmarks, the soak run and the e2e fixtures (scripts/) set up or check directly,
 * outside any service: projects with members, users, cases, images, and the reads that verify a
 * run (every acknowledged submission stored, job outcomes). Never used by the web app or the worker.
 */
import type { Prisma } from "./generated/client";
import type { CaseSplit, JobStatus, QueueItemStatus, Role } from "./generated/enums";
import type { DbOrTx } from "./tx";

export interface FixtureProject {
  name: string;
  labelSchema: Prisma.InputJsonValue;
  minorityClasses: string[];
  selectionParams: Prisma.InputJsonValue;
  encoderConfig: Prisma.InputJsonValue;
  settings: Prisma.InputJsonValue;
  /** Members with their platform role as project role (the ProjectMember trigger's default, migration 0004). */
  memberIds?: string[];
}

export function insertFixtureProject(db: DbOrTx, project: FixtureProject) {
  const { memberIds = [], ...data } = project;
  return db.project.create({ data: { ...data, members: { create: memberIds.map((userId) => ({ userId })) } }, select: { id: true } });
}

/** Inserts users and returns them (id, email) in the order given. */
export async function insertFixtureUsers(db: DbOrTx, users: { email: string; name: string; role: Role; passwordHash: string | null }[]) {
  await db.user.createMany({ data: users });
  const rows = await db.user.findMany({ where: { email: { in: users.map((u) => u.email) } }, select: { id: true, email: true } });
  const byEmail = new Map(rows.map((r) => [r.email, r]));
  return users.map((u) => byEmail.get(u.email)!);
}

/** Users whose e-mail address ends with `suffix` (e.g. "@demo.local"). */
export function listUsersByEmailSuffix(db: DbOrTx, suffix: string) {
  return db.user.findMany({ where: { email: { endsWith: suffix } }, select: { id: true, email: true }, orderBy: { email: "asc" } });
}

export async function insertFixtureCases(db: DbOrTx, rows: { projectId: string; externalId: string; narrative: string; split: CaseSplit; importedLabel?: string | null }[]) {
  for (let i = 0; i < rows.length; i += 2000) await db.case.createMany({ data: rows.slice(i, i + 2000) });
}

/** Cases of a project (of one split when given): id and externalId, unordered. */
export function listFixtureCases(db: DbOrTx, projectId: string, split?: CaseSplit) {
  return db.case.findMany({ where: { projectId, ...(split ? { split } : {}) }, select: { id: true, externalId: true } });
}

/** Cases of a project with one of `externalIds`: id and externalId, unordered. */
export function listFixtureCasesByExternalIds(db: DbOrTx, projectId: string, externalIds: string[]) {
  return db.case.findMany({ where: { projectId, externalId: { in: externalIds } }, select: { id: true, externalId: true } });
}

/** Moves a case into a split with a label (a benchmark's labelled import). */
export function setFixtureCaseLabel(db: DbOrTx, caseId: string, split: CaseSplit, importedLabel: string) {
  return db.case.update({ where: { id: caseId }, data: { split, importedLabel }, select: { id: true } });
}

/** TEST cases whose imported label is one of `labels`, by externalId. */
export function listLabelledTestCases(db: DbOrTx, projectId: string, labels: string[]) {
  return db.case.findMany({ where: { projectId, split: "TEST", importedLabel: { in: labels } }, orderBy: { externalId: "asc" }, select: { importedLabel: true } });
}

/** POOL cases with no submitted annotation and no pending queue item, by id. */
export function listUnqueuedPoolCases(db: DbOrTx, projectId: string) {
  return db.case.findMany({
    where: { projectId, split: "POOL", annotations: { none: { kind: "SUBMITTED" } }, queueItems: { none: { status: "PENDING" } } },
    orderBy: { id: "asc" },
    select: { id: true, externalId: true },
  });
}

export function insertFixtureImages(
  db: DbOrTx,
  rows: { caseId: string; storageKey: string; mimeType: string; sha256: string; frames: number; attributes: Prisma.InputJsonValue }[],
) {
  return db.caseImage.createMany({ data: rows });
}

/** Submitted annotations of a project or of some authors, for checking that no acknowledged write was lost. */
export function listSubmittedAnnotations(db: DbOrTx, where: { projectId?: string; authorIds?: string[] }) {
  return db.annotation.findMany({
    where: { kind: "SUBMITTED", ...(where.projectId ? { case: { projectId: where.projectId } } : {}), ...(where.authorIds ? { authorId: { in: where.authorIds } } : {}) },
    select: { id: true, caseId: true, authorId: true, version: true, labels: true, comment: true },
  });
}

/** Job runs of a kind created since `since`, counted by status. */
export async function countJobRunsByStatus(db: DbOrTx, projectId: string, kind: string, since: Date) {
  const rows = await db.jobRun.groupBy({ by: ["status"], where: { projectId, kind, createdAt: { gte: since } }, _count: { _all: true } });
  return rows.map((r) => ({ status: r.status as JobStatus, count: r._count._all }));
}

export function countModelVersions(db: DbOrTx, projectId: string) {
  return db.modelVersion.count({ where: { projectId } });
}

export function findFailedJobRun(db: DbOrTx, projectId: string, kind: string) {
  return db.jobRun.findFirst({ where: { projectId, kind, status: "FAILED" }, select: { id: true, error: true } });
}

/** The project's latest round with its items in rank order. */
export function findLatestRoundWithItems(db: DbOrTx, projectId: string) {
  return db.selectionRound.findFirst({ where: { projectId }, orderBy: { number: "desc" }, include: { items: { orderBy: { rank: "asc" } } } });
}

export function findRoundByNumber(db: DbOrTx, projectId: string, number: number) {
  return db.selectionRound.findUnique({ where: { projectId_number: { projectId, number } }, select: { id: true } });
}

export function setRoundItemsStatus(db: DbOrTx, roundId: string, status: QueueItemStatus) {
  return db.queueItem.updateMany({ where: { roundId }, data: { status } });
}
