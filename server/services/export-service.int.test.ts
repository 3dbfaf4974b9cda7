/**
 * Export against the real database: annotations are created directly (a fixture), exported as
 * JSONL and CSV, parsed back with independent readers, and compared field by field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "@/scripts/lib/csv";
import { createTestUser, testDb } from "../testing/fixtures";
import { createServiceContext, type Actor } from "./context";
import { CSV_COLUMNS, exportLabels } from "./export-service";

let scientist: Actor;
let clinicianA: Actor;
let clinicianB: Actor;
let projectId: string;
let caseIds: Record<string, string>;

beforeAll(async () => {
  scientist = await createTestUser("DATA_SCIENTIST");
  clinicianA = await createTestUser("CLINICIAN");
  clinicianB = await createTestUser("CLINICIAN");
  const project = await testDb().project.create({
    data: {
      name: `export-test ${Math.random().toString(36).slice(2, 8)}`,
      labelSchema: { labels: [{ key: "nodule", name: "Nodule" }, { key: "normal", name: "Normal" }] },
      minorityClasses: ["nodule"],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: {},
      members: { create: [scientist, clinicianA, clinicianB].map((u) => ({ userId: u.id })) },
    },
  });
  projectId = project.id;
  caseIds = {};
  for (const externalId of ["case-1", "case-2", "=cmd", "case-3", "case-4", "gold-1"]) {
    caseIds[externalId] = (await testDb().case.create({ data: { projectId, externalId, narrative: "text", importedLabel: ["case-3", "gold-1"].includes(externalId) ? "nodule" : null } })).id;
  }
  // A gold case: its known answer is the imported label; a clinician's answer is scored, never a vote.
  await testDb().goldCase.create({ data: { caseId: caseIds["gold-1"]!, projectId, labels: ["nodule"], source: "imported" } });
  const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute));
  await testDb().annotation.createMany({
    data: [
      { caseId: caseIds["case-1"]!, authorId: clinicianA.id, version: 1, labels: ["normal"], timeSpentMs: 1200, createdAt: at(1) },
      {
        caseId: caseIds["case-1"]!, authorId: clinicianA.id, version: 2, labels: ["nodule", "normal"], uncertain: true,
        comment: 'Looks like a "nodule",\nsecond line', spans: [{ start: 3, end: 9, label: "nodule", text: "nodule" }], timeSpentMs: 4500, createdAt: at(5),
      },
      { caseId: caseIds["case-1"]!, authorId: clinicianB.id, version: 1, labels: ["normal"], timeSpentMs: 800, createdAt: at(2) },
      { caseId: caseIds["case-2"]!, authorId: clinicianB.id, version: 1, kind: "SKIPPED", labels: [], skipReason: "image unreadable", timeSpentMs: 300, createdAt: at(3) },
      { caseId: caseIds["=cmd"]!, authorId: clinicianA.id, version: 1, labels: ["normal"], comment: "=HYPERLINK(\"x\")", createdAt: at(4) },
      // Imported as nodule, only skipped since: the imported label stands.
      { caseId: caseIds["case-3"]!, authorId: clinicianA.id, version: 1, kind: "SKIPPED", labels: [], skipReason: "no image", createdAt: at(6) },
      // A 1–1 disagreement resolved by an adjudicator.
      { caseId: caseIds["case-4"]!, authorId: clinicianA.id, version: 1, labels: ["normal"], createdAt: at(7) },
      { caseId: caseIds["case-4"]!, authorId: clinicianB.id, version: 1, labels: ["nodule"], createdAt: at(8) },
      { caseId: caseIds["case-4"]!, authorId: scientist.id, version: 1, kind: "ADJUDICATED", labels: ["nodule"], comment: "mass on slice 12", createdAt: at(9) },
      { caseId: caseIds["gold-1"]!, authorId: clinicianB.id, version: 1, labels: ["normal"], createdAt: at(10) },
    ],
  });
});
afterAll(async () => {
  await testDb().$disconnect();
});

const ctx = (actor: Actor) => createServiceContext(testDb(), actor);

describe("label export", () => {
  it("JSONL: the latest version per (case, annotator) with full provenance", async () => {
    const result = await exportLabels(ctx(scientist), { projectId, format: "jsonl", history: false });
    expect(result.contentType).toMatch(/ndjson/);
    expect(result.filename).toMatch(/^export-test-[a-z0-9]+-labels-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const rows = result.body.trim().split("\n").map((line) => JSON.parse(line));
    expect(rows).toHaveLength(9);
    const latestA = rows.find((r) => r.caseId === "case-1" && r.annotatorId === clinicianA.id);
    expect(latestA).toEqual({
      caseId: "case-1",
      annotatorId: clinicianA.id,
      annotatorName: clinicianA.name,
      annotatedAt: "2024-05-01T10:05:00.000Z",
      version: 2,
      kind: "SUBMITTED",
      labels: ["nodule", "normal"],
      uncertain: true,
      comment: 'Looks like a "nodule",\nsecond line',
      timeSpentMs: 4500,
      spans: [{ start: 3, end: 9, startUtf16: 3, endUtf16: 9, label: "nodule", text: "nodule" }],
      spanOffsetUnit: "codepoint",
      regions: [],
      skipReason: null,
      // case-1: A's latest says nodule, B's normal — no majority, not trained on.
      finalLabel: null,
      finalLabelRule: "excluded",
      finalLabelVotes: 1,
      finalLabelVoters: 2,
      gold: false,
    });
    // Only the gold case's rows say gold.
    expect([...new Set(rows.filter((r) => r.gold === true).map((r) => r.caseId))]).toEqual(["gold-1"]);
    expect(rows.every((r) => typeof r.gold === "boolean")).toBe(true);
    // Every row of a case carries the case's final label, from the same rule training uses.
    const final = (caseId: string) => [...new Set(rows.filter((r) => r.caseId === caseId).map((r) => JSON.stringify([r.finalLabel, r.finalLabelRule, r.finalLabelVotes, r.finalLabelVoters])))];
    expect(final("case-1")).toEqual([JSON.stringify([null, "excluded", 1, 2])]);
    expect(final("=cmd")).toEqual([JSON.stringify(["normal", "consensus", 1, 1])]);
    expect(final("case-2")).toEqual([JSON.stringify([null, "excluded", 0, 0])]);
    expect(final("case-3")).toEqual([JSON.stringify(["nodule", "imported", 0, 0])]);
    expect(final("case-4")).toEqual([JSON.stringify(["nodule", "adjudicated", 1, 2])]);
    expect(final("gold-1")).toEqual([JSON.stringify(["nodule", "imported", 0, 1])]);
    expect(rows.filter((r) => r.caseId === "case-4").map((r) => r.kind).sort()).toEqual(["ADJUDICATED", "SUBMITTED", "SUBMITTED"]);
    expect(rows.find((r) => r.caseId === "case-2")).toMatchObject({ kind: "SKIPPED", labels: [], skipReason: "image unreadable", annotatorName: clinicianB.name });
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "export.labels", projectId, actorId: scientist.id }, orderBy: { id: "desc" } });
    expect(audit.details).toEqual({ format: "jsonl", history: false, rows: 9 });
  });

  it("CSV with history: every version, proper quoting, formulas defused; parses back to the same values", async () => {
    const result = await exportLabels(ctx(scientist), { projectId, format: "csv", history: true });
    const table = parseCsv(result.body, { file: "export.csv" });
    expect(table.header).toEqual([...CSV_COLUMNS]);
    expect(table.rows).toHaveLength(10);
    const get = (r: string[], c: (typeof CSV_COLUMNS)[number]) => r[CSV_COLUMNS.indexOf(c)]!;
    const a = table.rows.filter((r) => get(r, "case_id") === "case-1" && get(r, "annotator_id") === clinicianA.id);
    expect(a.map((r) => get(r, "version"))).toEqual(["1", "2"]);
    const v2 = a[1]!;
    expect(get(v2, "labels")).toBe("nodule;normal");
    expect(get(v2, "uncertain")).toBe("true");
    expect(get(v2, "comment")).toBe('Looks like a "nodule",\nsecond line');
    expect(get(v2, "time_spent_ms")).toBe("4500");
    expect(JSON.parse(get(v2, "spans"))).toEqual([{ start: 3, end: 9, startUtf16: 3, endUtf16: 9, label: "nodule", text: "nodule" }]);
    expect(get(v2, "span_offset_unit")).toBe("codepoint");
    expect(get(v2, "annotated_at")).toBe("2024-05-01T10:05:00.000Z");
    // The final label in every version's row (history rows included), and the same in CSV as in JSONL.
    for (const r of a) expect([get(r, "final_label"), get(r, "final_label_rule"), get(r, "final_label_votes"), get(r, "final_label_voters")]).toEqual(["", "excluded", "1", "2"]);
    const formula = table.rows.find((r) => get(r, "case_id") === "'=cmd")!;
    expect(get(formula, "comment")).toBe("'=HYPERLINK(\"x\")");
    expect([get(formula, "final_label"), get(formula, "final_label_rule"), get(formula, "final_label_votes"), get(formula, "final_label_voters")]).toEqual(["normal", "consensus", "1", "1"]);
    expect(new Set(table.rows.map((r) => `${get(r, "case_id")}:${get(r, "gold")}`))).toEqual(new Set(["case-1:false", "case-2:false", "'=cmd:false", "case-3:false", "case-4:false", "gold-1:true"]));
    const adjudicated = table.rows.filter((r) => get(r, "case_id") === "case-4");
    expect(adjudicated.map((r) => [get(r, "kind"), get(r, "final_label"), get(r, "final_label_rule")]).sort()).toEqual([["ADJUDICATED", "nodule", "adjudicated"], ["SUBMITTED", "nodule", "adjudicated"], ["SUBMITTED", "nodule", "adjudicated"]]);
  });

  it("is for data scientists, admins and reviewers who are members", async () => {
    await expect(exportLabels(ctx(clinicianA), { projectId, format: "csv", history: false })).rejects.toMatchObject({ kind: "FORBIDDEN" });
    const outsider = await createTestUser("REVIEWER");
    await expect(exportLabels(ctx(outsider), { projectId, format: "csv", history: false })).rejects.toMatchObject({ kind: "NOT_FOUND" });
  });
});
