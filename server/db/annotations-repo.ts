/**
 * Cases as the annotation workspace reads them, versioned annotations and drafts. Annotations are
 * only ever inserted; the unique (caseId, authorId, version) constraint is the last guard against
 * two writers taking the same version.
 */
import type { AnnotationKind, Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

/** A case of a project the user is a member of, with what the case view shows; null for anyone else. */
export function findCaseForMember(db: DbOrTx, caseId: string, userId: string) {
  return db.case.findFirst({
    where: { id: caseId, project: { members: { some: { userId } } } },
    select: {
      id: true,
      projectId: true,
      externalId: true,
      narrative: true,
      split: true,
      images: { orderBy: { position: "asc" }, select: { id: true, mimeType: true, frames: true, position: true, attributes: true, storageKey: true } },
      // A gold case (migration 0015) is scoped to the caller like N > 1: its annotations are independent gold answers.
      gold: { select: { caseId: true } },
    },
  });
}

/** Serialises submissions on one case until the transaction ends (version check + insert stay atomic). */
export async function lockCase(tx: Prisma.TransactionClient, caseId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "Case" WHERE id = ${caseId} FOR UPDATE`;
}

/** Submitted annotations of the case — of one author when `authorId` is given. */
export function countSubmitted(db: DbOrTx, caseId: string, authorId: string | null) {
  return db.annotation.count({ where: { caseId, kind: "SUBMITTED", ...(authorId ? { authorId } : {}) } });
}

export function latestSubmitted(db: DbOrTx, caseId: string, authorId: string | null) {
  return db.annotation.findFirst({
    where: { caseId, kind: "SUBMITTED", ...(authorId ? { authorId } : {}) },
    orderBy: [{ createdAt: "desc" }, { version: "desc" }],
    select: { id: true, version: true, authorId: true, labels: true, spans: true, regions: true, uncertain: true, comment: true, createdAt: true, author: { select: { name: true } } },
  });
}

export async function maxAuthorVersion(db: DbOrTx, caseId: string, authorId: string): Promise<number> {
  const row = await db.annotation.aggregate({ where: { caseId, authorId }, _max: { version: true } });
  return row._max.version ?? 0;
}

export interface AnnotationRow {
  caseId: string;
  authorId: string;
  version: number;
  kind: AnnotationKind;
  labels: string[];
  spans: Prisma.InputJsonValue;
  /** Image evidence (contracts ZImageRegion[]); [] when none. */
  regions?: Prisma.InputJsonValue;
  uncertain: boolean;
  comment: string;
  skipReason: string | null;
  timeSpentMs: number;
}

export function insertAnnotation(tx: DbOrTx, row: AnnotationRow) {
  return tx.annotation.create({ data: row, select: { id: true, version: true, createdAt: true } });
}

export function listCaseHistory(db: DbOrTx, caseId: string) {
  return db.annotation.findMany({
    where: { caseId },
    orderBy: [{ createdAt: "desc" }, { version: "desc" }],
    take: 100,
    select: { id: true, version: true, kind: true, labels: true, spans: true, regions: true, uncertain: true, comment: true, skipReason: true, timeSpentMs: true, createdAt: true, authorId: true, author: { select: { name: true } } },
  });
}

export function findDraft(db: DbOrTx, caseId: string, authorId: string) {
  return db.annotationDraft.findUnique({ where: { caseId_authorId: { caseId, authorId } }, select: { content: true, baseVersion: true, updatedAt: true } });
}

export function upsertDraft(tx: DbOrTx, caseId: string, authorId: string, baseVersion: number, content: Prisma.InputJsonValue) {
  return tx.annotationDraft.upsert({
    where: { caseId_authorId: { caseId, authorId } },
    create: { caseId, authorId, baseVersion, content },
    update: { baseVersion, content },
    select: { updatedAt: true },
  });
}

export function deleteDraft(tx: DbOrTx, caseId: string, authorId: string) {
  return tx.annotationDraft.deleteMany({ where: { caseId, authorId } });
}

/** An image of a case in a project the user is a member of; null for anyone else. */
/** The image with its case's project id, only in a project `userId` is a member of. */
export async function findImageForMember(db: DbOrTx, imageId: string, userId: string) {
  const row = await db.caseImage.findFirst({
    where: { id: imageId, case: { project: { members: { some: { userId } } } } },
    select: { id: true, storageKey: true, mimeType: true, sha256: true, caseId: true, case: { select: { projectId: true } } },
  });
  return row ? { id: row.id, storageKey: row.storageKey, mimeType: row.mimeType, sha256: row.sha256, caseId: row.caseId, projectId: row.case.projectId } : null;
}

export interface SubmitState {
  /** Submitted annotations of the case (of `scopeAuthorId` only, when given): the case version. */
  current: number;
  /** The author's highest version of the case, any kind (0 for none). */
  maxVersion: number;
  /** The queue item's status (null without an item). */
  itemStatus: string | null;
  /** Other users' leases on the item that count: completed, or not yet expired at `now`. */
  others: number;
  /** The author's own lease on the item: "open", "completed", or null for none. */
  mine: "open" | "completed" | null;
}

/**
 * What a submission checks, in one statement, once the case (and its queue item) are locked
 * (lockCase, lockQueueItem): the case version, the author's last version and the item's lease
 * state. It also deletes the author's draft of the case — inside the submit's transaction, so a
 * refused (conflicting) submission rolls the deletion back with everything else.
 */
export async function readSubmitState(tx: Prisma.TransactionClient, q: { caseId: string; authorId: string; scopeAuthorId: string | null; queueItemId: string | null; now: Date }): Promise<SubmitState> {
  const now = q.now.toISOString();
  const [row] = await tx.$queryRaw<SubmitState[]>`
    WITH gone AS (DELETE FROM "AnnotationDraft" WHERE "caseId" = ${q.caseId} AND "authorId" = ${q.authorId} RETURNING 1)
    SELECT
      (SELECT count(*) FROM "Annotation" WHERE "caseId" = ${q.caseId} AND kind = 'SUBMITTED' AND (${q.scopeAuthorId}::text IS NULL OR "authorId" = ${q.scopeAuthorId}::text))::int AS current,
      (SELECT coalesce(max(version), 0) FROM "Annotation" WHERE "caseId" = ${q.caseId} AND "authorId" = ${q.authorId})::int AS "maxVersion",
      (SELECT status::text FROM "QueueItem" WHERE id = ${q.queueItemId}::text) AS "itemStatus",
      (SELECT count(*) FROM "QueueLease" WHERE "queueItemId" = ${q.queueItemId}::text AND "userId" <> ${q.authorId} AND ("completedAt" IS NOT NULL OR "expiresAt" > ${now}::timestamp))::int AS others,
      (SELECT CASE WHEN "completedAt" IS NULL THEN 'open' ELSE 'completed' END FROM "QueueLease" WHERE "queueItemId" = ${q.queueItemId}::text AND "userId" = ${q.authorId}) AS mine,
      (SELECT count(*) FROM gone)::int AS "draftsDeleted"`;
  return { current: row!.current, maxVersion: row!.maxVersion, itemStatus: row!.itemStatus, others: row!.others, mine: row!.mine };
}

/**
 * Completes the author's existing lease on a locked queue item and, when that makes
 * `annotationsPerCase` completed leases, marks the item DONE — one statement. Returns whether
 * the item is now DONE. The caller holds the item's lock (lockQueueItem), so no lease of the item
 * changes in between; the count is of the others' completed leases plus this one.
 */
export async function completeOwnLease(tx: Prisma.TransactionClient, q: { queueItemId: string; authorId: string; now: Date; annotationsPerCase: number }): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    WITH mine AS (
      UPDATE "QueueLease" SET "completedAt" = ${q.now.toISOString()}::timestamp
      WHERE "queueItemId" = ${q.queueItemId} AND "userId" = ${q.authorId} RETURNING id
    )
    UPDATE "QueueItem" SET status = 'DONE'
    WHERE id = ${q.queueItemId} AND EXISTS (SELECT 1 FROM mine)
      AND 1 + (SELECT count(*) FROM "QueueLease" WHERE "queueItemId" = ${q.queueItemId} AND "userId" <> ${q.authorId} AND "completedAt" IS NOT NULL) >= ${q.annotationsPerCase}
    RETURNING id`;
  return rows.length > 0;
}
