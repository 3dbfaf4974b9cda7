/**
 * Queue items and leases. Leasing uses row locks on the queue item (FOR UPDATE SKIP LOCKED) so
 * concurrent `next` calls pass each other instead of queueing up, and re-counts the item's live
 * leases after the lock is held, so two clinicians never take one slot of a case. The statements of
 * queue.next (leaseOpeningStatements, selectLeaseCandidates, takeLease) are raw SQL on the pg pool
 * (server/db/sql.ts): the hot path of issue 16. They are fixed texts with $n parameters kept prepared on each
 * pooled connection (sql.ts `prepared`): PostgreSQL parses them once per connection instead of on every call.
 */
import { PROJECT_PERMISSIONS } from "@/contracts/permissions";
import type { Db, QueueItemStatus } from "./client";
import type { Prisma } from "./generated/client";
import { execute, newId, prepared, queryRows, sql, type Prepared, type Queryable, type Sql, type TripStatement } from "./sql";
import type { DbOrTx } from "./tx";

export function findLatestRound(db: DbOrTx, projectId: string) {
  return db.selectionRound.findFirst({
    where: { projectId },
    orderBy: { number: "desc" },
    select: { id: true, number: true, strategy: true, coldStart: true, createdAt: true, modelVersionId: true },
  });
}

// The caller's open lease is read together with their gold serving by gold-repo.ts activeServeText (one statement).

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
 * Whether queue item `e.item` (a QueueItem row alias) of a round begun at `e.roundCreatedAt` is still open FOR THE
 * CALLER: they hold no completed lease of it and have no annotation of its case written since the round began (a
 * submission, a skip, an adjudication). An item not open for them is never leased to them again (candidatesBody), so
 * the queue reads count it as done for them (queue-reads.ts callerCountsSql, upcomingForRound). Two NOT EXISTS in
 * an AND, so the planner makes anti-joins of them. The lease candidates (candidatesBody) state the same two conditions
 * their own way: each a probe per item reached, the lease one shared with the count of the item's leases. Each
 * argument an SQL expression.
 */
export function openForCallerSql(e: { item: string; userId: string; roundCreatedAt: string }): string {
  return `(NOT EXISTS (SELECT 1 FROM "QueueLease" fl WHERE fl."queueItemId" = ${e.item}.id AND fl."userId" = ${e.userId} AND fl."completedAt" IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM "Annotation" fa WHERE fa."caseId" = ${e.item}."caseId" AND fa."authorId" = ${e.userId} AND fa."createdAt" >= ${e.roundCreatedAt}::timestamp))`;
}

/**
 * The WHERE clause and order of the lease candidates (selectLeaseCandidates, the opening statements of
 * leaseOpeningStatements): each argument an SQL expression ($n or a quoted literal; `exclude` '{}' leaves its filter out;
 * `when`, a condition on the outer query only, makes PostgreSQL run the candidate's scan — and lock — only when true).
 * The round's best-ranked PENDING items are the ones other clinicians hold leases on, so a walk in rank order meets
 * one taken item per clinician at work before a free one. The items on which others hold at least `slots` open,
 * unexpired leases are therefore read ONCE per statement, from the open-leases index (migration 0017, "completedAt"
 * IS NULL), into a hashed set that drops them at the index scan, before any per-item probe; those leases are live,
 * so every item it drops fails the exact count as well (the count stays: completed leases hold slots too, and
 * takeLease re-counts under the lock). Per item reached the probes are the caller's annotation and the item's leases —
 * ONE probe for both the others' live leases (the count) and the caller's completed one; together the conditions of
 * openForCallerSql, each fenced (OFFSET 0 / a subplan) into a probe per item reached: 15 buffers for the candidate
 * whether 10, 50 or 150 others hold leases on the top items (was 40 / 266 / 567; docs/benchmarks.md, "The lease's
 * statements and the clinicians at work"). Two probes, not three: each plan node costs PostgreSQL at every execution.
 */
function candidatesBody(e: { roundId: string; exclude: string; userId: string; roundCreatedAt: string; now: string; slots: string; limit: string; when?: string }): string {
  return `
    SELECT i.id, i."caseId", i.rank FROM "QueueItem" i
    WHERE ${e.when ? `${e.when} AND ` : ""}i."roundId" = ${e.roundId} AND i.status = 'PENDING'${e.exclude === "'{}'" ? "" : ` AND NOT (i.id = ANY(${e.exclude}::text[]))`}
      AND i.id NOT IN (
        SELECT o."queueItemId" FROM "QueueLease" o
        WHERE o."completedAt" IS NULL AND o."expiresAt" > ${e.now}::timestamp AND o."userId" <> ${e.userId}
        GROUP BY o."queueItemId" HAVING count(*) >= ${e.slots})
      AND NOT EXISTS (SELECT 1 FROM "Annotation" fa WHERE fa."caseId" = i."caseId" AND fa."authorId" = ${e.userId} AND fa."createdAt" >= ${e.roundCreatedAt}::timestamp OFFSET 0)
      AND (SELECT count(*) FILTER (WHERE l."userId" <> ${e.userId} AND (l."completedAt" IS NOT NULL OR l."expiresAt" > ${e.now}::timestamp)) < ${e.slots}
                AND NOT coalesce(bool_or(l."completedAt" IS NOT NULL) FILTER (WHERE l."userId" = ${e.userId}), false)
           FROM "QueueLease" l WHERE l."queueItemId" = i.id)
    ORDER BY i.rank LIMIT ${e.limit}`;
}

/**
 * PENDING items of the round the caller may still take, best rank first: not done or skipped by
 * the caller in this round, and with fewer than `slots` live (completed or unexpired) leases of
 * other clinicians. With `lock` the rows come back locked FOR UPDATE, skipping rows that another
 * transaction holds. Runs on Prisma or on a raw transaction (queue.next's, server/db/sql.ts).
 */
export function selectLeaseCandidates(db: Queryable, q: LeaseCandidateQuery, lock: boolean) {
  // Prisma stores DateTime as UTC "timestamp without time zone": pass UTC text, not a Date the driver might localise.
  return queryRows<{ id: string; caseId: string; rank: number }>(db, lock ? CANDIDATES_LOCKED : CANDIDATES, [
    q.roundId,
    q.exclude,
    q.userId,
    q.roundCreatedAt.toISOString(),
    q.now.toISOString(),
    q.slots,
    q.limit,
  ]);
}

const CANDIDATES_TEXT = candidatesBody({ roundId: "$1", exclude: "$2", userId: "$3", roundCreatedAt: "$4", now: "$5", slots: "$6", limit: "$7" });
const CANDIDATES = prepared(CANDIDATES_TEXT);
const CANDIDATES_LOCKED = prepared(`${CANDIDATES_TEXT} FOR UPDATE OF i SKIP LOCKED`);

export interface AuditActor {
  actorId: string | null;
  actorRole: string | null;
}

/**
 * The statement of takeLease (each argument an SQL expression): re-counts the item's live leases in its own
 * snapshot, upserts the caller's lease and appends the audit event; returns the lease's expiry (null when
 * nothing was written) and the item's case and rank — one row, none when there is no such item.
 */
function takeLeaseText(e: { queueItemId: string; userId: string; now: string; expiresAt: string; id: string; slots: string; actorId: string; actorRole: string; projectId: string }): string {
  // The item's leases in ONE probe (the others' live ones counted, the caller's own completed or not), and the answer
  // as a join of the CTEs' rows — not a subplan per column (issue 16: each plan node costs at every execution). The
  // event CTE runs whether or not the answer reads it (PostgreSQL runs every data-modifying CTE to completion).
  return `WITH st AS (
       SELECT i.id, i."caseId", i.rank, i.status, n.others, n."mineCompleted"
       FROM "QueueItem" i CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE l."userId" <> ${e.userId} AND (l."completedAt" IS NOT NULL OR l."expiresAt" > ${e.now}::timestamp))::int AS others,
           bool_or(l."completedAt" IS NOT NULL) FILTER (WHERE l."userId" = ${e.userId}) AS "mineCompleted"
         FROM "QueueLease" l WHERE l."queueItemId" = i.id) n
       WHERE i.id = ${e.queueItemId}
     ),
     lease AS (
       INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
       SELECT ${e.id}, st.id, ${e.userId}, ${e.now}::timestamp, ${e.expiresAt}::timestamp, NULL FROM st
       WHERE st.status = 'PENDING' AND st.others < ${e.slots} AND st."mineCompleted" IS NOT TRUE
       ON CONFLICT ("queueItemId", "userId") DO UPDATE SET "leasedAt" = EXCLUDED."leasedAt", "expiresAt" = EXCLUDED."expiresAt", "completedAt" = NULL
       RETURNING "queueItemId", "expiresAt"
     ),
     event AS (
       INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       SELECT ${e.now}::timestamp, ${e.actorId}, ${e.actorRole}::"Role", 'queue.next', 'QueueItem', st.id, ${e.projectId}, jsonb_build_object('outcome', 'leased', 'rank', st.rank)
       FROM lease JOIN st ON st.id = lease."queueItemId"
     )
     SELECT lease."expiresAt", st.id AS "queueItemId", st."caseId", st.rank FROM st LEFT JOIN lease ON true`;
}

/**
 * Takes a lease on a queue item the caller has locked (selectLeaseCandidates with lock) — ONE raw
 * statement: re-counts the item's live leases under the lock (a fresh snapshot sees every commit before
 * ours), and only when the item is PENDING, fewer than `slots` other clinicians hold a live lease and the
 * caller's own lease is not completed, inserts (or renews the caller's expired) lease — one row per
 * (item, user) by the unique constraint — and appends the audit event `queue.next` (outcome "leased", the item's rank).
 * @returns the lease's expiry, or null when the item was taken meanwhile (nothing written)
 */
export async function takeLease(
  tx: Sql,
  q: { queueItemId: string; userId: string; now: Date; expiresAt: Date; slots: number; projectId: string; actor: AuditActor },
): Promise<{ expiresAt: Date } | null> {
  const [row] = await tx.query<{ expiresAt: Date | null }>(
    TAKE_LEASE,
    [q.queueItemId, q.userId, q.now, q.expiresAt, newId(), q.slots, q.actor.actorId, q.actor.actorRole, q.projectId],
  );
  return row?.expiresAt ? { expiresAt: row.expiresAt } : null;
}

const TAKE_LEASE = prepared(takeLeaseText({ queueItemId: "$1", userId: "$2", now: "$3", expiresAt: "$4", id: "$5", slots: "$6", actorId: "$7", actorRole: "$8", projectId: "$9" }));

/**
 * takeLease's statement for the opening's candidate ($1 user, $2 now, $3 expiresAt, $4 lease id, $5 slots, $6 actor
 * id, $7 actor role, $8 project; `item` and `rank` SQL expressions, item NULL when there is none): the item's live
 * leases re-counted in this statement's snapshot, taken after the candidate's lock, as takeLease does — but without
 * reading the item's row: the statement before locked it PENDING (FOR UPDATE: nobody changes it until we commit) and
 * answered its case and rank. Answers the lease's expiry (no row when nothing was written).
 */
function openedTakeText(item: string, rank: string): string {
  return `WITH n AS (
       SELECT count(*) FILTER (WHERE l."userId" <> $1::text AND (l."completedAt" IS NOT NULL OR l."expiresAt" > $2::timestamp))::int AS others,
         bool_or(l."completedAt" IS NOT NULL) FILTER (WHERE l."userId" = $1::text) AS "mineCompleted"
       FROM "QueueLease" l WHERE l."queueItemId" = ${item}
     ),
     lease AS (
       INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
       SELECT $4::text, ${item}, $1::text, $2::timestamp, $3::timestamp, NULL FROM n
       WHERE ${item} IS NOT NULL AND n.others < $5::int AND n."mineCompleted" IS NOT TRUE
       ON CONFLICT ("queueItemId", "userId") DO UPDATE SET "leasedAt" = EXCLUDED."leasedAt", "expiresAt" = EXCLUDED."expiresAt", "completedAt" = NULL
       RETURNING "queueItemId", "expiresAt"
     ),
     event AS (
       INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       SELECT $2::timestamp, $6::text, $7::text::"Role", 'queue.next', 'QueueItem', lease."queueItemId", $8::text, jsonb_build_object('outcome', 'leased', 'rank', ${rank})
       FROM lease
     )
     SELECT "expiresAt" FROM lease`;
}

/**
 * Transaction-local settings (set_config(…, true): gone at COMMIT or ROLLBACK) that carry values from one
 * opening statement of queue.next to the next ones in the same round trip: the simple protocol that sends
 * several statements at once has no parameters, and each statement reads in its own snapshot.
 */
const ROUND_SETTING = "rads.lease_round";
/** The round's "createdAt" (its text), so the candidate reads no "SelectionRound" row. */
const ROUND_AT_SETTING = "rads.lease_round_at";
/** The candidate the serve-or-candidate statement locked: "<item id> <rank>" (ids have no spaces), '' when none. */
const ITEM_SETTING = "rads.lease_item";
const setting = (name: string) => `nullif(current_setting('${name}', true), '')`;
const itemSetting = (part: 1 | 2) => `nullif(split_part(current_setting('${ITEM_SETTING}', true), ' ', ${part}), '')`;

export interface LeaseOpeningQuery {
  projectId: string;
  userId: string;
  now: Date;
  /** Holders with no live session seen since this moment are away (their leases are released). */
  idleSince: Date;
  leaseMinutes: number;
  expiresAt: Date;
  slots: number;
  actor: AuditActor;
  /**
   * Also lock the best candidate (FOR UPDATE SKIP LOCKED) and take a lease on it, when the caller holds no open
   * lease and no unanswered gold case: without gold mixing, where the next case is always a round item.
   */
  takeRegular: boolean;
  /** Count the caller's served cases and the round's items (gold mixing needs them). */
  withCounts: boolean;
}

/**
 * queue.next's opening statements, sent with BEGIN in ONE round trip (server/db/sql.ts `begin`), each in its
 * own snapshot, in this order — three statements (were four: each costs PostgreSQL its executor start and end,
 * plan-cache locks per relation and a portal, whatever its work):
 *  1. the project's latest round (its id and "createdAt" kept in transaction-local settings for the others) and the per-(round, user)
 *     advisory lock (727004, hashtext("round:user")): one user's `next` calls in one round (two tabs, a double
 *     click) run one at a time, and every LATER statement's snapshot sees the lease the previous call committed.
 *     In the same statement, once the lock is held (the UPDATE reads the round CTE that takes it), the leases of
 *     the round whose holder is away (signed in before, no live session seen since `idleSince`) are released —
 *     expiry set to `now` — each with its audit event `queue.lease-released` (as the queue list, queue-reads.ts).
 *     Its snapshot was taken before the lock, which an UPDATE does not mind: a lease changed since is re-checked
 *     on its latest version (open and unexpired) before it is released, as with any concurrent call.
 *     The holders with a live session are read once per statement into a hashed set, and the open leases (the
 *     open-leases index) are checked against it; only a lease left (its holder away or never signed in) is then
 *     probed for its item's round and for any session of its holder, and only the leases so found are updated
 *     (by id: whatever the planner's estimates, no item of the round is read for a live holder's lease, as a
 *     join on the round's items did in a fresh database). The times reach the filters as (SELECT $n) so that
 *     the plan PostgreSQL estimates does not depend on their values: it keeps the generic plan, where literal
 *     `now` made it re-plan the statement on every call (a custom plan, ~0.6 ms). 9 buffers with 49 open leases
 *     (was 347: two "AuthSession" probes and an item probe per open lease). No row without a round;
 *  2. the caller's open lease and unanswered gold serving of the round, with counts when asked (gold-repo.ts
 *     activeServeText), in a snapshot taken after the lock (it sees the release above and the leases the caller's
 *     previous call committed); with `takeRegular`, and only when nothing is open for the caller, the best-ranked
 *     candidate locked FOR UPDATE SKIP LOCKED in the same statement (as selectLeaseCandidates: a LATERAL join whose
 *     scan is gated on the served row; its case and rank answered, its id and rank kept in a transaction-local
 *     setting). No "SelectionRound" read: the round's id and time come from statement 1's settings;
 *  3. with `takeRegular`: the lease on that candidate (openedTakeText: takeLease's re-count, upsert and audit event,
 *     without reading the item's row, which statement 2 locked) — a statement of its own, so its re-count reads a
 *     snapshot taken after the lock (a lease committed by another clinician between the candidate's snapshot and
 *     its lock is seen). Not merged into statement 2: in one statement the re-count would read the snapshot taken
 *     before the lock, and a lease committed in between on an item only locked (not updated) — a submission's
 *     completed lease where the caller held none — would go unseen (one slot leased twice).
 * Locks are taken in the order advisory lock → the released leases → the candidate, after whatever the caller's
 * transaction already holds (a submission's case and item). readLeaseOpening reads the rows. Each statement is a
 * prepared statement (sql.ts `execute`: EXECUTE with literal values, PREPAREd once per connection); their texts
 * depend only on takeRegular, withCounts and `activeServe`.
 */
export function leaseOpeningStatements(q: LeaseOpeningQuery, activeServe: ActiveServeText): TripStatement[] {
  const texts = openingTexts(activeServe, q.withCounts);
  const slots = Math.trunc(q.slots);
  const release = execute(texts.release, [q.projectId, q.userId, q.now, q.idleSince, q.actor.actorId, q.actor.actorRole, Math.trunc(q.leaseMinutes)]);
  if (!q.takeRegular) return [release, execute(texts.serve, [q.userId, q.now])];
  return [
    release,
    execute(texts.serveOrCandidate, [q.userId, q.now, slots]),
    execute(texts.take, [q.userId, q.now, q.expiresAt, newId(), slots, q.actor.actorId, q.actor.actorRole, q.projectId]),
  ];
}

/** gold-repo.ts activeServeText's shape: the statement reading the caller's open lease and gold serving, each argument an SQL expression. */
export type ActiveServeText = (e: { roundId: string; userId: string; now: string; withCounts: string; exceptLeases?: string }) => string;

interface OpeningTexts {
  release: Prepared;
  serve: Prepared;
  serveOrCandidate: Prepared;
  take: Prepared;
}

/** The opening statements' prepared texts, built once per `activeServe` and withCounts (two sets in all). */
const openingTextCache = new WeakMap<ActiveServeText, Map<boolean, OpeningTexts>>();

function openingTexts(activeServe: ActiveServeText, withCounts: boolean): OpeningTexts {
  let byCounts = openingTextCache.get(activeServe);
  if (!byCounts) openingTextCache.set(activeServe, (byCounts = new Map()));
  let texts = byCounts.get(withCounts);
  if (!texts) {
    texts = buildOpeningTexts(activeServe, withCounts);
    byCounts.set(withCounts, texts);
  }
  return texts;
}

function buildOpeningTexts(activeServe: ActiveServeText, withCounts: boolean): OpeningTexts {
  const round = setting(ROUND_SETTING);
  // round, lock and release: $1 project, $2 user, $3 now, $4 idleSince, $5 actor id, $6 actor role, $7 lease minutes.
  // r is read once (a CTE with volatile functions is materialised), by the main query's FROM before its target list
  // runs the release (the UPDATE in `released`): the lock is held before any lease is locked.
  const release = `WITH r AS (
       SELECT s.*, set_config('${ROUND_SETTING}', s.id, true) AS g, set_config('${ROUND_AT_SETTING}', s."createdAt"::text, true) AS "gAt", pg_advisory_xact_lock(727004, hashtext(s.id || ':' || $2::text))::text AS locked
       FROM (SELECT id, number, strategy, "coldStart", "createdAt", "modelVersionId" FROM "SelectionRound" WHERE "projectId" = $1::text ORDER BY number DESC LIMIT 1) s
     ),
     released AS (
       UPDATE "QueueLease" l SET "expiresAt" = $3::timestamp
       FROM unnest(ARRAY(
           SELECT o.id FROM "QueueLease" o
           WHERE o."completedAt" IS NULL AND o."expiresAt" > (SELECT $3::timestamp)
             AND o."userId" NOT IN (
               SELECT live."userId" FROM "AuthSession" live
               WHERE live."revokedAt" IS NULL AND live."expiresAt" > (SELECT $3::timestamp) AND live."lastSeenAt" > (SELECT $4::timestamp))
             AND EXISTS (SELECT 1 FROM "QueueItem" i WHERE i.id = o."queueItemId" AND i."roundId" = (SELECT id FROM r) OFFSET 0)
             AND EXISTS (SELECT 1 FROM "AuthSession" s WHERE s."userId" = o."userId" OFFSET 0))) AS away(id)
       WHERE l.id = away.id AND l."completedAt" IS NULL AND l."expiresAt" > (SELECT $3::timestamp)
       RETURNING l.id, l."userId", l."queueItemId"
     ),
     events AS (
       INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       SELECT $3::timestamp, $5::text, $6::text::"Role", 'queue.lease-released', 'QueueItem', x."queueItemId", $1::text,
         jsonb_build_object('holderId', x."userId", 'reason', 'holder signed out or idle past the lease time', 'leaseMinutes', $7::int)
       FROM released x
     )
     SELECT r.id, r.number, r.strategy, r."coldStart", r."createdAt", r."modelVersionId",
       (SELECT json_agg(json_build_object('id', x.id, 'userId', x."userId", 'queueItemId', x."queueItemId")) FROM released x) AS released
     FROM r`;
  // serve: $1 user, $2 now
  const serveText = activeServe({ roundId: round, userId: "$1::text", now: "$2", withCounts: withCounts ? "true" : "false" });
  // serve or candidate: $1 user, $2 now, $3 slots. The candidate only when nothing is open for the caller (`when`, on
  // the served row only: a gating filter — not run, nothing locked, otherwise); its id and rank kept for the take.
  const candidateBody = candidatesBody({ roundId: round, exclude: "'{}'", userId: "$1::text", roundCreatedAt: setting(ROUND_AT_SETTING), now: "$2", slots: "$3::int", limit: "1", when: "s.lease IS NULL AND s.gold IS NULL" });
  const serveOrCandidate = `SELECT s.*, c.id AS item, c."caseId" AS "itemCaseId", c.rank AS "itemRank", set_config('${ITEM_SETTING}', coalesce(c.id || ' ' || c.rank, ''), true) AS carried
     FROM (${serveText} OFFSET 0) s LEFT JOIN LATERAL (${candidateBody} FOR UPDATE OF i SKIP LOCKED) c ON true`; // OFFSET 0: the served row read once
  // take: $1 user, $2 now, $3 expiresAt, $4 lease id, $5 slots, $6 actor id, $7 actor role, $8 project
  const take = openedTakeText(itemSetting(1), `${itemSetting(2)}::int`);
  return { release: prepared(release), serve: prepared(serveText), serveOrCandidate: prepared(serveOrCandidate), take: prepared(take) };
}

export interface LeaseOpening<Served> {
  round: { id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date; modelVersionId: string | null } | null;
  released: { id: string; userId: string; queueItemId: string }[];
  /** Statement 2's row (the caller's open lease and gold serving), as the given reader parses it. */
  served: Served;
  /** The candidate statement 2 locked (null: none was free, or it did not run). */
  tried: string | null;
  /** The lease statement 3 took on it, with the case and rank statement 2 answered (null: taken meanwhile, or it did not run). */
  taken: { queueItemId: string; caseId: string; rank: number; expiresAt: Date } | null;
}

/** Reads the rows of leaseOpeningStatements (sql.ts `beginRows`, in the same order); statement 2's row through `readServed` too. */
export function readLeaseOpening<Served>(rows: Record<string, unknown>[][], readServed: (row: Record<string, unknown> | undefined) => Served): LeaseOpening<Served> {
  const [releasing, serving, taking] = rows;
  const r = releasing?.[0] as { id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date; modelVersionId: string | null; released: { id: string; userId: string; queueItemId: string }[] | null } | undefined;
  const candidate = serving?.[0] as { item?: string | null; itemCaseId?: string | null; itemRank?: number | null } | undefined;
  const tried = candidate?.item || null;
  const take = taking?.[0] as { expiresAt: Date | null } | undefined;
  return {
    round: r ? { id: r.id, number: r.number, strategy: r.strategy, coldStart: r.coldStart, createdAt: r.createdAt, modelVersionId: r.modelVersionId } : null,
    released: r?.released ?? [],
    served: readServed(serving?.[0]),
    tried,
    taken: tried && candidate?.itemCaseId && take?.expiresAt ? { queueItemId: tried, caseId: candidate.itemCaseId, rank: Number(candidate.itemRank), expiresAt: take.expiresAt } : null,
  };
}

export function lockQueueItem(tx: Prisma.TransactionClient, queueItemId: string) {
  return tx.$queryRaw<{ id: string }[]>`SELECT id FROM "QueueItem" WHERE id = ${queueItemId} FOR UPDATE`;
}

const ITEM_IN_LATEST_ROUND = prepared(
  `SELECT i.id, i.status::text AS status, i."roundId", r.number FROM "QueueItem" i JOIN "SelectionRound" r ON r.id = i."roundId"
   WHERE i."caseId" = $1 AND r."projectId" = $2 ORDER BY r.number DESC LIMIT 1`,
);

/** The queue item of `caseId` in the project's latest round, if the case is queued there (one raw statement). */
export async function findItemInLatestRound(db: Db, projectId: string, caseId: string): Promise<{ id: string; status: QueueItemStatus; roundId: string; round: { number: number } } | null> {
  const [row] = await sql(db).query<{ id: string; status: QueueItemStatus; roundId: string; number: number }>(ITEM_IN_LATEST_ROUND, [caseId, projectId]);
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

/**
 * When a queue item is finished although it has fewer than `annotationsPerCase` answers (issue: a skip must not
 * leave a case open forever): no active member of the project whose role may annotate (`roles`,
 * contracts/permissions.ts PROJECT_PERMISSIONS.annotate) could still be served it — each has completed a lease
 * on it or written an annotation of the case (SUBMITTED or SKIPPED) since the round was created, the same
 * conditions that keep a case out of that member's lease candidates (candidatesBody). A member who joins while
 * the item is PENDING is one more who may still take it. Each argument is an SQL expression; `item` names a
 * "QueueItem" row and `exceptUser` (an SQL expression or "NULL") a member who is known to have just answered
 * it (a submission's author: their lease row is written in the same statement, so its snapshot does not see it).
 */
export function noMemberLeftSql(e: { item: string; projectId: string; roles: string; exceptUser: string }): string {
  return `NOT EXISTS (
      SELECT 1 FROM "ProjectMember" m JOIN "User" u ON u.id = m."userId"
      WHERE m."projectId" = ${e.projectId} AND m.role::text = ANY(${e.roles}::text[]) AND u.active
        AND m."userId" IS DISTINCT FROM ${e.exceptUser}
        AND NOT EXISTS (SELECT 1 FROM "QueueLease" l WHERE l."queueItemId" = ${e.item}.id AND l."userId" = m."userId" AND l."completedAt" IS NOT NULL)
        AND NOT EXISTS (
          SELECT 1 FROM "Annotation" a WHERE a."caseId" = ${e.item}."caseId" AND a."authorId" = m."userId"
            AND a."createdAt" >= (SELECT r."createdAt" FROM "SelectionRound" r WHERE r.id = ${e.item}."roundId")
        )
    )`;
}

/** The roles that may annotate in a project (the queue's members), as the statements above take them. */
export const ANNOTATING_ROLES: readonly string[] = PROJECT_PERMISSIONS.annotate;

/**
 * Marks PENDING items DONE that someone answered or skipped in the round and no member is left to answer
 * (noMemberLeftSql): `queueItemId` one item (a skip:
 * called after its SKIPPED annotation is written, in the same transaction), or every PENDING item of `roundId`
 * (the loop check, for members removed or deactivated since). The answers they have count for training as usual.
 * @returns the ids of the items marked DONE
 */
export async function finishExhaustedItems(db: Queryable, q: { projectId: string } & ({ queueItemId: string } | { roundId: string })): Promise<string[]> {
  const byItem = "queueItemId" in q;
  const rows = await queryRows<{ id: string }>(
    db,
    `UPDATE "QueueItem" i SET status = 'DONE'
     WHERE ${byItem ? `i.id = $1` : `i."roundId" = $1`} AND i.status = 'PENDING'
       AND EXISTS (SELECT 1 FROM "SelectionRound" r WHERE r.id = i."roundId" AND r."projectId" = $2)
       AND ${noMemberLeftSql({ item: "i", projectId: "$2", roles: "$3", exceptUser: "NULL" })}
       -- someone answered or skipped it in this round: an item nobody has acted on stays open (a project
       -- with no annotating member yet must not see its rounds finish by themselves)
       AND (EXISTS (SELECT 1 FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."completedAt" IS NOT NULL)
            OR EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = i."caseId"
                         AND a."createdAt" >= (SELECT r."createdAt" FROM "SelectionRound" r WHERE r.id = i."roundId")))
     RETURNING i.id`,
    [byItem ? q.queueItemId : q.roundId, q.projectId, [...ANNOTATING_ROLES]],
  );
  return rows.map((r) => r.id);
}
