/**
 * The case browser's reads and writes: one page of a project's cases by keyset pagination in the
 * natural order of the case ids (`NATURAL_ID`: "case-2" before "case-10"; the (projectId,
 * externalId COLLATE natural_order) index of migration 0016 gives the order, so page n costs what page 1 costs),
 * filters as SQL, full-text search through the trigger-kept tsvector column and its GIN index
 * (migration 0005_case_search), one case
 * with everything about it, split moves and priority requests.
 *
 * Raw SQL (tagged templates: every value is a bound parameter) because the filters need EXISTS
 * sub-queries and the search needs PostgreSQL's text-search functions.
 */
import type { CaseFilters, CaseSplitName } from "@/contracts/case-browser";
import { ANNOTATION_RECORD_SELECT } from "./annotation-select";
import { Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

/**
 * The order of case ids in the browser: ICU numeric collation (`und-u-kn-true`, migration 0016), so
 * runs of digits compare as numbers ("case-2" < "case-10" < "CASE-11"); deterministic, so distinct
 * ids never tie and the keyset cursor (`> last id` in the same collation) is exact across pages.
 */
const NATURAL_ID = Prisma.sql`c."externalId" COLLATE "natural_order"`;

/** The narrative's search document: a tsvector column kept by a trigger and GIN-indexed (migration 0005_case_search). */
const SEARCH_DOCUMENT = Prisma.sql`c."searchVector"`;
const searchQuery = (text: string) => Prisma.sql`websearch_to_tsquery('english'::regconfig, ${text})`;

/** Marks a search hit in a snippet: private-use characters, so a narrative's own text (HTML included) is never markup. */
export const HIT_START = "\uE000";
export const HIT_STOP = "\uE001";

/** Number of lexemes of the search once stop words are dropped ("the", "and" alone give 0). */
export async function searchTermCount(db: DbOrTx, text: string): Promise<number> {
  const rows = await db.$queryRaw<{ n: number }[]>`SELECT numnode(${searchQuery(text)})::int AS n`;
  return rows[0]?.n ?? 0;
}

/** A submitted annotation is the author's latest when no submitted one of theirs has a higher version. */
const LATEST_OF_AUTHOR = Prisma.sql`NOT EXISTS (
  SELECT 1 FROM "Annotation" b
  WHERE b."caseId" = a."caseId" AND b."authorId" = a."authorId" AND b."kind" = 'SUBMITTED' AND b."version" > a."version")`;

function filterConditions(projectId: string, filters: CaseFilters): Prisma.Sql[] {
  const where: Prisma.Sql[] = [Prisma.sql`c."projectId" = ${projectId}`];
  if (filters.split) where.push(Prisma.sql`c."split" = ${filters.split}::"CaseSplit"`);
  const annotated = Prisma.sql`EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = c."id" AND a."kind" = 'SUBMITTED')`;
  if (filters.labelled === "yes") where.push(Prisma.sql`(c."importedLabel" IS NOT NULL OR ${annotated})`);
  if (filters.labelled === "no") where.push(Prisma.sql`(c."importedLabel" IS NULL AND NOT ${annotated})`);
  if (filters.label) {
    where.push(Prisma.sql`(c."importedLabel" = ${filters.label} OR EXISTS (
      SELECT 1 FROM "Annotation" a
      WHERE a."caseId" = c."id" AND a."kind" = 'SUBMITTED' AND ${filters.label} = ANY(a."labels") AND ${LATEST_OF_AUTHOR}))`);
  }
  if (filters.annotatorId) {
    where.push(Prisma.sql`EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = c."id" AND a."authorId" = ${filters.annotatorId} AND a."kind" = 'SUBMITTED')`);
  }
  if (filters.disagreement !== undefined) {
    // Cases where two annotators' latest label sets differ (sorted when multi-label, so the order
    // of clicks does not count). First the cases with two or more annotators (one hash aggregate
    // over the submitted annotations, which are far fewer than cases), then, per such case, its
    // annotators' latest sets through the (caseId, authorId, version) index: "not all equal" is
    // min <> max. The outer query keeps the project's cases.
    const sortedLabels = Prisma.sql`CASE WHEN cardinality(a."labels") > 1 THEN (SELECT array_agg(x ORDER BY x) FROM unnest(a."labels") x) ELSE a."labels" END`;
    const disagreeing = Prisma.sql`WITH multi AS MATERIALIZED (
        SELECT m."caseId" FROM "Annotation" m WHERE m."kind" = 'SUBMITTED' GROUP BY m."caseId" HAVING min(m."authorId") <> max(m."authorId"))
      SELECT multi."caseId" FROM multi
      WHERE (SELECT min(l.labels) <> max(l.labels) FROM (
        SELECT DISTINCT ON (a."authorId") ${sortedLabels} AS labels FROM "Annotation" a
        WHERE a."caseId" = multi."caseId" AND a."kind" = 'SUBMITTED'
        ORDER BY a."authorId", a."version" DESC) l)`;
    // "= ANY(ARRAY(…))": the planner cannot estimate this set, and as an array the disagreeing
    // cases are fetched by primary key (few) instead of a scan of the project's cases.
    where.push(filters.disagreement ? Prisma.sql`c."id" = ANY(ARRAY(${disagreeing}))` : Prisma.sql`c."id" NOT IN (${disagreeing})`);
  }
  if (filters.round !== undefined) {
    where.push(Prisma.sql`EXISTS (
      SELECT 1 FROM "QueueItem" q JOIN "SelectionRound" r ON r."id" = q."roundId"
      WHERE q."caseId" = c."id" AND r."projectId" = ${projectId} AND r."number" = ${filters.round})`);
  }
  const withImages = Prisma.sql`EXISTS (SELECT 1 FROM "CaseImage" i WHERE i."caseId" = c."id")`;
  if (filters.hasImages === true) where.push(withImages);
  if (filters.hasImages === false) where.push(Prisma.sql`NOT ${withImages}`);
  if (filters.hasNarrative === true) where.push(Prisma.sql`(c."narrative" IS NOT NULL AND c."narrative" <> '')`);
  if (filters.hasNarrative === false) where.push(Prisma.sql`(c."narrative" IS NULL OR c."narrative" = '')`);
  if (filters.importBatchId) where.push(Prisma.sql`c."importBatchId" = ${filters.importBatchId}`);
  if (filters.search) where.push(Prisma.sql`${SEARCH_DOCUMENT} @@ ${searchQuery(filters.search)}`);
  return where;
}

export interface CasePageRow {
  id: string;
  externalId: string;
  split: CaseSplitName;
  importedLabel: string | null;
  importBatchId: string | null;
  createdAt: Date;
  priorityRequestedAt: Date | null;
  hasNarrative: boolean;
  imageCount: number;
  /** The narrative's first 200 characters (no search) or ts_headline's fragments around the hits (search), hits between HIT_START and HIT_STOP. */
  snippet: string | null;
  /** Each annotator's latest submitted labels, by name. */
  annotators: { authorId: string; name: string; labels: string[] }[];
  /** Numbers of the project's rounds that queued the case, ascending. */
  rounds: number[];
}

/**
 * One page of the project's cases matching `filters`, ordered naturally by the case id from the
 * source (externalId, unique per project; `NATURAL_ID`), after `afterExternalId` when given. Returns up to `limit`
 * rows; ask for one more than you show to know whether there is a next page.
 * The snippet, image count, annotators and rounds are computed for the page's rows only.
 */
export async function listCasePage(db: DbOrTx, projectId: string, filters: CaseFilters, afterExternalId: string | null, limit: number): Promise<CasePageRow[]> {
  return db.$queryRaw<CasePageRow[]>(casePageQuery(projectId, filters, afterExternalId, limit));
}

/** The SQL of `listCasePage` (also for EXPLAIN in scripts/bench-cases.ts). */
export function casePageQuery(projectId: string, filters: CaseFilters, afterExternalId: string | null, limit: number): Prisma.Sql {
  const where = filterConditions(projectId, filters);
  if (afterExternalId !== null) where.push(Prisma.sql`${NATURAL_ID} > ${afterExternalId}`);
  const snippet = filters.search
    ? Prisma.sql`ts_headline('english'::regconfig, left(coalesce(c."narrative", ''), 100000), ${searchQuery(filters.search)},
        ${`StartSel=${HIT_START}, StopSel=${HIT_STOP}, MaxWords=28, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`})`
    : Prisma.sql`left(c."narrative", 200)`;
  // The CTE picks the page through an index (one query per page, whatever the page number); the
  // rest computes the costly columns for those rows only.
  return Prisma.sql`
    WITH page AS MATERIALIZED (
      SELECT c."id" FROM "Case" c
      WHERE ${Prisma.join(where, " AND ")}
      ORDER BY ${NATURAL_ID}
      LIMIT ${limit}
    ), page_rounds AS (
      SELECT q."caseId", array_agg(DISTINCT r."number" ORDER BY r."number") AS "rounds"
      FROM "QueueItem" q JOIN "SelectionRound" r ON r."id" = q."roundId"
      WHERE r."projectId" = ${projectId} AND q."caseId" IN (SELECT "id" FROM page)
      GROUP BY q."caseId"
    )
    SELECT c."id", c."externalId", c."split"::text AS "split", c."importedLabel", c."importBatchId", c."createdAt", c."priorityRequestedAt",
      (c."narrative" IS NOT NULL AND c."narrative" <> '') AS "hasNarrative",
      (SELECT count(*)::int FROM "CaseImage" i WHERE i."caseId" = c."id") AS "imageCount",
      ${snippet} AS "snippet",
      (SELECT coalesce(json_agg(json_build_object('authorId', l."authorId", 'name', u."name", 'labels', l."labels") ORDER BY u."name", l."authorId"), '[]'::json)
         FROM (SELECT DISTINCT ON (a."authorId") a."authorId", a."labels" FROM "Annotation" a
               WHERE a."caseId" = c."id" AND a."kind" = 'SUBMITTED' ORDER BY a."authorId", a."version" DESC) l
         JOIN "User" u ON u."id" = l."authorId") AS "annotators",
      coalesce(pr."rounds", '{}'::int[]) AS "rounds"
    FROM page
    JOIN "Case" c ON c."id" = page."id"
    LEFT JOIN page_rounds pr ON pr."caseId" = c."id"
    ORDER BY ${NATURAL_ID}`;
}

/** How many cases match, counting at most `cap` + 1 (so "more than cap" is cheap to tell). */
export async function countCases(db: DbOrTx, projectId: string, filters: CaseFilters, cap: number): Promise<number> {
  const where = filterConditions(projectId, filters);
  const rows = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM "Case" c WHERE ${Prisma.join(where, " AND ")} LIMIT ${cap + 1}) matched`;
  return rows[0]?.n ?? 0;
}

/** Filter options: the users who submitted annotations in the project (with how many cases each). */
export async function listProjectAnnotators(db: DbOrTx, projectId: string) {
  return db.$queryRaw<{ id: string; name: string; cases: number }[]>`
    SELECT u."id", u."name", count(DISTINCT a."caseId")::int AS "cases"
    FROM "Annotation" a JOIN "Case" c ON c."id" = a."caseId" JOIN "User" u ON u."id" = a."authorId"
    WHERE c."projectId" = ${projectId} AND a."kind" = 'SUBMITTED'
    GROUP BY u."id", u."name"
    ORDER BY u."name", u."id"`;
}

/** Filter options: the project's rounds and import batches. */
export function listProjectRounds(db: DbOrTx, projectId: string) {
  return db.selectionRound.findMany({
    where: { projectId },
    orderBy: { number: "desc" },
    select: { number: true, strategy: true, coldStart: true, createdAt: true },
  });
}

export function listProjectImportBatches(db: DbOrTx, projectId: string) {
  return db.importBatch.findMany({
    where: { projectId },
    orderBy: { createdAt: "desc" },
    select: { id: true, source: true, caseCount: true, createdAt: true },
  });
}

/** Whether the project has any model version (trained or being trained): its TEST split has been used for evaluation. */
export async function projectHasModel(db: DbOrTx, projectId: string): Promise<boolean> {
  return (await db.modelVersion.count({ where: { projectId } })) > 0;
}

/** One case of the project with everything the read-only view shows; null when the case is not in this project. */
export function findCaseDetail(db: DbOrTx, projectId: string, caseId: string) {
  return db.case.findFirst({
    where: { id: caseId, projectId },
    select: {
      id: true,
      externalId: true,
      narrative: true,
      split: true,
      metadata: true,
      importedLabel: true,
      createdAt: true,
      priorityRequestedAt: true,
      importBatch: { select: { id: true, source: true, createdAt: true } },
      images: { orderBy: { position: "asc" }, select: { id: true, mimeType: true, frames: true, position: true, attributes: true } },
      annotations: {
        orderBy: [{ createdAt: "asc" }, { version: "asc" }],
        select: ANNOTATION_RECORD_SELECT,
      },
      queueItems: {
        orderBy: { round: { number: "asc" } },
        select: {
          rank: true,
          status: true,
          features: true,
          round: { select: { number: true, strategy: true, coldStart: true, createdAt: true, modelVersion: { select: { version: true } } } },
        },
      },
      predictions: {
        orderBy: { modelVersion: { version: "desc" } },
        select: { probabilities: true, predictedLabel: true, confidence: true, createdAt: true, modelVersion: { select: { id: true, version: true, status: true } } },
      },
    },
  });
}

/** Whether the user submitted an annotation of the case (a clinician may open the cases they annotated). */
export async function hasSubmittedAnnotation(db: DbOrTx, caseId: string, userId: string): Promise<boolean> {
  return (await db.annotation.count({ where: { caseId, authorId: userId, kind: "SUBMITTED" } })) > 0;
}

export interface CaseStateRow {
  id: string;
  externalId: string;
  split: CaseSplitName;
  priorityRequestedAt: Date | null;
  labelled: boolean;
  queued: boolean;
}

/**
 * The given cases of the project, locked FOR UPDATE until the transaction ends, with what the bulk
 * actions check: labelled (imported label or a submitted annotation) and queued (a PENDING item).
 * Cases of other projects are not returned.
 */
export function lockCasesForUpdate(tx: Prisma.TransactionClient, projectId: string, caseIds: string[]) {
  return tx.$queryRaw<CaseStateRow[]>`
    SELECT c."id", c."externalId", c."split"::text AS "split", c."priorityRequestedAt",
      (c."importedLabel" IS NOT NULL OR EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = c."id" AND a."kind" = 'SUBMITTED')) AS "labelled",
      EXISTS (SELECT 1 FROM "QueueItem" q WHERE q."caseId" = c."id" AND q."status" = 'PENDING') AS "queued"
    FROM "Case" c
    WHERE c."projectId" = ${projectId} AND c."id" IN (${Prisma.join(caseIds)})
    ORDER BY c."externalId"
    FOR UPDATE OF c`;
}

export async function setCasesSplit(tx: DbOrTx, projectId: string, caseIds: string[], split: CaseSplitName): Promise<number> {
  const result = await tx.case.updateMany({ where: { projectId, id: { in: caseIds } }, data: { split } });
  return result.count;
}

export async function setCasesPriority(tx: DbOrTx, projectId: string, caseIds: string[], requestedById: string | null): Promise<number> {
  const result = await tx.case.updateMany({
    where: { projectId, id: { in: caseIds } },
    data: requestedById ? { priorityRequestedAt: new Date(), priorityRequestedById: requestedById } : { priorityRequestedAt: null, priorityRequestedById: null },
  });
  return result.count;
}

/**
 * For the select job: the project's priority-requested cases among `selectableIds` (POOL, not
 * labelled, not queued), oldest request first.
 */
export function listPriorityCases(db: DbOrTx, projectId: string) {
  return db.case.findMany({
    where: { projectId, priorityRequestedAt: { not: null } },
    orderBy: [{ priorityRequestedAt: "asc" }, { externalId: "asc" }],
    select: { id: true },
  });
}

/** Clears the priority request of cases a round has just queued. */
export async function clearPriority(tx: DbOrTx, projectId: string, caseIds: string[]): Promise<number> {
  if (caseIds.length === 0) return 0;
  const result = await tx.case.updateMany({ where: { projectId, id: { in: caseIds } }, data: { priorityRequestedAt: null, priorityRequestedById: null } });
  return result.count;
}
