/**
 * Read a CSV or JSONL file into one column-oriented shape, and look up columns with errors
 * that name the file, line and column, so a bad export is fixed at the right place.
 */
import { readFileSync } from "node:fs";
import { parseCsv, parseJsonl, TableInputError } from "./csv";

export interface Table {
  file: string;
  columns: string[];
  /** rows[r][c]; `undefined` only for JSONL records that lack key c. */
  rows: (string | undefined)[][];
  /** 1-based line where row r starts. */
  lines: number[];
  /** 1-based column where cell (r, c) starts (1 for JSONL, whose cells have no fixed column). */
  cellColumn(r: number, c: number): number;
  /** 1-based line where cell (r, c) starts (CSV fields can start on a later line than their record). */
  cellLine(r: number, c: number): number;
}

export type TableFormat = "csv" | "jsonl";

export function formatFromPath(path: string): TableFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
  if (lower.endsWith(".csv")) return "csv";
  throw new Error(`${path}: cannot tell the format from the extension (expected .csv, .jsonl or .ndjson)`);
}

/** Parse text already read from `file`. */
export function tableFromText(text: string, file: string, format: TableFormat): Table {
  if (format === "csv") {
    const t = parseCsv(text, { file });
    return {
      file,
      columns: t.header,
      rows: t.rows,
      lines: t.rowLines,
      cellColumn: (r, c) => t.fieldPositions[r]?.[2 * c + 1] ?? 1,
      cellLine: (r, c) => t.fieldPositions[r]?.[2 * c] ?? t.rowLines[r] ?? 1,
    };
  }
  const { records, lines } = parseJsonl(text, file);
  if (records.length === 0) throw new TableInputError(file, 1, 1, "empty file: no JSON records");
  // Columns in order of first appearance, so the table reads like the file.
  const columns: string[] = [];
  const index = new Map<string, number>();
  for (const rec of records) {
    for (const key of Object.keys(rec)) {
      if (!index.has(key)) {
        index.set(key, columns.length);
        columns.push(key);
      }
    }
  }
  const rows = records.map((rec, r) => {
    const row: (string | undefined)[] = new Array<string | undefined>(columns.length).fill(undefined);
    for (const [key, value] of Object.entries(rec)) {
      const c = index.get(key)!;
      if (value === null) row[c] = "";
      else if (typeof value === "string") row[c] = value;
      else if (typeof value === "number" || typeof value === "boolean") row[c] = String(value);
      else throw new TableInputError(file, lines[r]!, 1, `field ${JSON.stringify(key)} must be a string, number, boolean or null, got ${Array.isArray(value) ? "an array" : "an object"}`);
    }
    return row;
  });
  return { file, columns, rows, lines, cellColumn: () => 1, cellLine: (r) => lines[r] ?? 1 };
}

export function readTable(path: string, format: TableFormat = formatFromPath(path)): Table {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`${path}: cannot read (${err instanceof Error ? err.message : String(err)})`);
  }
  return tableFromText(text, path, format);
}

/**
 * Index of a required column. `role` says what it is for (e.g. "--label-col"), so the
 * message tells the user which flag to change.
 */
export function requireColumn(table: Table, name: string, role: string): number {
  const c = table.columns.indexOf(name);
  if (c < 0) {
    throw new TableInputError(
      table.file,
      1,
      1,
      `column ${JSON.stringify(name)} (${role}) not found; the file has: ${table.columns.map((x) => JSON.stringify(x)).join(", ")}`,
    );
  }
  return c;
}

/** Value of cell (r, c); throws naming line and column when a JSONL record lacks the key. */
export function cell(table: Table, r: number, c: number): string {
  const v = table.rows[r]?.[c];
  if (v === undefined) {
    throw new TableInputError(table.file, table.cellLine(r, c), table.cellColumn(r, c), `record has no field ${JSON.stringify(table.columns[c])}`);
  }
  return v;
}
