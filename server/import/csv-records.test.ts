import { describe, expect, it } from "vitest";
import { csvField, readCsvRecords } from "./csv-records";

describe("readCsvRecords", () => {
  it("reads quoted fields with commas, doubled quotes and newlines, CRLF and a BOM", () => {
    const doc = readCsvRecords('\ufeffid,text\r\n1,"a, ""b""\nc"\r\n\r\n2,plain\n');
    expect(doc.errors).toEqual([]);
    expect(doc.header).toEqual(["id", "text"]);
    expect(doc.records.map(({ line, fields }) => ({ line, fields }))).toEqual([
      { line: 2, fields: ["1", 'a, "b"\nc'] },
      { line: 5, fields: ["2", "plain"] },
    ]);
    // Where each field starts: line, column pairs (the quoted field spans lines 2–3).
    expect(readCsvRecords('\ufeffid,text\r\n1,"a, ""b""\nc"\r\n\r\n2,plain\n', { positions: true }).records[0]!.positions).toEqual([2, 1, 2, 3]);
  });

  it("reports a broken record and resumes on the next line", () => {
    const doc = readCsvRecords('id,text\n1,ok\n2,ba"d\n3,"x"y\n4,fine\n5\n');
    expect(doc.records.map((r) => r.fields[0])).toEqual(["1", "4"]);
    expect(doc.errors.map((e) => [e.line, e.column])).toEqual([[3, 5], [4, 6], [6, 1]]);
    expect(doc.errors[2]!.message).toBe("the row has 1 fields but the header has 2");
  });

  it("says how much an unterminated quote swallowed", () => {
    const doc = readCsvRecords('id,text\n1,"never closed\n2,x\n3,y\n');
    expect(doc.records).toEqual([]);
    expect(doc.errors).toEqual([{ line: 2, column: 3, message: "unterminated quoted field: the quote opened on line 2 is never closed, so lines 2–5 could not be read" }]);
  });

  it("flags an empty or repeated header name", () => {
    expect(readCsvRecords("id,,ID\n1,2,3\n").errors.map((e) => e.message)).toEqual(["header column 2 has no name", 'the header names column "ID" twice (columns 1 and 3)']);
    expect(readCsvRecords("").errors[0]!.message).toMatch(/empty/);
  });

  it("quotes only what needs quoting, and round-trips", () => {
    const values = ["plain", "a,b", 'say "hi"', "two\nlines", ""];
    expect(values.map(csvField)).toEqual(["plain", '"a,b"', '"say ""hi"""', '"two\nlines"', ""]);
    const doc = readCsvRecords(`${values.map((_, i) => `c${i}`).join(",")}\n${values.map(csvField).join(",")}\n`);
    expect(doc.records[0]!.fields).toEqual(values);
  });
});
