/**
 * queue.project as it was before it answered one page (commit b54889c, issue 16): every item of the round in ONE
 * statement, turned into the whole list. Kept only so that scripts/bench-queue-reads.ts measures the paged answer
 * beside it in the same run. Not used by the application.
 */
import type { ProjectQueueInput } from "@/contracts/annotations";
import { PROJECT_ACCESS_SELECT, type ProjectAccessRow } from "../../server/db/projects-repo";
import type { Db, Role } from "../../server/db/client";
import { jsonTimestamp } from "../../server/db/queue-reads";
import { sql } from "../../server/db/sql";
import type { ServiceContext } from "../../server/services/context";
import { goldPhase, plannedRoundTotal } from "../../server/services/gold-mixing";
import { admitToProject, requireActor } from "../../server/services/project-access";
import { probabilitiesByKey, selectionReason, type SelectionReason } from "../../server/services/selection-reason";

const PROJECT_COLUMNS = Object.keys(PROJECT_ACCESS_SELECT) as (keyof typeof PROJECT_ACCESS_SELECT)[];
const projectColumnsSql = PROJECT_COLUMNS.map((column) => `p."${column}" AS "project.${column}"`).join(", ");

function membershipOf(row: Record<string, unknown>): { role: Role; project: ProjectAccessRow } {
  const project = Object.fromEntries(PROJECT_COLUMNS.map((column) => [column, row[`project.${column}`]])) as unknown as ProjectAccessRow;
  return { role: row.memberRole as Role, project };
}

/** One lease of an item: holder, holder's name, expiry (json timestamp text), completed, unexpired at the statement's `now`. */
type LeaseTuple = [userId: string, name: string, expiresAt: string, completed: boolean, unexpired: boolean];

/**
 * One queue item: id, case id, rank, status; of its selection features only what a reason reads
 * (selection-reason.ts: `priority`, `pseudoLabelKey` when a string, `byPolicy` and whether it is there — a
 * round's features hold a value per RADS feature, most of the bytes); has images; the round model's stored
 * probabilities (null: none, or the project's stored settings say showPredictions false); leases (null: none).
 */
type ItemTuple = [
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

/** The features a reason reads (selection-reason.ts), rebuilt from an ItemTuple: null when the stored features are not an object. */
function reasonFeatures(item: ItemTuple): Record<string, unknown> | null {
  const [, , , , isObject, priority, pseudoLabelKey, hasByPolicy, byPolicy] = item;
  if (!isObject) return null;
  return hasByPolicy ? { priority, pseudoLabelKey, byPolicy } : { priority, pseudoLabelKey };
}

/** One of the caller's gold servings of the round, in position order. */
interface GoldServingRow {
  id: string;
  caseId: string;
  position: number;
  /** json timestamp text */
  expiresAt: string;
  /** unexpired at the statement's `now` */
  unexpired: boolean;
  answer: "SUBMITTED" | "SKIPPED" | null;
  hasImages: boolean;
  probabilities: unknown;
}

interface ProjectQueueRows {
  membership: { role: Role; project: ProjectAccessRow };
  round: { id: string; number: number; strategy: string; coldStart: boolean; createdAt: Date; modelVersionId: string | null } | null;
  items: ItemTuple[];
  /**
   * Holders (not the caller) of an open (uncompleted, unexpired) lease in the round: whether they ever had a
   * session, and the last request of their live sessions (unrevoked, unexpired; null: none). Away (as
   * queue-repo listAwayUsers) = signed in before and no live session seen after now − leaseMinutes.
   */
  holders: { userId: string; signedInBefore: boolean; lastLiveSeenAt: Date | null }[];
  gold: GoldServingRow[];
  /** gold-repo countGoldLeft for the caller in the round (0 without a round). */
  goldLeft: number;
  /**
   * queue-repo findPendingRoundJob: the newest train/evaluate/select job since the round began, still queued or
   * running. `stage` and `percent` (0–100) are NOT NULL columns of JobRun (defaults "queued" and 0, migration 0003).
   */
  job: { kind: string; status: "QUEUED" | "RUNNING"; stage: string; percent: number; createdAt: Date } | null;
}

/**
 * Everything the caller's queue list of one project shows, in ONE statement: the caller's membership with the
 * project's front-door columns (null when they are not a member or the project does not exist — then nothing
 * else is read), the latest round, its items in rank order (features, whether the case has images, the round
 * model's stored prediction, every lease with its holder's name), the open-lease holders' sessions, the
 * caller's gold servings with how they were answered, how many gold cases are left for them, and the job the
 * next round waits for. Who of the open-lease holders is away depends on the project's lease time, known only
 * once its settings are parsed: the statement returns each holder's last live request, the service compares.
 */
async function wholeRoundRows(db: Db, q: { projectId: string; userId: string; now: Date }): Promise<ProjectQueueRows | null> {
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
     it AS (SELECT i.id, i."caseId", i.rank, i.status::text AS status, i.features FROM "QueueItem" i WHERE i."roundId" = (SELECT id FROM r)),
     ls AS (
       SELECT l."queueItemId", l."userId", u.name, l."expiresAt", l."completedAt"
       FROM "QueueLease" l JOIN it ON it.id = l."queueItemId" JOIN "User" u ON u.id = l."userId"
     ),
     lagg AS (
       SELECT "queueItemId", json_agg(json_build_array("userId", name, "expiresAt", "completedAt" IS NOT NULL, "expiresAt" > $3::timestamp)) AS leases
       FROM ls GROUP BY "queueItemId"
     ),
     gold AS (
       SELECT g.id, g."caseId", g.position, g."expiresAt", g."expiresAt" > $3::timestamp AS unexpired,
         (SELECT a.kind::text FROM "Annotation" a WHERE a."caseId" = g."caseId" AND a."authorId" = $2 AND a.kind IN ('SUBMITTED', 'SKIPPED') AND a."createdAt" >= g."servedAt" ORDER BY a."createdAt", a.version LIMIT 1) AS answer,
         EXISTS (SELECT 1 FROM "CaseImage" ci WHERE ci."caseId" = g."caseId") AS "hasImages",
         (SELECT pr.probabilities FROM "Prediction" pr WHERE pr."caseId" = g."caseId" AND pr."modelVersionId" = (SELECT "modelVersionId" FROM r)) AS probabilities
       FROM "GoldServing" g WHERE g."roundId" = (SELECT id FROM r) AND g."userId" = $2
     )
     SELECT access.*,
       (SELECT row_to_json(r) FROM r) AS round,
       (SELECT json_agg(json_build_array(it.id, it."caseId", it.rank, it.status,
                 jsonb_typeof(it.features) = 'object', it.features -> 'priority',
                 CASE WHEN jsonb_typeof(it.features -> 'pseudoLabelKey') = 'string' THEN it.features ->> 'pseudoLabelKey' END,
                 jsonb_typeof(it.features) = 'object' AND it.features ? 'byPolicy', it.features -> 'byPolicy',
                 EXISTS (SELECT 1 FROM "CaseImage" ci WHERE ci."caseId" = it."caseId"), pr.probabilities, lagg.leases) ORDER BY it.rank)
          FROM it LEFT JOIN lagg ON lagg."queueItemId" = it.id
          LEFT JOIN "Prediction" pr ON pr."caseId" = it."caseId" AND pr."modelVersionId" = (SELECT "modelVersionId" FROM r)
            AND (SELECT predictions FROM flags)) AS items,
       (SELECT json_agg(json_build_array(h."userId",
                 EXISTS (SELECT 1 FROM "AuthSession" s WHERE s."userId" = h."userId"),
                 (SELECT max(live."lastSeenAt") FROM "AuthSession" live
                   WHERE live."userId" = h."userId" AND live."revokedAt" IS NULL AND live."expiresAt" > $3::timestamp)))
          FROM (SELECT DISTINCT "userId" FROM ls WHERE "userId" <> $2 AND "completedAt" IS NULL AND "expiresAt" > $3::timestamp) h) AS holders,
       (SELECT json_agg(row_to_json(gold) ORDER BY gold.position) FROM gold) AS gold,
       (SELECT count(*) FROM "GoldCase" g
         WHERE g."projectId" = $1 AND EXISTS (SELECT 1 FROM r)
           AND NOT EXISTS (SELECT 1 FROM "GoldServing" s WHERE s."caseId" = g."caseId" AND s."userId" = $2)
           AND NOT EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = g."caseId" AND a."authorId" = $2)
           AND NOT EXISTS (SELECT 1 FROM "QueueItem" i WHERE i."roundId" = (SELECT id FROM r) AND i."caseId" = g."caseId"))::int AS "goldLeft",
       (SELECT row_to_json(j) FROM (
          SELECT kind, status::text AS status, stage, percent, "createdAt" FROM "JobRun"
          WHERE "projectId" = $1 AND kind IN ('train', 'evaluate', 'select') AND status IN ('QUEUED', 'RUNNING') AND "createdAt" >= (SELECT "createdAt" FROM r)
          ORDER BY "createdAt" DESC LIMIT 1) j) AS job
     FROM access`,
    [q.projectId, q.userId, q.now],
  );
  if (!row) return null;
  const round = row.round as (Omit<NonNullable<ProjectQueueRows["round"]>, "createdAt"> & { createdAt: string }) | null;
  const job = row.job as (Omit<NonNullable<ProjectQueueRows["job"]>, "createdAt"> & { createdAt: string }) | null;
  return {
    membership: membershipOf(row),
    round: round ? { ...round, createdAt: jsonTimestamp(round.createdAt) } : null,
    items: (row.items as ItemTuple[] | null) ?? [],
    holders: ((row.holders as [string, boolean, string | null][] | null) ?? []).map(([userId, signedInBefore, lastLiveSeen]) => ({ userId, signedInBefore, lastLiveSeenAt: lastLiveSeen === null ? null : jsonTimestamp(lastLiveSeen) })),
    gold: (row.gold as GoldServingRow[] | null) ?? [],
    goldLeft: Number(row.goldLeft ?? 0),
    job: job ? { ...job, createdAt: jsonTimestamp(job.createdAt) } : null,
  };
}

type ItemState = "done" | "done-by-me" | "leased-by-me" | "leased" | "available" | "skipped";
type Status = ItemTuple[3];

/** A timestamp read out of json (UTC wall time without a zone) as ISO text with milliseconds, as Date#toISOString gives. */
const isoOf = (value: string) => new Date(value.endsWith("Z") ? value : `${value}Z`).toISOString();

/** The caller's total for a round (gold-mixing plannedRoundTotal; without gold, the round's items), as queue-service's plannedTotal. */
function plannedTotal(p: { roundId: string; userId: string; goldRate: number; items: number; servedRegular: number; goldServed: number; goldLeft: number }): number {
  if (p.goldRate <= 0 && p.goldServed === 0) return p.items;
  const goldLeft = p.goldRate > 0 ? p.goldLeft : 0;
  return plannedRoundTotal({ items: p.items, servedRegular: p.servedRegular, served: p.servedRegular + p.goldServed, goldLeft, rate: p.goldRate, phase: goldPhase(p.roundId, p.userId) });
}

/** A gold row's selection features (queue-service goldReasonFeatures): the neighbour's, with the gold case's likeliest minority class as pseudo-label. */
function goldReasonFeatures(features: unknown, probabilities: Record<string, number> | null, minorityClasses: string[]): unknown {
  if (!probabilities || typeof features !== "object" || features === null || Array.isArray(features)) return features;
  const f = features as Record<string, unknown>;
  if (typeof f.pseudoLabelKey !== "string") return features;
  const best = minorityClasses.filter((k) => typeof probabilities[k] === "number").sort((a, b) => probabilities[b]! - probabilities[a]!)[0];
  return best ? { ...f, pseudoLabelKey: best } : features;
}

/**
 * The current round of one project as the caller sees it, in rank order — the answer of queue.project
 * (shape: nextRound, project, round, items, counts; see queue-service getProjectQueue, whose answer it
 * repeats). ONE raw statement (queue-reads.ts projectQueueForMember).
 * @throws DomainError NOT_FOUND (not a member / no such project), FORBIDDEN (role may not annotate), CONFLICT (invalid stored configuration)
 */
export async function wholeRoundQueue(ctx: ServiceContext, input: ProjectQueueInput) {
  const actor = requireActor(ctx);
  const now = new Date();
  const found = typeof input.projectId === "string" && input.projectId.length > 0 ? await wholeRoundRows(ctx.db, { projectId: input.projectId, userId: actor.id, now }) : null;
  const { project, config } = admitToProject(ctx, found?.membership ?? null, "annotate");
  const { round, items, gold } = found!;
  const settings = config.settings;
  const idleSince = now.getTime() - settings.leaseMinutes * 60_000;
  const away = new Set(found!.holders.filter((h) => h.signedInBefore && (h.lastLiveSeenAt === null || h.lastLiveSeenAt.getTime() <= idleSince)).map((h) => h.userId));
  const holds = (l: LeaseTuple) => l[3] || (l[4] && !away.has(l[0]));
  const classKeys = config.labelSchema.labels.map((l) => l.key);
  const showProbabilities = Boolean(round?.modelVersionId && settings.showPredictions);
  const probabilitiesOf = (stored: unknown) => (showProbabilities && stored !== null && stored !== undefined ? probabilitiesByKey(stored, classKeys) : null);
  const reasonOf = (features: unknown, probabilities: Record<string, number> | null): SelectionReason | null =>
    round
      ? selectionReason({ features, strategy: round.strategy, coldStart: round.coldStart, labels: config.labelSchema.labels, minorityClasses: config.minorityClasses, showPredictions: settings.showPredictions, probabilities })
      : null;
  let servedRegular = 0;
  const rows = items.map((item) => {
    const [id, caseId, rank, status, , , , , , hasImages, stored, leaseList] = item;
    const leases = leaseList ?? [];
    const mine = leases.find((l) => l[0] === actor.id);
    if (mine) servedRegular++;
    let state: ItemState;
    if (mine?.[3]) state = "done-by-me";
    else if (status === "DONE") state = "done";
    else if (status === "SKIPPED") state = "skipped";
    else if (mine && mine[4]) state = "leased-by-me";
    else if (leases.filter(holds).length >= settings.annotationsPerCase) state = "leased";
    else state = "available";
    const heldBy = leases.filter((l) => l[0] !== actor.id && !l[3] && l[4] && !away.has(l[0])).map((l) => ({ name: l[1], until: isoOf(l[2]) }));
    return { queueItemId: id, caseId, rank, status: status as Status, state, hasImages, heldBy, reason: reasonOf(reasonFeatures(item), probabilitiesOf(stored)) };
  });
  for (const serving of gold) {
    const at = Math.min(serving.position, rows.length);
    const neighbour = items[Math.min(at, items.length - 1)];
    const answered = serving.answer === "SUBMITTED";
    const state: ItemState = answered ? "done-by-me" : serving.answer === null && serving.unexpired ? "leased-by-me" : "available";
    const probabilities = probabilitiesOf(serving.probabilities);
    const reason = reasonOf(goldReasonFeatures(neighbour ? reasonFeatures(neighbour) : {}, probabilities, config.minorityClasses), probabilities);
    const status: Status = answered && settings.annotationsPerCase === 1 ? "DONE" : "PENDING";
    rows.splice(at, 0, { queueItemId: serving.id, caseId: serving.caseId, rank: 0, status, state, hasImages: serving.hasImages, heldBy: [], reason });
  }
  if (gold.length > 0) rows.forEach((row, i) => (row.rank = i + 1));
  const done = rows.filter((r) => r.status === "DONE").length;
  const total = round ? plannedTotal({ roundId: round.id, userId: actor.id, goldRate: settings.goldRate, items: items.length, servedRegular, goldServed: gold.length, goldLeft: found!.goldLeft }) : 0;
  const job = round ? found!.job : null;
  return {
    nextRound: job ? { kind: job.kind, status: job.status, stage: job.stage, percent: job.percent, since: job.createdAt.toISOString() } : null,
    project: { id: project.id, name: project.name, labelSchema: config.labelSchema, annotationsPerCase: settings.annotationsPerCase, leaseMinutes: settings.leaseMinutes, archived: project.archivedAt !== null },
    round: round ? { id: round.id, number: round.number, strategy: round.strategy, coldStart: round.coldStart, createdAt: round.createdAt.toISOString() } : null,
    items: rows,
    counts: { total, done, remaining: total - done, doneByMe: rows.filter((r) => r.state === "done-by-me").length },
  };
}

