/**
 * The case browser against the real database: every filter, the full-text search with its
 * snippet, keyset paging, the audited read-only view, audited bulk actions with their split rules,
 * the priority request the select job honours, and who may see what (non-members NOT_FOUND,
 * clinicians only the cases they annotated).
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CaseFilters } from "@/contracts/case-browser";
import type { RoleName } from "@/contracts/roles";
import { createCaller } from "../api/root";
import { insertAnnotationForFixture } from "../db/stats-repo";
import { createTestUser, testDb } from "../testing/fixtures";
import { TEST_LABEL_SCHEMA } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { caseCursorAfter, clearHonouredPriority, listCases, withPriorityFirst } from "./case-browser-service";
import { createServiceContext, type Actor } from "./context";
import { writeSelectionRound } from "./selection-rounds";

afterAll(async () => {
  await testDb().$disconnect();
});

const caller = (actor: Actor) => createCaller({ db: testDb(), actor });

/** One fixture case: what it is declared to be, so each filter's expected answer is computed from the declaration. */
interface CaseSpec {
  externalId: string;
  narrative: string | null;
  split: "POOL" | "TEST" | "SEED";
  importedLabel: string | null;
  batch: 0 | 1;
  images: number;
  /** [author, version, labels] in insertion order. */
  annotations: ["a" | "b", number, string[]][];
  rounds: number[];
}

const TOPICS = [
  "Chest radiograph: right apical pneumothorax with a visible pleural line.",
  "Small calcified granuloma in the left upper lobe, benign appearance.",
  "Spiculated nodule in the right lower lobe, suspicious for malignancy; biopsy recommended.",
  "Lungs clear. No effusion. Heart size normal.",
  "Stable postoperative changes after lobectomy.",
];

/** Image-only cases (two images, no narrative). */
const NO_NARRATIVE = [4, 22, 26];

function specs(): CaseSpec[] {
  const out: CaseSpec[] = [];
  for (let i = 0; i < 30; i++) {
    const split = i % 10 === 7 ? "TEST" : i % 10 === 8 ? "SEED" : "POOL";
    out.push({
      externalId: `case-${String(i).padStart(3, "0")}`,
      narrative: NO_NARRATIVE.includes(i) ? null : `Report ${i}. ${TOPICS[i % TOPICS.length]}${i === 13 ? " <b>not markup</b> pneumothorax again." : ""}`,
      split,
      importedLabel: split === "POOL" ? null : i % 2 === 0 ? "normal" : "suspicious",
      batch: i < 15 ? 0 : 1,
      images: NO_NARRATIVE.includes(i) ? 2 : i % 6 === 0 ? 1 : 0,
      annotations: [],
      rounds: [],
    });
  }
  // Agreement, disagreement, a re-annotation whose LATEST label differs from its first, a lone annotation.
  out[1]!.annotations = [["a", 1, ["benign"]], ["b", 1, ["benign"]]];
  out[2]!.annotations = [["a", 1, ["suspicious"]], ["b", 1, ["normal"]]];
  out[3]!.annotations = [["a", 1, ["normal"]], ["a", 2, ["suspicious"]]];
  out[5]!.annotations = [["b", 1, ["suspicious"]]];
  out[6]!.annotations = [["a", 1, ["benign"]], ["b", 1, ["benign"]], ["b", 2, ["normal"]]];
  // Two labels clicked in a different order: the same set, no disagreement.
  out[21]!.annotations = [["a", 1, ["benign", "suspicious"]], ["b", 1, ["suspicious", "benign"]]];
  out[1]!.rounds = [1];
  out[2]!.rounds = [1];
  out[3]!.rounds = [1, 2];
  out[5]!.rounds = [2];
  return out;
}

/** Each annotator's latest label set. */
const latestByAuthor = (s: CaseSpec): string[][] => {
  const latest = new Map<string, { version: number; labels: string[] }>();
  for (const [author, version, labels] of s.annotations) if ((latest.get(author)?.version ?? 0) < version) latest.set(author, { version, labels });
  return [...latest.values()].map((l) => l.labels);
};
const latestCarries = (s: CaseSpec, label: string) => latestByAuthor(s).some((labels) => labels.includes(label));
const disagrees = (s: CaseSpec) => new Set(latestByAuthor(s).map((labels) => [...labels].sort().join("+"))).size > 1;

interface World {
  projectId: string;
  scientist: Actor;
  reviewer: Actor;
  clinicianA: Actor;
  clinicianB: Actor;
  outsider: Actor;
  batchIds: string[];
  specs: CaseSpec[];
  idOf: Map<string, string>;
}

let world: World;

async function member(projectId: string, role: RoleName, name: string): Promise<Actor> {
  const actor = await createTestUser(role);
  await testDb().user.update({ where: { id: actor.id }, data: { name } });
  await testDb().projectMember.create({ data: { projectId, userId: actor.id } });
  return { ...actor, name };
}

beforeAll(async () => {
  const db = testDb();
  const project = await db.project.create({
    data: {
      name: `Case browser ${crypto.randomBytes(5).toString("hex")}`,
      labelSchema: TEST_LABEL_SCHEMA,
      minorityClasses: ["suspicious"],
      selectionParams: { strategy: "rads", budget: 4 },
      encoderConfig: { kind: "builtin", dim: 64 },
      settings: { annotationsPerCase: 1, leaseMinutes: 30 },
    },
    select: { id: true },
  });
  const projectId = project.id;
  const scientist = await member(projectId, "DATA_SCIENTIST", "Dana Scientist");
  const reviewer = await member(projectId, "REVIEWER", "Rui Reviewer");
  const clinicianA = await member(projectId, "CLINICIAN", "Ada Clinician");
  const clinicianB = await member(projectId, "CLINICIAN", "Ben Clinician");
  const outsider = await createTestUser("DATA_SCIENTIST");
  const batchIds: string[] = [];
  for (const source of ["reports-2024.csv", "reports-2025.csv"]) {
    batchIds.push((await db.importBatch.create({ data: { projectId, source, sha256: crypto.randomBytes(32).toString("hex") }, select: { id: true } })).id);
  }
  const all = specs();
  await db.case.createMany({
    data: all.map((s) => ({ projectId, externalId: s.externalId, narrative: s.narrative, split: s.split, importedLabel: s.importedLabel, importBatchId: batchIds[s.batch]! })),
  });
  const rows = await db.case.findMany({ where: { projectId }, select: { id: true, externalId: true } });
  const idOf = new Map(rows.map((r) => [r.externalId, r.id]));
  for (const s of all) {
    const caseId = idOf.get(s.externalId)!;
    for (let k = 0; k < s.images; k++) {
      await db.caseImage.create({ data: { caseId, storageKey: `images/test/${caseId}-${k}.png`, mimeType: "image/png", sha256: crypto.randomBytes(32).toString("hex"), position: k } });
    }
    for (const [author, version, labels] of s.annotations) {
      await insertAnnotationForFixture(db, { caseId, authorId: (author === "a" ? clinicianA : clinicianB).id, version, labels });
    }
  }
  for (const number of [1, 2]) {
    const members = all.filter((s) => s.rounds.includes(number));
    await writeSelectionRound(db, {
      projectId,
      strategy: number === 1 ? "cold-start" : "rads",
      coldStart: number === 1,
      params: { budget: members.length },
      stats: {},
      items: members.map((s, k) => ({ caseId: idOf.get(s.externalId)!, rank: k + 1, features: { bald: 0.1 * (k + 1), utility: 0.5, pseudoLabelKey: "suspicious" } })),
    });
  }
  world = { projectId, scientist, reviewer, clinicianA, clinicianB, outsider, batchIds, specs: all, idOf };
});

/** Every externalId matching `filters`, walking all pages of `limit`. */
async function walk(actor: Actor, filters: CaseFilters, limit = 7): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page: Awaited<ReturnType<typeof listCases>> = await caller(actor).cases.list({ projectId: world.projectId, filters, cursor, limit });
    seen.push(...page.rows.map((r) => r.externalId));
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error("paging did not end");
}

const expected = (pick: (s: CaseSpec) => boolean) => world.specs.filter(pick).map((s) => s.externalId).sort();

describe("case browser: filters and search", () => {
  it("applies every filter as declared, alone and combined", async () => {
    const { scientist, clinicianA, batchIds } = world;
    const cases: [CaseFilters, (s: CaseSpec) => boolean][] = [
      [{}, () => true],
      [{ split: "TEST" }, (s) => s.split === "TEST"],
      [{ split: "SEED" }, (s) => s.split === "SEED"],
      [{ labelled: "yes" }, (s) => s.importedLabel !== null || s.annotations.length > 0],
      [{ labelled: "no" }, (s) => s.importedLabel === null && s.annotations.length === 0],
      // The label of the LATEST version per annotator (case-003's first label "normal" no longer counts), or the imported one.
      [{ label: "normal" }, (s) => s.importedLabel === "normal" || latestCarries(s, "normal")],
      [{ label: "suspicious" }, (s) => s.importedLabel === "suspicious" || latestCarries(s, "suspicious")],
      [{ annotatorId: clinicianA.id }, (s) => s.annotations.some(([a]) => a === "a")],
      [{ disagreement: true }, disagrees],
      [{ disagreement: false }, (s) => !disagrees(s)],
      [{ round: 1 }, (s) => s.rounds.includes(1)],
      [{ round: 2 }, (s) => s.rounds.includes(2)],
      [{ round: 3 }, () => false],
      [{ hasImages: true }, (s) => s.images > 0],
      [{ hasImages: false }, (s) => s.images === 0],
      [{ hasNarrative: false }, (s) => s.narrative === null],
      [{ hasNarrative: true }, (s) => s.narrative !== null],
      [{ importBatchId: batchIds[1]! }, (s) => s.batch === 1],
      [{ split: "POOL", labelled: "no", hasImages: true }, (s) => s.split === "POOL" && s.importedLabel === null && s.annotations.length === 0 && s.images > 0],
      [{ importBatchId: batchIds[0]!, label: "suspicious" }, (s) => s.batch === 0 && (s.importedLabel === "suspicious" || latestCarries(s, "suspicious"))],
    ];
    for (const [filters, pick] of cases) {
      const want = expected(pick);
      expect((await walk(scientist, filters)).sort(), JSON.stringify(filters)).toEqual(want);
      expect(await caller(scientist).cases.count({ projectId: world.projectId, filters }), JSON.stringify(filters)).toEqual({ count: want.length, atLeast: false });
    }
    // case-006: b's latest (v2 "normal") disagrees with a's "benign" although their first versions agreed;
    // case-021's two annotators chose the same two labels in a different order.
    expect(await walk(scientist, { disagreement: true })).toEqual(["case-002", "case-006"]);
  });

  it("shows each row's latest labels per annotator, rounds and image count", async () => {
    const page = await caller(world.scientist).cases.list({ projectId: world.projectId, filters: { round: 1 } });
    const row3 = page.rows.find((r) => r.externalId === "case-003")!;
    expect(row3.annotators).toEqual([{ name: world.clinicianA.name, labels: ["suspicious"] }]);
    expect(row3.rounds).toEqual([1, 2]);
    const row2 = page.rows.find((r) => r.externalId === "case-002")!;
    expect(row2.disagreement).toBe(true);
    const images = await caller(world.scientist).cases.list({ projectId: world.projectId, filters: { hasNarrative: false } });
    expect(images.rows.every((r) => r.imageCount === 2 && !r.hasNarrative && r.snippet.length === 0)).toBe(true);
  });

  it("searches narratives with PostgreSQL full-text search and highlights the hits", async () => {
    const { scientist } = world;
    // Stemming: "pneumothoraces"/"pneumothorax" share a stem; a phrase; a negation; words ANDed.
    expect(await walk(scientist, { search: "pneumothorax" })).toEqual(expected((s) => !!s.narrative?.includes("pneumothorax")));
    expect(await walk(scientist, { search: "\"spiculated nodule\"" })).toEqual(expected((s) => !!s.narrative?.includes("Spiculated nodule")));
    expect(await walk(scientist, { search: "nodule -biopsy" })).toEqual([]);
    expect(await walk(scientist, { search: "granuloma benign" })).toEqual(expected((s) => !!s.narrative?.includes("granuloma")));
    expect(await walk(scientist, { search: "pneumothorax", split: "POOL", labelled: "no" })).toEqual(
      expected((s) => !!s.narrative?.includes("pneumothorax") && s.split === "POOL" && s.importedLabel === null && s.annotations.length === 0),
    );
    const page = await caller(scientist).cases.list({ projectId: world.projectId, filters: { search: "pneumothorax" } });
    for (const row of page.rows) {
      const hits = row.snippet.filter((seg) => seg.hit).map((seg) => seg.text.toLowerCase());
      expect(hits.length, row.externalId).toBeGreaterThan(0);
      expect(hits.every((h) => h === "pneumothorax")).toBe(true);
    }
    // A narrative's own markup never reaches the page as markup: ts_headline drops tags, hits are marked out of band.
    const html = page.rows.find((r) => r.externalId === "case-013")!;
    const text = html.snippet.map((s) => s.text).join("");
    expect(text).toContain("not markup");
    expect(text).not.toContain("<b>");
  });

  it("refuses a search of stop words only, an unknown label and a forged cursor with field-level messages", async () => {
    const list = (filters: CaseFilters, cursor: string | null = null) => caller(world.scientist).cases.list({ projectId: world.projectId, filters, cursor });
    await expect(list({ search: "the and of" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("no searchable words") });
    await expect(list({ label: "malignant" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: '"malignant" is not a label of this project.' });
    await expect(list({}, "not-a-cursor")).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("cursor") });
    await expect(list({ round: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("pages by keyset without duplicates or gaps, also while cases are added before the cursor", async () => {
    const { scientist, projectId } = world;
    const all = world.specs.map((s) => s.externalId).sort();
    for (const limit of [1, 4, 7, 30, 100]) expect(await walk(scientist, {}, limit)).toEqual(all);
    // Walk 10, then a new case sorts before the cursor (it must not shift the next pages), then finish.
    const first = await caller(scientist).cases.list({ projectId, filters: { split: "POOL" }, limit: 10 });
    await testDb().case.create({ data: { projectId, externalId: "case-000a", narrative: "Inserted while paging.", split: "POOL" } });
    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor) {
      const page: Awaited<ReturnType<typeof listCases>> = await caller(scientist).cases.list({ projectId, filters: { split: "POOL" }, cursor, limit: 10 });
      rest.push(...page.rows.map((r) => r.externalId));
      cursor = page.nextCursor;
    }
    const walked = [...first.rows.map((r) => r.externalId), ...rest];
    expect(walked).toEqual(expected((s) => s.split === "POOL"));
    expect(new Set(walked).size).toBe(walked.length);
    // A cursor names a position, not a row: one after the last case gives an empty last page.
    const after = await caller(scientist).cases.list({ projectId, filters: {}, cursor: caseCursorAfter("zzz") });
    expect(after).toEqual({ rows: [], nextCursor: null });
    await testDb().case.deleteMany({ where: { projectId, externalId: "case-000a" } });
  });
});

describe("case browser: opening a case", () => {
  it("shows narrative, images, every annotation version, predictions and why each round selected it — and audits the read", async () => {
    const { scientist, projectId, idOf } = world;
    const caseId = idOf.get("case-003")!;
    const model = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.7], seed: 3, labelCount: 5, rounds: [1] });
    await testDb().prediction.create({ data: { caseId, modelVersionId: model.id, probabilities: { normal: 0.2, benign: 0.1, suspicious: 0.7 }, predictedLabel: "suspicious", confidence: 0.7 } });
    const before = await testDb().auditEvent.count({ where: { action: "case.viewed", targetId: caseId } });
    const view = await caller(scientist).cases.get({ projectId, caseId });
    expect(view.view).toBe("browser");
    expect(view.case.externalId).toBe("case-003");
    expect(view.case.narrative).toContain("Lungs clear");
    expect(view.history.map((h) => [h.version, h.labels.map((l) => l.key)])).toEqual([[1, ["normal"]], [2, ["suspicious"]]]);
    expect(view.history.every((h) => h.authorName === world.clinicianA.name)).toBe(true);
    expect(view.predictions).toEqual([expect.objectContaining({ modelVersion: model.version, predictedLabel: "suspicious", confidence: 0.7 })]);
    expect(view.selection.map((s) => [s.round, s.strategy, s.coldStart])).toEqual([[1, "cold-start", true], [2, "rads", false]]);
    expect(view.selection[1]!.reasons).toEqual(expect.arrayContaining([{ name: "bald", value: expect.any(Number) }, { name: "utility", value: 0.5 }]));
    const events = await testDb().auditEvent.findMany({ where: { action: "case.viewed", targetId: caseId }, orderBy: { id: "desc" } });
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({ actorId: scientist.id, projectId, targetType: "Case" });
    // The list is audited too: the page's case ids (its snippets are patient data).
    await caller(scientist).cases.list({ projectId, filters: { round: 2 } });
    const listed = await testDb().auditEvent.findFirst({ where: { action: "case.list-read", actorId: scientist.id }, orderBy: { id: "desc" } });
    expect((listed!.details as { caseIds: string[] }).caseIds.sort()).toEqual([idOf.get("case-003")!, idOf.get("case-005")!].sort());
    const images = await caller(scientist).cases.get({ projectId, caseId: idOf.get("case-004")! });
    expect(images.case.narrative).toBeNull();
    expect(images.case.images.map((i) => i.mimeType)).toEqual(["image/png", "image/png"]);
  });

  it("lets a clinician open only the cases they annotated, and with double annotation only their own labels", async () => {
    const { clinicianA, clinicianB, projectId, idOf } = world;
    const mine = await caller(clinicianB).cases.get({ projectId, caseId: idOf.get("case-002")! });
    expect(mine.view).toBe("annotator");
    expect(mine.selection).toEqual([]);
    expect(mine.history.map((h) => h.authorName).sort()).toEqual([clinicianA.name, clinicianB.name].sort());
    expect(mine.case.split).toBeNull();
    expect((await caller(world.scientist).cases.get({ projectId, caseId: idOf.get("case-002")! })).case.split).not.toBeNull();
    // A gold case reads as any other case: only the caller's own answers, no split (gold cases are SEED cases).
    await testDb().goldCase.create({ data: { caseId: idOf.get("case-002")!, projectId, labels: ["normal"], source: "imported" } });
    try {
      const gold = await caller(clinicianB).cases.get({ projectId, caseId: idOf.get("case-002")! });
      expect(gold.history.map((h) => [h.authorName, h.mine])).toEqual([[clinicianB.name, true]]);
      expect(gold.case.split).toBeNull();
    } finally {
      await testDb().goldCase.delete({ where: { caseId: idOf.get("case-002")! } });
    }
    await expect(caller(clinicianB).cases.get({ projectId, caseId: idOf.get("case-003")! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller(clinicianB).cases.get({ projectId, caseId: idOf.get("case-010")! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(caller(clinicianB).cases.list({ projectId, filters: {} })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await testDb().project.update({ where: { id: projectId }, data: { settings: { annotationsPerCase: 2, leaseMinutes: 30 } } });
    try {
      const blind = await caller(clinicianB).cases.get({ projectId, caseId: idOf.get("case-002")! });
      expect(blind.history.map((h) => [h.authorName, h.mine])).toEqual([[clinicianB.name, true]]);
      expect(blind.predictions).toEqual([]);
    } finally {
      await testDb().project.update({ where: { id: projectId }, data: { settings: { annotationsPerCase: 1, leaseMinutes: 30 } } });
    }
  });

  it("answers NOT_FOUND to a non-member for every procedure, and a case of another project is not found either", async () => {
    const { outsider, projectId, idOf } = world;
    const c = caller(outsider);
    const caseIds = [idOf.get("case-010")!];
    for (const call of [
      () => c.cases.list({ projectId, filters: {} }),
      () => c.cases.count({ projectId, filters: {} }),
      () => c.cases.options({ projectId }),
      () => c.cases.get({ projectId, caseId: caseIds[0]! }),
      () => c.cases.move({ projectId, caseIds, split: "TEST" }),
      () => c.cases.prioritize({ projectId, caseIds }),
      () => c.cases.unprioritize({ projectId, caseIds }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: "NOT_FOUND", message: "No such project." });
    }
    const other = await testDb().project.create({
      data: { name: `Other ${crypto.randomBytes(4).toString("hex")}`, labelSchema: TEST_LABEL_SCHEMA, minorityClasses: [], selectionParams: { strategy: "rads", budget: 2 }, encoderConfig: { kind: "builtin", dim: 64 }, settings: {}, members: { create: [{ userId: world.scientist.id }] } },
      select: { id: true },
    });
    await expect(caller(world.scientist).cases.get({ projectId: other.id, caseId: caseIds[0]! })).rejects.toMatchObject({ code: "NOT_FOUND", message: "No such case." });
    await expect(caller(world.scientist).cases.move({ projectId: other.id, caseIds, split: "TEST" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("case browser: bulk actions", () => {
  it("moves cases between splits with before/after in the audit log; a labelled case moved to TEST leaves training", async () => {
    const { scientist, reviewer, projectId, idOf } = world;
    const ids = ["case-005", "case-009", "case-010"].map((e) => idOf.get(e)!);
    await expect(caller(reviewer).cases.move({ projectId, caseIds: ids, split: "TEST" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const result = await caller(scientist).cases.move({ projectId, caseIds: ids, split: "TEST" });
    expect(result).toEqual({ changed: 3, unchanged: 0, leftTraining: 1 }); // case-005 carries an annotation
    const splits = await testDb().case.findMany({ where: { id: { in: ids } }, select: { split: true } });
    expect(splits.every((s) => s.split === "TEST")).toBe(true);
    const event = await testDb().auditEvent.findFirst({ where: { action: "cases.split-changed", projectId }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ actorId: scientist.id, actorRole: "DATA_SCIENTIST" });
    const details = event!.details as { to: string; changed: { externalId: string; before: string; after: string }[]; leftTraining: number };
    expect(details.changed.map((c) => [c.externalId, c.before, c.after])).toEqual([["case-005", "POOL", "TEST"], ["case-009", "POOL", "TEST"], ["case-010", "POOL", "TEST"]]);
    expect(details.leftTraining).toBe(1);
    // Moving again changes nothing (and says so).
    expect(await caller(scientist).cases.move({ projectId, caseIds: ids, split: "TEST" })).toEqual({ changed: 0, unchanged: 3, leftTraining: 0 });
  });

  it("refuses, all or nothing: TEST cases out of TEST once a model exists, unlabelled cases into SEED, ids of other projects", async () => {
    const { scientist, projectId, idOf } = world;
    // A model exists (inserted by the case-view test; insert one here if this test runs alone).
    if ((await testDb().modelVersion.count({ where: { projectId } })) === 0) await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.7], seed: 4, labelCount: 5, rounds: [] });
    const testCase = idOf.get("case-007")!; // TEST
    const poolCase = idOf.get("case-011")!; // POOL, unlabelled
    await expect(caller(scientist).cases.move({ projectId, caseIds: [poolCase, testCase], split: "POOL" })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("leak the test set") });
    await expect(caller(scientist).cases.move({ projectId, caseIds: [poolCase, idOf.get("case-018")!], split: "SEED" })).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("case-011") });
    await expect(caller(scientist).cases.move({ projectId, caseIds: [poolCase, "no-such-case"], split: "TEST" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const after = await testDb().case.findMany({ where: { id: { in: [testCase, poolCase] } }, select: { id: true, split: true } });
    expect(Object.fromEntries(after.map((c) => [c.id, c.split]))).toEqual({ [testCase]: "TEST", [poolCase]: "POOL" });
    // A labelled POOL case may go to SEED.
    expect(await caller(scientist).cases.move({ projectId, caseIds: [idOf.get("case-001")!], split: "SEED" })).toMatchObject({ changed: 1 });
    await testDb().case.update({ where: { id: idOf.get("case-001")! }, data: { split: "POOL" } });
  });

  it("puts unlabelled POOL cases first in the next round, refuses the others, and the select job's merge honours the request", async () => {
    const { scientist, projectId, idOf } = world;
    const wanted = ["case-012", "case-014"].map((e) => idOf.get(e)!);
    await expect(caller(scientist).cases.prioritize({ projectId, caseIds: [wanted[0]!, idOf.get("case-001")!] })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("already labelled") });
    await expect(caller(scientist).cases.prioritize({ projectId, caseIds: [idOf.get("case-017")!] })).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringContaining("not in the POOL split") });
    expect(await caller(scientist).cases.prioritize({ projectId, caseIds: wanted })).toEqual({ requested: 2, alreadyRequested: 0 });
    const event = await testDb().auditEvent.findFirst({ where: { action: "cases.priority-requested", projectId }, orderBy: { id: "desc" } });
    expect((event!.details as { changed: { externalId: string; before: null; after: string }[] }).changed.map((c) => [c.externalId, c.before])).toEqual([["case-012", null], ["case-014", null]]);
    const listed = await caller(scientist).cases.list({ projectId, filters: { split: "POOL", labelled: "no" }, limit: 100 });
    expect(listed.rows.filter((r) => r.priorityRequested).map((r) => r.externalId)).toEqual(["case-012", "case-014"]);

    // The select job's side: priority cases among the selectable pool come first, then the strategy's picks, within the budget.
    const selectable = [...wanted, idOf.get("case-015")!, idOf.get("case-016")!, idOf.get("case-019")!].map((id) => ({ id }));
    const picked = [idOf.get("case-019")!, wanted[1]!, idOf.get("case-015")!].map((caseId, i) => ({ caseId, rank: i + 1, features: { bald: 0.3 - i * 0.1 } }));
    const merged = await withPriorityFirst(testDb(), projectId, selectable, picked, 3);
    expect(merged.items.map((i) => [i.caseId, i.rank, i.features.priority ?? false])).toEqual([
      [wanted[0], 1, true],
      [wanted[1], 2, true],
      [idOf.get("case-019"), 3, false],
    ]);
    expect(merged.items[1]!.features.bald).toBeCloseTo(0.2);
    expect(merged.honoured).toEqual(wanted);
    expect(await clearHonouredPriority(testDb(), projectId, merged.honoured)).toBe(2);
    expect((await withPriorityFirst(testDb(), projectId, selectable, picked, 3)).honoured).toEqual([]);

    // Withdrawing a request is audited as well.
    await caller(scientist).cases.prioritize({ projectId, caseIds: [wanted[0]!] });
    expect(await caller(scientist).cases.unprioritize({ projectId, caseIds: wanted })).toEqual({ withdrawn: 1, notRequested: 1 });
    const withdrawn = await testDb().auditEvent.findFirst({ where: { action: "cases.priority-withdrawn", projectId }, orderBy: { id: "desc" } });
    expect((withdrawn!.details as { changed: { after: null }[] }).changed).toEqual([expect.objectContaining({ externalId: "case-012", after: null })]);
    // Moving a requested case out of POOL drops the request.
    await caller(scientist).cases.prioritize({ projectId, caseIds: [wanted[1]!] });
    await caller(scientist).cases.move({ projectId, caseIds: [wanted[1]!], split: "TEST" });
    expect((await testDb().case.findUniqueOrThrow({ where: { id: wanted[1]! } })).priorityRequestedAt).toBeNull();
  });

  it("gives the bulk actions only to roles that may manage cases", async () => {
    const { reviewer, clinicianA, projectId, idOf } = world;
    const caseIds = [idOf.get("case-020")!];
    for (const actor of [reviewer, clinicianA]) {
      await expect(caller(actor).cases.prioritize({ projectId, caseIds })).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(caller(actor).cases.move({ projectId, caseIds, split: "SEED" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    const options = await caller(reviewer).cases.options({ projectId });
    expect(options.canManage).toBe(false);
    expect(options.rounds.map((r) => r.number)).toEqual([2, 1]);
    expect(options.annotators.map((a) => a.name).sort()).toEqual([world.clinicianA.name, world.clinicianB.name].sort());
    expect((await caller(world.scientist).cases.options({ projectId })).canManage).toBe(true);
    // The service without the API: no caller, no access.
    await expect(listCases(createServiceContext(testDb(), null), { projectId, filters: {} })).rejects.toMatchObject({ kind: "UNAUTHORIZED" });
  });
});
