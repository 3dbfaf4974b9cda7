/**
 * CSV and JSONL tables of an import: narrative files (case id + text) and image manifests
 * (file → case id). Column mapping with defaults, split and label checks, metadata columns.
 * Pure functions over bytes; every bad row becomes an ImportIssue with its line number.
 */
import { unsafeTextIn, unsafeTextReason } from "../../contracts/text-safety";
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

/**
 * The file's text: UTF-8 only (a BOM is dropped later). Anything else — Windows-1252, Latin-1,
 * UTF-16 even with a byte-order mark — is refused with one message saying to export as UTF-8.
 */
function decodeText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Delimiters people export by mistake, named when a header reads as one column that holds them. */
const OTHER_DELIMITERS: readonly [string, string][] = [[";", "`;`"], ["\t", "a tab"], ["|", "`|`"]];

/** Reads a .csv or .jsonl/.ndjson file into rows keyed by column; bad rows become issues. */
export function readTable(file: string, bytes: Uint8Array): { table: Table; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const empty = (issue: Omit<ImportIssue, "file">) => ({ table: { file, columns: [], rows: [] }, issues: [{ file, ...issue }] });
  const text = decodeText(bytes);
  if (text === null) return empty({ message: "the file is not valid UTF-8 text (export it as UTF-8)" });
  if (/\.(jsonl|ndjson)$/i.test(file)) return readJsonl(file, text);
  const doc = readCsvRecords(text);
  if (doc.header.length === 1) {
    const other = OTHER_DELIMITERS.find(([d]) => doc.header[0]!.includes(d));
    if (other) return empty({ line: doc.headerLine, message: `the header reads as one column: the delimiter looks like ${other[1]}, but imports read comma-separated CSV (save the file with commas)` });
  }
  doc.header.forEach((name) => {
    const reason = unsafeTextReason(name);
    if (reason) issues.push({ file, line: doc.headerLine, field: name, message: `the column name ${reason}` });
  });
  if (issues.length) return { table: { file, columns: [], rows: [] }, issues };
  for (const error of doc.errors) issues.push({ file, line: error.line, message: error.message });
  const rows = doc.records.map((record) => ({ line: record.line, values: new Map(doc.header.map((name, c) => [name, record.fields[c]] as const)) }));
  return { table: { file, columns: doc.header, rows }, issues };
}

/**
 * A JSON number as written in the file, kept when reading it as a JavaScript number would change it
 * (an integer above 2^53 is rounded: 12345678901234567891 → 12345678901234567000; `1.0` reads as 1).
 */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

/** JSON.parse that keeps every number whose value does not print back as written, as JsonNumberText. */
function parseJsonKeepingNumbers(raw: string): unknown {
  const marker = `~number-as-written:${JSON_NUMBER_NONCE}:`;
  let rewritten = "";
  let changed = false;
  let last = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      continue;
    }
    if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(raw.slice(i, i + 400));
      if (!m) continue;
      const token = m[0];
      if (String(Number(token)) !== token) {
        rewritten += `${raw.slice(last, i)}"${marker}${token}"`;
        last = i + token.length;
        changed = true;
      }
      i += token.length - 1;
    }
  }
  if (!changed) return JSON.parse(raw);
  rewritten += raw.slice(last);
  return JSON.parse(rewritten, (_key, value: unknown) => (typeof value === "string" && value.startsWith(marker) ? new JsonNumberText(value.slice(marker.length)) : value));
}
const JSON_NUMBER_NONCE = Math.random().toString(36).slice(2);

/** Nested values keep numbers as written as strings (metadata is stored as JSON, never rounded). */
function plainJson(value: unknown): unknown {
  if (value instanceof JsonNumberText) return value.text;
  if (Array.isArray(value)) return value.map(plainJson);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainJson(v)]));
  return value;
}

/**
 * What is most likely wrong with a JSON Lines line that does not parse, in the user's terms (never
 * the parser's own text, which differs between engines): a trailing comma, single quotes, a record
 * cut off or split over several lines; "" when none of these.
 */
export function jsonProblemHint(raw: string, parserMessage: string): string {
  const line = raw.trim();
  if (/,\s*[}\]]/.test(line)) return " (a trailing comma before } or ] is not allowed in JSON)";
  if (/^\{\s*'/.test(line) || /'\s*:/.test(line)) return " (JSON needs double quotes around names and strings, not single quotes)";
  if (/end of (JSON )?input|Unterminated|unexpected end/i.test(parserMessage) || (line.startsWith("{") && !line.endsWith("}"))) {
    return " (the line ends before its object is closed: is the record cut off, or split over several lines? Each record must be one whole line)";
  }
  if (!line.startsWith("{")) return " (each line must be one JSON object, starting with {)";
  return "";
}

function readJsonl(file: string, text: string): { table: Table; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const rows: TableRow[] = [];
  const columns: string[] = [];
  const known = new Set<string>();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/);
  const firstLine = lines.findIndex((raw) => raw.trim() !== "");
  if (firstLine >= 0 && lines[firstLine]!.trim().startsWith("[")) {
    // One message, not one per line: the whole file is a JSON array (or pretty-printed JSON).
    return {
      table: { file, columns: [], rows: [] },
      issues: [{ file, line: firstLine + 1, message: "the file is a JSON array, not JSON Lines: write one JSON object per line (no surrounding [ ] and no commas between records)" }],
    };
  }
  lines.forEach((raw, idx) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = parseJsonKeepingNumbers(raw);
    } catch (error) {
      issues.push({ file, line: idx + 1, message: `line ${idx + 1} is not valid JSON${jsonProblemHint(raw, (error as Error).message)}` });
      return;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof JsonNumberText) {
      issues.push({ file, line: idx + 1, message: "each line must be one JSON object" });
      return;
    }
    const badKey = Object.keys(value).find((key) => unsafeTextReason(key) !== null);
    if (badKey !== undefined) {
      issues.push({ file, line: idx + 1, field: badKey, message: `the column name ${unsafeTextReason(badKey)}` });
      return;
    }
    const values = new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, v instanceof JsonNumberText ? v : plainJson(v)] as const));
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
  /** The column the case id came from (named in issues about the id). */
  idColumn: string | null;
}

/** Maps a raw label to the project's label key, or returns an error message. */
export type LabelResolver = (raw: string) => { key: string } | { error: string };

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (value instanceof JsonNumberText) return value.text;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const isJsonl = (file: string) => /\.(jsonl|ndjson)$/i.test(file);

/**
 * A JSON Lines record without the key the mapping reads (its columns are the union of every
 * record's keys): names the key, the keys this record has, and where to choose another.
 */
function missingValue(row: TableRow, column: string, role: string): string {
  const keys = [...row.values.keys()].map((k) => JSON.stringify(k)).join(", ") || "none";
  return `the ${role} key ${JSON.stringify(column)} is missing from this record; it has ${keys} (set the ${role} column in the mapping if the ${role} is under another key)`;
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

    // Every value a file fills must be storable text (no NUL, no unpaired surrogate): refused here,
    // naming the line and column, instead of failing in the database insert.
    const unsafe = new Set<string>();
    for (const column of [columns.id, columns.text, columns.label, columns.split, columns.file, ...columns.metadata]) {
      if (!column || unsafe.has(column)) continue;
      const found = unsafeTextIn(plainJson(row.values.get(column)));
      if (found) {
        unsafe.add(column);
        problem(column, `the value${found.path ? ` at ${found.path}` : ""} ${found.reason}`);
      }
    }

    let externalId: string | null = null;
    const rawId = columns.id ? row.values.get(columns.id) : undefined;
    if (columns.id && unsafe.has(columns.id)) {
      // already reported
    } else if (columns.id && rawId instanceof JsonNumberText && !/^-?\d+$/.test(rawId.text)) {
      problem(columns.id, `the case id ${rawId.text} is a number that is not a whole number as written: quote the id ("${rawId.text}") so it is kept exactly`);
    } else if (columns.id && !row.values.has(columns.id) && isJsonl(table.file)) {
      problem(columns.id, missingValue(row, columns.id, "case id"));
    } else if (columns.id) {
      externalId = asText(rawId).trim();
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
      if (kind === "narratives" && isJsonl(table.file) && !row.values.has(columns.text)) {
        problem(columns.text, missingValue(row, columns.text, "text"));
      } else if (text.trim() === "") {
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
      const value = plainJson(row.values.get(column));
      if (value === undefined || value === null || value === "") continue;
      metadata[column] = value;
    }

    if (problems.length) issues.push(...problems);
    else rows.push({ file: table.file, line: row.line, externalId, narrative, label, split, metadata, imageRef, idColumn: columns.id });
  }
  return { kind, rows, issues };
}
