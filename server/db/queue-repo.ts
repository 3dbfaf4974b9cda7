/**
 * Queue items and leases. Leasing uses row locks on the queue item (FOR UPDATE SKIP LOCKED) so
 * concurrent `next` calls pass each other instead of queueing up, and re-counts the item's live
 * leases after the lock is held, so two clinicians never take one slot of a case.
 */
import type { Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

/** Projects `projectIds` (the caller's, from the front door's memberProjectIds) with their latest round. */
export function listMemberProjectsWithRounds(db: DbOrTx, projectIds: string[]) {
  return db.project.findMany({
    where: { id: { in: projectIds } },
    orderBy: { createdAt: "asc" },
    select: { id: true, name: true, settings: true, rounds: { orderBy: { number: "desc" }, take: 1, select: { id: true, number: true, strategy: true, coldStart: true, createdAt: true } } },
  });
}

export function findLatestRound(db: DbOrTx, projectId: string) {
  return db.selectionRound.findFirst({
    where: { projectId },
    orderBy: { number: "desc" },
    select: { id: true, number: true, strategy: true, coldStart: true, createdAt: true, modelVersionId: true },
  });
}

export function listRoundItems(db: DbOrTx, roundId: string) {
  return db.queueItem.findMany({
    where: { roundId },
    orderBy: { rank: "asc" },
    select: {
      id: true,
      caseId: true,
      rank: true,
      status: true,
      features: true,
      leases: { select: { userId: true, expiresAt: true, completedAt: true, user: { select: { name: true } } } },
      case: { select: { _count: { select: { images: true } } } },
    },
  });
}

export async function countItemsByStatus(db: DbOrTx, roundIds: string[]) {
  const rows = await db.queueItem.groupBy({ by: ["roundId", "status"], where: { roundId: { in: roundIds } }, _count: { _all: true } });
  return rows.map((row) => ({ roundId: row.roundId, status: row.status, count: row._count._all }));
}

/**
 * Serialises one user's `next` calls in one round (two tabs, a double click) for the rest of the
 * transaction, so the second call sees the first one's lease and resumes it instead of taking a
 * second case. Other users are not held up.
 */
export async function lockUserInRound(tx: Prisma.TransactionClient, roundId: string, userId: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(727004, hashtext(${roundId + ":" + userId}))::text AS locked`;
}

// The caller's open lease is read together with their gold serving by gold-repo.ts findActiveServe (one statement).

export interface LeaseCandidateQuery {
  roundId: string;
  roundCreatedAt: Date;
  userId: string;
  slots: number;
  now: Date;
  /** Item ids already tried in this transaction (locked by us but taken meanwhile). */
  exclude: string[];
  limit: number;
}

/**
 * PENDING items of the round the caller may still take, best rank first: not done or skipped by
 * the caller in this round, and with fewer than `slots` live (completed or unexpired) leases of
 * other clinicians. With `lock` the rows come back locked FOR UPDATE, skipping rows that another
 * transaction holds.
 */
export function selectLeaseCandidates(db: DbOrTx, q: LeaseCandidateQuery, lock: boolean) {
  const body = `
    SELECT i.id, i."caseId", i.rank FROM "QueueItem" i
    WHERE i."roundId" = $1 AND i.status = 'PENDING' AND NOT (i.id = ANY($2::text[]))
      AND NOT EXISTS (SELECT 1 FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" = $3 AND l."completedAt" IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = i."caseId" AND a."authorId" = $3 AND a."createdAt" >= $4::timestamp)
      AND (SELECT count(*) FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" <> $3 AND (l."completedAt" IS NOT NULL OR l."expiresAt" > $5::timestamp)) < $6
    ORDER BY i.rank LIMIT $7`;
  return db.$queryRawUnsafe<{ id: string; caseId: string; rank: number }[]>(
    lock ? `${body} FOR UPDATE OF i SKIP LOCKED` : body,
    q.roundId,
    q.exclude,
    q.userId,
    // Prisma stores DateTime as UTC "timestamp without time zone": pass UTC text, not a Date the driver might localise.
    q.roundCreatedAt.toISOString(),
    q.now.toISOString(),
    q.slots,
    q.limit,
  );
}

/** Live leases of an item, counted after its row lock is held (a fresh snapshot sees every commit before ours). */
export async function leaseState(tx: Prisma.TransactionClient, queueItemId: string, userId: string, now: Date) {
  const [item, leases] = await Promise.all([
    tx.queueItem.findUnique({ where: { id: queueItemId }, select: { status: true } }),
    tx.queueLease.findMany({ where: { queueItemId }, select: { userId: true, expiresAt: true, completedAt: true } }),
  ]);
  const others = leases.filter((l) => l.userId !== userId && (l.completedAt !== null || l.expiresAt > now)).length;
  const mine = leases.find((l) => l.userId === userId) ?? null;
  return { status: item?.status ?? null, others, mine };
}

/** Takes (or renews the caller's own expired) lease: one row per (item, user) by the unique constraint. */
export function upsertLease(tx: Prisma.TransactionClient, queueItemId: string, userId: string, now: Date, expiresAt: Date) {
  return tx.queueLease.upsert({
    where: { queueItemId_userId: { queueItemId, userId } },
    create: { queueItemId, userId, leasedAt: now, expiresAt },
    update: { leasedAt: now, expiresAt, completedAt: null },
    select: { id: true, expiresAt: true },
  });
}

export function lockQueueItem(tx: Prisma.TransactionClient, queueItemId: string) {
  return tx.$queryRaw<{ id: string }[]>`SELECT id FROM "QueueItem" WHERE id = ${queueItemId} FOR UPDATE`;
}

/** The queue item of `caseId` in the project's latest round, if the case is queued there. */
export function findItemInLatestRound(db: DbOrTx, projectId: string, caseId: string) {
  return db.queueItem.findFirst({
    where: { caseId, round: { projectId } },
    orderBy: { round: { number: "desc" } },
    select: { id: true, status: true, roundId: true, round: { select: { number: true } } },
  });
}

export async function isLatestRound(db: DbOrTx, projectId: string, roundId: string): Promise<boolean> {
  const latest = await findLatestRound(db, projectId);
  return latest?.id === roundId;
}

export function completeLease(tx: Prisma.TransactionClient, queueItemId: string, userId: string, now: Date) {
  return tx.queueLease.upsert({
    where: { queueItemId_userId: { queueItemId, userId } },
    create: { queueItemId, userId, leasedAt: now, expiresAt: now, completedAt: now },
    update: { completedAt: now },
    select: { id: true },
  });
}

export function countCompletedLeases(tx: DbOrTx, queueItemId: string) {
  return tx.queueLease.count({ where: { queueItemId, completedAt: { not: null } } });
}

export function setItemStatus(tx: Prisma.TransactionClient, queueItemId: string, status: "PENDING" | "DONE" | "SKIPPED") {
  return tx.queueItem.update({ where: { id: queueItemId }, data: { status }, select: { id: true } });
}

/** Releases the caller's uncompleted lease (skip): the slot is free for others at once. */
export function releaseLease(tx: Prisma.TransactionClient, queueItemId: string, userId: string) {
  return tx.queueLease.deleteMany({ where: { queueItemId, userId, completedAt: null } });
}

/** Stored predictions of one model for some cases (the queue's "why this case" reads their probabilities). */
export function listCasePredictions(db: DbOrTx, modelVersionId: string, caseIds: string[]) {
  return db.prediction.findMany({ where: { modelVersionId, caseId: { in: caseIds } }, select: { caseId: true, probabilities: true } });
}

/**
 * Lease holders among `userIds` who are away: they have signed in before (at least one session row)
 * but no session of theirs is live now — each was signed out, expired, or idle since `idleSince`.
 * Users without any session row (the CLI, scripts) are never counted as away.
 */
export async function listAwayUsers(db: DbOrTx, userIds: string[], now: Date, idleSince: Date): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db.$queryRaw<{ userId: string }[]>`
    SELECT DISTINCT s."userId" FROM "AuthSession" s
    WHERE s."userId" = ANY(${userIds}::text[])
      AND NOT EXISTS (
        SELECT 1 FROM "AuthSession" live
        WHERE live."userId" = s."userId" AND live."revokedAt" IS NULL
          AND live."expiresAt" > ${now.toISOString()}::timestamp AND live."lastSeenAt" > ${idleSince.toISOString()}::timestamp
      )`;
  return new Set(rows.map((r) => r.userId));
}

/**
 * Releases the round's open (uncompleted, unexpired) leases whose holder is away (listAwayUsers):
 * their expiry is set to `now`, so the slot is free at once. Returns the released leases.
 */
export function releaseAwayLeases(tx: Prisma.TransactionClient, roundId: string, now: Date, idleSince: Date) {
  return tx.$queryRaw<{ id: string; userId: string; queueItemId: string }[]>`
    UPDATE "QueueLease" l SET "expiresAt" = ${now.toISOString()}::timestamp
    FROM "QueueItem" i
    WHERE i.id = l."queueItemId" AND i."roundId" = ${roundId}
      AND l."completedAt" IS NULL AND l."expiresAt" > ${now.toISOString()}::timestamp
      AND EXISTS (SELECT 1 FROM "AuthSession" s WHERE s."userId" = l."userId")
      AND NOT EXISTS (
        SELECT 1 FROM "AuthSession" live
        WHERE live."userId" = l."userId" AND live."revokedAt" IS NULL
          AND live."expiresAt" > ${now.toISOString()}::timestamp AND live."lastSeenAt" > ${idleSince.toISOString()}::timestamp
      )
    RETURNING l.id, l."userId", l."queueItemId"`;
}

/**
 * The newest train/evaluate/select job of the project started after `since` that is still queued or
 * running — what the next round is waiting for (the workspace says so with its progress).
 */
export function findPendingRoundJob(db: DbOrTx, projectId: string, since: Date) {
  return db.jobRun.findFirst({
    where: { projectId, kind: { in: ["train", "evaluate", "select"] }, status: { in: ["QUEUED", "RUNNING"] }, createdAt: { gte: since } },
    orderBy: { createdAt: "desc" },
    select: { kind: true, status: true, stage: true, percent: true, createdAt: true },
  });
}
