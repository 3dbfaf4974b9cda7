/**
 * RFC-4180 CSV reading for imports (the upload route and the CLI) and for the command-line tools
 * (scripts/lib/csv.ts wraps it): csv-parse does the tokenising, this module adds what imports need
 * on top — the 1-based PHYSICAL line on which each record starts (records may span lines; blank
 * lines are skipped), and a parse that keeps going after a bad record so one run lists every bad
 * row of a file.
 *
 * Recovery: csv-parse stops at a malformed record (a stray quote, text after a closing quote);
 * the record is reported at its start line and parsing resumes on the next physical line. An
 * unterminated quote swallows the rest of the file, and the error says so. Line numbers come from
 * csv-parse's byte offsets (`info.bytes`) mapped onto our own line index, so a CRLF inside a quoted
 * field counts as one line break, as editors show it.
 */
import { CsvError, parse } from "csv-parse/sync";

export interface CsvRecord {
  /** 1-based physical line on which the record starts. */
  line: number;
  fields: string[];
  /**
   * Where each field starts: [line, column] pairs (1-based; columns in UTF-16 code units of that
   * line). Filled for the header, for records with a field-count error, and for every record when
   * CsvReadOptions.positions is set (the CLI's cell errors); empty otherwise.
   */
  positions: number[];
}

export interface CsvRecordError {
  line: number;
  /** 1-based column of the offending character when known. */
  column?: number;
  message: string;
}

export interface CsvDocument {
  header: string[];
  headerLine: number;
  records: CsvRecord[];
  errors: CsvRecordError[];
}

export interface CsvReadOptions {
  /** Field separator, one character (default ","). */
  delimiter?: string;
  /** Report records whose field count differs from the header's (default true). */
  checkFieldCount?: boolean;
  /** Fill CsvRecord.positions for every record (default false: a second scan of the text). */
  positions?: boolean;
}

/** Start offsets (in UTF-16 code units of `text`) of each physical line; CRLF, LF and a lone CR end a line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Field start positions of a well-formed record that starts at `from` (a scan of quote state only). */
function fieldPositions(text: string, starts: number[], from: number, fieldCount: number, delimiter: string): number[] {
  const out: number[] = [];
  let i = from;
  let line = lineOf(starts, from);
  for (let f = 0; f < fieldCount; f++) {
    out.push(line, i - starts[line - 1]! + 1);
    let quoted = text[i] === '"';
    if (quoted) i++;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') i++;
          else quoted = false;
        } else if (ch === "\n" || (ch === "\r" && text[i + 1] !== "\n")) line++;
      } else if (ch === delimiter) {
        i++;
        break;
      } else if (ch === "\n" || ch === "\r") break;
    }
  }
  return out;
}

/**
 * Where a record on `line` broke, found by re-reading the line: the 1-based column of the offending
 * character and the 1-based field it is in.
 */
function problemAt(text: string, starts: number[], line: number, delimiter: string): { column: number; field: number } | undefined {
  const from = starts[line - 1]!;
  const to = line < starts.length ? starts[line]! : text.length;
  const row = text.slice(from, to);
  let fieldStart = true;
  let quoted = false;
  let field = 1;
  for (let i = 0; i < row.length; i++) {
    const ch = row[i];
    if (quoted) {
      if (ch === '"') {
        if (row[i + 1] === '"') i++;
        else {
          quoted = false;
          const next = row[i + 1];
          if (next !== undefined && next !== delimiter && next !== "\n" && next !== "\r") return { column: i + 2, field };
        }
      }
      continue;
    }
    if (ch === '"') {
      if (fieldStart) quoted = true;
      else return { column: i + 1, field };
    }
    fieldStart = ch === delimiter;
    if (fieldStart) field++;
  }
  return undefined;
}

function explain(error: CsvError, delimiter: string, field: number | undefined): string {
  const which = field === undefined ? "" : ` ${field}`;
  switch (error.code) {
    case "INVALID_OPENING_QUOTE":
      return `a quote inside unquoted field${which} (quote the whole field and double the inner quote: "")`;
    case "CSV_INVALID_CLOSING_QUOTE":
      return `unexpected text after a closing quote in field${which} (expected ${JSON.stringify(delimiter)} or the end of the line; a quote inside a quoted field must be doubled: "")`;
    default:
      return `the record cannot be read (${error.message})`;
  }
}

/**
 * Splits `text` into records; the first record is the header (names trimmed; an empty or repeated
 * name — ignoring case — is an error of the header line). Field-count mismatches against the
 * header are errors of that record and the record is left out. A UTF-8 BOM is ignored.
 */
export function readCsvRecords(input: string, options: CsvReadOptions = {}): CsvDocument {
  const delimiter = options.delimiter ?? ",";
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw new Error(`readCsvRecords: delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const starts = lineStarts(text);
  const bytes = Buffer.from(text, "utf8");
  // csv-parse reports byte offsets; this maps one back to a UTF-16 offset of `text`. Offsets only
  // grow within a pass (record ends lie on delimiters, so on character boundaries): incremental.
  let knownByte = 0;
  let knownChar = 0;
  const byteToChar = (byteOffset: number) => {
    if (byteOffset < knownByte) {
      knownByte = 0;
      knownChar = 0;
    }
    knownChar += bytes.subarray(knownByte, byteOffset).toString("utf8").length;
    knownByte = byteOffset;
    return knownChar;
  };
  const skipBlank = (charOffset: number) => {
    let i = charOffset;
    while (i < text.length && (text[i] === "\n" || text[i] === "\r")) i++;
    return i;
  };

  const all: (CsvRecord & { start: number })[] = [];
  const errors: CsvRecordError[] = [];
  let fromByte = 0;
  while (fromByte < bytes.length) {
    let lastEndChar = byteToChar(fromByte);
    let lastEndByte = fromByte;
    const base = fromByte;
    try {
      parse(bytes.subarray(fromByte), {
        delimiter,
        record_delimiter: ["\r\n", "\n", "\r"],
        relax_column_count: true,
        skip_empty_lines: true,
        info: true,
        // With `info: true` csv-parse hands on_record { record, info } (its typings say string[]).
        on_record: (value: unknown) => {
          const { record, info } = value as { record: string[]; info: { bytes: number } };
          const start = skipBlank(lastEndChar);
          all.push({ line: lineOf(starts, start), fields: record, start, positions: options.positions || all.length === 0 ? fieldPositions(text, starts, start, record.length, delimiter) : [] });
          lastEndByte = base + info.bytes;
          lastEndChar = byteToChar(lastEndByte);
          return null;
        },
      });
      break;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      const start = skipBlank(lastEndChar);
      const line = lineOf(starts, start);
      if (error.code === "CSV_QUOTE_NOT_CLOSED") {
        const quoteAt = text.indexOf('"', start);
        const quoteLine = quoteAt >= 0 ? lineOf(starts, quoteAt) : line;
        errors.push({
          line: quoteLine,
          column: quoteAt >= 0 ? quoteAt - starts[quoteLine - 1]! + 1 : undefined,
          message: `unterminated quoted field: the quote opened on line ${quoteLine} is never closed, so lines ${line}–${starts.length} could not be read`,
        });
        break;
      }
      const at = problemAt(text, starts, line, delimiter);
      errors.push({ line, column: at?.column, message: explain(error, delimiter, at?.field) });
      // Resume on the line after the bad record's first line.
      if (line >= starts.length) break;
      fromByte = Buffer.byteLength(text.slice(0, starts[line]!), "utf8");
      if (fromByte <= lastEndByte) fromByte = lastEndByte + 1;
    }
  }

  const head = all.shift();
  if (!head) {
    return { header: [], headerLine: 1, records: [], errors: errors.length ? errors : [{ line: 1, column: 1, message: "the file is empty: no header row" }] };
  }
  const header = head.fields.map((name) => name.trim());
  const seen = new Map<string, number>();
  header.forEach((name, idx) => {
    if (name === "") errors.push({ line: head.line, column: head.positions[2 * idx + 1], message: `header column ${idx + 1} has no name` });
    else if (seen.has(name.toLowerCase())) errors.push({ line: head.line, column: head.positions[2 * idx + 1], message: `the header names column "${name}" twice (columns ${seen.get(name.toLowerCase())! + 1} and ${idx + 1})` });
    if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), idx);
  });
  const good: CsvRecord[] = [];
  for (const { start, ...record } of all) {
    if (options.checkFieldCount !== false && record.fields.length !== header.length) {
      // Point at the first surplus field, or at the last field of a short record.
      const positions = record.positions.length ? record.positions : fieldPositions(text, starts, start, record.fields.length, delimiter);
      const f = Math.min(record.fields.length - 1, header.length);
      errors.push({ line: positions[2 * f] ?? record.line, column: positions[2 * f + 1], message: `the row has ${record.fields.length} fields but the header has ${header.length}` });
    } else {
      good.push(record);
    }
  }
  errors.sort((a, b) => a.line - b.line);
  return { header, headerLine: head.line, records: good, errors };
}

/** Quotes a value for CSV output when it needs it (RFC 4180: comma, quote, CR or LF inside). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
