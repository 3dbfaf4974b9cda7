import { describe, expect, it } from "vitest";
import { groupsFromSidecar, prepareTask, stratifiedTestSplit } from "./sim-data";
import { tableFromText } from "./table";

const data = tableFromText(
  [
    "id,text,specialty",
    "1,eye exam,Ophthalmology",
    "2,eye exam,Consult", // same text as id 1, filed twice
    "3,knee surgery,Surgery",
    "4,,Surgery", // empty text
    "5,ear tubes,ENT",
    "6,ear tubes,Ophthalmology", // same text under two minority labels
    "7,\"cataract, left\",Ophthalmology",
    "8,sinus wash,ENT",
    "9,hip op,Surgery",
    "10,tonsils,ENT",
    "11,retina,Ophthalmology",
  ].join("\n") + "\n",
  "d.csv",
  "csv",
);
const sidecar = tableFromText("id,group\n1,a\n2,a\n3,b\n4,c\n5,d\n6,d\n7,e\n8,f\n9,g\n10,h\n11,i\n", "g.csv", "csv");

describe("prepareTask", () => {
  it("collapses each text group to one case; minority-wins labels it, ambiguous groups are dropped", () => {
    const groups = groupsFromSidecar(data, sidecar, "id", "group");
    const t = prepareTask(data, { textCol: "text", labelCol: "specialty", minority: ["Ophthalmology", "ENT"], groups, dedupe: "minority-wins" });
    expect(t.classNames).toEqual(["rest", "Ophthalmology", "ENT"]);
    expect(t.texts).toEqual(["eye exam", "knee surgery", "cataract, left", "sinus wash", "hip op", "tonsils", "retina"]);
    expect(Array.from(t.labels)).toEqual([1, 0, 1, 2, 0, 2, 1]);
    expect(t.caseIds).toEqual(["a", "b", "e", "f", "g", "h", "i"]);
    expect(t.caseLines).toEqual([2, 4, 8, 9, 10, 11, 12]);
    expect(t.summary).toMatchObject({ rowsRead: 11, rowsEmptyText: 1, groups: 8, groupsDropped: 1, classCounts: [2, 3, 2] });
  });

  it("without a text column (precomputed embeddings) makes one case per row, empty texts included, and records each case's row", () => {
    const t = prepareTask(data, { textCol: null, labelCol: "specialty", minority: ["Ophthalmology", "ENT"], groups: null, dedupe: "minority-wins" });
    expect(t.caseRows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(t.caseIds[3]).toBe("row#4");
    expect(t.summary).toMatchObject({ rowsEmptyText: 0, groups: 11, groupedBy: "none: one case per row" });
    const grouped = prepareTask(data, { textCol: null, labelCol: "specialty", minority: ["Ophthalmology", "ENT"], groups: groupsFromSidecar(data, sidecar, "id", "group"), dedupe: "minority-wins" });
    expect(grouped.caseRows).toEqual([0, 2, 3, 6, 7, 8, 9, 10]);
  });

  it("drop-conflicts drops any group with two task classes; keep-first keeps the first row's", () => {
    const groups = groupsFromSidecar(data, sidecar, "id", "group");
    const strict = prepareTask(data, { textCol: "text", labelCol: "specialty", minority: ["Ophthalmology"], groups, dedupe: "drop-conflicts" });
    expect(strict.caseIds).toEqual(["b", "e", "f", "g", "h", "i"]);
    const first = prepareTask(data, { textCol: "text", labelCol: "specialty", minority: ["ENT"], groups, dedupe: "keep-first" });
    expect(first.caseIds).toEqual(["a", "b", "d", "e", "f", "g", "h", "i"]);
    expect(Array.from(first.labels)).toEqual([0, 0, 1, 0, 1, 0, 1, 0]);
  });

  it("without groups, identical texts still become one case", () => {
    const t = prepareTask(data, { textCol: "text", labelCol: "specialty", minority: ["Ophthalmology"], groups: null, dedupe: "minority-wins" });
    expect(t.texts.filter((x) => x === "eye exam").length).toBe(1);
    expect(t.summary.groupedBy).toBe("identical text");
  });

  it("names an unknown minority label and suggests near matches", () => {
    expect(() => prepareTask(data, { textCol: "text", labelCol: "specialty", minority: ["ophthalmo"], groups: null, dedupe: "minority-wins" })).toThrow(
      /--minority "ophthalmo": no row of d\.csv has this value in column "specialty"; did you mean "Ophthalmology"\?/,
    );
  });

  it("names a missing column and a sidecar that lacks a data row's id", () => {
    expect(() => prepareTask(data, { textCol: "body", labelCol: "specialty", minority: ["ENT"], groups: null, dedupe: "minority-wins" })).toThrow(
      /^d\.csv:1:1: column "body" \(--text-col\) not found/,
    );
    const short = tableFromText("id,group\n1,a\n", "g.csv", "csv");
    expect(() => groupsFromSidecar(data, short, "id", "group")).toThrow(/^d\.csv:3:1: id "2" has no row in the groups file g\.csv/);
  });

  it("rejects a table without data rows", () => {
    expect(() => prepareTask(tableFromText("text,label\n", "e.csv", "csv"), { textCol: "text", labelCol: "label", minority: ["x"], groups: null, dedupe: "minority-wins" })).toThrow(
      /^e\.csv:2:1: the file has a header but no data rows/,
    );
  });
});

describe("stratifiedTestSplit", () => {
  it("puts every class in both splits, disjointly, deterministically", () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i % 20 === 0 ? 1 : 0));
    const a = stratifiedTestSplit(labels, 2, 0.25, 7);
    expect(a).toEqual(stratifiedTestSplit(labels, 2, 0.25, 7));
    expect(a.train.length + a.test.length).toBe(100);
    expect(new Set([...a.train, ...a.test]).size).toBe(100);
    expect(Array.from(a.test).filter((i) => labels[i] === 1).length).toBe(1); // round(0.25 × 5)
    expect(Array.from(a.test).filter((i) => labels[i] === 0).length).toBe(24);
    expect(stratifiedTestSplit(labels, 2, 0.25, 8).test).not.toEqual(a.test);
  });
});
