/**
 * Cases as the annotation workspace reads them, versioned annotations and drafts. Annotations are
 * only ever inserted; the unique (caseId, authorId, version) constraint is the last guard against
 * two writers taking the same version.
 */
import type { CaseSplit, Db, Role } from "./client";
import type { ProjectAccessRow } from "./projects-repo";
import type { AnnotationKind, Prisma } from "./generated/client";
import { ANNOTATING_ROLES, noMemberLeftSql } from "./queue-repo";
import { execute, newId, prepared, sql, type Sql, type TransactionHead, type TripStatement } from "./sql";
import type { DbOrTx } from "./tx";

export interface CaseForMember {
  id: string;
  projectId: string;
  externalId: string;
  narrative: string | null;
  split: CaseSplit;
  images: { id: string; mimeType: string; frames: number; position: number; attributes: Prisma.JsonValue; storageKey: string }[];
  /** A gold case (migration 0015) is scoped to the caller like N > 1: its annotations are independent gold answers. */
  gold: { caseId: string } | null;
  /** The caller's membership of the case's project with the project as the front door reads it (findProjectMembership's shape). */
  membership: { role: Role; project: ProjectAccessRow };
  /** What decides whether the caller may annotate the case here (annotationRefusal): read by the same statement. */
  access: CaseAccess;
}

/**
 * Whether the caller may annotate a case, as the case read answered it (queueAccessSql): its queue item in the latest
 * round of its project (none: never queued), the other members' leases that take a slot (completed, or not expired),
 * whether the caller holds an unexpired open lease on it, has submitted it before, and was served it as a gold case.
 */
export interface CaseAccess {
  itemStatus: string | null;
  othersLeases: number;
  leaseMine: boolean;
  submittedBefore: boolean;
  goldServed: boolean;
}

/** The refusals of annotationRefusal (the texts the workspace shows). */
export const REFUSAL = {
  test: "This case is in the TEST split: its imported label is used to evaluate models, so it is not annotated here.",
  notQueued: "This case is not in your queue.",
  taken: "Another clinician is working on this case.",
  full: "This case already has all the annotators it needs.",
} as const;

/**
 * Who may annotate a case in the workspace (drafts and submissions; issue: a clinician could label any case of the
 * project, TEST ground truth included):
 *  - a TEST case never (its imported label evaluates models; adjudication writes through its own service);
 *  - a gold case served to the caller (gold-service.ts);
 *  - a case whose queue lease the caller holds (unexpired), or whose item in the latest round is PENDING with a free
 *    slot (fewer than annotationsPerCase other leases that count: the submission takes the slot);
 *  - a case the caller submitted before (editing their own answer from the history).
 * @returns null when allowed, else the refusal's text (REFUSAL)
 */
export function annotationRefusal(found: Pick<CaseForMember, "split" | "gold" | "access">, annotationsPerCase: number): string | null {
  if (found.split === "TEST") return REFUSAL.test;
  const a = found.access;
  if (found.gold !== null && a.goldServed) return null;
  if (a.leaseMine || a.submittedBefore) return null;
  if (a.itemStatus === "PENDING") return a.othersLeases < annotationsPerCase ? null : annotationsPerCase > 1 ? REFUSAL.full : REFUSAL.taken;
  return REFUSAL.notQueued;
}

/**
 * The columns of CaseAccess for a case row `c` ($2 the caller) and its item `q` (a lateral of the latest round's item:
 * queueItemSql): the leases' counts in ONE aggregate over the item's leases, the caller's submission and gold serving by
 * their unique indexes. now(): the transaction's start, as the lease's expiry is compared elsewhere within a request.
 */
const QUEUE_ACCESS_COLUMNS = `q.id AS "itemId", q.status AS "itemStatus",
       coalesce(ls.others, 0) AS "othersLeases", coalesce(ls.mine, false) AS "leaseMine",
       EXISTS (SELECT 1 FROM "Annotation" a WHERE a."caseId" = c.id AND a."authorId" = $2 AND a.kind = 'SUBMITTED') AS "submittedBefore",
       EXISTS (SELECT 1 FROM "GoldServing" gs WHERE gs."caseId" = c.id AND gs."userId" = $2) AS "goldServed"`;

/** The case's item in the latest round of its project (`lock`: its row locked) and that item's leases, as laterals after `c`. */
const queueItemSql = (lock: boolean) => `LEFT JOIN LATERAL (
     SELECT i.id, i.status::text AS status FROM "QueueItem" i JOIN "SelectionRound" r ON r.id = i."roundId"
     WHERE i."caseId" = c.id AND r."projectId" = c."projectId"
     ORDER BY r.number DESC LIMIT 1${lock ? " FOR UPDATE OF i" : ""}) q ON true
   LEFT JOIN LATERAL (
     SELECT count(*) FILTER (WHERE l."userId" <> $2 AND (l."completedAt" IS NOT NULL OR l."expiresAt" > now()))::int AS others,
            bool_or(l."userId" = $2 AND l."completedAt" IS NULL AND l."expiresAt" > now()) AS mine
     FROM "QueueLease" l WHERE l."queueItemId" = q.id) ls ON true`;

const PROJECT_COLUMNS = ["id", "name", "description", "caseContent", "labelSchema", "minorityClasses", "selectionParams", "encoderConfig", "settings", "archivedAt", "createdAt", "updatedAt"] as const;

/**
 * A project row's version as the case reads answer it: the project's id, its tuple's xmin (every UPDATE of the row
 * writes a new tuple with the writing transaction's id, however the update was sent: Prisma, raw SQL, a migration) and
 * its updatedAt. Only a committed version is ever visible to another transaction, so one version text is one content.
 */
const PROJECT_VERSION_SQL = `p.id || '/' || p.xmin::text || '/' || p."updatedAt"::text`;

/**
 * The case reads' project columns: the front door's row as JSON — NULL when the version is one of `known` (the
 * process holds that row: knownProjectVersions).
 */
const projectColumnSql = (known: string) =>
  `${PROJECT_VERSION_SQL} AS "projectVersion",
       CASE WHEN ${PROJECT_VERSION_SQL} = ANY(${known}::text[]) THEN NULL ELSE json_build_object(${PROJECT_COLUMNS.map((column) => `'${column}', p."${column}"`).join(", ")}) END AS project`;

/** The front door's project row by id with its version ($1 project): read when a case read's row named a version the process no longer holds. */
const PROJECT_ROW = prepared(`SELECT ${PROJECT_COLUMNS.map((column) => `p."${column}"`).join(", ")}, ${PROJECT_VERSION_SQL} AS version FROM "Project" p WHERE p.id = $1`);

/** At most this many project versions kept per process (one per project; the one read first goes first). */
const PROJECT_ROWS_KEPT = 16;

/** The project rows this process read, by version (PROJECT_VERSION_SQL), one version per project. Frozen: every call's. */
const projectRows = new Map<string, ProjectAccessRow>();
/** projectRows' versions, as the case reads send them. */
let knownVersions: readonly string[] = [];

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function keepProjectRow(version: string, project: ProjectAccessRow): ProjectAccessRow {
  const row = deepFreeze(project);
  for (const [kept, other] of projectRows) if (other.id === row.id) projectRows.delete(kept);
  if (projectRows.size >= PROJECT_ROWS_KEPT) projectRows.delete(projectRows.keys().next().value!);
  projectRows.set(version, row);
  knownVersions = [...projectRows.keys()];
  return row;
}

/** The project's row as json_build_object answered it: its timestamps (UTC wall time, as sql.ts reads them) as Dates. */
function projectFromJson(json: Record<string, unknown>): ProjectAccessRow {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(`${value as string}Z`));
  return { ...json, archivedAt: date(json.archivedAt), createdAt: date(json.createdAt), updatedAt: date(json.updatedAt) } as ProjectAccessRow;
}

/**
 * The front door's row of the project a case read answered (issue 16): the case view, autosave and submit read the
 * project's configuration columns — and the front door parsed them — on every call, although they change only when
 * someone edits the project. The case reads send the versions this process holds (knownProjectVersions) and answer the
 * row's version, with the row itself only when it is not one of them; that row is kept (frozen, deeply: the same object
 * is every call's, and project-access.ts parses a frozen row's configuration once). A version answered as held but
 * dropped meanwhile (another project's row took its place) is read again on `q`.
 * @returns null when the project is gone
 */
async function projectOfRow(row: Record<string, unknown>, q: Sql): Promise<ProjectAccessRow | null> {
  const version = row.projectVersion as string;
  if (row.project) return keepProjectRow(version, projectFromJson(row.project as Record<string, unknown>));
  const kept = projectRows.get(version);
  if (kept) return kept;
  const [read] = await q.query<ProjectAccessRow & { version: string }>(PROJECT_ROW, [row.projectId]);
  if (!read) return null;
  const { version: readVersion, ...project } = read;
  return keepProjectRow(readVersion, project as ProjectAccessRow);
}

/** The project versions this process holds, for a case read's $3 (projectColumnSql). */
function knownProjectVersions(): readonly string[] {
  return knownVersions;
}

/**
 * A case of a project the user is a member of, with what the case view shows (images by position) and the
 * caller's membership with the project's front-door columns (server/services/project-access.ts
 * admitToProject checks them); null for anyone else. ONE raw statement (images as JSON beside the case, the
 * project's row only when this process does not hold its version: projectOfRow): the case view and autosave read it
 * on every call (issue 16); a submission reads the case under its lock, with its BEGIN (submitLockStatements).
 */
export async function findCaseForMember(db: Db, caseId: string, userId: string): Promise<CaseForMember | null> {
  const q = sql(db);
  return (await readCaseForMember(await q.query<Record<string, unknown>>(CASE_FOR_MEMBER, [caseId, userId, knownProjectVersions()]), q)) as CaseForMember | null;
}

/**
 * The case as a case read answered it (findCaseForMember's statement, or submitLockStatements'), with the project's
 * row (projectOfRow: on `q` only in the rare case the row's version was dropped meanwhile): null without a row (not a
 * member, no such case). `narrative` and `images` are those the statement read (submitLockStatements reads them only
 * when asked).
 */
export async function readCaseForMember(rows: readonly Record<string, unknown>[] | undefined, q: Sql): Promise<LockedCase | null> {
  const row = rows?.[0];
  if (!row) return null;
  const project = await projectOfRow(row, q);
  if (!project) return null;
  return {
    id: row.id as string,
    projectId: row.projectId as string,
    externalId: row.externalId as string,
    ...("narrative" in row ? { narrative: row.narrative as string | null } : {}),
    split: row.split as CaseSplit,
    ...("images" in row ? { images: row.images as CaseForMember["images"] } : {}),
    gold: row.gold ? { caseId: row.id as string } : null,
    membership: { role: row.memberRole as Role, project },
    access: accessOfRow(row),
  };
}

/** CaseAccess from a row with QUEUE_ACCESS_COLUMNS. */
function accessOfRow(row: Record<string, unknown>): CaseAccess {
  return {
    itemStatus: (row.itemStatus as string | null) ?? null,
    othersLeases: (row.othersLeases as number | null) ?? 0,
    leaseMine: row.leaseMine === true,
    submittedBefore: row.submittedBefore === true,
    goldServed: row.goldServed === true,
  };
}

/** A case as submitLockStatements reads it: the narrative and the images only when the submission asked for them. */
export type LockedCase = Omit<CaseForMember, "narrative" | "images"> & Partial<Pick<CaseForMember, "narrative" | "images">>;

/**
 * The case with the caller's membership and its project's row version ($1 case, $2 user, $3 the project versions the
 * process holds): findCaseForMember's statement (narrative and images), and with a row lock (FOR UPDATE OF the case)
 * the head of the submission's (its narrative and images only when asked).
 */
function caseForMemberText(read: { narrative: boolean; images: boolean; lock: boolean }): string {
  const images = `coalesce((SELECT json_agg(json_build_object('id', i.id, 'mimeType', i."mimeType", 'frames', i.frames, 'position', i.position, 'attributes', i.attributes, 'storageKey', i."storageKey") ORDER BY i.position, i.id)
                 FROM "CaseImage" i WHERE i."caseId" = c.id), '[]'::json) AS images,`;
  // Without the lock (the case view, autosave) the queue state rides here; with it, a statement of its own reads it
  // after the locks (submitLockStatements' SUBMIT_ACCESS).
  return `SELECT c.id, c."projectId", c."externalId",${read.narrative ? " c.narrative," : ""} c.split::text AS split,${read.images ? `\n       ${images}` : ""}
       EXISTS (SELECT 1 FROM "GoldCase" g WHERE g."caseId" = c.id) AS gold, m.role::text AS "memberRole",${read.lock ? "" : `\n       ${QUEUE_ACCESS_COLUMNS},`}
       ${projectColumnSql("$3")}
     FROM "Case" c
     JOIN "ProjectMember" m ON m."projectId" = c."projectId" AND m."userId" = $2
     JOIN "Project" p ON p.id = c."projectId"${read.lock ? "" : `\n   ${queueItemSql(false)}`}
     WHERE c.id = $1${read.lock ? "\n     FOR UPDATE OF c" : ""}`;
}

/** findCaseForMember's statement, kept prepared per connection (sql.ts `prepared`). */
const CASE_FOR_MEMBER = prepared(caseForMemberText({ narrative: true, images: true, lock: false }));

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

export interface SubmitState {
  /** Submitted annotations of the case (of `scopeAuthorId` only, when given): the case version. */
  current: number;
  /** The author's highest version of the case, any kind (0 for none). */
  maxVersion: number;
  /** Other users' leases on the item that count: completed, or not yet expired at `now`. */
  others: number;
  /** The author's own lease on the item: "open", "completed", or null for none. */
  mine: "open" | "completed" | null;
}


/**
 * The statement that starts a submission's raw transaction, sent with BEGIN in ONE round trip (server/db/sql.ts
 * `begin`; issue 16): the case with the caller's membership and its project's row version (readSubmitLock: the project
 * row only when the process does not hold that version, projectOfRow), the case's row lock (FOR UPDATE OF the case) — then, in the same statement and only once the
 * case is locked, the row lock of the case's queue item in the latest round of the case's project that holds it (its
 * id, and its status as of the lock; none when the case is not queued). Both only for a member: for anyone else the
 * join returns no row, so nothing is locked or waited on and the caller answers NOT_FOUND. Case first, then item: the
 * order skip and the lease use, so none of them deadlock (the locked case is a MATERIALIZED CTE, read whole before
 * the item's lateral subquery runs). The item's row is locked at its latest version (a status committed while we
 * waited on the case is the one read); the item is found in the statement's snapshot — a round that queues this case
 * can only be written while the case has no PENDING item (selectable-pool.ts), and is not serialised by the case lock
 * either way. The case's narrative and images are read only when `read` asks (the content's spans quote the narrative,
 * its regions lie on the images): without them the statement sends neither. A prepared statement (sql.ts `execute`).
 * Was two statements (the case, then the item); one statement less per submission. Followed, in the same trip, by
 * SUBMIT_ACCESS (who may annotate the case, read in a snapshot taken under these locks).
 */
export function submitLockStatements(caseId: string, userId: string, read: { narrative: boolean; images: boolean } = { narrative: true, images: true }): TripStatement[] {
  // The second statement (SUBMIT_ACCESS) starts once the first holds its locks, so its snapshot sees every lease and
  // submission committed while the first waited on them (the first's own snapshot predates the wait): a colleague's lease
  // taken meanwhile, or the caller's own answer from another tab. Same trip: a statement more, no round trip more.
  return [execute(SUBMIT_LOCK[(read.narrative ? 1 : 0) + (read.images ? 2 : 0)]!, [caseId, userId, knownProjectVersions()]), execute(SUBMIT_ACCESS, [caseId, userId])];
}

function submitLockText(read: { narrative: boolean; images: boolean }): string {
  return `WITH c AS MATERIALIZED (
     ${caseForMemberText({ ...read, lock: true })})
   SELECT c.*, q.id AS "itemId", q.status AS "itemStatus"
   FROM c LEFT JOIN LATERAL (
     SELECT i.id, i.status::text AS status FROM "QueueItem" i JOIN "SelectionRound" r ON r.id = i."roundId"
     WHERE i."caseId" = c.id AND r."projectId" = c."projectId"
     ORDER BY r.number DESC LIMIT 1 FOR UPDATE OF i) q ON true`;
}

/**
 * The case's CaseAccess ($1 case, $2 user), read after submitLockStatements' lock statement in the same trip: under the
 * case's and the item's row locks, in a snapshot taken after them. Rows for anyone, but read only for a member (the
 * lock statement answers a non-member with no row).
 */
const SUBMIT_ACCESS = prepared(`SELECT ${QUEUE_ACCESS_COLUMNS}
     FROM "Case" c
   ${queueItemSql(false)}
     WHERE c.id = $1`);

/**
 * The case's CaseAccess ($1 case, $2 user) read on a Prisma transaction (SUBMIT_ACCESS's statement): for a skip
 * (queue-service.ts skipCase), after its case and item locks, so it decides on committed data as a submission does.
 */
export async function readCaseAccess(tx: Prisma.TransactionClient, caseId: string, userId: string): Promise<CaseAccess> {
  const [row] = await tx.$queryRawUnsafe<Record<string, unknown>[]>(SUBMIT_ACCESS.text, caseId, userId);
  return accessOfRow(row ?? {});
}

/** submitLockStatements' statements by what they read: [neither, narrative, images, both]. */
const SUBMIT_LOCK = [false, true].flatMap((images) => [false, true].map((narrative) => prepared(submitLockText({ narrative, images }))));

/**
 * What submitLockStatements' statements answered (their rows, in order): the case (null: not a member or no such case)
 * with its CaseAccess as the second statement read it under the locks, and its queue item, locked (null: not queued).
 */
export async function readSubmitLock(beginRows: readonly (readonly Record<string, unknown>[])[], q: Sql): Promise<{ found: LockedCase | null; item: { id: string; status: string } | null }> {
  const [rows, accessRows] = beginRows;
  const read = await readCaseForMember(rows, q);
  const found = read && accessRows?.[0] ? { ...read, access: accessOfRow(accessRows[0]) } : read;
  const row = rows?.[0];
  return { found, item: found && row?.itemId ? { id: row.itemId as string, status: row.itemStatus as string } : null };
}

export interface SubmissionInput {
  caseId: string;
  projectId: string;
  authorId: string;
  /** Count and compare only this author's submissions (N > 1, gold); null: everyone's. */
  scopeAuthorId: string | null;
  /** The case's queue item, locked and PENDING; null otherwise. */
  queueItemId: string | null;
  expectedVersion: number;
  now: Date;
  labels: string[];
  spans: unknown;
  regions: unknown;
  uncertain: boolean;
  comment: string;
  timeSpentMs: number;
  annotationsPerCase: number;
  actor: { actorId: string | null; actorRole: string | null };
}

export interface SubmissionResult extends SubmitState {
  /** Set when written: the new annotation's id and version (null on a version conflict: nothing written). */
  annotationId: string | null;
  version: number | null;
  /** Whether the item is now DONE (annotationsPerCase completed leases, or no other member left to answer it). */
  itemDone: boolean;
}

/**
 * A submission's checks and writes in ONE raw statement, once the case and its queue item are locked
 * (submitLockStatements). Reads the case version (submitted annotations, of
 * `scopeAuthorId` only when given), the author's last version and the item's lease state; then — only
 * when the case version equals `expectedVersion` — deletes the author's draft, inserts the annotation
 * (version = the author's last + 1, kind SUBMITTED), completes the author's lease when there is an item
 * (`queueItemId`: PENDING as its lock read it, so its status is not read again) and the author holds an open
 * lease or a slot is free (a lease row completed at `now` is inserted when they had none), marks the item DONE when that makes `annotationsPerCase` completed
 * leases or leaves no other member who may still answer it (queue-repo.ts noMemberLeftSql: the rest skipped), and appends the audit event `annotation.submit` { version, caseVersion, annotationId }.
 * On a conflict nothing is written (the caller rolls back and answers with both versions). The statement runs in a
 * trip of its own here; submissionInTrip sends the same statement in a transaction's commit trip instead.
 */
export async function writeSubmission(tx: Sql, q: SubmissionInput): Promise<SubmissionResult> {
  const [row] = await tx.query<SubmitState & { annotationId: string | null; version: number | null; itemDone: boolean }>(
    writeSubmissionStatement(q.annotationsPerCase),
    submissionValues(q, newId(), false),
  );
  const r = row!;
  return {
    current: r.current,
    maxVersion: r.maxVersion,
    others: r.others,
    mine: r.mine,
    annotationId: r.annotationId,
    version: r.version,
    itemDone: r.itemDone,
  };
}

/** writeSubmission's values ($1…$20): `strict` ($20) makes a version conflict an error (SUBMIT_CONFLICT_MARK) instead of a row without an annotation. */
function submissionValues(q: SubmissionInput, annotationId: string, strict: boolean): unknown[] {
  return [
    q.caseId,
    q.authorId,
    q.scopeAuthorId,
    q.queueItemId,
    q.now,
    q.expectedVersion,
    annotationId,
    q.labels,
    JSON.stringify(q.spans ?? []),
    JSON.stringify(q.regions ?? []),
    q.uncertain,
    q.comment,
    q.timeSpentMs,
    newId(),
    q.annotationsPerCase,
    q.actor.actorId,
    q.actor.actorRole,
    q.projectId,
    [...ANNOTATING_ROLES],
    strict,
  ];
}

/** What a submission sent in its commit trip answers (submissionInTrip): the new annotation, the case version before it, whether the item is now DONE. */
export interface SubmissionOutcome {
  annotationId: string;
  version: number;
  /** The case version before this submission (of `scopeAuthorId` only, when given). */
  current: number;
  /** The item is now DONE (annotationsPerCase completed leases, or no other member left to answer it). */
  itemDone: boolean;
}

/**
 * writeSubmission as statements for a transaction's commit trip (sql.ts transactionWithTail `head`), once the case and its
 * queue item are locked (submitLockStatements) — the same statement, which then takes no round trip of its own:
 *  - `statements`: writeSubmission's statement in its strict form: a version conflict is an ERROR (nothing written, the
 *    trip's COMMIT never runs; isSubmitConflict recognises it), so nothing sent after it in the trip can commit without
 *    the submission;
 *  - `recovery`: what the submission wrote, read again under the lock (the answer of a trip that failed later, in its
 *    tail, is lost with it);
 *  - readSubmissionOutcome reads the rows of either.
 */
export function submissionInTrip(q: SubmissionInput): TransactionHead {
  const annotationId = newId();
  return {
    statements: [execute(writeSubmissionStatement(q.annotationsPerCase), submissionValues(q, annotationId, true))],
    recovery: [execute(SUBMISSION_OUTCOME, [annotationId, q.caseId, q.scopeAuthorId, q.queueItemId])],
  };
}

/** The outcome of submissionInTrip from the head's rows (its statement's or its recovery's: the same columns). */
export function readSubmissionOutcome(head: readonly Record<string, unknown>[][] | null): SubmissionOutcome {
  const row = head?.[0]?.[0] as { annotationId: string | null; version: number | null; current: number; itemDone: boolean } | undefined;
  // The strict statement answers with an annotation or fails; the recovery reads it under the lock.
  if (!row || row.annotationId === null || row.version === null) throw new Error("submission: the commit trip answered without the annotation it wrote");
  return { annotationId: row.annotationId, version: row.version, current: row.current, itemDone: row.itemDone };
}

/** The error of submissionInTrip's statement on a version conflict (invalid_text_representation of its mark). */
export function isSubmitConflict(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e === "object" && e !== null && e.code === "22P02" && typeof e.message === "string" && e.message.includes(SUBMIT_CONFLICT_MARK);
}

/** The text the strict statement casts to int on a conflict: its error names it. */
const SUBMIT_CONFLICT_MARK = "rads_submit_conflict";

/** submissionInTrip's recovery ($1 annotation, $2 case, $3 scope author or null, $4 queue item or null): writeSubmission's answer read again. */
const SUBMISSION_OUTCOME = prepared(
  `SELECT a.id AS "annotationId", a.version,
     ((SELECT count(*) FROM "Annotation" WHERE "caseId" = $2::text AND kind = 'SUBMITTED' AND ($3::text IS NULL OR "authorId" = $3::text)) - 1)::int AS current,
     coalesce((SELECT status = 'DONE' FROM "QueueItem" WHERE id = $4::text), false) AS "itemDone"
   FROM "Annotation" a WHERE a.id = $1::text`,
);

/**
 * writeSubmission's statement ($1…$20, submissionValues), kept prepared per connection (sql.ts `prepared`); one text for
 * one slot per item (annotationsPerCase = 1: the item is DONE with the caller's completed lease, so the "no member left"
 * check, never evaluated there, is left out of the plan) and one for more. Issue 16: PostgreSQL pays for every plan
 * node at every execution (executor start and end), so the case's annotations and the item's leases are each read in
 * ONE aggregate (was six subplans), and the answer is a join of the CTEs' rows, not a subplan per column; the draft's
 * DELETE, the lease's upsert and the event's INSERT run whether or not the answer reads them (every data-modifying CTE
 * runs to completion), so the answer reads only whether the item is DONE. The item's status is not read again: the
 * lock statement read it under the item's row lock (`queueItemId` is given only when it was PENDING), and nothing else
 * changes it while that lock is held. Each reader of `st` checks the version itself (no CTE of the matching row).
 */
function writeSubmissionText(multiSlot: boolean): string {
  const finished = multiSlot ? `(1 + (SELECT "othersCompleted" FROM st) >= $15 OR ${noMemberLeftSql({ item: "qi", projectId: "$18", roles: "$19", exceptUser: "$2" })})` : "($15 <= 1 OR $19::text[] IS NULL)"; // $19 (the roles) still named: PREPARE infers every parameter's type
  return `WITH st AS (
       SELECT a.current, a."maxVersion", q.others, q."othersCompleted", q.mine
       FROM (SELECT count(*) FILTER (WHERE kind = 'SUBMITTED' AND ($3::text IS NULL OR "authorId" = $3::text))::int AS current,
               coalesce(max(version) FILTER (WHERE "authorId" = $2), 0)::int AS "maxVersion"
             FROM "Annotation" WHERE "caseId" = $1) a,
         (SELECT count(*) FILTER (WHERE "userId" <> $2 AND ("completedAt" IS NOT NULL OR "expiresAt" > $5::timestamp))::int AS others,
               count(*) FILTER (WHERE "userId" <> $2 AND "completedAt" IS NOT NULL)::int AS "othersCompleted",
               max(CASE WHEN "userId" <> $2 THEN NULL WHEN "completedAt" IS NULL THEN 'open' ELSE 'completed' END) AS mine
             FROM "QueueLease" WHERE "queueItemId" = $4::text) q
     ),
     gone AS (DELETE FROM "AnnotationDraft" WHERE "caseId" = $1 AND "authorId" = $2 AND EXISTS (SELECT 1 FROM st WHERE current = $6)),
     annotation AS (
       INSERT INTO "Annotation" (id, "caseId", "authorId", version, kind, labels, spans, regions, uncertain, comment, "skipReason", "timeSpentMs", "createdAt")
       SELECT $7, $1, $2, st."maxVersion" + 1, 'SUBMITTED', $8::text[], $9::jsonb, $10::jsonb, $11, $12, NULL, $13, $5::timestamp FROM st WHERE st.current = $6
       RETURNING id, version
     ),
     lease AS (
       INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
       SELECT $14, $4::text, $2, $5::timestamp, $5::timestamp, $5::timestamp FROM st
       WHERE st.current = $6 AND $4::text IS NOT NULL AND st.mine IS DISTINCT FROM 'completed' AND (st.mine = 'open' OR st.others < $15)
       ON CONFLICT ("queueItemId", "userId") DO UPDATE SET "completedAt" = EXCLUDED."completedAt"
       RETURNING id
     ),
     done AS (
       UPDATE "QueueItem" qi SET status = 'DONE'
       WHERE qi.id = $4::text AND EXISTS (SELECT 1 FROM lease) AND ${finished}
       RETURNING qi.id
     ),
     event AS (
       INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       SELECT $5::timestamp, $16, $17::"Role", 'annotation.submit', 'Case', $1, $18,
         jsonb_build_object('version', annotation.version, 'caseVersion', $6 + 1, 'annotationId', annotation.id)
       FROM annotation -- written only when the case version (st.current) is $6
     )
     SELECT st.current, st."maxVersion", st.others, st.mine, an.id AS "annotationId", an.version, EXISTS (SELECT 1 FROM done) AS "itemDone",
       (CASE WHEN $20::boolean AND an.id IS NULL THEN '${SUBMIT_CONFLICT_MARK} ' || st.current END)::int AS "conflictMark"
     FROM st LEFT JOIN annotation an ON true`;
}

const WRITE_SUBMISSION_ONE_SLOT = prepared(writeSubmissionText(false));
const WRITE_SUBMISSION_SLOTS = prepared(writeSubmissionText(true));
/** writeSubmission's statement for an item with `annotationsPerCase` slots. */
const writeSubmissionStatement = (annotationsPerCase: number) => (annotationsPerCase > 1 ? WRITE_SUBMISSION_SLOTS : WRITE_SUBMISSION_ONE_SLOT);

/**
 * The case version (submitted annotations, of `authorId` only when given) and the latest submitted annotation, read
 * together in ONE statement on the pool: a refused submission's conflict answer (submissionInTrip's conflict rolls its
 * transaction back; this reads what stands after it). Null `theirs` when there is none.
 */
export function submittedNow(db: Db, caseId: string, authorId: string | null) {
  return submittedIn(sql(db), caseId, authorId);
}

/** The latest submitted annotation (of `authorId` only, when given) read on a raw `Sql`: submittedNow's statement. */
export async function latestSubmittedIn(q: Sql, caseId: string, authorId: string | null) {
  return (await submittedIn(q, caseId, authorId)).theirs;
}

async function submittedIn(q: Sql, caseId: string, authorId: string | null) {
  const [row] = await q.query<{ current: number; id: string | null; version: number; authorId: string; labels: string[]; spans: Prisma.JsonValue; regions: Prisma.JsonValue; uncertain: boolean; comment: string; createdAt: Date; authorName: string }>(
    SUBMITTED_NOW,
    [caseId, authorId],
  );
  const { current, id, authorName, ...rest } = row!;
  return { current, theirs: id ? { id, ...rest, author: { name: authorName } } : null };
}

const SUBMITTED_NOW = prepared(
  `SELECT (SELECT count(*) FROM "Annotation" WHERE "caseId" = $1 AND kind = 'SUBMITTED' AND ($2::text IS NULL OR "authorId" = $2::text))::int AS current, l.*
   FROM (SELECT 1) one LEFT JOIN LATERAL (
     SELECT a.id, a.version, a."authorId", a.labels, a.spans, a.regions, a.uncertain, a.comment, a."createdAt", u.name AS "authorName"
     FROM "Annotation" a JOIN "User" u ON u.id = a."authorId"
     WHERE a."caseId" = $1 AND a.kind = 'SUBMITTED' AND ($2::text IS NULL OR a."authorId" = $2::text)
     ORDER BY a."createdAt" DESC, a.version DESC LIMIT 1) l ON true`,
);
