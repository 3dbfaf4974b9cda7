import { describe, expect, it } from "vitest";
import { planImport, type InputFile } from "./plan";

const csv = (text: string): InputFile => ({ name: "notes.csv", bytes: new TextEncoder().encode(text) });
const options = (generateCaseIds: boolean) => ({
  mapping: {},
  resolveLabel: (raw: string) => (raw === "rare" || raw === "common" ? { key: raw } : { unknown: raw }),
  allowIdentifiers: false,
  generateCaseIds,
});

const NO_ID = 'text,label\n"Chest pain, resolved.",common\nSeizure with aura.,rare\n"Chest pain, resolved.",common\nHeadache.,\n';

describe("generated case ids (project setting generateCaseIds)", () => {
  it("refuses a narrative file without an id column when the setting is off", async () => {
    const plan = await planImport([csv(NO_ID)], options(false));
    expect(plan.cases).toEqual([]);
    expect(plan.issues.map((i) => i.message)).toEqual([expect.stringContaining("no case id column")]);
  });

  it("gives each row an id from its content; an identical row gets -2; the same file gives the same ids", async () => {
    const plan = await planImport([csv(NO_ID)], options(true));
    expect(plan.issues).toEqual([]);
    const ids = plan.cases.map((c) => c.externalId);
    expect(ids).toHaveLength(4);
    expect(ids.every((id) => /^row-[0-9a-f]{16}(-\d+)?$/.test(id))).toBe(true);
    expect(ids[2]).toBe(`${ids[0]}-2`);
    expect(new Set(ids).size).toBe(4);
    expect(plan.cases.map((c) => c.label)).toEqual(["common", "rare", "common", null]);
    // The generated column is not kept as metadata.
    expect(plan.cases.every((c) => Object.keys(c.metadata).length === 0)).toBe(true);
    expect((await planImport([csv(NO_ID)], options(true))).cases.map((c) => c.externalId)).toEqual(ids);
    // A different row text gives a different id.
    const other = (await planImport([csv(NO_ID.replace("Headache.", "Migraine."))], options(true))).cases.map((c) => c.externalId);
    expect(other.slice(0, 3)).toEqual(ids.slice(0, 3));
    expect(other[3]).not.toBe(ids[3]);
  });

  it("leaves a file that has an id column alone", async () => {
    const plan = await planImport([csv("id,text\nA1,First note.\nA2,Second note.\n")], options(true));
    expect(plan.cases.map((c) => c.externalId)).toEqual(["A1", "A2"]);
  });
});
