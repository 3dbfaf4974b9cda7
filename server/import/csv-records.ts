/**
 * RFC-4180 CSV reading for imports that keeps going after a bad record.
 *
 * Why not scripts/lib/csv.ts: that parser stops at the first problem, which suits a CLI reading
 * a data set once, but an import must list EVERY bad row of a file (line numbers included) so a
 * data scientist fixes them in one pass. Here a broken record becomes an error and reading resumes
 * at the next line; an unterminated quote swallows the rest of the file, and says so.
 */

export interface CsvRecord {
  /** 1-based physical line on which the record starts. */
  line: number;
  fields: string[];
}

export interface CsvRecordError {
  line: number;
  message: string;
}

export interface CsvDocument {
  header: string[];
  headerLine: number;
  records: CsvRecord[];
  errors: CsvRecordError[];
}

/**
 * Splits `text` into records. Field-count mismatches against the header are errors of that record.
 * A blank line is skipped (exports often end with several newlines). A UTF-8 BOM is ignored.
 */
export function readCsvRecords(text: string): CsvDocument {
  const records: CsvRecord[] = [];
  const errors: CsvRecordError[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  // Moves i past the end of the current physical line (used to resynchronise after an error).
  const skipToNextLine = () => {
    while (i < n && text[i] !== "\n" && text[i] !== "\r") i++;
    if (text[i] === "\r" && text[i + 1] === "\n") i += 2;
    else if (i < n) i++;
    line++;
  };

  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let problem: string | null = null;
    let fatal = false;
    for (;;) {
      if (text[i] === '"') {
        let value = "";
        let chunk = i + 1;
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const ch = text[j];
          if (ch === '"') {
            if (text[j + 1] === '"') {
              value += text.slice(chunk, j + 1);
              j += 2;
              chunk = j;
              continue;
            }
            value += text.slice(chunk, j);
            closed = true;
            j++;
            break;
          }
          if (ch === "\n" || (ch === "\r" && text[j + 1] !== "\n")) line++;
          j++;
        }
        if (!closed) {
          problem = `unterminated quoted field: the quote opened on line ${startLine} is never closed, so lines ${startLine}–${line} could not be read`;
          fatal = true;
          i = n;
          break;
        }
        i = j;
        fields.push(value);
        if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          problem = `unexpected ${JSON.stringify(text[i])} after a closing quote in field ${fields.length} (a quote inside a quoted field must be doubled: "")`;
          break;
        }
      } else {
        const start = i;
        while (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          if (text[i] === '"') {
            problem = `a quote inside unquoted field ${fields.length + 1} (quote the whole field and double the inner quote: "")`;
            break;
          }
          i++;
        }
        if (problem) break;
        fields.push(text.slice(start, i));
      }
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    if (problem) {
      errors.push({ line: startLine, message: problem });
      if (!fatal) skipToNextLine();
      continue;
    }
    // End of the record: consume its line break.
    if (text[i] === "\r" && text[i + 1] === "\n") i += 2;
    else if (i < n) i++;
    line++;
    if (fields.length === 1 && fields[0] === "") continue;
    records.push({ line: startLine, fields });
  }

  const head = records.shift();
  if (!head) {
    return { header: [], headerLine: 1, records: [], errors: errors.length ? errors : [{ line: 1, message: "the file is empty: no header row" }] };
  }
  const header = head.fields.map((name) => name.trim());
  const seen = new Set<string>();
  header.forEach((name, idx) => {
    if (name === "") errors.push({ line: head.line, message: `header column ${idx + 1} has no name` });
    else if (seen.has(name.toLowerCase())) errors.push({ line: head.line, message: `the header names column "${name}" twice` });
    seen.add(name.toLowerCase());
  });
  const good: CsvRecord[] = [];
  for (const record of records) {
    if (record.fields.length !== header.length) {
      errors.push({ line: record.line, message: `the row has ${record.fields.length} fields but the header has ${header.length}` });
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
