/**
 * Gold cases and their servings (issue 14 item 3, migration 0015). Project ids have come through the
 * front door (server/services/project-access.ts); a case id is always matched together with its project.
 * The queue's reads (`activeServeText`, `pickGoldCase`) are single indexed statements: queue.next stays at
 * most one query slower with gold on (server/services/queue-service.ts).
 */
import type { Prisma } from "./generated/client";
import { newId, queryRows, type Queryable, type Sql } from "./sql";
import type { DbOrTx } from "./tx";

/** Cases of the project among `caseIds`, with their imported label, newest adjudicated labels and gold row. */
export async function findGoldCandidates(db: DbOrTx, projectId: string, caseIds: string[]) {
  const rows = await db.case.findMany({
    where: { projectId, id: { in: caseIds } },
    orderBy: { externalId: "asc" },
    select: {
      id: true,
      externalId: true,
      importedLabel: true,
      gold: { select: { labels: true, source: true } },
      annotations: { where: { kind: "ADJUDICATED" }, orderBy: [{ createdAt: "desc" }, { version: "desc" }], take: 1, select: { labels: true } },
    },
  });
  return rows.map((r) => ({ id: r.id, externalId: r.externalId, importedLabel: r.importedLabel, adjudicated: r.annotations[0]?.labels ?? null, gold: r.gold }));
}

/** Writes (or refreshes) gold rows in one statement; returns nothing. */
export async function upsertGoldCases(tx: Prisma.TransactionClient, projectId: string, markedById: string | null, rows: { caseId: string; labels: string[]; source: "imported" | "adjudicated" }[]) {
  if (rows.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "GoldCase" ("caseId", "projectId", labels, source, "markedById", "markedAt")
    SELECT x."caseId", ${projectId}, ARRAY(SELECT json_array_elements_text(x.labels)), x.source, ${markedById}, now()
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x("caseId" text, labels json, source text)
    ON CONFLICT ("caseId") DO UPDATE SET labels = EXCLUDED.labels, source = EXCLUDED.source, "markedById" = EXCLUDED."markedById", "markedAt" = EXCLUDED."markedAt"`;
}

/**
 * A gold case's answer becomes its newest adjudicated label set (source "adjudicated"), as re-marking it would;
 * returns the answer it held, or null when the case is not gold (nothing written).
 */
export async function refreshGoldAnswerFromAdjudication(tx: Prisma.TransactionClient, caseId: string, labels: string[]): Promise<{ labels: string[]; source: string } | null> {
  const before = await tx.goldCase.findUnique({ where: { caseId }, select: { labels: true, source: true } });
  if (!before) return null;
  await tx.goldCase.update({ where: { caseId }, data: { labels, source: "adjudicated" } });
  return before;
}

/** Deletes the gold rows of `caseIds` in the project; returns what they held (for the audit event). */
export function deleteGoldCases(tx: Prisma.TransactionClient, projectId: string, caseIds: string[]) {
  return tx.$queryRaw<{ caseId: string; labels: string[]; source: string }[]>`
    DELETE FROM "GoldCase" WHERE "projectId" = ${projectId} AND "caseId" = ANY(${caseIds}::text[])
    RETURNING "caseId", labels, source`;
}

/** The project's gold cases, by external id, with who marked them and how often they were given and answered. */
export async function listGoldCases(db: DbOrTx, projectId: string) {
  return db.$queryRaw<{ caseId: string; externalId: string; labels: string[]; source: string; markedAt: Date; markedByName: string | null; served: number; answered: number }[]>`
    SELECT g."caseId", c."externalId", g.labels, g.source, g."markedAt", u.name AS "markedByName",
      (SELECT count(*) FROM "GoldServing" s WHERE s."caseId" = g."caseId")::int AS served,
      (SELECT count(*) FROM "GoldServing" s WHERE s."caseId" = g."caseId" AND EXISTS (
        SELECT 1 FROM "Annotation" a WHERE a."caseId" = s."caseId" AND a."authorId" = s."userId" AND a.kind = 'SUBMITTED' AND a."createdAt" >= s."servedAt"))::int AS answered
    FROM "GoldCase" g JOIN "Case" c ON c.id = g."caseId" LEFT JOIN "User" u ON u.id = g."markedById"
    WHERE g."projectId" = ${projectId}
    ORDER BY c."externalId"`;
}

export interface ActiveServe {
  kind: "item" | "gold";
  /** The queue item id, or the gold serving id. */
  id: string;
  caseId: string;
  rank: number;
  expiresAt: Date;
}

const ts = (value: string | null) => (value === null ? null : new Date(value.endsWith("Z") ? value : `${value}Z`));

export interface ActiveServes {
  lease: ActiveServe | null;
  gold: ActiveServe | null;
  served: number;
  servedRegular: number;
  items: number;
}

/**
 * In one statement: the caller's unexpired, uncompleted lease in the round (best rank first) — found from the
 * caller's open leases, then their items by primary key (the OFFSET 0 fences keep that order: with the
 * statistics of a freshly written round still missing, the planner walked all of the round's PENDING items in
 * rank order probing leases, ~10–30 ms per call at 6,000 items; issue 16) —, their
 * unanswered gold serving of the round (no SUBMITTED or SKIPPED annotation of theirs since it was served,
 * expired or not: a gold case stays theirs until answered), and — with `withCounts` — how many cases they
 * were served in the round so far (leases + gold servings, `served`: the position of the next one), how many
 * of those were leases (`servedRegular`) and how many items the round has (`items`); 0 each without (a literal
 * `withCounts` of "false" leaves their subqueries out of the text).
 * Each argument is an SQL expression ($n or a literal; `now` UTC text, `withCounts` a boolean; `exceptLeases`, when
 * given, a subquery of lease ids not to count as open — those its own statement releases, which its snapshot still
 * sees open): queue.next sends it with BEGIN, inside the away-lease release's statement (queue-repo.ts
 * leaseOpeningStatements), or on its own. Columns: lease, gold (JSON), regular, goldServed, items; readActiveServe reads them.
 */
export function activeServeText(e: { roundId: string; userId: string; now: string; withCounts: string; exceptLeases?: string }): string {
  const except = e.exceptLeases ? ` AND id NOT IN ${e.exceptLeases}` : "";
  // Literal "false" (queue.next without gold mixing): the counts are left out of the statement, not only skipped at run
  // time — a subplan behind a false CASE is still initialised at every execution (issue 16: executor start per plan node).
  const counts =
    e.withCounts === "false"
      ? `0 AS regular, 0 AS "goldServed", 0 AS items`
      : `CASE WHEN ${e.withCounts}::boolean THEN
        (SELECT count(*) FROM "QueueLease" l JOIN "QueueItem" i ON i.id = l."queueItemId" WHERE i."roundId" = ${e.roundId} AND l."userId" = ${e.userId})::int
      ELSE 0 END AS regular,
      CASE WHEN ${e.withCounts}::boolean THEN
        (SELECT count(*) FROM "GoldServing" g WHERE g."roundId" = ${e.roundId} AND g."userId" = ${e.userId})::int
      ELSE 0 END AS "goldServed",
      CASE WHEN ${e.withCounts}::boolean THEN (SELECT count(*) FROM "QueueItem" i WHERE i."roundId" = ${e.roundId})::int ELSE 0 END AS items`;
  return `SELECT
      (SELECT json_build_object('id', i.id, 'caseId', i."caseId", 'rank', i.rank, 'expiresAt', l."expiresAt")
         FROM (SELECT "queueItemId", "expiresAt" FROM "QueueLease" WHERE "userId" = ${e.userId} AND "completedAt" IS NULL AND "expiresAt" > ${e.now}::timestamp${except} OFFSET 0) l
         CROSS JOIN LATERAL (SELECT id, "caseId", rank, "roundId", status FROM "QueueItem" WHERE id = l."queueItemId" OFFSET 0) i
        WHERE i."roundId" = ${e.roundId} AND i.status = 'PENDING'
        ORDER BY i.rank LIMIT 1) AS lease,
      (SELECT json_build_object('id', g.id, 'caseId', g."caseId", 'rank', g.position, 'expiresAt', g."expiresAt")
         FROM "GoldServing" g
        WHERE g."roundId" = ${e.roundId} AND g."userId" = ${e.userId}
          AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = g."caseId" AND a."authorId" = ${e.userId} AND a.kind IN ('SUBMITTED', 'SKIPPED') AND a."createdAt" >= g."servedAt")
        ORDER BY g.position LIMIT 1) AS gold,
      ${counts}`;
}

/** A row of activeServeText. */
export function readActiveServe(row: Record<string, unknown> | undefined): ActiveServes {
  type Json = { id: string; caseId: string; rank: number; expiresAt: string } | null;
  const parse = (v: Json, kind: "item" | "gold"): ActiveServe | null => (v ? { kind, id: v.id, caseId: v.caseId, rank: Number(v.rank), expiresAt: ts(v.expiresAt)! } : null);
  const servedRegular = Number(row?.regular ?? 0);
  return { lease: parse((row?.lease ?? null) as Json, "item"), gold: parse((row?.gold ?? null) as Json, "gold"), served: servedRegular + Number(row?.goldServed ?? 0), servedRegular, items: Number(row?.items ?? 0) };
}

/**
 * A gold case of the project the clinician may be given: never given to them before (in any round), never
 * annotated or adjudicated by them, and not an item of the current round. The order is a hash of the case
 * and `seed` (the round and clinician), so clinicians meet the gold cases in different orders.
 */
export async function pickGoldCase(tx: Queryable, projectId: string, roundId: string, userId: string, seed: string): Promise<string | null> {
  const rows = await queryRows<{ caseId: string }>(
    tx,
    `SELECT g."caseId" FROM "GoldCase" g
    WHERE g."projectId" = $1
      AND NOT EXISTS (SELECT 1 FROM "GoldServing" s WHERE s."caseId" = g."caseId" AND s."userId" = $3)
      AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = g."caseId" AND a."authorId" = $3)
      AND NOT EXISTS (SELECT 1 FROM "QueueItem" i WHERE i."roundId" = $2 AND i."caseId" = g."caseId")
    ORDER BY md5(g."caseId" || $4) LIMIT 1`,
    [projectId, roundId, userId, seed],
  );
  return rows[0]?.caseId ?? null;
}

/** Records that a gold case was given to a clinician (the unique (case, user) index keeps it to once). Raw: part of queue.next's raw transaction. */
export async function insertGoldServing(tx: Sql, row: { projectId: string; caseId: string; userId: string; roundId: string; position: number; servedAt: Date; expiresAt: Date }) {
  const [inserted] = await tx.query<{ id: string; expiresAt: Date }>(
    `INSERT INTO "GoldServing" (id, "projectId", "caseId", "userId", "roundId", position, "servedAt", "expiresAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7::timestamp, $8::timestamp) RETURNING id, "expiresAt"`,
    [newId(), row.projectId, row.caseId, row.userId, row.roundId, row.position, row.servedAt, row.expiresAt],
  );
  return inserted!;
}

/** A resumed gold serving whose lease time ran out gets a new expiry (it stays the clinician's until answered). Raw: part of queue.next's raw transaction. */
export async function renewGoldServing(tx: Sql, id: string, expiresAt: Date) {
  const [renewed] = await tx.query<{ id: string; expiresAt: Date }>(`UPDATE "GoldServing" SET "expiresAt" = $2::timestamp WHERE id = $1 RETURNING id, "expiresAt"`, [id, expiresAt]);
  if (!renewed) throw new Error(`gold serving ${id} is gone`);
  return renewed;
}

/**
 * Every answered gold serving of the project's current gold cases: the clinician's first SUBMITTED
 * annotation of the case since it was served, beside the gold answer. Oldest answer first.
 */
export function listGoldAnswers(db: DbOrTx, projectId: string) {
  return db.$queryRaw<{ userId: string; userName: string; caseId: string; externalId: string; gold: string[]; answer: string[]; answeredAt: Date; roundNumber: number }[]>`
    SELECT s."userId", u.name AS "userName", s."caseId", c."externalId", g.labels AS gold, a.labels AS answer, a."createdAt" AS "answeredAt", r.number AS "roundNumber"
    FROM "GoldServing" s
    JOIN "GoldCase" g ON g."caseId" = s."caseId"
    JOIN "Case" c ON c.id = s."caseId"
    JOIN "User" u ON u.id = s."userId"
    JOIN "SelectionRound" r ON r.id = s."roundId"
    CROSS JOIN LATERAL (
      SELECT a.labels, a."createdAt" FROM "Annotation" a
      WHERE a."caseId" = s."caseId" AND a."authorId" = s."userId" AND a.kind = 'SUBMITTED' AND a."createdAt" >= s."servedAt"
      ORDER BY a."createdAt", a.version LIMIT 1
    ) a
    WHERE s."projectId" = ${projectId}
    ORDER BY a."createdAt", s.id`;
}

/** The gold cases among `caseIds` of the project, by external id. */
export async function listGoldAmong(db: DbOrTx, projectId: string, caseIds: string[]) {
  const rows = await db.goldCase.findMany({ where: { projectId, caseId: { in: caseIds } }, select: { caseId: true, case: { select: { externalId: true } } } });
  return rows.map((r) => ({ caseId: r.caseId, externalId: r.case.externalId })).sort((a, b) => a.externalId.localeCompare(b.externalId));
}

/** Whether the case is gold (the case view scopes a gold case's annotations to the caller, as with N > 1). */
export async function isGoldCase(db: DbOrTx, caseId: string): Promise<boolean> {
  return (await db.goldCase.count({ where: { caseId } })) > 0;
}

/** Case ids of the project by external id (the CLI names cases as the source data does); unknown ids are left out. */
export function findCaseIdsByExternalIds(db: DbOrTx, projectId: string, externalIds: string[]) {
  return db.case.findMany({ where: { projectId, externalId: { in: externalIds } }, select: { id: true, externalId: true } });
}
