/**
 * Queue items and leases. Leasing uses row locks on the queue item (FOR UPDATE SKIP LOCKED) so
 * concurrent `next` calls pass each other instead of queueing up, and re-counts the item's live
 * leases after the lock is held, so two clinicians never take one slot of a case. The statements of
 * queue.next (latestRoundReleasingAway, lockUserInRoundStatement, selectLeaseCandidates, takeLease) are
 * raw SQL on the pg pool (server/db/sql.ts): the hot path of issue 16.
 */
import type { Db, QueueItemStatus } from "./client";
import type { Prisma } from "./generated/client";
import { literal, newId, queryRows, sql, type Queryable, type Sql } from "./sql";
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
 * transaction holds. Runs on Prisma or on a raw transaction (queue.next's, server/db/sql.ts).
 */
export function selectLeaseCandidates(db: Queryable, q: LeaseCandidateQuery, lock: boolean) {
  const body = `
    SELECT i.id, i."caseId", i.rank FROM "QueueItem" i
    WHERE i."roundId" = $1 AND i.status = 'PENDING' AND NOT (i.id = ANY($2::text[]))
      AND NOT EXISTS (SELECT 1 FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" = $3 AND l."completedAt" IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = i."caseId" AND a."authorId" = $3 AND a."createdAt" >= $4::timestamp)
      AND (SELECT count(*) FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" <> $3 AND (l."completedAt" IS NOT NULL OR l."expiresAt" > $5::timestamp)) < $6
    ORDER BY i.rank LIMIT $7`;
  // Prisma stores DateTime as UTC "timestamp without time zone": pass UTC text, not a Date the driver might localise.
  return queryRows<{ id: string; caseId: string; rank: number }>(db, lock ? `${body} FOR UPDATE OF i SKIP LOCKED` : body, [
    q.roundId,
    q.exclude,
    q.userId,
    q.roundCreatedAt.toISOString(),
    q.now.toISOString(),
    q.slots,
    q.limit,
  ]);
}

/**
 * The statement that starts queue.next's transaction (sent with BEGIN, server/db/sql.ts `begin`):
 * serialises one user's `next` calls in one round (two tabs, a double click) for the rest of the
 * transaction, so the second call sees the first one's lease and resumes it instead of taking a second
 * case — the lock of lockUserInRound (advisory 727004, hashtext("round:user")).
 */
export function lockUserInRoundStatement(roundId: string, userId: string): string {
  return `SELECT pg_advisory_xact_lock(727004, hashtext(${literal(`${roundId}:${userId}`)}))::text AS locked`;
}

export interface AuditActor {
  actorId: string | null;
  actorRole: string | null;
}

/**
 * Takes a lease on a queue item the caller has locked (selectLeaseCandidates with lock) — ONE raw
 * statement: re-counts the item's live leases under the lock (a fresh snapshot sees every commit before
 * ours), and only when the item is PENDING, fewer than `slots` other clinicians hold a live lease and the
 * caller's own lease is not completed, inserts (or renews the caller's expired) lease — one row per
 * (item, user) by the unique constraint — and appends the audit event `queue.next` (outcome "leased").
 * @returns the lease's expiry, or null when the item was taken meanwhile (nothing written)
 */
export async function takeLease(
  tx: Sql,
  q: { queueItemId: string; rank: number; userId: string; now: Date; expiresAt: Date; slots: number; projectId: string; actor: AuditActor },
): Promise<{ expiresAt: Date } | null> {
  const [row] = await tx.query<{ expiresAt: Date | null }>(
    `WITH st AS (
       SELECT i.status,
         (SELECT count(*) FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" <> $2 AND (l."completedAt" IS NOT NULL OR l."expiresAt" > $3::timestamp))::int AS others,
         (SELECT l."completedAt" IS NOT NULL FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" = $2) AS "mineCompleted"
       FROM "QueueItem" i WHERE i.id = $1
     ),
     lease AS (
       INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
       SELECT $5, $1, $2, $3::timestamp, $4::timestamp, NULL FROM st
       WHERE st.status = 'PENDING' AND st.others < $6 AND st."mineCompleted" IS NOT TRUE
       ON CONFLICT ("queueItemId", "userId") DO UPDATE SET "leasedAt" = EXCLUDED."leasedAt", "expiresAt" = EXCLUDED."expiresAt", "completedAt" = NULL
       RETURNING "expiresAt"
     ),
     event AS (
       INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       SELECT $3::timestamp, $7, $8::"Role", 'queue.next', 'QueueItem', $1, $9, jsonb_build_object('outcome', 'leased', 'rank', $10::int) FROM lease
       RETURNING 1
     )
     SELECT (SELECT "expiresAt" FROM lease) AS "expiresAt", (SELECT count(*) FROM event)::int AS events`,
    [q.queueItemId, q.userId, q.now, q.expiresAt, newId(), q.slots, q.actor.actorId, q.actor.actorRole, q.projectId, q.rank],
  );
  return row?.expiresAt ? { expiresAt: row.expiresAt } : null;
}

/**
 * The project's latest round, and — in the same raw statement — the round's open (uncompleted,
 * unexpired) leases whose holder is away (as listAwayUsers / releaseAwayLeases: signed in before, no live
 * session since `idleSince`) released (expiry set to `now`), each with its audit event
 * `queue.lease-released` appended by the same statement (atomic: one statement is one transaction).
 * @returns the round (null when the project has none; nothing released then) and the released leases
 */
export async function latestRoundReleasingAway(
  db: Db,
  q: { projectId: string; now: Date; idleSince: Date; leaseMinutes: number; actor: AuditActor },
): Promise<{ round: { id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date; modelVersionId: string | null } | null; released: { id: string; userId: string; queueItemId: string }[] }> {
  const rows = await sql(db).query<{ id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date; modelVersionId: string | null; released: { id: string; userId: string; queueItemId: string }[] | null }>(
    `WITH r AS (
       SELECT id, number, strategy, "coldStart", "createdAt", "modelVersionId" FROM "SelectionRound" WHERE "projectId" = $1 ORDER BY number DESC LIMIT 1
     ),
     released AS (
       UPDATE "QueueLease" l SET "expiresAt" = $2::timestamp
       FROM "QueueItem" i, r
       WHERE i.id = l."queueItemId" AND i."roundId" = r.id
         AND l."completedAt" IS NULL AND l."expiresAt" > $2::timestamp
         AND EXISTS (SELECT 1 FROM "AuthSession" s WHERE s."userId" = l."userId")
         AND NOT EXISTS (
           SELECT 1 FROM "AuthSession" live
           WHERE live."userId" = l."userId" AND live."revokedAt" IS NULL
             AND live."expiresAt" > $2::timestamp AND live."lastSeenAt" > $3::timestamp
         )
       RETURNING l.id, l."userId", l."queueItemId"
     ),
     events AS (
       INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       SELECT $2::timestamp, $4, $5::"Role", 'queue.lease-released', 'QueueItem', x."queueItemId", $1,
         jsonb_build_object('holderId', x."userId", 'reason', 'holder signed out or idle past the lease time', 'leaseMinutes', $6::int)
       FROM released x
       RETURNING 1
     )
     SELECT r.*, (SELECT json_agg(json_build_object('id', x.id, 'userId', x."userId", 'queueItemId', x."queueItemId")) FROM released x) AS released,
       (SELECT count(*) FROM events)::int AS events
     FROM r`,
    [q.projectId, q.now, q.idleSince, q.actor.actorId, q.actor.actorRole, q.leaseMinutes],
  );
  const row = rows[0];
  if (!row) return { round: null, released: [] };
  const { released, ...round } = row;
  return { round: { id: round.id, number: round.number, strategy: round.strategy, coldStart: round.coldStart, createdAt: round.createdAt, modelVersionId: round.modelVersionId }, released: released ?? [] };
}

export function lockQueueItem(tx: Prisma.TransactionClient, queueItemId: string) {
  return tx.$queryRaw<{ id: string }[]>`SELECT id FROM "QueueItem" WHERE id = ${queueItemId} FOR UPDATE`;
}

/** The queue item of `caseId` in the project's latest round, if the case is queued there (one raw statement). */
export async function findItemInLatestRound(db: Db, projectId: string, caseId: string): Promise<{ id: string; status: QueueItemStatus; roundId: string; round: { number: number } } | null> {
  const [row] = await sql(db).query<{ id: string; status: QueueItemStatus; roundId: string; number: number }>(
    `SELECT i.id, i.status::text AS status, i."roundId", r.number FROM "QueueItem" i JOIN "SelectionRound" r ON r.id = i."roundId"
     WHERE i."caseId" = $1 AND r."projectId" = $2 ORDER BY r.number DESC LIMIT 1`,
    [caseId, projectId],
  );
  return row ? { id: row.id, status: row.status, roundId: row.roundId, round: { number: row.number } } : null;
}

export async function isLatestRound(db: DbOrTx, projectId: string, roundId: string): Promise<boolean> {
  const latest = await findLatestRound(db, projectId);
  return latest?.id === roundId;
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
