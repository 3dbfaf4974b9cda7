import { describe, expect, it } from "vitest";
import { planImport, type InputFile } from "./plan";

const file = (name: string, text: string): InputFile => ({ name, bytes: new TextEncoder().encode(text) });
const plan = (...files: InputFile[]) => planImport(files, { mapping: {}, resolveLabel: (raw) => ({ key: raw }), allowIdentifiers: false });

describe("JSON numbers are never rounded", () => {
  it("ids above 2^53 keep their digits, so two of them stay two cases; metadata numbers too", async () => {
    const p = await plan(
      file(
        "big.jsonl",
        '{"id": 12345678901234567891, "text": "A.", "accession": 98765432109876543210, "size": 1.50, "n": 3}\n{"id": 12345678901234567892, "text": "B."}\n',
      ),
    );
    expect(p.issues).toEqual([]);
    expect(p.cases.map((c) => c.externalId)).toEqual(["12345678901234567891", "12345678901234567892"]);
    expect(p.cases[0]!.metadata).toEqual({ accession: "98765432109876543210", size: "1.50", n: 3 });
  });

  it("an id written as a fraction or an exponent is refused asking for quotes", async () => {
    const p = await plan(file("ids.jsonl", '{"id": 1.0, "text": "A."}\n{"id": 1e3, "text": "B."}\n{"id": "1.0", "text": "C."}\n'));
    expect(p.issues.map((i) => [i.line, i.field, /quote the id/.test(i.message)])).toEqual([
      [1, "id", true],
      [2, "id", true],
    ]);
  });
});

describe("text that cannot be stored is refused per file, line and field", () => {
  it.each([
    ["NUL", "\\u0000"],
    ["unpaired surrogate", "\\udc00"],
  ])("%s in the id, the text, the label, a metadata value (nested) or a column name", async (_kind, escape) => {
    const p = await plan(
      file(
        "rows.jsonl",
        [
          `{"id": "a${escape}", "text": "ok"}`,
          `{"id": "b", "text": "x${escape}"}`,
          `{"id": "c", "text": "ok", "label": "l${escape}"}`,
          `{"id": "d", "text": "ok", "extra": {"deep": ["fine", "v${escape}"]}}`,
          `{"id": "e", "text": "ok", "k${escape}": 1}`,
        ].join("\n"),
      ),
    );
    expect(p.issues.map((i) => [i.line, i.field])).toEqual([
      [1, "id"],
      [2, "text"],
      [3, "label"],
      [4, "extra"],
      [5, `k${JSON.parse(`"${escape}"`)}`],
    ]);
    expect(p.issues[3]!.message).toMatch(/^the value at deep\[1\] contains/);
  });

  it("in a CSV header", async () => {
    const p = await plan(file("h.csv", "id,text,no\u0000te\nA,ok,x\n"));
    expect(p.issues).toEqual([expect.objectContaining({ file: "h.csv", line: 1, message: expect.stringMatching(/^the column name contains a NUL/) })]);
  });
});

describe("files that are not what they say", () => {
  it("a JSON array in a .jsonl file gets one message; ; and tab delimiters are named", async () => {
    expect((await plan(file("a.jsonl", '[\n{"id": "1", "text": "x"}\n]\n'))).issues).toEqual([{ file: "a.jsonl", line: 1, message: expect.stringContaining("JSON array") }]);
    expect((await plan(file("s.csv", "id;text\n1;x\n"))).issues[0]!.message).toContain("the delimiter looks like `;`");
    expect((await plan(file("t.csv", "id\ttext\n1\tx\n"))).issues[0]!.message).toContain("the delimiter looks like a tab");
  });

  it("the same case id in two files of a batch is named with both files and lines", async () => {
    const p = await plan(file("a.csv", "id,text\nX,first\nY,other\n"), file("b.csv", "id,text\n\nX,second\n"));
    expect(p.issues).toEqual([{ file: "b.csv", line: 3, field: "id", message: expect.stringContaining('case id "X" is also on line 2 of a.csv') }]);
  });
});

describe("JSON Lines problems in the user's terms", () => {
  it("a broken line says which line is not valid JSON and why, without the parser's own text", async () => {
    const p = await plan(file("notes.jsonl", '{"id": "a", "text": "One."}\n{"id": "b", "text": "Two\n{"id": "c", "text": "Three.",}\n{\'id\': \'d\'}\n'));
    expect(p.issues.map((i) => [i.line, i.message])).toEqual([
      [2, "line 2 is not valid JSON (the line ends before its object is closed: is the record cut off, or split over several lines? Each record must be one whole line)"],
      [3, "line 3 is not valid JSON (a trailing comma before } or ] is not allowed in JSON)"],
      [4, "line 4 is not valid JSON (JSON needs double quotes around names and strings, not single quotes)"],
    ]);
    expect(p.issues.some((i) => /Unexpected|position|JSON input/.test(i.message))).toBe(false);
  });

  it("a record without the text key names the key and the keys it has; an empty text stays 'the text is empty'", async () => {
    const p = await plan(file("notes.jsonl", '{"id": "a", "text": "One."}\n{"id": "b", "body": "Two.", "label": "x"}\n{"id": "c", "text": "  "}\n{"text": "Four."}\n'));
    expect(p.issues.map((i) => [i.line, i.field, i.message])).toEqual([
      [2, "text", 'the text key "text" is missing from this record; it has "id", "body", "label" (set the text column in the mapping if the text is under another key)'],
      [3, "text", "the text is empty"],
      [4, "id", 'the case id key "id" is missing from this record; it has "text" (set the case id column in the mapping if the case id is under another key)'],
    ]);
  });
});
