/**
 * CSV and JSONL reading for the command-line tools: the CSV is the import's reader
 * (server/import/csv-records.ts, csv-parse underneath) made strict, so the server and the CLI
 * read a file the same way; errors name the file, line and column, which is what a data
 * scientist needs to fix an export by hand. Pure string functions; the file reading lives in `table.ts`.
 */
import { readCsvRecords } from "../../server/import/csv-records";


/** A parse error that names the file, the 1-based line and the 1-based column. */
export class TableInputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "TableInputError";
  }
}

export interface CsvParseOptions {
  /** Name used in error messages (usually the path). */
  file?: string;
  /** Field separator, one character (default ","). */
  delimiter?: string;
  /**
   * Reject records whose field count differs from the header's (default true). RFC 4180
   * says every record has the same number of fields; a short row usually means a broken export.
   */
  strictFieldCount?: boolean;
}

export interface CsvTable {
  header: string[];
  /** Data records (the header excluded), each with `header.length` fields when strict. */
  rows: string[][];
  /** 1-based physical line on which each data record starts (records can span lines). */
  rowLines: number[];
  /**
   * Where each data field starts: `fieldPositions[r][2*f]` is its 1-based line and
   * `[2*f+1]` its 1-based column, so callers can point at a bad value, not just its record.
   */
  fieldPositions: Int32Array[];
}

/**
 * Parse RFC-4180 CSV text: the first record is the header. The same reader as the import
 * (server/import/csv-records.ts, csv-parse underneath), strict: the first problem is thrown.
 * Accepts CRLF, LF or a lone CR as record separators, a UTF-8 BOM, and a missing final newline;
 * blank lines are skipped, because exports often end with several newlines.
 * @throws TableInputError for an unterminated quote, text after a closing quote, a stray
 *   quote inside an unquoted field, a duplicated (ignoring case) or empty header, or a field-count mismatch.
 */
export function parseCsv(text: string, options: CsvParseOptions = {}): CsvTable {
  const file = options.file ?? "<csv>";
  const doc = readCsvRecords(text, { delimiter: options.delimiter ?? ",", checkFieldCount: options.strictFieldCount ?? true, positions: true });
  const first = doc.errors[0];
  if (first) throw new TableInputError(file, first.line, first.column ?? 1, first.message.replace(/^the file is empty: no header row$/, "empty file: no header row"));
  return {
    header: doc.header,
    rows: doc.records.map((r) => r.fields),
    rowLines: doc.records.map((r) => r.line),
    fieldPositions: doc.records.map((r) => Int32Array.from(r.positions)),
  };
}

/**
 * Parse JSON Lines: one JSON object per non-blank line. Values are kept as parsed
 * (callers convert to the type they need and report the line when they cannot).
 * @throws TableInputError naming the line and, when JSON.parse reports a position, the column.
 */
export function parseJsonl(text: string, file = "<jsonl>"): { records: Record<string, unknown>[]; lines: number[] } {
  const records: Record<string, unknown>[] = [];
  const lines: number[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const physical = body.split(/\r\n|\n|\r/);
  physical.forEach((raw, idx) => {
    if (raw.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // V8 words it "... at position 12" (0-based) in Node 20; fall back to column 1 otherwise.
      const m = /position (\d+)/.exec(msg);
      const column = m ? Number(m[1]) + 1 : 1;
      throw new TableInputError(file, idx + 1, column, `invalid JSON: ${msg}`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new TableInputError(file, idx + 1, 1, "each line must be a JSON object");
    }
    records.push(value as Record<string, unknown>);
    lines.push(idx + 1);
  });
  return { records, lines };
}
