/**
 * The case browser (data manager, issue 10 item 6): every case of a project, paged on the server,
 * filtered, searched; one case read-only with its images, history, predictions and why a round
 * selected it; bulk moves between splits and "next round with priority".
 *
 * Who may do what (contracts/permissions.ts through `requireProject`):
 * - list / count / filter options: "cases.browse" (DATA_SCIENTIST, REVIEWER, ADMIN);
 * - open a case: "cases.browse" for any case of the project; otherwise a member who submitted an
 *   annotation of that case (a clinician opening a case they annotated) — anyone else gets
 *   NOT_FOUND, as for a case that does not exist;
 * - bulk actions: "cases.manage" (DATA_SCIENTIST, ADMIN), refused on an archived project.
 *
 * Reading patient data is audited: every page of the list ("case.list-read", with the ids shown)
 * and every case opened ("case.viewed"). Bulk actions record before/after per case.
 *
 * Split rules (documented in the UI and docs): moving a labelled case to TEST is allowed — it then
 * leaves the training set (train jobs never train on TEST); moving a case OUT of TEST is refused
 * once the project has any model version (the TEST split was used to evaluate it, so training on
 * it would leak the test set into training); a SEED case needs a label (imported or annotated).
 */
import type { ImageRegion } from "@/contracts/annotations";
import {
  CASE_COUNT_CAP,
  type CaseBrowserProjectInput,
  type CaseCountInput,
  type CaseDetailInput,
  type CaseFilters,
  type CaseListInput,
  type CaseSplitName,
  type MoveCasesInput,
  type PrioritizeCasesInput,
  type UnprioritizeCasesInput,
  ZCaseCountInput,
  ZCaseListInput,
} from "@/contracts/case-browser";
import { can } from "@/contracts/permissions";
import type { ProjectConfig } from "@/contracts/project-config";
import {
  clearPriority,
  countCases as countCasesInDb,
  findCaseDetail,
  hasSubmittedAnnotation,
  HIT_START,
  HIT_STOP,
  listCasePage,
  listPriorityCases,
  listProjectAnnotators,
  listProjectImportBatches,
  listProjectRounds,
  lockCasesForUpdate,
  projectHasModel,
  searchTermCount,
  setCasesPriority,
  setCasesSplit,
  type CaseStateRow,
} from "../db/cases-repo";
import { isGoldCase } from "../db/gold-repo";
import type { DbOrTx } from "../db/tx";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { refuseGoldLeavingSeed } from "./gold-service";
import { requireProject } from "./project-access";
import { recordRead } from "./read-audit";

// ---------------------------------------------------------------------------------------------
// Listing

/** Opaque page cursor: the last shown case's externalId (keyset pagination on the unique (projectId, externalId) index). */
export function caseCursorAfter(externalId: string): string {
  return Buffer.from(JSON.stringify({ after: externalId }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof value.after === "string" && value.after.length > 0 && value.after.length <= 300) return value.after;
  } catch {
    // fall through to the domain error
  }
  throw new DomainError("BAD_INPUT", "The page cursor is not valid: start again from the first page.", { field: "cursor" });
}

/** A snippet as text segments; `hit` marks the words the search matched. */
export type SnippetSegment = { text: string; hit: boolean };

export function snippetSegments(snippet: string | null): SnippetSegment[] {
  if (!snippet) return [];
  const out: SnippetSegment[] = [];
  let rest = snippet;
  while (rest.length > 0) {
    const start = rest.indexOf(HIT_START);
    if (start < 0) {
      out.push({ text: rest, hit: false });
      break;
    }
    if (start > 0) out.push({ text: rest.slice(0, start), hit: false });
    const stop = rest.indexOf(HIT_STOP, start + 1);
    const end = stop < 0 ? rest.length : stop;
    out.push({ text: rest.slice(start + 1, end), hit: true });
    rest = stop < 0 ? "" : rest.slice(stop + 1);
  }
  return out.filter((s) => s.text.length > 0);
}

function checkLabel(config: ProjectConfig, filters: CaseFilters): void {
  if (filters.label !== undefined && !config.labelSchema.labels.some((l) => l.key === filters.label)) {
    throw new DomainError("BAD_INPUT", `"${filters.label}" is not a label of this project.`, { field: "label" });
  }
}

/** A search that matched nothing may have had no searchable words at all ("the", "and"): say so instead of "no cases". */
async function checkSearchWhenEmpty(ctx: ServiceContext, filters: CaseFilters, matched: number): Promise<void> {
  if (matched === 0 && filters.search !== undefined && (await searchTermCount(ctx.db, filters.search)) === 0) {
    throw new DomainError("BAD_INPUT", "The search has no searchable words (words like \"the\" or \"and\" are ignored).", { field: "search" });
  }
}

export interface CaseListRow {
  id: string;
  externalId: string;
  split: CaseSplitName;
  importedLabel: string | null;
  importBatchId: string | null;
  /** Each annotator's latest submitted labels. */
  annotators: { name: string; labels: string[] }[];
  disagreement: boolean;
  /** Numbers of the rounds that queued the case. */
  rounds: number[];
  hasNarrative: boolean;
  imageCount: number;
  priorityRequested: boolean;
  /** Search: fragments around the hits; otherwise the narrative's first 200 characters. */
  snippet: SnippetSegment[];
}

/**
 * One page of the project's cases (ordered by the source's case id) matching the filters.
 * @returns `{ rows, nextCursor }` — nextCursor is null on the last page.
 * @throws NOT_FOUND (not a member), FORBIDDEN (role may not browse), BAD_INPUT (unknown label,
 *   a search of stop words only, a bad cursor).
 * Audited: "case.list-read" with the ids shown (the snippets are patient data).
 */
export async function listCases(ctx: ServiceContext, rawInput: CaseListInput): Promise<{ rows: CaseListRow[]; nextCursor: string | null }> {
  const input = ZCaseListInput.parse(rawInput);
  const { project, config } = await requireProject(ctx, input.projectId, "cases.browse");
  checkLabel(config, input.filters);
  const after = input.cursor ? decodeCursor(input.cursor) : null;
  const page = await listCasePage(ctx.db, project.id, input.filters, after, input.limit + 1);
  if (after === null) await checkSearchWhenEmpty(ctx, input.filters, page.length);
  const shown = page.slice(0, input.limit);
  const ids = shown.map((r) => r.id);
  const rows = shown.map((row): CaseListRow => {
    const latest = row.annotators.map((a) => ({ ...a, labels: [...a.labels].sort() }));
    return {
      id: row.id,
      externalId: row.externalId,
      split: row.split,
      importedLabel: row.importedLabel,
      importBatchId: row.importBatchId,
      annotators: latest.map((a) => ({ name: a.name, labels: a.labels })),
      disagreement: new Set(latest.map((a) => a.labels.join("\u0000"))).size > 1,
      rounds: row.rounds,
      hasNarrative: row.hasNarrative,
      imageCount: row.imageCount,
      priorityRequested: row.priorityRequestedAt !== null,
      snippet: input.filters.search ? snippetSegments(row.snippet) : row.snippet ? [{ text: row.snippet, hit: false }] : [],
    };
  });
  await ctx.audit.record(ctx.db, {
    action: "case.list-read",
    targetType: "Project",
    targetId: project.id,
    projectId: project.id,
    details: { filters: input.filters, page: after === null ? "first" : "next", caseIds: ids },
  });
  return { rows, nextCursor: page.length > input.limit ? caseCursorAfter(shown[shown.length - 1]!.externalId) : null };
}

/**
 * How many cases match the filters, counting up to CASE_COUNT_CAP.
 * @returns `{ count, atLeast }` — atLeast: there are more than `count`.
 */
export async function countCases(ctx: ServiceContext, rawInput: CaseCountInput): Promise<{ count: number; atLeast: boolean }> {
  const input = ZCaseCountInput.parse(rawInput);
  const { project, config } = await requireProject(ctx, input.projectId, "cases.browse");
  checkLabel(config, input.filters);
  const n = await countCasesInDb(ctx.db, project.id, input.filters, CASE_COUNT_CAP);
  await checkSearchWhenEmpty(ctx, input.filters, n);
  return n > CASE_COUNT_CAP ? { count: CASE_COUNT_CAP, atLeast: true } : { count: n, atLeast: false };
}

/** What the filter form offers: labels, annotators, rounds, import batches; and whether the caller may run bulk actions. */
export async function caseBrowserOptions(ctx: ServiceContext, input: CaseBrowserProjectInput) {
  const { project, config, role, archived } = await requireProject(ctx, input.projectId, "cases.browse");
  const [annotators, rounds, batches] = await Promise.all([listProjectAnnotators(ctx.db, project.id), listProjectRounds(ctx.db, project.id), listProjectImportBatches(ctx.db, project.id)]);
  return {
    project: { id: project.id, name: config.name || project.name, archived },
    labels: config.labelSchema.labels.map((l) => ({ key: l.key, name: l.name, color: l.color })),
    annotators,
    rounds: rounds.map((r) => ({ number: r.number, strategy: r.strategy, coldStart: r.coldStart, createdAt: r.createdAt.toISOString() })),
    importBatches: batches.map((b) => ({ id: b.id, source: b.source, caseCount: b.caseCount, createdAt: b.createdAt.toISOString() })),
    canManage: can(role, "cases.manage") && !archived,
  };
}

// ---------------------------------------------------------------------------------------------
// One case, read-only

/** The DICOM attributes shown (the same non-identifying set as the annotation workspace). */
// transferSyntax: the viewer decides from it whether a large JPEG 2000 image gets a reduced-resolution preview first.
const SHOWN_ATTRIBUTES = ["modality", "bodyPart", "studyDate", "seriesDescription", "rows", "columns", "orientation", "transferSyntax"] as const;

function shownAttributes(raw: unknown): Record<string, string | number> {
  const value = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const out: Record<string, string | number> = {};
  for (const key of SHOWN_ATTRIBUTES) {
    const v = value[key];
    if (typeof v === "string" || typeof v === "number") out[key] = v;
  }
  return out;
}

/**
 * Why the case's images may carry burned-in identifiers (set at import by the de-identification,
 * server/import/deidentify-dicom.ts: Burned In Annotation = YES, ultrasound, secondary capture),
 * distinct and in order; empty when none is flagged.
 */
function burnedInReasons(images: readonly { attributes: unknown }[]): string[] {
  const reasons = images.map((image) => (image.attributes && typeof image.attributes === "object" ? (image.attributes as Record<string, unknown>).burnedInReview : undefined));
  return [...new Set(reasons.filter((r): r is string => typeof r === "string"))];
}

/** Case metadata from the import, as flat strings (nested values are shown as JSON). */
function metadataEntries(raw: unknown): { key: string; value: string }[] {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.entries(raw as Record<string, unknown>)
    .slice(0, 50)
    .map(([key, value]) => ({ key, value: typeof value === "string" ? value : JSON.stringify(value) }));
}

/** Why a round selected the case: the numeric features the select job stored (BALD, entropy, utility, …) and the pseudo-label. */
function selectionReasons(features: unknown): { name: string; value: number | string }[] {
  if (!features || typeof features !== "object") return [];
  const out: { name: string; value: number | string }[] = [];
  for (const [name, value] of Object.entries(features as Record<string, unknown>)) {
    if (typeof value === "number" && Number.isFinite(value)) out.push({ name, value });
    else if (typeof value === "string" && value.length <= 64) out.push({ name, value });
    else if (typeof value === "boolean") out.push({ name, value: String(value) });
  }
  return out;
}

function probabilityEntries(raw: unknown): { label: string; p: number }[] {
  if (Array.isArray(raw)) return raw.flatMap((p, i) => (typeof p === "number" ? [{ label: String(i), p }] : []));
  if (raw && typeof raw === "object") return Object.entries(raw as Record<string, unknown>).flatMap(([label, p]) => (typeof p === "number" ? [{ label, p }] : []));
  return [];
}

/**
 * One case of the project, read-only: narrative, images, metadata, annotation history (every
 * version), predictions, and the rounds that selected it with their reasons.
 * A member without "cases.browse" (a clinician) may open only a case they submitted an annotation
 * of, and sees what the workspace would show them: with independent double annotation only their
 * own annotations (and of a gold case too), predictions only when the project shows them, no selection
 * internals and no split.
 * @throws NOT_FOUND "No such case." (not in this project, or not theirs to open)
 * Audited: "case.viewed".
 */
export async function getCaseDetail(ctx: ServiceContext, input: CaseDetailInput) {
  const { project, config, role } = await requireProject(ctx, input.projectId, "project.view");
  const actor = ctx.actor!;
  const full = can(role, "cases.browse");
  if (!full && !(await hasSubmittedAnnotation(ctx.db, input.caseId, actor.id))) throw new DomainError("NOT_FOUND", "No such case.");
  const found = await findCaseDetail(ctx.db, project.id, input.caseId);
  if (!found) throw new DomainError("NOT_FOUND", "No such case.");
  // A gold case is scoped to the caller as with N > 1 (as the workspace does, annotation-service.ts), so other
  // clinicians' answers to it do not show and nothing tells it apart from a regular case.
  const blind = !full && (config.settings.annotationsPerCase > 1 || (await isGoldCase(ctx.db, found.id)));
  const showPredictions = full || config.settings.showPredictions;
  const labelName = new Map(config.labelSchema.labels.map((l) => [l.key, l.name]));
  await recordRead(ctx, { action: "case.viewed", targetType: "Case", targetId: found.id, projectId: project.id, details: { view: full ? "case-browser" : "own-annotation" } });
  return {
    view: full ? ("browser" as const) : ("annotator" as const),
    project: { id: project.id, name: config.name || project.name },
    labels: config.labelSchema.labels.map((l) => ({ key: l.key, name: l.name, color: l.color })),
    case: {
      id: found.id,
      externalId: found.externalId,
      /** null for a clinician: the split (a gold case is a SEED case) is not the workspace's to show and would tell gold apart. */
      split: full ? (found.split as CaseSplitName) : null,
      narrative: found.narrative,
      importedLabel: full ? found.importedLabel : null,
      importBatch: found.importBatch ? { id: found.importBatch.id, source: found.importBatch.source, createdAt: found.importBatch.createdAt.toISOString() } : null,
      createdAt: found.createdAt.toISOString(),
      priorityRequestedAt: found.priorityRequestedAt?.toISOString() ?? null,
      metadata: full ? metadataEntries(found.metadata) : [],
      images: found.images.map((image) => ({ id: image.id, mimeType: image.mimeType, frames: image.frames, attributes: shownAttributes(image.attributes) })),
      burnedInReview: burnedInReasons(found.images),
    },
    history: found.annotations
      .filter((a) => !blind || a.authorId === actor.id)
      .map((a) => ({
        id: a.id,
        version: a.version,
        kind: a.kind,
        authorName: a.author.name,
        mine: a.authorId === actor.id,
        labels: a.labels.map((key) => ({ key, name: labelName.get(key) ?? key })),
        spans: Array.isArray(a.spans) ? (a.spans as { start: number; end: number; label: string; text: string }[]) : [],
        regions: Array.isArray(a.regions) ? (a.regions as ImageRegion[]) : [],
        uncertain: a.uncertain,
        comment: a.comment,
        skipReason: a.skipReason,
        timeSpentMs: a.timeSpentMs,
        createdAt: a.createdAt.toISOString(),
      })),
    predictions: showPredictions
      ? found.predictions.map((p) => ({
          modelVersion: p.modelVersion.version,
          modelStatus: p.modelVersion.status,
          predictedLabel: p.predictedLabel,
          predictedName: labelName.get(p.predictedLabel) ?? p.predictedLabel,
          confidence: p.confidence,
          probabilities: probabilityEntries(p.probabilities),
          createdAt: p.createdAt.toISOString(),
        }))
      : [],
    selection: full
      ? found.queueItems.map((q) => ({
          round: q.round.number,
          strategy: q.round.strategy,
          coldStart: q.round.coldStart,
          modelVersion: q.round.modelVersion?.version ?? null,
          createdAt: q.round.createdAt.toISOString(),
          rank: q.rank,
          status: q.status,
          reasons: selectionReasons(q.features),
        }))
      : [],
  };
}

// ---------------------------------------------------------------------------------------------
// Bulk actions

function someIds(rows: { externalId: string }[], max = 10): string {
  const names = rows.slice(0, max).map((r) => r.externalId);
  return rows.length > max ? `${names.join(", ")} and ${rows.length - max} more` : names.join(", ");
}

async function lockSelected(tx: Parameters<typeof lockCasesForUpdate>[0], projectId: string, caseIds: string[]): Promise<CaseStateRow[]> {
  const rows = await lockCasesForUpdate(tx, projectId, caseIds);
  if (rows.length !== caseIds.length) {
    throw new DomainError("NOT_FOUND", `${caseIds.length - rows.length} of the selected cases are not in this project.`, { field: "caseIds" });
  }
  return rows;
}

/**
 * Moves the selected cases to `split`, all or nothing.
 * @returns `{ changed, unchanged, leftTraining }` — leftTraining: labelled cases moved to TEST (no longer trained on).
 * @throws CONFLICT moving cases out of TEST once the project has a model (test-set leak), or a gold case
 *   out of SEED (gold-service.ts refuseGoldLeavingSeed);
 *   BAD_INPUT moving unlabelled cases to SEED; NOT_FOUND a case not in the project.
 * Audited: "cases.split-changed" with each case's split before and after.
 */
export async function moveCases(ctx: ServiceContext, input: MoveCasesInput) {
  const { project } = await requireProject(ctx, input.projectId, "cases.manage", { write: true });
  return ctx.db.$transaction(async (tx) => {
    const rows = await lockSelected(tx, project.id, input.caseIds);
    const moving = rows.filter((r) => r.split !== input.split);
    const outOfTest = moving.filter((r) => r.split === "TEST");
    if (outOfTest.length > 0 && (await projectHasModel(tx, project.id))) {
      throw new DomainError(
        "CONFLICT",
        `${outOfTest.length} selected case(s) are in the TEST split, which models of this project were evaluated on; moving them to ${input.split} would leak the test set into training (${someIds(outOfTest)}).`,
        { field: "caseIds" },
      );
    }
    // A gold case keeps its known answer in SEED (gold-service.ts).
    await refuseGoldLeavingSeed(tx, project.id, moving.map((r) => r.id), input.split);
    if (input.split === "SEED") {
      const unlabelled = moving.filter((r) => !r.labelled);
      if (unlabelled.length > 0) {
        throw new DomainError("BAD_INPUT", `A SEED case needs a label (imported or annotated); ${unlabelled.length} selected case(s) have none (${someIds(unlabelled)}).`, { field: "caseIds" });
      }
    }
    const ids = moving.map((r) => r.id);
    if (ids.length > 0) await setCasesSplit(tx, project.id, ids, input.split);
    // Priority applies to POOL cases only: a case leaving POOL drops its request.
    const droppedPriority = input.split === "POOL" ? [] : moving.filter((r) => r.priorityRequestedAt !== null);
    if (droppedPriority.length > 0) await clearPriority(tx, project.id, droppedPriority.map((r) => r.id));
    const leftTraining = input.split === "TEST" ? moving.filter((r) => r.labelled).length : 0;
    await ctx.audit.record(tx, {
      action: "cases.split-changed",
      targetType: "Case",
      projectId: project.id,
      details: {
        to: input.split,
        changed: moving.map((r) => ({ caseId: r.id, externalId: r.externalId, before: r.split, after: input.split, priorityDropped: r.priorityRequestedAt !== null && input.split !== "POOL" })),
        unchanged: rows.length - moving.length,
        leftTraining,
      },
    });
    return { changed: moving.length, unchanged: rows.length - moving.length, leftTraining };
  });
}

/**
 * Asks for the selected cases to be queued first in the project's next selection round, all or
 * nothing: each must be a POOL case that is not labelled and not waiting in an open round.
 * @returns `{ requested, alreadyRequested }`
 * @throws CONFLICT naming the cases that cannot be prioritised and why.
 * Audited: "cases.priority-requested" with each case's request before and after.
 */
export async function prioritizeCases(ctx: ServiceContext, input: PrioritizeCasesInput) {
  const { project } = await requireProject(ctx, input.projectId, "cases.manage", { write: true });
  const actor = ctx.actor!;
  return ctx.db.$transaction(async (tx) => {
    const rows = await lockSelected(tx, project.id, input.caseIds);
    const problems: string[] = [];
    const notPool = rows.filter((r) => r.split !== "POOL");
    if (notPool.length) problems.push(`${notPool.length} not in the POOL split (${someIds(notPool, 5)})`);
    const labelled = rows.filter((r) => r.split === "POOL" && r.labelled);
    if (labelled.length) problems.push(`${labelled.length} already labelled (${someIds(labelled, 5)})`);
    const queued = rows.filter((r) => r.split === "POOL" && !r.labelled && r.queued);
    if (queued.length) problems.push(`${queued.length} already queued in an open round (${someIds(queued, 5)})`);
    if (problems.length) throw new DomainError("CONFLICT", `Only unlabelled POOL cases that are not queued can be put into the next round: ${problems.join("; ")}.`, { field: "caseIds" });
    const fresh = rows.filter((r) => r.priorityRequestedAt === null);
    if (fresh.length > 0) await setCasesPriority(tx, project.id, fresh.map((r) => r.id), actor.id);
    const now = new Date().toISOString();
    await ctx.audit.record(tx, {
      action: "cases.priority-requested",
      targetType: "Case",
      projectId: project.id,
      details: { changed: fresh.map((r) => ({ caseId: r.id, externalId: r.externalId, before: null, after: now })), alreadyRequested: rows.length - fresh.length },
    });
    return { requested: fresh.length, alreadyRequested: rows.length - fresh.length };
  });
}

/**
 * Withdraws priority requests no round has honoured yet.
 * Audited: "cases.priority-withdrawn" with each case's request before and after.
 */
export async function unprioritizeCases(ctx: ServiceContext, input: UnprioritizeCasesInput) {
  const { project } = await requireProject(ctx, input.projectId, "cases.manage", { write: true });
  return ctx.db.$transaction(async (tx) => {
    const rows = await lockSelected(tx, project.id, input.caseIds);
    const requested = rows.filter((r) => r.priorityRequestedAt !== null);
    if (requested.length > 0) await setCasesPriority(tx, project.id, requested.map((r) => r.id), null);
    await ctx.audit.record(tx, {
      action: "cases.priority-withdrawn",
      targetType: "Case",
      projectId: project.id,
      details: { changed: requested.map((r) => ({ caseId: r.id, externalId: r.externalId, before: r.priorityRequestedAt!.toISOString(), after: null })), notRequested: rows.length - requested.length },
    });
    return { withdrawn: requested.length, notRequested: rows.length - requested.length };
  });
}

// ---------------------------------------------------------------------------------------------
// The select job's side (workers/jobs/select.ts)

export interface RoundItem {
  caseId: string;
  rank: number;
  features: Record<string, unknown>;
}

/**
 * Puts the project's priority-requested cases first in a round the select job is about to write:
 * those among `selectable` (POOL, unlabelled, not queued — the job's own candidate list), oldest
 * request first, then the strategy's picks in their order without duplicates, `budget` in all
 * (requests beyond the budget wait for the following round). Ranks are renumbered 1…n; a priority
 * case carries `{ priority: true }` (plus its strategy features when the strategy also picked it).
 * @returns the items to write and the ids whose request the round honours (clear them with
 *   `clearHonouredPriority` once the round is written).
 */
export async function withPriorityFirst(db: DbOrTx, projectId: string, selectable: readonly { id: string }[], picked: readonly RoundItem[], budget: number) {
  const candidates = new Set(selectable.map((c) => c.id));
  const requested = (await listPriorityCases(db, projectId)).map((c) => c.id).filter((id) => candidates.has(id));
  const honoured = requested.slice(0, Math.max(0, budget));
  const pickedById = new Map(picked.map((item) => [item.caseId, item]));
  const first = honoured.map((caseId) => ({ caseId, features: { ...(pickedById.get(caseId)?.features ?? {}), priority: true } }));
  const taken = new Set(honoured);
  const rest = picked.filter((item) => !taken.has(item.caseId)).map((item) => ({ caseId: item.caseId, features: item.features }));
  const items: RoundItem[] = [...first, ...rest].slice(0, Math.max(0, budget)).map((item, i) => ({ ...item, rank: i + 1 }));
  return { items, honoured };
}

/** Clears the requests a written round honoured (a request left behind by a crash is harmless: the case is then queued, so no longer selectable). */
export async function clearHonouredPriority(db: DbOrTx, projectId: string, caseIds: string[]): Promise<number> {
  return clearPriority(db, projectId, caseIds);
}
