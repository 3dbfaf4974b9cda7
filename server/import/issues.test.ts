import { describe, expect, it } from "vitest";
import { groupIssues, issueCause, issueText } from "./issues";
import { planImport } from "./plan";

describe("issues grouped by cause", () => {
  it("300 rows with one fault make one group with its count and the first lines, not 300 entries", async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `c${i},Report ${i}.,HOLDOUT`);
    const bad = ["c-x,,POOL", "c-y,,TEST"];
    const csv = ["id,text,split", ...rows, ...bad].join("\n");
    const plan = await planImport([{ name: "notes.csv", bytes: new TextEncoder().encode(csv) }], { mapping: {}, resolveLabel: (raw) => ({ key: raw }), allowIdentifiers: false });
    expect(plan.issues).toHaveLength(302);
    const groups = groupIssues(plan.issues);
    expect(groups.map((g) => [g.cause, g.count])).toEqual([
      ['split: split "HOLDOUT" is not one of POOL, TEST, SEED', 300],
      ["text: the text is empty", 2],
    ]);
    expect(groups[0]!.examples.map((i) => i.line)).toEqual([2, 3, 4, 5, 6]);
    expect(groups[0]!.files).toEqual(["notes.csv"]);
    expect(groups[1]!.examples.map((i) => i.line)).toEqual([302, 303]);
  });

  it("keeps causes apart when the field or the wording differs; numbers and quoted values are generalised", () => {
    expect(issueCause({ file: "a", line: 3, message: 'case id "x" is already used on line 2' })).toBe('case id "…" is already used on line N');
    const groups = groupIssues([
      { file: "a.csv", line: 2, field: "id", message: "the case id is empty" },
      { file: "b.csv", line: 9, field: "id", message: "the case id is empty" },
      { file: "a.csv", line: 4, field: "text", message: "the text is empty" },
    ]);
    expect(groups.map((g) => [g.count, g.files])).toEqual([
      [2, ["a.csv", "b.csv"]],
      [1, ["a.csv"]],
    ]);
    expect(issueText(groups[0]!.examples[1]!)).toBe("b.csv, line 9, field id: the case id is empty");
  });

  it("shows the values a group's issues share and generalises only those that differ", () => {
    const groups = groupIssues([
      { file: "a.csv", line: 2, field: "text", message: "the text holds U+0000 at position 14 (not valid UTF-8)" },
      { file: "a.csv", line: 7, field: "text", message: "the text holds U+0000 at position 3 (not valid UTF-8)" },
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.cause).toBe("text: the text holds U+0000 at position N (not valid UTF-8)");
    const single = groupIssues([{ file: "a.csv", line: 5, message: 'case id "x" is already used on line 2' }]);
    expect(single[0]!.cause).toBe('case id "x" is already used on line 2');
  });
});
