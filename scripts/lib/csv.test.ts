import { describe, expect, it } from "vitest";
import { parseCsv, parseJsonl, TableInputError } from "./csv";
import { cell, requireColumn, tableFromText } from "./table";

function errorOf(fn: () => unknown): TableInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TableInputError) return err;
    throw err;
  }
  throw new Error("expected a TableInputError, nothing was thrown");
}

describe("parseCsv", () => {
  it("reads quoted fields with embedded commas, newlines and doubled quotes", () => {
    const text = 'id,text,label\r\n1,"a, b",x\r\n2,"line one\nline two\r\nline three",y\n3,"he said ""hi""",z\n4,,"" \n'.replace(' \n', "\n");
    const t = parseCsv(text, { file: "t.csv" });
    expect(t.header).toEqual(["id", "text", "label"]);
    expect(t.rows).toEqual([
      ["1", "a, b", "x"],
      ["2", "line one\nline two\r\nline three", "y"],
      ["3", 'he said "hi"', "z"],
      ["4", "", ""],
    ]);
    // Record 3 starts after the two embedded line breaks of record 2.
    expect(t.rowLines).toEqual([2, 3, 6, 7]);
  });

  it("handles a BOM, a missing final newline, a lone CR and trailing blank lines", () => {
    const t = parseCsv("\ufeffa,b\r1,2\n\n3,4", { file: "t.csv" });
    expect(t.header).toEqual(["a", "b"]);
    expect(t.rows).toEqual([["1", "2"], ["3", "4"]]);
    expect(t.rowLines).toEqual([2, 4]);
  });

  it("keeps a trailing empty field and quoted empty strings", () => {
    const t = parseCsv('a,b,c\n1,"",\n', { file: "t.csv" });
    expect(t.rows).toEqual([["1", "", ""]]);
  });

  it("records where each field starts, across embedded newlines", () => {
    const t = parseCsv('a,b,c\n1,"x\ny",zz\n', { file: "t.csv" });
    const pos = t.fieldPositions[0]!;
    expect(Array.from(pos)).toEqual([2, 1, 2, 3, 3, 4]);
  });

  it("names the line and column of the opening quote of an unterminated field", () => {
    const e = errorOf(() => parseCsv('a,b\n1,2\n3,"never closed\nmore', { file: "bad.csv" }));
    expect([e.file, e.line, e.column]).toEqual(["bad.csv", 3, 3]);
    expect(e.message).toMatch(/^bad\.csv:3:3: unterminated quoted field/);
  });

  it("rejects text after a closing quote at its exact position", () => {
    const e = errorOf(() => parseCsv('a,b\n"x"y,2\n', { file: "bad.csv" }));
    expect([e.line, e.column]).toEqual([2, 4]);
  });

  it("rejects a bare quote inside an unquoted field", () => {
    const e = errorOf(() => parseCsv('a,b\n1,ab"c\n', { file: "bad.csv" }));
    expect([e.line, e.column]).toEqual([2, 5]);
  });

  it("rejects a record with the wrong number of fields, pointing after multi-line records", () => {
    const e = errorOf(() => parseCsv('a,b\n"1\n2",3\n4,5,6\n', { file: "bad.csv" }));
    expect([e.line, e.column]).toEqual([4, 5]);
    expect(e.message).toContain("3 fields but the header has 2");
  });

  it("rejects empty input and duplicated header names", () => {
    expect(errorOf(() => parseCsv("", { file: "e.csv" })).message).toMatch(/^e\.csv:1:1: empty file/);
    expect(errorOf(() => parseCsv("\n\n", { file: "e.csv" })).message).toMatch(/empty file/);
    expect(errorOf(() => parseCsv("a,b,a\n1,2,3\n", { file: "d.csv" })).message).toMatch(/"a" twice \(columns 1 and 3\)/);
  });
});

describe("parseJsonl", () => {
  it("reads one object per line and skips blank lines", () => {
    const { records, lines } = parseJsonl('{"a":1}\n\n{"a":"x","b":null}\r\n', "t.jsonl");
    expect(records).toEqual([{ a: 1 }, { a: "x", b: null }]);
    expect(lines).toEqual([1, 3]);
  });

  it("names the line and column of invalid JSON", () => {
    // JSON.parse reports "at position 7" (0-based) for the missing comma/brace here.
    const e = errorOf(() => parseJsonl('{"a":1}\n{"a":1 "b":2}\n', "bad.jsonl"));
    expect([e.file, e.line, e.column]).toEqual(["bad.jsonl", 2, 8]);
    // Some V8 messages carry no position: the line is still exact.
    const e2 = errorOf(() => parseJsonl('{"a":1}\n\n{"a": tru}\n', "bad.jsonl"));
    expect([e2.line, e2.column]).toEqual([3, 1]);
  });

  it("rejects lines that are not objects", () => {
    const e = errorOf(() => parseJsonl('{"a":1}\n[1,2]\n', "bad.jsonl"));
    expect([e.line, e.message]).toEqual([2, "bad.jsonl:2:1: each line must be a JSON object"]);
  });
});

describe("table helpers", () => {
  it("names the missing column and lists the ones present", () => {
    const t = tableFromText("text,label\nx,y\n", "d.csv", "csv");
    const e = errorOf(() => requireColumn(t, "specialty", "--label-col"));
    expect(e.message).toBe('d.csv:1:1: column "specialty" (--label-col) not found; the file has: "text", "label"');
  });

  it("reports a JSONL record lacking a key by its line", () => {
    const t = tableFromText('{"text":"a","label":"x"}\n{"text":"b"}\n', "d.jsonl", "jsonl");
    const c = requireColumn(t, "label", "--label-col");
    expect(cell(t, 0, c)).toBe("x");
    expect(errorOf(() => cell(t, 1, c)).message).toBe('d.jsonl:2:1: record has no field "label"');
  });

  it("rejects nested JSON values with the line", () => {
    const e = errorOf(() => tableFromText('{"text":{"x":1}}\n', "d.jsonl", "jsonl"));
    expect(e.line).toBe(1);
    expect(e.message).toContain("an object");
  });
});
