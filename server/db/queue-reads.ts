/**
 * The clinician's read calls other than lease and submit (issue 16, goal 1) as raw statements on the pg pool
 * (server/db/sql.ts): the queue list (`projectQueueForMember`, ONE statement), the prefetch list
 * (`upcomingForRound`, one statement after the front door), the queue overview (`myQueueRounds`, one
 * statement after the caller's memberships) and an image with its read audit (`imageForMember`,
 * `recordImageRead`). Membership is part of every statement that reads a project's rows: the caller's
 * ProjectMember row is joined in, so a non-member reads nothing (server/services/queue-read-service.ts runs
 * the front door's checks on it: project-access.ts admitToProject).
 * The queue list reads one page of the round's items (counts are counted in the statement, no row shipped for
 * them); the service turns the rows into answers (server/services/queue-reads.int.test.ts checks them against
 * answers built by hand from a fixture's rows).
 */
import type { Role } from "./client";
import { PROJECT_ACCESS_SELECT, type ProjectAccessRow } from "./projects-repo";
import { openForCallerSql } from "./queue-repo";
import { sql } from "./sql";
import type { Db } from "./client";

const PROJECT_COLUMNS = Object.keys(PROJECT_ACCESS_SELECT) as (keyof typeof PROJECT_ACCESS_SELECT)[];
const projectColumnsSql = PROJECT_COLUMNS.map((column) => `p."${column}" AS "project.${column}"`).join(", ");

/** A `timestamp` read out of json (`2026-11-30T18:10:34.28`, UTC wall time, as Prisma stores it) as a Date. */
export const jsonTimestamp = (value: string): Date => new Date(value.endsWith("Z") ? value : `${value}Z`);

function membershipOf(row: Record<string, unknown>): { role: Role; project: ProjectAccessRow } {
  const project = Object.fromEntries(PROJECT_COLUMNS.map((column) => [column, row[`project.${column}`]])) as unknown as ProjectAccessRow;
  return { role: row.memberRole as Role, project };
}

/**
 * The caller's counts of one round — the ONE definition behind both the workspace's counts (projectQueueForMember)
 * and My queue's (myQueueRounds); queue-read-service.ts roundCounts turns them into total / done / remaining.
 */
export interface CallerRoundCounts {
  /** the round's items */
  items: number;
  /** items no longer open for the caller: not PENDING (DONE, or taken out of the round), or PENDING but finished by
   *  them (a completed lease, or an annotation of the case since the round began: queue-repo.ts openForCallerSql) */
  itemsDone: number;
  /** the caller's leases in the round, and of those the completed ones */
  servedRegular: number;
  completedByMe: number;
  /** the caller's gold servings in the round; those answered (a SUBMITTED or SKIPPED annotation since served: never
   *  served to them again, gold-repo.ts activeServeText); those SUBMITTED */
  goldServed: number;
  goldAnswered: number;
  goldSubmitted: number;
  /** gold cases left for the caller: never served to nor annotated by them, not an item of the round (0 without a round) */
  goldLeft: number;
}

/**
 * CallerRoundCounts of round `e.roundId` (begun at `e.roundCreatedAt`) of project `e.projectId` for `e.userId`, as
 * one json array expression (each argument an SQL expression; a NULL round gives zeros); readCallerCounts reads it.
 */
function callerCountsSql(e: { roundId: string; roundCreatedAt: string; projectId: string; userId: string }): string {
  return `json_build_array(
     (SELECT count(*) FROM "QueueItem" ci WHERE ci."roundId" = ${e.roundId}),
     (SELECT count(*) FROM "QueueItem" ci WHERE ci."roundId" = ${e.roundId}
        AND (ci.status <> 'PENDING' OR NOT ${openForCallerSql({ item: "ci", userId: e.userId, roundCreatedAt: e.roundCreatedAt })})),
     (SELECT count(*) FROM "QueueLease" cl JOIN "QueueItem" ci ON ci.id = cl."queueItemId" WHERE ci."roundId" = ${e.roundId} AND cl."userId" = ${e.userId}),
     (SELECT count(cl."completedAt") FROM "QueueLease" cl JOIN "QueueItem" ci ON ci.id = cl."queueItemId" WHERE ci."roundId" = ${e.roundId} AND cl."userId" = ${e.userId}),
     (SELECT count(*) FROM "GoldServing" cg WHERE cg."roundId" = ${e.roundId} AND cg."userId" = ${e.userId}),
     (SELECT count(*) FROM "GoldServing" cg WHERE cg."roundId" = ${e.roundId} AND cg."userId" = ${e.userId} AND EXISTS (
        SELECT 1 FROM "Annotation" ca WHERE ca."caseId" = cg."caseId" AND ca."authorId" = ${e.userId} AND ca.kind IN ('SUBMITTED', 'SKIPPED') AND ca."createdAt" >= cg."servedAt")),
     (SELECT count(*) FROM "GoldServing" cg WHERE cg."roundId" = ${e.roundId} AND cg."userId" = ${e.userId} AND EXISTS (
        SELECT 1 FROM "Annotation" ca WHERE ca."caseId" = cg."caseId" AND ca."authorId" = ${e.userId} AND ca.kind = 'SUBMITTED' AND ca."createdAt" >= cg."servedAt")),
     (SELECT count(*) FROM "GoldCase" g
       WHERE g."projectId" = ${e.projectId} AND ${e.roundId} IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM "GoldServing" s WHERE s."caseId" = g."caseId" AND s."userId" = ${e.userId})
         AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = g."caseId" AND a."authorId" = ${e.userId})
         AND NOT EXISTS (SELECT 1 FROM "QueueItem" i WHERE i."roundId" = ${e.roundId} AND i."caseId" = g."caseId")))`;
}

/** callerCountsSql's value as CallerRoundCounts. */
function readCallerCounts(value: unknown): CallerRoundCounts {
  const [items, itemsDone, servedRegular, completedByMe, goldServed, goldAnswered, goldSubmitted, goldLeft] = (value as unknown[]).map(Number) as number[];
  return { items: items!, itemsDone: itemsDone!, servedRegular: servedRegular!, completedByMe: completedByMe!, goldServed: goldServed!, goldAnswered: goldAnswered!, goldSubmitted: goldSubmitted!, goldLeft: goldLeft! };
}

/** One lease of an item: holder, holder's name, expiry (json timestamp text), completed, unexpired at the statement's `now`. */
export type LeaseTuple = [userId: string, name: string, expiresAt: string, completed: boolean, unexpired: boolean];

/**
 * Of a queue item's selection features only what a reason reads (selection-reason.ts): whether they are an
 * object, `priority`, `pseudoLabelKey` when a string, whether `byPolicy` is there and its value — a round's
 * features hold a value per RADS feature, most of the bytes.
 */
export type ReasonParts = [featuresIsObject: boolean, priority: unknown, pseudoLabelKey: string | null, hasByPolicy: boolean, byPolicy: unknown];

/**
 * One queue item: id, case id, rank, status, its ReasonParts; has images; the round model's stored probabilities
 * (null: none, or the project's stored settings say showPredictions false); leases (null: none).
 */
export type ItemTuple = [
  id: string,
  caseId: string,
  rank: number,
  status: "PENDING" | "DONE" | "SKIPPED",
  featuresIsObject: boolean,
  priority: unknown,
  pseudoLabelKey: string | null,
  hasByPolicy: boolean,
  byPolicy: unknown,
  hasImages: boolean,
  probabilities: unknown,
  leases: LeaseTuple[] | null,
];

/** The features a reason reads (selection-reason.ts), rebuilt from ReasonParts: null when the stored features are not an object. */
export function reasonFeatures(parts: ReasonParts): Record<string, unknown> | null {
  const [isObject, priority, pseudoLabelKey, hasByPolicy, byPolicy] = parts;
  if (!isObject) return null;
  return hasByPolicy ? { priority, pseudoLabelKey, byPolicy } : { priority, pseudoLabelKey };
}

/** An ItemTuple's ReasonParts. */
export const reasonPartsOf = (item: ItemTuple): ReasonParts => item.slice(4, 9) as ReasonParts;

/** ReasonParts of the QueueItem row `a`, as json array elements. */
const reasonPartsSql = (a: string) =>
  `jsonb_typeof(${a}.features) = 'object', ${a}.features -> 'priority',
   CASE WHEN jsonb_typeof(${a}.features -> 'pseudoLabelKey') = 'string' THEN ${a}.features ->> 'pseudoLabelKey' END,
   jsonb_typeof(${a}.features) = 'object' AND ${a}.features ? 'byPolicy', ${a}.features -> 'byPolicy'`;

/** The ItemTuple of QueueItem row `a` (joined to lagg `${a}l` and Prediction `${a}p` by itemJoinsSql). */
const itemTupleSql = (a: string) =>
  `json_build_array(${a}.id, ${a}."caseId", ${a}.rank, ${a}.status::text, ${reasonPartsSql(a)},
     EXISTS (SELECT 1 FROM "CaseImage" ci WHERE ci."caseId" = ${a}."caseId"), ${a}p.probabilities, ${a}l.leases)`;
const itemJoinsSql = (a: string) =>
  `LEFT JOIN lagg ${a}l ON ${a}l."queueItemId" = ${a}.id
   LEFT JOIN "Prediction" ${a}p ON ${a}p."caseId" = ${a}."caseId" AND ${a}p."modelVersionId" = (SELECT "modelVersionId" FROM r) AND (SELECT predictions FROM flags)`;

/**
 * One of the caller's gold servings of the round shown in the answer (on the page, or the case on screen). Its row
 * sits at `at` (0-based) of the caller's queue list: the k-th serving by position (k from 0) at
 * min(position, items + k) — where it was served, or after the round's items — positions made increasing first
 * (they are the served count at serving time, so they are).
 */
export interface GoldServingRow {
  id: string;
  caseId: string;
  at: number;
  /** its expiry is after the statement's `now` */
  unexpired: boolean;
  /** the kind of the caller's first SUBMITTED or SKIPPED annotation of the case since it was served; null: none yet */
  answer: "SUBMITTED" | "SKIPPED" | null;
  hasImages: boolean;
  probabilities: unknown;
  /** the ReasonParts of the round's item at regular index min(at, items − 1) (its reason reads as theirs); null: the round has no items */
  neighbour: ReasonParts | null;
  /** whether this is the case asked for (`caseId`) */
  current: boolean | null;
}

export interface ProjectQueueRows {
  membership: { role: Role; project: ProjectAccessRow };
  round: { id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date; modelVersionId: string | null } | null;
  /** The caller's counts of the round (zeros without a round): callerCountsSql, as myQueueRounds'. */
  counts: CallerRoundCounts;
  /**
   * The round's items on the asked page of the caller's list, in rank order: the list's rows offset … offset +
   * limit − 1 are these and the gold rows whose `at` lies there, each gold row at its `at`.
   */
  items: ItemTuple[];
  /** The gold rows on the page, and the one of `caseId` if it is a gold case, by `at`. */
  gold: GoldServingRow[];
  /** The round's item of `caseId` with its 0-based index in the caller's list (gold rows counted); null: not an item of the round. */
  current: { index: number; item: ItemTuple } | null;
  /**
   * Holders (not the caller) of an open (uncompleted, unexpired) lease of the items returned: whether they ever had a
   * session, and the last request of their live sessions (unrevoked, unexpired; null: none). Away = signed in before
   * and no live session seen after now − leaseMinutes.
   */
  holders: { userId: string; signedInBefore: boolean; lastLiveSeenAt: Date | null }[];
  /**
   * The newest train/evaluate/select job since the round began, still queued or running. `stage` and `percent`
   * (0–100) are NOT NULL columns of JobRun (defaults "queued" and 0, migration 0003).
   */
  job: { kind: string; status: "QUEUED" | "RUNNING"; stage: string; percent: number; createdAt: Date } | null;
}

/**
 * One page of the caller's queue list of one project, in ONE statement: the caller's membership with the project's
 * front-door columns (null when they are not a member or the project does not exist — then nothing else is read),
 * the latest round, the caller's counts of it (callerCountsSql — counted here, no row shipped for them), the items on the page in rank order (features a reason reads,
 * whether the case has images, the round model's stored prediction, every lease with its holder's name), the gold
 * rows on the page, the item or gold row of `caseId` with its place in the list, the open-lease holders' sessions
 * of the items returned, and the job the next round waits for. Who of
 * the holders is away depends on the project's lease time, known once its settings are parsed: the statement returns
 * each holder's last live request, the service compares. Items are ordered by (rank, id).
 * @param q.offset 0-based first row of the page; q.limit rows on it; q.caseId the case on screen (null: none)
 */
export async function projectQueueForMember(
  db: Db,
  q: { projectId: string; userId: string; now: Date; offset: number; limit: number; caseId: string | null },
): Promise<ProjectQueueRows | null> {
  const [row] = await sql(db).query<Record<string, unknown>>(
    `WITH access AS (
       SELECT m.role::text AS "memberRole", ${projectColumnsSql}
       FROM "ProjectMember" m JOIN "Project" p ON p.id = m."projectId"
       WHERE m."projectId" = $1 AND m."userId" = $2
     ),
     r AS (
       SELECT s.id, s.number, s.strategy, s."coldStart", s."createdAt", s."modelVersionId"
       FROM "SelectionRound" s WHERE s."projectId" = (SELECT "project.id" FROM access)
       ORDER BY s.number DESC LIMIT 1
     ),
     flags AS (SELECT coalesce((SELECT "project.settings" -> 'showPredictions' FROM access), 'null'::jsonb) <> 'false'::jsonb AS predictions),
     stats AS (SELECT count(*)::int AS items FROM "QueueItem" i WHERE i."roundId" = (SELECT id FROM r)),
     gs0 AS (
       SELECT g.id, g."caseId", g.position, g."servedAt", g."expiresAt", (row_number() OVER (ORDER BY g.position, g.id) - 1)::int AS k
       FROM "GoldServing" g WHERE g."roundId" = (SELECT id FROM r) AND g."userId" = $2
     ),
     gs AS (
       SELECT gs0.*,
         least(k + max(position - k) OVER (ORDER BY k), (SELECT items FROM stats) + k) AS at,
         (SELECT a.kind::text FROM "Annotation" a WHERE a."caseId" = gs0."caseId" AND a."authorId" = $2 AND a.kind IN ('SUBMITTED', 'SKIPPED') AND a."createdAt" >= gs0."servedAt" ORDER BY a."createdAt", a.version LIMIT 1) AS answer
       FROM gs0
     ),
     span AS (
       SELECT $4::int - (SELECT count(*) FROM gs WHERE at < $4::int)::int AS off,
              $5::int - (SELECT count(*) FROM gs WHERE at >= $4::int AND at < $4::int + $5::int)::int AS lim
     ),
     page AS (
       SELECT i.id, i."caseId", i.rank, i.status, i.features FROM "QueueItem" i
       WHERE i."roundId" = (SELECT id FROM r) ORDER BY i.rank, i.id OFFSET (SELECT off FROM span) LIMIT (SELECT lim FROM span)
     ),
     cur AS (
       SELECT i.id, i."caseId", i.rank, i.status, i.features,
         (SELECT count(*) FROM "QueueItem" j WHERE j."roundId" = i."roundId" AND (j.rank < i.rank OR (j.rank = i.rank AND j.id < i.id)))::int AS idx
       FROM "QueueItem" i WHERE i."roundId" = (SELECT id FROM r) AND i."caseId" = $6::text
     ),
     ls AS (
       SELECT l."queueItemId", l."userId", u.name, l."expiresAt", l."completedAt"
       FROM "QueueLease" l JOIN "User" u ON u.id = l."userId"
       WHERE l."queueItemId" IN (SELECT id FROM page UNION SELECT id FROM cur)
     ),
     lagg AS (
       SELECT "queueItemId", json_agg(json_build_array("userId", name, "expiresAt", "completedAt" IS NOT NULL, "expiresAt" > $3::timestamp)) AS leases
       FROM ls GROUP BY "queueItemId"
     ),
     gold AS (
       SELECT gs.id, gs."caseId", gs.at, gs."expiresAt" > $3::timestamp AS unexpired, gs.answer, gs."caseId" = $6::text AS current,
         EXISTS (SELECT 1 FROM "CaseImage" ci WHERE ci."caseId" = gs."caseId") AS "hasImages",
         (SELECT pr.probabilities FROM "Prediction" pr WHERE pr."caseId" = gs."caseId" AND pr."modelVersionId" = (SELECT "modelVersionId" FROM r)) AS probabilities,
         (SELECT json_build_array(${reasonPartsSql("n")}) FROM "QueueItem" n WHERE n."roundId" = (SELECT id FROM r)
            ORDER BY n.rank, n.id OFFSET greatest(least(gs.at, (SELECT items FROM stats) - 1), 0) LIMIT 1) AS neighbour
       FROM gs WHERE (gs.at >= $4::int AND gs.at < $4::int + $5::int) OR gs."caseId" = $6::text
     )
     SELECT access.*,
       (SELECT row_to_json(r) FROM r) AS round,
       ${callerCountsSql({ roundId: "(SELECT id FROM r)", roundCreatedAt: '(SELECT "createdAt" FROM r)', projectId: "$1", userId: "$2" })} AS "callerCounts",
       (SELECT json_agg(${itemTupleSql("pg")} ORDER BY pg.rank, pg.id) FROM page pg ${itemJoinsSql("pg")}) AS items,
       (SELECT json_build_object('index', c.idx + (SELECT count(*) FROM gs WHERE gs.at - gs.k <= c.idx), 'item', ${itemTupleSql("c")}) FROM cur c ${itemJoinsSql("c")}) AS current,
       (SELECT json_agg(row_to_json(gold) ORDER BY gold.at) FROM gold) AS gold,
       (SELECT json_agg(json_build_array(h."userId",
                 EXISTS (SELECT 1 FROM "AuthSession" s WHERE s."userId" = h."userId"),
                 (SELECT max(live."lastSeenAt") FROM "AuthSession" live
                   WHERE live."userId" = h."userId" AND live."revokedAt" IS NULL AND live."expiresAt" > $3::timestamp)))
          FROM (SELECT DISTINCT "userId" FROM ls WHERE "userId" <> $2 AND "completedAt" IS NULL AND "expiresAt" > $3::timestamp) h) AS holders,
       (SELECT row_to_json(j) FROM (
          SELECT kind, status::text AS status, stage, percent, "createdAt" FROM "JobRun"
          WHERE "projectId" = $1 AND kind IN ('train', 'evaluate', 'select') AND status IN ('QUEUED', 'RUNNING') AND "createdAt" >= (SELECT "createdAt" FROM r)
          ORDER BY "createdAt" DESC LIMIT 1) j) AS job
     FROM access`,
    [q.projectId, q.userId, q.now, q.offset, q.limit, q.caseId],
  );
  if (!row) return null;
  const round = row.round as (Omit<NonNullable<ProjectQueueRows["round"]>, "createdAt"> & { createdAt: string }) | null;
  const job = row.job as (Omit<NonNullable<ProjectQueueRows["job"]>, "createdAt"> & { createdAt: string }) | null;
  return {
    membership: membershipOf(row),
    round: round ? { ...round, createdAt: jsonTimestamp(round.createdAt) } : null,
    counts: readCallerCounts(row.callerCounts),
    items: (row.items as ItemTuple[] | null) ?? [],
    gold: (row.gold as GoldServingRow[] | null) ?? [],
    current: (row.current as ProjectQueueRows["current"]) ?? null,
    holders: ((row.holders as [string, boolean, string | null][] | null) ?? []).map(([userId, signedInBefore, lastLiveSeen]) => ({ userId, signedInBefore, lastLiveSeenAt: lastLiveSeen === null ? null : jsonTimestamp(lastLiveSeen) })),
    job: job ? { ...job, createdAt: jsonTimestamp(job.createdAt) } : null,
  };
}

/**
 * The project's latest round and — in the same statement — the PENDING items of it the caller may still take,
 * best rank first (the conditions of queue-repo selectLeaseCandidates, unlocked): not completed or annotated by
 * the caller in this round, fewer than `slots` live leases of others. The project id has come through the front
 * door. @returns null when the project has no round
 */
export async function upcomingForRound(db: Db, q: { projectId: string; userId: string; slots: number; now: Date; limit: number }): Promise<{ caseId: string; rank: number }[] | null> {
  const [row] = await sql(db).query<{ items: { caseId: string; rank: number }[] | null }>(
    `WITH r AS (SELECT id, "createdAt" FROM "SelectionRound" WHERE "projectId" = $1 ORDER BY number DESC LIMIT 1)
     SELECT (SELECT json_agg(json_build_object('caseId', c."caseId", 'rank', c.rank) ORDER BY c.rank) FROM (
       SELECT i."caseId", i.rank FROM "QueueItem" i
       WHERE i."roundId" = r.id AND i.status = 'PENDING'
         AND ${openForCallerSql({ item: "i", userId: "$2", roundCreatedAt: 'r."createdAt"' })}
         AND (SELECT count(*) FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."userId" <> $2 AND (l."completedAt" IS NOT NULL OR l."expiresAt" > $3::timestamp)) < $4
       ORDER BY i.rank LIMIT $5) c) AS items
     FROM r`,
    [q.projectId, q.userId, q.now, q.slots, q.limit],
  );
  if (!row) return null;
  return row.items ?? [];
}

/** One project of the caller's queue overview. */
export interface MyQueueRow {
  projectId: string;
  projectName: string;
  settings: unknown;
  round: { id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date } | null;
  /** The caller's counts of the round (zeros without a round): callerCountsSql, as projectQueueForMember's. */
  counts: CallerRoundCounts;
}

/**
 * The caller's queue overview in ONE statement: for each project of `projectIds` where `userId` is a member (the
 * membership is joined in), by project creation: the latest round and the caller's counts of it (callerCountsSql).
 */
export async function myQueueRounds(db: Db, projectIds: string[], userId: string): Promise<MyQueueRow[]> {
  if (projectIds.length === 0) return [];
  const rows = await sql(db).query<Record<string, unknown>>(
    `SELECT p.id AS "projectId", p.name AS "projectName", p.settings, row_to_json(r) AS round,
       ${callerCountsSql({ roundId: "r.id", roundCreatedAt: 'r."createdAt"', projectId: "p.id", userId: "$2" })} AS "callerCounts"
     FROM "Project" p
     JOIN "ProjectMember" m ON m."projectId" = p.id AND m."userId" = $2
     LEFT JOIN LATERAL (
       SELECT s.id, s.number, s.strategy, s."coldStart", s."createdAt" FROM "SelectionRound" s WHERE s."projectId" = p.id ORDER BY s.number DESC LIMIT 1
     ) r ON true
     WHERE p.id = ANY($1::text[])
     ORDER BY p."createdAt"`,
    [projectIds, userId],
  );
  return rows.map((row) => {
    const round = row.round as (Omit<NonNullable<MyQueueRow["round"]>, "createdAt"> & { createdAt: string }) | null;
    return {
      projectId: row.projectId as string,
      projectName: row.projectName as string,
      settings: row.settings,
      round: round ? { ...round, createdAt: jsonTimestamp(round.createdAt) } : null,
      counts: readCallerCounts(row.callerCounts),
    };
  });
}

/**
 * An image with its case and the caller's membership of its project with the front-door columns, in ONE statement; null
 * for anyone else. `awaitingDeidentify`: a DICOM image without the de-identification record (`attributes.deidentified`)
 * in a project that does not keep patient identifiers (`settings.allowPatientIdentifiers`) — it may hold identifiers
 * until workers/jobs/deidentify-stored.ts rewrites it (the same rule as deidentify-repo.ts listProjectsAwaitingDeidentify).
 */
export async function imageForMember(
  db: Db,
  imageId: string,
  userId: string,
): Promise<{ id: string; storageKey: string; mimeType: string; sha256: string; caseId: string; projectId: string; awaitingDeidentify: boolean; membership: { role: Role; project: ProjectAccessRow } } | null> {
  const [row] = await sql(db).query<Record<string, unknown>>(
    `SELECT ci.id, ci."storageKey", ci."mimeType", ci.sha256, ci."caseId", c."projectId", m.role::text AS "memberRole",
       (ci."mimeType" = 'application/dicom'
        AND (ci.attributes -> 'deidentified') IS DISTINCT FROM 'true'::jsonb
        AND (p.settings -> 'allowPatientIdentifiers') IS DISTINCT FROM 'true'::jsonb) AS "awaitingDeidentify",
       ${projectColumnsSql}
     FROM "CaseImage" ci
     JOIN "Case" c ON c.id = ci."caseId"
     JOIN "ProjectMember" m ON m."projectId" = c."projectId" AND m."userId" = $2
     JOIN "Project" p ON p.id = c."projectId"
     WHERE ci.id = $1`,
    [imageId, userId],
  );
  if (!row) return null;
  return {
    id: row.id as string,
    storageKey: row.storageKey as string,
    mimeType: row.mimeType as string,
    sha256: row.sha256 as string,
    caseId: row.caseId as string,
    projectId: row.projectId as string,
    awaitingDeidentify: row.awaitingDeidentify === true,
    membership: membershipOf(row),
  };
}

/**
 * The read-audit of one image (server/services/read-audit.ts recordRead) in ONE statement: appends the event
 * unless the same actor has an event of the same action and target since `since`.
 * @returns whether an event was written
 */
export async function recordImageRead(
  db: Db,
  event: { at: Date; since: Date; actorId: string; actorRole: string; targetId: string; projectId: string; details: Record<string, unknown> },
): Promise<boolean> {
  const rows = await sql(db).query<{ written: number }>(
    `INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
     SELECT $1::timestamp, $2, $3::"Role", 'image.read', 'CaseImage', $4, $5, $6::jsonb
     WHERE NOT EXISTS (
       SELECT 1 FROM "AuditEvent" e
       WHERE e."targetType" = 'CaseImage' AND e."targetId" = $4 AND e.action = 'image.read' AND e."actorId" = $2 AND e.at >= $7::timestamp
     )
     RETURNING 1 AS written`,
    [event.at, event.actorId, event.actorRole, event.targetId, event.projectId, JSON.stringify(event.details), event.since],
  );
  return rows.length > 0;
}
