/**
 * Exporting a project's labels with provenance — members whose project role grants
 * "labels.export" (contracts/permissions.ts), or the CLI as a system action. One row per annotation: by default the latest version per
 * (case, annotator); with `history` every version. Every export is audited (counts only).
 *
 * CSV: RFC 4180 quoting; `labels` joined with ";" and `spans` as JSON. A text cell that starts
 * with = + - @ (a spreadsheet formula) gets a leading apostrophe, so opening the file in a
 * spreadsheet cannot run what an annotator typed into a comment.
 */
import { listAnnotationsForExport } from "../db/import-repo";
import { csvField } from "../import/csv-records";
import { clientDetails, type ServiceContext } from "./context";
import { requireProject, requireProjectAsSystem } from "./project-access";
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
  kind: "SUBMITTED" | "SKIPPED";
  labels: string[];
  uncertain: boolean;
  comment: string;
  timeSpentMs: number;
  spans: unknown;
  skipReason: string | null;
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
  "skip_reason",
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
      guardFormula(r.skipReason ?? ""),
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
  // Ordered by case, author, version: the last row of each (case, author) run is the latest.
  const chosen = input.history ? all : all.filter((row, i) => {
    const next = all[i + 1];
    return !next || next.caseId !== row.caseId || next.authorId !== row.authorId;
  });
  const rows: ExportedLabel[] = chosen.map((a) => ({
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
    spans: a.spans,
    skipReason: a.skipReason,
  }));
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
