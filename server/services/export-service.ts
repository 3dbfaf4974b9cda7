/**
 * Exporting a project's labels with provenance — members whose project role grants
 * "labels.export" (contracts/permissions.ts), or the CLI as a system action. One row per annotation: by default the latest version per
 * (case, annotator); with `history` every version. Every export is audited (counts only).
 *
 * CSV: RFC 4180 quoting; `labels` joined with ";", `spans` and `regions` as JSON. A text cell that starts
 * with = + - @ (a spreadsheet formula) gets a leading apostrophe, so opening the file in a
 * spreadsheet cannot run what an annotator typed into a comment.
 *
 * Span offsets: `start`/`end` count Unicode code points of the narrative — what Python
 * (`text[start:end]`), R and most NLP tools index by — and `startUtf16`/`endUtf16` count UTF-16
 * code units (JavaScript, the annotation page). They differ after an emoji or any character outside
 * the Basic Multilingual Plane. Every row says so in `spanOffsetUnit` (CSV: `span_offset_unit`).
 *
 * Image regions (ExportedRegion): the image's SOP Instance UID (null for PNG/JPEG) and platform id,
 * the DICOM frame number (1-based), and the shape in image pixel coordinates — x along the columns,
 * y down the rows, (0, 0) the top-left corner of the first pixel.
 *
 * Final label (issue 14): every row also carries its CASE's training label as training uses it —
 * `trainingLabel` of server/services/training-label.ts over all the case's annotations (adjudicated,
 * else a strict majority of the annotators' latest submitted labels, else the imported label when
 * nobody submitted, else excluded) — with the branch that gave it (`finalLabelRule`: "adjudicated" |
 * "consensus" (= majority) | "imported" | "excluded", the training snapshot's `labelSources` names) and
 * the agreement count: `finalLabelVotes` of `finalLabelVoters` annotators (each by their latest
 * submitted version) gave that label (excluded: the largest group that agreed). A gold case's label is
 * its own (adjudicated, else imported): its annotators' gold answers are counted but never vote. A TEST case with an
 * imported label keeps that label (`imported`), adjudicated or not: it evaluates models, so no annotation (the workspace
 * refuses them; rows written before that rule are still exported) overrides it. Rows of one case repeat
 * the same values. Cases nobody annotated (skips included) are not in this export; their label is the one
 * they were imported with. `gold` (CSV `gold`: "true"/"false") says whether the case is a gold case now (issue 14
 * item 3: a known answer clinicians are scored against), so an analysis can keep gold answers apart.
 */
import { ZImageRegion } from "@/contracts/annotations";
import { listAnnotationsForExport } from "../db/import-repo";
import { csvField } from "../import/csv-records";
import { clientDetails, type ServiceContext } from "./context";
import { requireProject, requireProjectAsSystem } from "./project-access";
import { trainingLabel, type TrainingLabelSource } from "./training-label";
export type ExportFormat = "jsonl" | "csv";

export interface ExportInput {
  projectId: string;
  format: ExportFormat;
  history: boolean;
}

export interface ExportedLabel {
  caseId: string;
  annotatorId: string;
  annotatorName: string;
  annotatedAt: string;
  version: number;
  /** ADJUDICATED: an adjudicator's final label (comment = the reason), preferred by the training label (server/services/training-label.ts). */
  kind: "SUBMITTED" | "SKIPPED" | "ADJUDICATED";
  labels: string[];
  uncertain: boolean;
  comment: string;
  timeSpentMs: number;
  spans: ExportedSpan[];
  /** What `spans[].start`/`end` count: always "codepoint" (see ExportedSpan). */
  spanOffsetUnit: typeof SPAN_OFFSET_UNIT;
  regions: ExportedRegion[];
  skipReason: string | null;
  /** The case's training label (null when excluded) — the same for every row of the case (see the file's comment). */
  finalLabel: string | null;
  /** The branch of the training-label rule that gave `finalLabel`. */
  finalLabelRule: TrainingLabelSource;
  /** Annotators whose latest submitted label is `finalLabel` (excluded: the largest agreeing group) … */
  finalLabelVotes: number;
  /** … of this many annotators with a latest submitted label. */
  finalLabelVoters: number;
  /** Whether the case is a gold case (a known answer the queue mixes in; server/services/gold-service.ts). */
  gold: boolean;
}

/** An image region as exported (see the file's comment for the coordinate system). */
export type ExportedRegion = {
  label: string;
  imageId: string;
  sopInstanceUid: string | null;
  /** DICOM frame number, 1-based. */
  frame: number;
} & ({ shape: "rectangle" | "ellipse"; x: number; y: number; width: number; height: number } | { shape: "freehand"; points: [number, number][] });

/** Stored regions in export form; entries that do not parse (hand-edited rows) are left out. */
export function exportRegions(stored: unknown): ExportedRegion[] {
  if (!Array.isArray(stored)) return [];
  const out: ExportedRegion[] = [];
  for (const item of stored) {
    const parsed = ZImageRegion.safeParse(item);
    if (!parsed.success) continue;
    const r = parsed.data;
    const base = { label: r.label, imageId: r.imageId, sopInstanceUid: r.sopInstanceUid ?? null, frame: r.frame };
    out.push(r.shape === "freehand" ? { ...base, shape: r.shape, points: r.points } : { ...base, shape: r.shape, x: r.x, y: r.y, width: r.width, height: r.height });
  }
  return out;
}

export const SPAN_OFFSET_UNIT = "codepoint" as const;

/** An evidence span as exported: [start, end) in code points, and the same span in UTF-16 code units. */
export interface ExportedSpan {
  label: string;
  text: string;
  /** Unicode code points from the start of the narrative (Python str indices). */
  start: number;
  end: number;
  /** UTF-16 code units (JavaScript string indices), as the annotation page stores them. */
  startUtf16: number;
  endUtf16: number;
}

/** Code points in the first `utf16` code units of `text`. */
function codePointOffset(text: string, utf16: number): number {
  // Past the narrative's end (a span of an edited text) every unit counts as one point.
  let points = Math.max(0, utf16 - text.length);
  for (let i = 0; i < utf16 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    // The low half of a pair was counted with its high half.
    if (!(c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff)) points++;
  }
  return points;
}

/** Stored spans (UTF-16 offsets) with their code-point offsets in `narrative`; unreadable entries are left out. */
export function exportSpans(stored: unknown, narrative: string | null): ExportedSpan[] {
  if (!Array.isArray(stored)) return [];
  const text = narrative ?? "";
  const out: ExportedSpan[] = [];
  for (const span of stored as { start?: unknown; end?: unknown; label?: unknown; text?: unknown }[]) {
    if (!span || typeof span.start !== "number" || typeof span.end !== "number") continue;
    out.push({
      label: String(span.label ?? ""),
      text: String(span.text ?? ""),
      start: codePointOffset(text, span.start),
      end: codePointOffset(text, span.end),
      startUtf16: span.start,
      endUtf16: span.end,
    });
  }
  return out;
}

export const CSV_COLUMNS = [
  "case_id",
  "annotator_id",
  "annotator_name",
  "annotated_at",
  "version",
  "kind",
  "labels",
  "uncertain",
  "comment",
  "time_spent_ms",
  "spans",
  "span_offset_unit",
  "regions",
  "skip_reason",
  "final_label",
  "final_label_rule",
  "final_label_votes",
  "final_label_voters",
  "gold",
] as const;

function guardFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function toCsv(rows: ExportedLabel[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows) {
    const cells = [
      guardFormula(r.caseId),
      r.annotatorId,
      guardFormula(r.annotatorName),
      r.annotatedAt,
      String(r.version),
      r.kind,
      guardFormula(r.labels.join(";")),
      r.uncertain ? "true" : "false",
      guardFormula(r.comment),
      String(r.timeSpentMs),
      JSON.stringify(r.spans ?? []),
      r.spanOffsetUnit,
      JSON.stringify(r.regions ?? []),
      guardFormula(r.skipReason ?? ""),
      guardFormula(r.finalLabel ?? ""),
      r.finalLabelRule,
      String(r.finalLabelVotes),
      String(r.finalLabelVoters),
      r.gold ? "true" : "false",
    ];
    lines.push(cells.map(csvField).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

export function toJsonl(rows: ExportedLabel[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "");
}

export async function exportLabels(ctx: ServiceContext, input: ExportInput, opts: { system?: boolean } = {}) {
  // Exporting reads only: allowed on an archived project.
  const { project } = !ctx.actor && opts.system ? await requireProjectAsSystem(ctx, input.projectId) : await requireProject(ctx, input.projectId, "labels.export");

  const all = await listAnnotationsForExport(ctx.db, project.id);
  // The final label of each case, from every version of every annotator (the rule reads them all).
  const byCase = new Map<string, (typeof all)[number][]>();
  for (const a of all) {
    const list = byCase.get(a.caseId);
    if (list) list.push(a);
    else byCase.set(a.caseId, [a]);
  }
  // A TEST case's imported label evaluates models: annotations never override it (the workspace refuses them; any written
  // before that rule, or by adjudication, are exported as rows but do not vote) — read as the gold branch without adjudication.
  const finalLabels = new Map(
    [...byCase].map(([caseId, annotations]) => {
      const c = annotations[0]!.case;
      const test = c.split === "TEST" && c.importedLabel !== null;
      return [caseId, trainingLabel(test ? annotations.filter((a) => a.kind !== "ADJUDICATED") : annotations, c.importedLabel, { gold: c.gold !== null || test })];
    }),
  );
  // Ordered by case, author, version: the last row of each (case, author) run is the latest.
  const chosen = input.history ? all : all.filter((row, i) => {
    const next = all[i + 1];
    return !next || next.caseId !== row.caseId || next.authorId !== row.authorId;
  });
  const rows: ExportedLabel[] = chosen.map((a) => {
    const final = finalLabels.get(a.caseId)!;
    return {
      caseId: a.case.externalId,
      annotatorId: a.authorId,
      annotatorName: a.author.name,
      annotatedAt: a.createdAt.toISOString(),
      version: a.version,
      kind: a.kind,
      labels: a.labels,
      uncertain: a.uncertain,
      comment: a.comment,
      timeSpentMs: a.timeSpentMs,
      spans: exportSpans(a.spans, a.case.narrative),
      spanOffsetUnit: SPAN_OFFSET_UNIT,
      regions: exportRegions(a.regions),
      skipReason: a.skipReason,
      finalLabel: final.label,
      finalLabelRule: final.source,
      finalLabelVotes: final.votes,
      finalLabelVoters: final.voters,
      gold: a.case.gold !== null,
    };
  });
  await ctx.audit.record(ctx.db, {
    action: "export.labels",
    targetType: "Project",
    targetId: project.id,
    projectId: project.id,
    details: { format: input.format, history: input.history, rows: rows.length, ...clientDetails(ctx) },
  });
  const stamp = new Date().toISOString().slice(0, 10);
  const safeName = project.name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "project";
  return {
    filename: `${safeName}-labels${input.history ? "-history" : ""}-${stamp}.${input.format}`,
    contentType: input.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    body: input.format === "csv" ? toCsv(rows) : toJsonl(rows),
    rows: rows.length,
  };
}
