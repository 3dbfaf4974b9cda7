/**
 * CSV and JSONL tables of an import: narrative files (case id + text) and image manifests
 * (file → case id). Column mapping with defaults, split and label checks, metadata columns.
 * Pure functions over bytes; every bad row becomes an ImportIssue with its line number.
 */
import { readCsvRecords } from "./csv-records";
import type { ImportIssue } from "./issues";

export type Split = "POOL" | "TEST" | "SEED";

export interface ColumnMapping {
  idCol?: string;
  textCol?: string;
  labelCol?: string;
  splitCol?: string;
  /** Manifest column naming the image file. */
  fileCol?: string;
  /** Columns kept as case metadata; default: every column not mapped above. */
  metadataCols?: string[];
}

/** Column names tried, in order, when the mapping does not name one (case-insensitive). */
export const DEFAULT_COLUMNS = {
  id: ["id", "case_id", "note_id"],
  text: ["text", "narrative", "transcription"],
  label: ["label"],
  split: ["split"],
  file: ["file", "filename", "file_name", "path"],
} as const;

/**
 * Metadata columns that would identify a patient are dropped unless the project allows patient
 * identifiers (settings.allowPatientIdentifiers): the platform keeps cases pseudonymous.
 */
const IDENTIFYING_COLUMN = /^(patient[ _-]?(name|id|identifier)|patientid|patientname|birth[ _-]?date|date[ _-]?of[ _-]?birth|dob|mrn|ssn|phone|address|e-?mail)$/i;

export interface TableRow {
  line: number;
  values: Map<string, unknown>;
}

export interface Table {
  file: string;
  columns: string[];
  rows: TableRow[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads a .csv or .jsonl/.ndjson file into rows keyed by column; bad rows become issues. */
export function readTable(file: string, bytes: Uint8Array): { table: Table; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { table: { file, columns: [], rows: [] }, issues: [{ file, message: "the file is not valid UTF-8 text (export it as UTF-8)" }] };
  }
  if (/\.(jsonl|ndjson)$/i.test(file)) return readJsonl(file, text);
  const doc = readCsvRecords(text);
  for (const error of doc.errors) issues.push({ file, line: error.line, message: error.message });
  const rows = doc.records.map((record) => ({ line: record.line, values: new Map(doc.header.map((name, c) => [name, record.fields[c]] as const)) }));
  return { table: { file, columns: doc.header, rows }, issues };
}

function readJsonl(file: string, text: string): { table: Table; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const rows: TableRow[] = [];
  const columns: string[] = [];
  const known = new Set<string>();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  body.split(/\r\n|\n|\r/).forEach((raw, idx) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      issues.push({ file, line: idx + 1, message: `invalid JSON: ${(error as Error).message}` });
      return;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      issues.push({ file, line: idx + 1, message: "each line must be one JSON object" });
      return;
    }
    const values = new Map(Object.entries(value as Record<string, unknown>));
    for (const key of values.keys()) {
      if (!known.has(key)) {
        known.add(key);
        columns.push(key);
      }
    }
    rows.push({ line: idx + 1, values });
  });
  if (rows.length === 0 && issues.length === 0) issues.push({ file, message: "the file holds no JSON records" });
  return { table: { file, columns, rows }, issues };
}

/** The column for `role`: the mapped name (which must exist) or the first default present. */
function pickColumn(table: Table, mapped: string | undefined, defaults: readonly string[]): { column: string | null; missingMapped: boolean } {
  if (mapped) {
    const found = table.columns.find((c) => c === mapped) ?? table.columns.find((c) => c.toLowerCase() === mapped.toLowerCase());
    return { column: found ?? null, missingMapped: !found };
  }
  for (const candidate of defaults) {
    const found = table.columns.find((c) => c.toLowerCase() === candidate);
    if (found) return { column: found, missingMapped: false };
  }
  return { column: null, missingMapped: false };
}

export interface ResolvedColumns {
  id: string | null;
  text: string | null;
  label: string | null;
  split: string | null;
  file: string | null;
  metadata: string[];
}

export function resolveColumns(table: Table, mapping: ColumnMapping, allowIdentifiers: boolean): { columns: ResolvedColumns; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const have = table.columns.map((c) => JSON.stringify(c)).join(", ") || "(none)";
  const pick = (mapped: string | undefined, defaults: readonly string[], option: string) => {
    const { column, missingMapped } = pickColumn(table, mapped, defaults);
    if (missingMapped) issues.push({ file: table.file, field: mapped, message: `the ${option} "${mapped}" is not a column of this file; it has ${have}` });
    return column;
  };
  const id = pick(mapping.idCol, DEFAULT_COLUMNS.id, "case id column");
  const text = pick(mapping.textCol, DEFAULT_COLUMNS.text, "text column");
  const label = pick(mapping.labelCol, DEFAULT_COLUMNS.label, "label column");
  const split = pick(mapping.splitCol, DEFAULT_COLUMNS.split, "split column");
  const file = pick(mapping.fileCol, DEFAULT_COLUMNS.file, "file column");
  const used = new Set([id, text, label, split, file].filter((c): c is string => c !== null));
  let metadata: string[];
  if (mapping.metadataCols && mapping.metadataCols.length > 0) {
    metadata = [];
    for (const wanted of mapping.metadataCols) {
      const found = table.columns.find((c) => c.toLowerCase() === wanted.toLowerCase());
      if (!found) issues.push({ file: table.file, field: wanted, message: `the metadata column "${wanted}" is not a column of this file; it has ${have}` });
      else metadata.push(found);
    }
  } else {
    metadata = table.columns.filter((c) => !used.has(c));
  }
  if (!allowIdentifiers) metadata = metadata.filter((c) => !IDENTIFYING_COLUMN.test(c.trim()));
  return { columns: { id, text, label, split, file, metadata }, issues };
}

/** One case-level row from a narrative file or an image manifest. */
export interface CaseRow {
  file: string;
  line: number;
  /** Null only for manifest rows without a case id column (the image's file stem is used). */
  externalId: string | null;
  narrative: string | null;
  label: string | null;
  split: Split | null;
  metadata: Record<string, unknown>;
  /** Manifest rows: the image file this row describes. */
  imageRef: string | null;
}

/** Maps a raw label to the project's label key, or returns an error message. */
export type LabelResolver = (raw: string) => { key: string } | { error: string };

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const MAX_ID_LENGTH = 200;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function parseSplit(raw: string): Split | null | { error: string } {
  const value = raw.trim().toUpperCase();
  if (value === "") return null;
  if (value === "POOL" || value === "TEST" || value === "SEED") return value;
  return { error: `split "${raw.trim()}" is not one of POOL, TEST, SEED` };
}

/**
 * Turns a table into case rows. A table with a file column is an image manifest (case id and text
 * optional); otherwise it is a narrative file and both the case id and the text are required.
 */
export function tableToCaseRows(
  table: Table,
  columns: ResolvedColumns,
  resolveLabel: LabelResolver,
): { kind: "narratives" | "manifest"; rows: CaseRow[]; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const kind = columns.file ? "manifest" : "narratives";
  const have = table.columns.map((c) => JSON.stringify(c)).join(", ") || "(none)";
  if (kind === "narratives") {
    if (!columns.id) issues.push({ file: table.file, message: `no case id column: name one (id, case_id or note_id are found by default); the file has ${have}` });
    if (!columns.text) issues.push({ file: table.file, message: `no text column: name one (text, narrative or transcription are found by default); the file has ${have}` });
    if (issues.length) return { kind, rows: [], issues };
  }
  const rows: CaseRow[] = [];
  const seenIds = new Map<string, number>();
  const seenFiles = new Map<string, number>();
  for (const row of table.rows) {
    const problems: ImportIssue[] = [];
    const problem = (field: string | null, message: string) => problems.push({ file: table.file, line: row.line, ...(field ? { field } : {}), message });

    let externalId: string | null = null;
    if (columns.id) {
      externalId = asText(row.values.get(columns.id)).trim();
      if (externalId === "") problem(columns.id, "the case id is empty");
      else if (externalId.length > MAX_ID_LENGTH) problem(columns.id, `the case id is longer than ${MAX_ID_LENGTH} characters`);
      else if (CONTROL.test(externalId)) problem(columns.id, "the case id contains control characters");
      else if (kind === "narratives") {
        const earlier = seenIds.get(externalId);
        if (earlier !== undefined) problem(columns.id, `case id "${externalId}" is already used on line ${earlier}`);
        else seenIds.set(externalId, row.line);
      }
    }

    let narrative: string | null = null;
    if (columns.text) {
      const text = asText(row.values.get(columns.text));
      if (text.trim() === "") {
        if (kind === "narratives") problem(columns.text, "the text is empty");
      } else {
        narrative = text;
      }
    }

    let imageRef: string | null = null;
    if (columns.file) {
      imageRef = asText(row.values.get(columns.file)).trim();
      if (imageRef === "") problem(columns.file, "the file name is empty");
      else {
        const earlier = seenFiles.get(imageRef);
        if (earlier !== undefined) problem(columns.file, `file "${imageRef}" is already listed on line ${earlier}`);
        else seenFiles.set(imageRef, row.line);
      }
    }

    let label: string | null = null;
    if (columns.label) {
      const raw = asText(row.values.get(columns.label)).trim();
      if (raw !== "") {
        const resolved = resolveLabel(raw);
        if ("error" in resolved) problem(columns.label, resolved.error);
        else label = resolved.key;
      }
    }

    let split: Split | null = null;
    if (columns.split) {
      const parsed = parseSplit(asText(row.values.get(columns.split)));
      if (parsed && typeof parsed === "object") problem(columns.split, parsed.error);
      else split = parsed;
    }

    const metadata: Record<string, unknown> = {};
    for (const column of columns.metadata) {
      const value = row.values.get(column);
      if (value === undefined || value === null || value === "") continue;
      metadata[column] = value;
    }

    if (problems.length) issues.push(...problems);
    else rows.push({ file: table.file, line: row.line, externalId, narrative, label, split, metadata, imageRef });
  }
  return { kind, rows, issues };
}
