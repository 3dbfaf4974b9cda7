/**
 * A small RFC-4180 CSV parser and a JSONL reader for the command-line tools.
 *
 * Why our own: the simulation CLI reads clinical exports (quoted fields with embedded
 * newlines, commas and "" escapes) and must say exactly where a bad file goes wrong
 * (file, line, column), which is what a data scientist needs to fix an export by hand.
 * Pure string functions; the file reading lives in `table.ts`.
 */

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
 * Parse RFC-4180 CSV text: the first record is the header.
 * Accepts CRLF, LF or a lone CR as record separators, a UTF-8 BOM, and a missing final newline.
 * Lenient in one place only: blank lines (a record with a single empty field) are skipped,
 * because exports often end with several newlines.
 * @throws TableInputError for an unterminated quote, text after a closing quote, a stray
 *   quote inside an unquoted field, a duplicated or empty header, or a field-count mismatch.
 */
export function parseCsv(text: string, options: CsvParseOptions = {}): CsvTable {
  const file = options.file ?? "<csv>";
  const delimiter = options.delimiter ?? ",";
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw new Error(`parseCsv: delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const strict = options.strictFieldCount ?? true;
  const records: string[][] = [];
  const recordLines: number[] = [];
  const recordPositions: number[][] = [];

  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  // Index of the first character of the current line, so columns are computed on demand.
  let lineStart = i;
  const n = text.length;

  let record: string[] = [];
  let positions: number[] = [];
  let recordLine = 1;
  let atRecordStart = true;

  const fail = (at: number, atLine: number, atLineStart: number, reason: string): never => {
    throw new TableInputError(file, atLine, at - atLineStart + 1, reason);
  };

  while (i <= n) {
    if (atRecordStart) {
      recordLine = line;
      atRecordStart = false;
    }
    positions.push(line, i - lineStart + 1);
    let field: string;
    if (i < n && text[i] === '"') {
      const openAt = i;
      const openLine = line;
      const openLineStart = lineStart;
      i++;
      let buf = "";
      let chunkStart = i;
      for (;;) {
        if (i >= n) fail(openAt, openLine, openLineStart, "unterminated quoted field (the opening quote is here)");
        const ch = text[i];
        if (ch === '"') {
          if (text[i + 1] === '"') {
            buf += text.slice(chunkStart, i + 1);
            i += 2;
            chunkStart = i;
            continue;
          }
          buf += text.slice(chunkStart, i);
          i++;
          break;
        }
        // A CRLF inside a quoted field counts as one line break, at its LF.
        if (ch === "\n" || (ch === "\r" && text[i + 1] !== "\n")) {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      field = buf;
      if (i < n && text[i] !== delimiter && text[i] !== "\n" && text[i] !== "\r") {
        fail(i, line, lineStart, `unexpected ${JSON.stringify(text[i])} after a closing quote (expected ${JSON.stringify(delimiter)} or end of line)`);
      }
    } else {
      const start = i;
      while (i < n && text[i] !== delimiter && text[i] !== "\n" && text[i] !== "\r") {
        if (text[i] === '"') {
          fail(i, line, lineStart, 'a quote inside an unquoted field (quote the whole field and double the inner quote: "")');
        }
        i++;
      }
      field = text.slice(start, i);
    }
    record.push(field);

    if (i < n && text[i] === delimiter) {
      i++;
      continue;
    }
    // End of record: a newline or the end of the text.
    const blank = record.length === 1 && record[0] === "";
    if (!blank) {
      records.push(record);
      recordLines.push(recordLine);
      recordPositions.push(positions);
    }
    record = [];
    positions = [];
    atRecordStart = true;
    if (i >= n) break;
    if (text[i] === "\r" && text[i + 1] === "\n") i += 2;
    else i++;
    line++;
    lineStart = i;
    if (i === n) break;
  }

  if (records.length === 0) throw new TableInputError(file, 1, 1, "empty file: no header row");
  const header = records[0]!;
  const headerLine = recordLines[0]!;
  const seen = new Map<string, number>();
  header.forEach((name, idx) => {
    if (name.trim() === "") throw new TableInputError(file, headerLine, 1, `header column ${idx + 1} has an empty name`);
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new TableInputError(file, headerLine, 1, `header names column ${JSON.stringify(name)} twice (columns ${prev + 1} and ${idx + 1})`);
    }
    seen.set(name, idx);
  });
  const rows = records.slice(1);
  const rowLines = recordLines.slice(1);
  const fieldPositions = recordPositions.slice(1).map((p) => Int32Array.from(p));
  if (strict) {
    rows.forEach((r, idx) => {
      if (r.length !== header.length) {
        // Point at the first surplus field, or at the last field of a short record.
        const pos = fieldPositions[idx]!;
        const f = Math.min(r.length - 1, header.length);
        throw new TableInputError(file, pos[2 * f]!, pos[2 * f + 1]!, `record has ${r.length} fields but the header has ${header.length}`);
      }
    });
  }
  return { header, rows, rowLines, fieldPositions };
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
