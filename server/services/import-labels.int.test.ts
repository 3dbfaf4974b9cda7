/**
 * Labels of an import that are not in the project's schema: reported ONCE per distinct value with
 * its row count (never one issue per row), nothing imported; then imported with a label map (the
 * import page's "map to an existing class") or after adding them to the schema.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCsv } from "@/scripts/lib/csv";
import { testDb } from "../testing/fixtures";
import { useImportFixture } from "../testing/import-fixtures";
import { parseStoredProjectConfig } from "@/contracts/project-config";
import { createServiceContext } from "./context";
import { createProject, updateLabelSchema } from "./project-admin-service";

const MTSAMPLES = path.resolve(import.meta.dirname, "../../../shared/data/text/mtsamples/mtsamples.csv");

const imports = useImportFixture("rads-import-labels");
const run = imports.run;

const LABELS = [
  { key: "neuro", name: "Neurology", color: "#e15759" },
  { key: "ortho", name: "Orthopedic", color: "#4e79a7" },
  { key: "other", name: "Other", color: "#bab0ac" },
];

async function project(): Promise<string> {
  const created = await createProject(createServiceContext(testDb(), imports.scientist), {
    name: `labels-${Math.random().toString(36).slice(2, 10)}`,
    labelSchema: { labels: LABELS, multiLabel: false },
    minorityClasses: ["neuro"],
    selectionParams: { budget: 10 },
  });
  return created.project.id;
}

const csv = (name: string, text: string) => ({ name, bytes: new TextEncoder().encode(text) });

/** `n` rows: id, text and a label taken from `labels` in turn. */
function rows(n: number, labels: string[], prefix = "r"): string {
  const lines = ["id,text,label"];
  for (let i = 0; i < n; i++) lines.push(`${prefix}${i},"Note ${i}.",${labels[i % labels.length]}`);
  return lines.join("\n") + "\n";
}

describe("labels that are not in the schema", () => {
  it("are reported once per value with its row count, most frequent first, and nothing is imported", async () => {
    const projectId = await project();
    // 12 rows: Cardio ×6, neurology (the name, any case) ×3, Derm ×3 → two unknown values.
    const result = await run(projectId, [csv("notes.csv", rows(12, ["Cardio", "neurology", "Cardio", "Derm"]))]);
    expect(result.status).toBe("rejected");
    if (result.status !== "rejected") return;
    expect(result.unknownLabels).toEqual([
      { value: "Cardio", rows: 6 },
      { value: "Derm", rows: 3 },
    ]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ file: "notes.csv", field: "label" });
    expect(result.issues[0]!.message).toMatch(/^2 labels not in the schema: Cardio \(6 rows\), Derm \(3 rows\)\./);
    expect(await testDb().case.count({ where: { projectId } })).toBe(0);
  });

  it("are grouped beside the other problems of the batch, which stay per row", async () => {
    const projectId = await project();
    const text = "id,text,label\na,One.,Cardio\nb,,Cardio\nc,Three.,ortho\nd,Four.,Cardio\n";
    const result = await run(projectId, [csv("mixed.csv", text)]);
    if (result.status !== "rejected") throw new Error(`expected a rejection, got ${result.status}`);
    expect(result.unknownLabels).toEqual([{ value: "Cardio", rows: 3 }]);
    expect(result.issues.map((i) => i.line ?? null)).toEqual([null, 3]);
    expect(result.issues[1]!.message).toMatch(/text is empty/);
  });

  it("import with a label map to existing classes, and a map to a class the schema lacks is refused once", async () => {
    const projectId = await project();
    const file = csv("notes.csv", rows(8, ["Cardio", "Derm", "neuro", "ortho"]));
    const bad = await run(projectId, [file], { labelMap: { Cardio: "cardio", Derm: "other" } });
    if (bad.status !== "rejected") throw new Error(`expected a rejection, got ${bad.status}`);
    expect(bad.issues).toHaveLength(1);
    expect(bad.issues[0]!.message).toBe('the label map sends "Cardio" to "cardio", which is not a class of the schema (neuro, ortho, other)');
    const good = await run(projectId, [file], { labelMap: { Cardio: "other", Derm: "other" } });
    expect(good.status).toBe("imported");
    const cases = await testDb().case.findMany({ where: { projectId }, orderBy: { externalId: "asc" }, select: { externalId: true, importedLabel: true } });
    expect(cases.map((c) => c.importedLabel)).toEqual(["other", "other", "neuro", "ortho", "other", "other", "neuro", "ortho"]);
  });

  it("classes to add travel with the batch: a batch that stops (row error, identifier offer) adds nothing; one that imports adds them in its transaction, audited before/after", async () => {
    const projectId = await project();
    const labelsNow = async () => parseStoredProjectConfig(await testDb().project.findUniqueOrThrow({ where: { id: projectId } })).labelSchema.labels;
    const addLabels = ["Cardio", "Derm"];
    // A row error (empty text) stops the batch: the schema keeps its three classes.
    const broken = await run(projectId, [csv("notes.csv", "id,text,label\na,One.,Cardio\nb,,Derm\nc,Three.,ortho\n")], { addLabels });
    expect(broken.status).toBe("rejected");
    expect((await labelsNow()).map((l) => l.key)).toEqual(["neuro", "ortho", "other"]);
    // Likely identifiers: the batch waits for mask/keep — and the user may drop it there. Nothing added.
    const withIds = csv("ids.csv", 'id,text,label\na,"Seen by Dr. Maria Rossi, call (617) 555-0182.",Cardio\nb,Two.,Derm\nc,Three.,ortho\n');
    const offer = await run(projectId, [withIds], { addLabels });
    if (offer.status !== "rejected") throw new Error(`expected the identifier offer, got ${offer.status}`);
    expect(offer.identifiers).toBeDefined();
    expect(offer.unknownLabels).toBeUndefined();
    expect((await labelsNow()).map((l) => l.key)).toEqual(["neuro", "ortho", "other"]);
    expect(await testDb().case.count({ where: { projectId } })).toBe(0);

    // Answered: imported, and the classes are in the schema (key, name, colour, a free shortcut), in one audited step.
    const done = await run(projectId, [withIds], { addLabels, narrativeIdentifiers: "mask" });
    if (done.status !== "imported") throw new Error(`expected an import, got ${done.status}`);
    const labels = await labelsNow();
    expect(labels.map((l) => [l.key, l.name])).toEqual([["neuro", "Neurology"], ["ortho", "Orthopedic"], ["other", "Other"], ["Cardio", "Cardio"], ["Derm", "Derm"]]);
    expect(labels.slice(3).map((l) => l.shortcut)).toEqual(["1", "2"]);
    const cases = await testDb().case.findMany({ where: { projectId }, orderBy: { externalId: "asc" }, select: { importedLabel: true } });
    expect(cases.map((c) => c.importedLabel)).toEqual(["Cardio", "Derm", "ortho"]);
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { projectId, action: "project.labels" } });
    const details = audit.details as { before: { labelSchema: { labels: unknown[] } }; after: { labelSchema: { labels: unknown[] } }; via: string; batchId: string };
    expect([details.before.labelSchema.labels.length, details.after.labelSchema.labels.length, details.via, details.batchId]).toEqual([3, 5, "import", done.batchId]);
    expect(audit.actorId).toBe(imports.scientist.id);
  });

  it("300 real mtsamples rows against a 3-label schema: one issue listing every specialty with its count, then imported after adding them", async () => {
    const projectId = await project();
    const raw = fs.readFileSync(MTSAMPLES, "utf8");
    const table = parseCsv(raw, { file: MTSAMPLES });
    const col = (name: string) => table.header.indexOf(name);
    const picked = table.rows.filter((r) => r[col("transcription")]!.trim() !== "").slice(0, 300);
    const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const text = ["note_id,transcription,medical_specialty", ...picked.map((r) => [r[col("note_id")]!, r[col("transcription")]!, r[col("medical_specialty")]!].map(quote).join(","))].join("\n") + "\n";
    const expected = new Map<string, number>();
    for (const r of picked) {
      const label = r[col("medical_specialty")]!.trim();
      if (!["neurology", "orthopedic", "other", "neuro", "ortho"].includes(label.toLowerCase())) expected.set(label, (expected.get(label) ?? 0) + 1);
    }
    // mtsamples names a few clinicians ("Dr. Trask"): imported as written, the scan's choice made explicit.
    const mapping = { labelCol: "medical_specialty", narrativeIdentifiers: "keep" as const };
    const result = await run(projectId, [csv("mtsamples-300.csv", text)], mapping);
    if (result.status !== "rejected") throw new Error(`expected a rejection, got ${result.status}`);
    expect(expected.size).toBeGreaterThan(3);
    expect(result.issues).toHaveLength(1);
    expect(new Map(result.unknownLabels!.map((u) => [u.value, u.rows]))).toEqual(expected);
    expect(result.issues[0]!.message.startsWith(`${expected.size} labels not in the schema: `)).toBe(true);

    // "Add them to the schema", then import again: every row imports with its own class.
    const added = [...expected.keys()].map((value, i) => ({ key: `s${i}`, name: value, color: "#123456" }));
    await updateLabelSchema(createServiceContext(testDb(), imports.scientist), { projectId, labelSchema: { labels: [...LABELS, ...added], multiLabel: false }, minorityClasses: ["neuro"], rho: 0.5 });
    const again = await run(projectId, [csv("mtsamples-300.csv", text)], mapping);
    expect(again.status).toBe("imported");
    expect(await testDb().case.count({ where: { projectId } })).toBe(300);
  });
});
