/**
 * The case view's data, drafts and versioned submissions with optimistic concurrency.
 *
 * Versions: every submission inserts a new Annotation row with version = the author's previous
 * version of the case + 1; nothing is updated in place, so history is complete.
 *
 * Which annotation is "current", and what a conflict is, depends on settings.annotationsPerCase:
 * - N = 1 (one label per case): the case has ONE current annotation, the latest submitted one
 *   across all authors. The case version is the number of submitted annotations of the case, so
 *   anyone's submission makes everyone else's open copy stale.
 * - N > 1 (independent double annotation): each clinician's own latest submission is current for
 *   them, the case version counts only their own submissions (two tabs of one clinician still
 *   conflict), and nobody sees the others' labels (they would bias the second opinion).
 * A submission carries the version it started from; if the database holds another, it is refused
 * with CONFLICT and both versions ("theirs" from the database, "yours" as sent), and the page lets
 * the clinician resubmit on top. The check and the insert run in one transaction under a row lock
 * on the case, and the unique (caseId, authorId, version) constraint backs it up.
 *
 * Who may annotate a case here (drafts and submissions, checked on the server: annotations-repo.ts annotationRefusal,
 * on what the case read answered — for a submission under the case's and its queue item's row locks):
 * - a TEST case never: its imported label evaluates models (and export keeps it as the final label);
 *   adjudication writes through adjudication-service.ts, not here;
 * - a gold case once it was served to the caller (gold-service.ts; gold cases stay in SEED);
 * - otherwise a case whose lease the caller holds, whose latest-round item is PENDING with a free slot (the
 *   submission takes it), or that the caller submitted before (editing their own answer from the history).
 * Anything else is refused with BAD_INPUT on `caseId` ("This case is not in your queue.", "Another clinician is working on this
 * case.") and nothing is written.
 */
import type { AnnotationConflict, AnnotationContent, CaseInput, ImageRegion, SaveDraftInput, SubmitInput } from "@/contracts/annotations";
import { ZAnnotationContent } from "@/contracts/annotations";
import type { LabelSchema } from "@/contracts/project-config";
import {
  annotationRefusal,
  countSubmitted,
  findCaseForMember,
  findDraft,
  isSubmitConflict,
  latestSubmitted,
  listCaseHistory,
  readSubmissionOutcome,
  readSubmitLock,
  submissionInTrip,
  submitLockStatements,
  submittedNow,
  upsertDraft,
  type LockedCase,
} from "../db/annotations-repo";
import type { Prisma } from "../db/client";
import { isUniqueViolation, transactionWithTail, type TailOutcome, type TransactionWork, type TripStatement } from "../db/sql";
import { DomainError } from "../errors";
import { requireMayAnnotate } from "./annotation-access";
import { checkRegions, type CaseImageRow } from "./image-regions";
import { requestRetrainCheckSoon } from "./enqueue-job";
import type { ServiceContext } from "./context";
import { admitToProject, requireActor, requireProject, type ProjectAccess } from "./project-access";
import { leaseAfterSubmit, leaseNext, leaseNextIn, rawAudit, type LeaseAfterSubmit, type LeaseView } from "./queue-service";
import { recordRead } from "./read-audit";

/** The label schema as the case view shows it. */
export interface CaseViewLabelSchema {
  labels: { key: string; name: string; color: string; shortcut: string | null; guideline: string | null }[];
  multiLabel: boolean;
}

function caseViewLabels(schema: LabelSchema): CaseViewLabelSchema {
  return {
    labels: schema.labels.map((l) => ({ key: l.key, name: l.name, color: l.color, shortcut: l.shortcut ?? null, guideline: l.guideline ?? null })),
    multiLabel: schema.multiLabel,
  };
}

/** The DICOM attributes a clinician needs; anything else in the row (and every identifier) stays on the server. */
// transferSyntax: the viewer decides from it whether a large JPEG 2000 image gets a reduced-resolution preview first.
const SHOWN_ATTRIBUTES = ["modality", "bodyPart", "studyDate", "seriesDescription", "rows", "columns", "orientation", "transferSyntax"] as const;

function shownAttributes(raw: unknown): Record<string, string | number> {
  const value = (raw ?? {}) as Record<string, unknown>;
  const out: Record<string, string | number> = {};
  for (const key of SHOWN_ATTRIBUTES) {
    const v = value[key];
    if (typeof v === "string" || typeof v === "number") out[key] = v;
  }
  return out;
}

/** The case (membership in the where-clause: another project's case reads as missing), through the project's front door. */
async function requireCase(ctx: ServiceContext, caseId: string, opts: { write?: boolean } = {}) {
  const actor = requireActor(ctx);
  // One statement: the case with the caller's membership and the project; the front door's checks on that row.
  const found = await findCaseForMember(ctx.db, caseId, actor.id);
  if (!found) throw new DomainError("NOT_FOUND", "No such case.");
  const { project, config } = admitToProject(ctx, found.membership, "annotate", opts);
  return { actor, found, project, config };
}

function toContent(row: { labels: string[]; spans: unknown; regions?: unknown; uncertain: boolean; comment: string }): AnnotationContent & { regions: ImageRegion[] } {
  return {
    labels: row.labels,
    spans: Array.isArray(row.spans) ? (row.spans as AnnotationContent["spans"]) : [],
    regions: Array.isArray(row.regions) ? (row.regions as ImageRegion[]) : [],
    uncertain: row.uncertain,
    comment: row.comment,
  };
}

export async function getCaseView(ctx: ServiceContext, input: CaseInput) {
  const { actor, found, project, config } = await requireCase(ctx, input.caseId);
  const settings = config.settings;
  // Independent opinions (N > 1) and gold answers (a gold case, gold-service.ts) see and count only the caller's own versions.
  const scope = settings.annotationsPerCase > 1 || found.gold !== null ? actor.id : null;
  const [caseVersion, current, draft, history] = await Promise.all([
    countSubmitted(ctx.db, found.id, scope),
    latestSubmitted(ctx.db, found.id, scope),
    findDraft(ctx.db, found.id, actor.id),
    listCaseHistory(ctx.db, found.id),
  ]);
  const parsedDraft = draft ? ZAnnotationContent.safeParse(draft.content) : null;
  // Opening a case reads patient data: audited once per opening (the page refetches after each autosave).
  await recordRead(ctx, { action: "case.viewed", targetType: "Case", targetId: found.id, projectId: found.projectId, details: { view: "workspace" } });
  return {
    case: {
      id: found.id,
      projectId: found.projectId,
      /** The case id from the source data, shown on the case (issue 15). */
      externalId: found.externalId,
      narrative: found.narrative ?? "",
      images: found.images.map((image) => ({ id: image.id, mimeType: image.mimeType, frames: image.frames, attributes: shownAttributes(image.attributes) })),
    },
    project: { id: project.id, name: project.name, labelSchema: caseViewLabels(config.labelSchema), annotationsPerCase: settings.annotationsPerCase, archived: project.archivedAt !== null },
    caseVersion,
    /** Why the caller may not annotate this case here (the text a draft or submission would be refused with), or null. */
    refusal: annotationRefusal(found, settings.annotationsPerCase),
    current: current
      ? { ...toContent(current), version: current.version, authorName: current.author.name, mine: current.authorId === actor.id, createdAt: current.createdAt.toISOString() }
      : null,
    draft: draft && parsedDraft?.success ? { content: parsedDraft.data, baseVersion: draft.baseVersion, updatedAt: draft.updatedAt.toISOString() } : null,
    history: history
      .filter((row) => scope === null || row.authorId === actor.id)
      .map((row) => ({
        id: row.id,
        version: row.version,
        kind: row.kind,
        ...toContent(row),
        skipReason: row.skipReason,
        timeSpentMs: row.timeSpentMs,
        authorName: row.author.name,
        mine: row.authorId === actor.id,
        createdAt: row.createdAt.toISOString(),
      })),
  };
}

/**
 * Labels must come from the schema (exactly one unless multi-label); spans must quote the narrative
 * exactly; regions must lie on the case's images (image-regions.ts). Returns the content to store,
 * its regions carrying the server's SOP Instance UIDs.
 */
async function validateContent(content: AnnotationContent, schema: LabelSchema, narrative: string, images: readonly CaseImageRow[], submitting: boolean): Promise<AnnotationContent> {
  const keys = new Set(schema.labels.map((l) => l.key));
  for (const label of content.labels) {
    if (!keys.has(label)) throw new DomainError("BAD_INPUT", `Unknown label "${label}": the project's labels are ${[...keys].join(", ")}.`, { field: "labels" });
  }
  if (new Set(content.labels).size !== content.labels.length) throw new DomainError("BAD_INPUT", "A label is chosen twice.", { field: "labels" });
  if (submitting && content.labels.length === 0) throw new DomainError("BAD_INPUT", "Choose a label before submitting.", { field: "labels" });
  if (!schema.multiLabel && content.labels.length > 1) throw new DomainError("BAD_INPUT", "This project takes one label per case.", { field: "labels" });
  content.spans.forEach((span, i) => {
    if (!keys.has(span.label)) throw new DomainError("BAD_INPUT", `spans[${i}]: unknown label "${span.label}".`, { field: "spans" });
    if (span.end > narrative.length) throw new DomainError("BAD_INPUT", `spans[${i}] ends at ${span.end}, after the narrative's end (${narrative.length}).`, { field: "spans" });
    if (narrative.slice(span.start, span.end) !== span.text) throw new DomainError("BAD_INPUT", `spans[${i}]: the text does not match the narrative at ${span.start}–${span.end}.`, { field: "spans" });
  });
  const regions = await checkRegions(content.regions ?? [], images, keys);
  return { ...content, regions };
}

export async function saveDraft(ctx: ServiceContext, input: SaveDraftInput) {
  const { actor, found, config } = await requireCase(ctx, input.caseId, { write: true });
  const content = await validateContent(input.content, config.labelSchema, found.narrative ?? "", found.images, false);
  // The case read answered the queue state with the case (no statement of its own); not under a lock: the submission decides again under its locks.
  requireMayAnnotate(found, config.settings.annotationsPerCase);
  return ctx.db.$transaction(async (tx) => {
    const saved = await upsertDraft(tx, found.id, actor.id, input.baseVersion, content as unknown as Prisma.InputJsonValue);
    await ctx.audit.record(tx, { action: "annotation.draft-save", targetType: "Case", targetId: found.id, projectId: found.projectId, details: { baseVersion: input.baseVersion } });
    return { savedAt: saved.updatedAt.toISOString() };
  });
}

export interface SubmitResult {
  annotationId: string;
  version: number;
  caseVersion: number;
  next: LeaseView | null;
}

/** What a submission's transaction answers (submitAnnotation): what the front door admitted and what was sent. */
interface Submitted {
  found: LockedCase;
  project: ProjectAccess["project"];
  config: ProjectAccess["config"];
  submittedAt: Date;
  /** The next case's lease carried in the commit trip (submit and take the next in the case's own project, no gold mixing). */
  leaseInside: LeaseAfterSubmit | null;
}

/** A submission refused for its version: what it needs for the conflict answer (read after the rollback). */
interface Refused {
  caseId: string;
  scope: string | null;
  content: AnnotationContent;
}

export async function submitAnnotation(ctx: ServiceContext, input: SubmitInput): Promise<SubmitResult> {
  const actor = requireActor(ctx);
  const audit = rawAudit(ctx);
  let submitted: Submitted;
  let head: Record<string, unknown>[][] | null;
  let leased: TailOutcome | null;
  const sent: { refused?: Refused } = {};
  try {
    // Raw statements on one pooled client (server/db/sql.ts), in two round trips (issue 16):
    //  1. BEGIN with the lock statement: the case read with the caller's membership and the project's row version, which
    //     locks the case row and then the row of its queue item in the latest round — only for a member: anyone else
    //     locks nothing and gets NOT_FOUND (case first, then item: the order skip and the lease use, so none of them
    //     deadlock; annotations-repo.ts submitLockStatements). The project's row comes only when the process does not
    //     hold that version of it (annotations-repo.ts projectOfRow), the narrative and the images only when the
    //     content's spans or regions need them — and after it, in the same trip, the statement that reads who may
    //     annotate the case (its leases, the caller's earlier answer, a gold serving: annotations-repo.ts SUBMIT_ACCESS)
    //     in a snapshot taken under those locks;
    //  2. under the locks, after the front door and the content checks in JavaScript (a refusal rolls back): the
    //     submission's one statement (annotations-repo.ts submissionInTrip) and the COMMIT — with, for submit and take
    //     the next in the case's own project, the next case's lease between them, behind a savepoint (queue-service.ts
    //     leaseAfterSubmit): a failed lease is rolled back alone and the submission still commits (sql.ts
    //     transactionWithTail). A version conflict fails the submission's statement: nothing is written or leased, the
    //     transaction rolls back and the conflict is answered below. With gold mixing the lease follows the commit.
    ({ result: submitted, head, tail: leased } = await transactionWithTail(
      ctx.db,
      async (tx, beginRows): Promise<TransactionWork<Submitted>> => {
        const { found, item } = await readSubmitLock(beginRows, tx);
        if (!found) throw new DomainError("NOT_FOUND", "No such case.");
        const { project, config } = admitToProject(ctx, found.membership, "annotate", { write: true });
        // Submit and take the next in ANOTHER project (the page's loop advances in the case's own): that project's front
        // door first, so a caller who may not take cases there is refused before anything is written (the lease after
        // the commit checks it again).
        if (input.advanceInProject && input.advanceInProject !== found.projectId) await requireProject(ctx, input.advanceInProject, "annotate", { write: true });
        const settings = config.settings;
        // (After the content's checks, which write nothing either.) Who may annotate the case here (TEST never; a lease, a free slot of a PENDING item, the caller's own earlier
        // answer, a gold case served to them): decided on what the lock statement read under the case's and the item's
        // row locks, so no lease or submission can change it before the commit. A refusal rolls back: nothing written.
        // The lock statement read the narrative and the images only when the content needs them (spans, regions).
        const content = await validateContent(input.content, config.labelSchema, found.narrative ?? "", found.images ?? [], true);
        requireMayAnnotate(found, settings.annotationsPerCase);
        // Independent opinions (N > 1) and gold answers (a gold case, gold-service.ts) see and count only the caller's own versions.
        const scope = settings.annotationsPerCase > 1 || found.gold !== null ? actor.id : null;
        // Submit and take the next in the case's own project: the next case's lease rides in this transaction's commit trip.
        const leaseInside = input.advanceInProject === found.projectId ? leaseAfterSubmit(ctx, { project, config }) : null;
        const queued = item && item.status === "PENDING" ? item : null;
        const now = new Date();
        sent.refused = { caseId: found.id, scope, content };
        // Under the locks, one statement: the case version, the author's last version, the item's leases — and,
        // when the version matches, the draft deleted, the annotation inserted, the lease completed (the item DONE
        // once enough are) and the audit event appended. The caller's own lease completes; without one (a PENDING
        // item with a free slot, admitted above) the submission takes the slot.
        const submission = submissionInTrip({
          caseId: found.id,
          projectId: found.projectId,
          authorId: actor.id,
          scopeAuthorId: scope,
          queueItemId: queued?.id ?? null,
          expectedVersion: input.expectedVersion,
          now,
          labels: content.labels,
          spans: content.spans,
          regions: content.regions ?? [],
          uncertain: content.uncertain,
          comment: content.comment,
          timeSpentMs: input.timeSpentMs,
          annotationsPerCase: settings.annotationsPerCase,
          actor: audit.actor,
        });
        return { result: { found, project, config, submittedAt: now, leaseInside }, head: submission, tail: leaseInside?.statements(now) ?? null };
      },
      {
        begin: submitLockStatements(input.caseId, actor.id, { narrative: input.content.spans.length > 0, images: (input.content.regions ?? []).length > 0 }),
        prepare: SUBMISSION_PREPARE,
      },
    ));
  } catch (error) {
    if (sent.refused && isSubmitConflict(error)) throw await conflictError(ctx, actor.id, sent.refused);
    if (isUniqueViolation(error)) throw new DomainError("CONFLICT", "This version was just submitted from another tab. Reload the case and submit again.");
    throw error;
  }
  const { found, project, config, submittedAt, leaseInside } = submitted;
  const outcome = readSubmissionOutcome(head);
  audit.counted(1); // the submission's statement appended the annotation.submit event
  const written = { annotationId: outcome.annotationId, version: outcome.version, caseVersion: outcome.current + 1 };
  // A completed item may have finished the round: let the worker check its retraining triggers now.
  if (outcome.itemDone) requestRetrainCheckSoon(found.projectId);
  // Submit and take the next (the workspace's loop): after the commit, the caller's next case of the project. In the
  // case's own project the front door already admitted the caller for writing above; another project goes through its own.
  // The lease ran in the submission's transaction when it could (leased: its rows, or its error — then it is leased on its own).
  const next = !input.advanceInProject
    ? null
    : leaseInside && leased
      ? await leaseInside.finish(submittedAt, leased)
      : input.advanceInProject === found.projectId
        ? await leaseNextIn(ctx, { project, config })
        : await leaseNext(ctx, { projectId: input.advanceInProject });
  return { ...written, next };
}

/**
 * The submission's statements (one slot per item, or more) and its recovery with placeholder values: prepared with BEGIN's statements on a connection
 * that lacks them (sql.ts `prepare`), so they need no trip of their own.
 */
const SUBMISSION_PREPARE = ((): TripStatement[] => {
  // One statement per slot count (annotations-repo.ts writeSubmissionText: one slot, or more): both, and the recovery.
  const placeholder = (annotationsPerCase: number) =>
    submissionInTrip({
      caseId: "", projectId: "", authorId: "", scopeAuthorId: null, queueItemId: null, expectedVersion: 0, now: new Date(0), labels: [], spans: [], regions: [],
      uncertain: false, comment: "", timeSpentMs: 0, annotationsPerCase, actor: { actorId: null, actorRole: null },
    });
  const [one, more] = [placeholder(1), placeholder(2)];
  return [...one.statements, ...more.statements, ...one.recovery];
})();

/** CONFLICT with both versions: the case version and the latest submitted one as they stand now (the refused transaction rolled back). */
async function conflictError(ctx: ServiceContext, actorId: string, refused: Refused): Promise<DomainError> {
  const { current, theirs } = await submittedNow(ctx.db, refused.caseId, refused.scope);
  const conflict: AnnotationConflict = {
    currentVersion: current,
    theirs: theirs ? { version: theirs.version, authorName: theirs.author.name, byYou: theirs.authorId === actorId, createdAt: theirs.createdAt.toISOString(), ...toContent(theirs) } : null,
    yours: refused.content,
  };
  return new DomainError("CONFLICT", "Someone submitted this case while you were working on it. Compare the two versions and submit again.", { conflict });
}
