/**
 * Inputs of the case browser (data manager): the filters, shared by the filter form (which keeps
 * them in the page URL) and the `cases.list` / `cases.count` procedures; opening one case; and the
 * bulk actions. One schema per input.
 */
import { z } from "zod";
import { limitedText } from "./text-limits";

const ZId = z.string().min(1, "An id is required").max(64, "An id is at most 64 characters");

export const CASE_SPLITS = ["POOL", "TEST", "SEED"] as const;
export const ZCaseSplit = z.enum(CASE_SPLITS);
export type CaseSplitName = z.infer<typeof ZCaseSplit>;

/** Page size of the browser; one page is one query (keyset pagination). */
export const CASE_PAGE_SIZE = 50;
export const MAX_CASE_PAGE_SIZE = 100;
/** `cases.count` stops counting here and reports "at least". */
export const CASE_COUNT_CAP = 10_000;
/** Cases one bulk action may change at once. */
export const MAX_BULK_CASES = 500;

/**
 * Every filter is optional; given filters are ANDed.
 * - `labelled`: "yes" = an imported label or at least one submitted annotation; "no" = neither.
 * - `label`: a label key of the project — the imported label or any annotator's LATEST submitted
 *   annotation carries it.
 * - `annotatorId`: a user who submitted an annotation of the case (any version).
 * - `disagreement`: at least two annotators whose latest submitted labels differ.
 * - `round`: the number of a selection round that queued the case.
 * - `search`: PostgreSQL full-text search (English) in the narrative, web-search syntax:
 *   words are ANDed, "quoted phrases", `or`, `-word` to exclude.
 */
export const ZCaseFilters = z.object({
  split: ZCaseSplit.optional(),
  labelled: z.enum(["yes", "no"]).optional(),
  label: z.string().min(1).max(64, "A label key is at most 64 characters").optional(),
  annotatorId: ZId.optional(),
  disagreement: z.boolean().optional(),
  round: z.number().int("A round number is a whole number").min(1, "Rounds are numbered from 1").max(1_000_000).optional(),
  hasImages: z.boolean().optional(),
  hasNarrative: z.boolean().optional(),
  importBatchId: ZId.optional(),
  search: limitedText("caseSearch", z.string().trim().min(1)).optional(),
});
export type CaseFilters = z.infer<typeof ZCaseFilters>;

export const ZCaseListInput = z.object({
  projectId: ZId,
  filters: ZCaseFilters.default({}),
  /** The `nextCursor` of the previous page (opaque); absent for the first page. */
  cursor: z.string().min(1).max(400).nullish(),
  limit: z.number().int().min(1).max(MAX_CASE_PAGE_SIZE).default(CASE_PAGE_SIZE),
});
export type CaseListInput = z.input<typeof ZCaseListInput>;

export const ZCaseCountInput = z.object({ projectId: ZId, filters: ZCaseFilters.default({}) });
export type CaseCountInput = z.input<typeof ZCaseCountInput>;

/** The browser's filter options (labels, annotators, rounds, import batches) of one project. */
export const ZCaseBrowserProjectInput = z.object({ projectId: ZId });
export type CaseBrowserProjectInput = z.infer<typeof ZCaseBrowserProjectInput>;

/** Open one case read-only (the browser; a clinician: a case they annotated). */
export const ZCaseDetailInput = z.object({ projectId: ZId, caseId: ZId });
export type CaseDetailInput = z.infer<typeof ZCaseDetailInput>;

const ZCaseIds = z
  .array(ZId)
  .min(1, "Select at least one case")
  .max(MAX_BULK_CASES, `Select at most ${MAX_BULK_CASES} cases at once`)
  .refine((ids) => new Set(ids).size === ids.length, "A case is selected twice");

/**
 * Move cases to another split. Moving a labelled case to TEST is allowed: it then leaves the
 * training set (the train job never trains on TEST). Moving a case OUT of TEST is refused once the
 * project has a model (it was evaluated on it: training on it would leak the test set).
 */
export const ZMoveCasesInput = z.object({ projectId: ZId, caseIds: ZCaseIds, split: ZCaseSplit });
export type MoveCasesInput = z.infer<typeof ZMoveCasesInput>;

/** Queue cases first in the next selection round (POOL cases not labelled and not already queued). */
export const ZPrioritizeCasesInput = z.object({ projectId: ZId, caseIds: ZCaseIds });
export type PrioritizeCasesInput = z.infer<typeof ZPrioritizeCasesInput>;

/** Withdraw a priority request that no round has honoured yet. */
export const ZUnprioritizeCasesInput = z.object({ projectId: ZId, caseIds: ZCaseIds });
export type UnprioritizeCasesInput = z.infer<typeof ZUnprioritizeCasesInput>;

// ---------------------------------------------------------------------------------------------
// Filters in the page URL (the form writes them, the page reads them back)

const BOOLEAN_PARAMS = ["disagreement", "hasImages", "hasNarrative"] as const;
const STRING_PARAMS = ["split", "labelled", "label", "annotatorId", "importBatchId", "search"] as const;

/**
 * The filters written in a URL's search parameters, parsed with ZCaseFilters: unknown parameters
 * are ignored; an invalid value is dropped and reported in `invalid` (parameter names), so a
 * hand-edited URL shows what was ignored instead of failing the page.
 */
export function filtersFromSearchParams(params: { get(name: string): string | null }): { filters: CaseFilters; invalid: string[] } {
  const raw: Record<string, unknown> = {};
  for (const name of STRING_PARAMS) {
    const v = params.get(name);
    if (v !== null && v.trim() !== "") raw[name] = v;
  }
  for (const name of BOOLEAN_PARAMS) {
    const v = params.get(name);
    if (v === "true" || v === "1") raw[name] = true;
    else if (v === "false" || v === "0") raw[name] = false;
    else if (v !== null && v !== "") raw[name] = v; // reported as invalid below
  }
  const round = params.get("round");
  if (round !== null && round !== "") raw.round = /^\d+$/.test(round) ? Number(round) : round;
  const invalid: string[] = [];
  const filters: Record<string, unknown> = {};
  const shape = ZCaseFilters.shape;
  for (const [name, value] of Object.entries(raw)) {
    const parsed = shape[name as keyof typeof shape].safeParse(value);
    if (parsed.success) filters[name] = parsed.data;
    else invalid.push(name);
  }
  return { filters: filters as CaseFilters, invalid };
}

/** The search parameters that encode `filters` (the inverse of filtersFromSearchParams). */
export function filtersToSearchParams(filters: CaseFilters): URLSearchParams {
  const out = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value === undefined || value === null || value === "") continue;
    out.set(name, String(value));
  }
  return out;
}
