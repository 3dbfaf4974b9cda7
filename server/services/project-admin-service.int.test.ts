/**
 * Creating and configuring projects against the real database: create/edit/archive with their
 * audit events, each kind of bad input refused with the field it is about and nothing saved,
 * removing a used label refused or mapped (new annotation versions, history kept), and the CLI's
 * export → create round trip through the real `scripts/project.ts`.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../db/embedded-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseOnnxSessions } from "@/models/onnx-sessions";
import { createCaller } from "../api/root";
import type { CreateProjectInput } from "@/contracts/project-admin";
import { createTestUser, testDb, refusal } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import type { Actor } from "./context";
import { listAudit } from "./audit-service";
import { createServiceContext } from "./context";
import {
  createProject,
  exportProjectConfig,
  getLabelUsage,
  getProjectAdmin,
  setProjectArchived,
  updateLabelSchema,
  updateProject,
} from "./project-admin-service";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

afterAll(async () => {
  await testDb().$disconnect();
});

const unique = () => Math.random().toString(36).slice(2, 10);

function config(overrides: Partial<CreateProjectInput> = {}): CreateProjectInput {
  return {
    name: `Neurology vs rest ${unique()}`,
    description: "Which notes are neurology?",
    caseContent: "narrative",
    labelSchema: {
      labels: [
        { key: "neuro", name: "Neurology", color: "#e15759", shortcut: "1", guideline: "Brain, spine, nerves." },
        { key: "ortho", name: "Orthopedic", color: "#4e79a7", shortcut: "2" },
        { key: "other", name: "Other", color: "#bab0ac", shortcut: "3" },
      ],
      multiLabel: false,
    },
    minorityClasses: ["neuro"],
    selectionParams: { strategy: "rads", budget: 10, rho: 0.5 },
    ...overrides,
  };
}

const ctxOf = (actor: Actor | null) => createServiceContext(testDb(), actor);
const auditOf = (projectId: string, action: string) => testDb().auditEvent.findMany({ where: { projectId, action }, orderBy: { id: "asc" } });
const projectRow = (id: string) => testDb().project.findUniqueOrThrow({ where: { id } });

describe("creating a project", () => {
  it("a data scientist creates one, becomes its member with their role, and the creation is audited with the config", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const input = config();
    const created = await createProject(ctxOf(scientist), input);
    expect(created.project.name).toBe(input.name);
    const members = await testDb().projectMember.findMany({ where: { projectId: created.project.id } });
    expect(members.map((m) => [m.userId, m.role])).toEqual([[scientist.id, "DATA_SCIENTIST"]]);
    const view = await getProjectAdmin(ctxOf(scientist), { projectId: created.project.id });
    expect(view.config.labelSchema.labels.map((l) => [l.key, l.guideline ?? null])).toEqual([["neuro", "Brain, spine, nerves."], ["ortho", null], ["other", null]]);
    expect(view.config.caseContent).toBe("narrative");
    expect(view.permissions).toContain("project.configure");
    const [event] = await auditOf(created.project.id, "project.create");
    expect(event!.actorId).toBe(scientist.id);
    expect((event!.details as { after: { name: string; minorityClasses: string[] } }).after).toMatchObject({ name: input.name, minorityClasses: ["neuro"] });
  });

  it("refuses clinicians and reviewers (platform role), and a non-member sees nothing of the project", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const admin = await createTestUser("ADMIN");
    expect(await refusal(createProject(ctxOf(clinician), config()))).toMatchObject({ kind: "FORBIDDEN" });
    expect(await refusal(createProject(ctxOf(await createTestUser("REVIEWER")), config()))).toMatchObject({ kind: "FORBIDDEN" });
    const created = await createProject(ctxOf(admin), config());
    expect(await refusal(getProjectAdmin(ctxOf(clinician), { projectId: created.project.id }))).toMatchObject({ kind: "NOT_FOUND", message: "No such project." });
  });

  it.each([
    ["a label key used twice", { labelSchema: { labels: [{ key: "a", name: "A", color: "#000000" }, { key: "a", name: "A again", color: "#111111" }], multiLabel: false }, minorityClasses: [] , selectionParams: { strategy: "random" as const, budget: 5 } }, "labelSchema.labels.1.key", /used twice/],
    ["a shortcut used twice", { labelSchema: { labels: [{ key: "a", name: "A", color: "#000000", shortcut: "1" }, { key: "b", name: "B", color: "#111111", shortcut: "1" }], multiLabel: false }, minorityClasses: ["a"] }, "labelSchema.labels.1.shortcut", /used twice/],
    ["ρ of 1", { selectionParams: { strategy: "rads" as const, budget: 5, rho: 1 } }, "selectionParams.rho", /below 1/],
    ["ρ of 0", { selectionParams: { strategy: "rads" as const, budget: 5, rho: 0 } }, "selectionParams.rho", /above 0/],
    ["per-class ρ summing to 1", { minorityClasses: ["neuro", "ortho"], selectionParams: { strategy: "rads" as const, budget: 5, rho: { neuro: 0.5, ortho: 0.5 } } }, "selectionParams.rho", /sum to less than 1/],
    ["a minority class not in the schema", { minorityClasses: ["cardio"] }, "minorityClasses.0", /not a label key/],
  ])("refuses %s with a field-level message and saves nothing", async (_what, overrides, field, message) => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const input = config(overrides as Partial<CreateProjectInput>);
    const error = await refusal(createProject(ctxOf(scientist), input));
    expect(error.kind).toBe("BAD_INPUT");
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(await testDb().project.count({ where: { name: input.name } })).toBe(0);
    expect(await testDb().auditEvent.count({ where: { actorId: scientist.id } })).toBe(0);
  });

  it("refuses a duplicate name, ignoring case, on the name field", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const first = await createProject(ctxOf(scientist), config());
    const error = await refusal(createProject(ctxOf(scientist), config({ name: first.project.name.toUpperCase() })));
    expect(error).toMatchObject({ kind: "CONFLICT", field: "name" });
    expect(error.message).toContain("already exists");
    expect(await testDb().project.count({ where: { name: { equals: first.project.name, mode: "insensitive" } } })).toBe(1);
  });
});

describe("the encoder of a new project", () => {
  const SHARED_MODELS = "../shared/models";
  const MOBILENET = "mobilenetv2-12-int8/mobilenetv2-12-int8.onnx";
  let models: string;
  beforeAll(() => {
    models = fs.mkdtempSync(path.join(os.tmpdir(), "rads-create-models-"));
    fs.writeFileSync(path.join(models, "garbage.onnx"), "this is not a protobuf model");
    fs.writeFileSync(path.join(models, "notes.txt"), "not a model");
    fs.symlinkSync(path.resolve(SHARED_MODELS, MOBILENET), path.join(models, "outside.onnx"));
  });
  afterAll(async () => {
    await releaseOnnxSessions();
    fs.rmSync(models, { recursive: true, force: true });
  });

  const images = (encoderConfig?: unknown) => config({ caseContent: "images", ...(encoderConfig ? { encoderConfig: encoderConfig as CreateProjectInput["encoderConfig"] } : {}) });

  it.each([
    ["a path out of the models folder", "../../etc/passwd", /outside the models folder/],
    ["an absolute path", "/etc/passwd", /relative to the models folder/],
    ["a symlink leading outside it", "outside.onnx", /leads outside the models folder/],
    ["a file that does not exist", "missing.onnx", /does not exist/],
    ["a file that is not ONNX", "notes.txt", /not an ONNX model/],
    ["a .onnx file onnxruntime cannot load", "garbage.onnx", /not an ONNX model onnxruntime can load/],
  ])("refuses %s on the encoder's path field, as the settings do, and saves nothing", async (_what, encoderPath, message) => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const input = images({ kind: "onnx-image", path: encoderPath });
    const error = await refusal(createProject(ctxOf(scientist), input, { modelsDir: models }));
    expect(error).toMatchObject({ kind: "BAD_INPUT", field: "encoderConfig.path" });
    expect(error.message).toMatch(message);
    expect(await testDb().project.count({ where: { name: input.name } })).toBe(0);
    expect(await testDb().auditEvent.count({ where: { actorId: scientist.id } })).toBe(0);
  });

  it("an images-only project names an image encoder: none is refused (there is no built-in one), a text encoder too; a real model is stored as the settings store it", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    expect(await refusal(createProject(ctxOf(scientist), images(), { modelsDir: SHARED_MODELS }))).toMatchObject({ kind: "BAD_INPUT", field: "encoderConfig", message: expect.stringMatching(/needs an image encoder/) });
    expect(await refusal(createProject(ctxOf(scientist), images({ kind: "builtin", dim: 384 }), { modelsDir: SHARED_MODELS }))).toMatchObject({ kind: "BAD_INPUT", field: "encoderConfig.kind" });
    const created = await createProject(ctxOf(scientist), images({ kind: "onnx-image", path: MOBILENET }), { modelsDir: SHARED_MODELS });
    expect((await projectRow(created.project.id)).encoderConfig).toMatchObject({ kind: "onnx-image", path: path.join(SHARED_MODELS, MOBILENET) });
    // The exported file names the model as the create reads it: relative to the models folder.
    expect((await exportProjectConfig(ctxOf(scientist), { projectId: created.project.id }, { modelsDir: SHARED_MODELS })).encoderConfig).toMatchObject({ kind: "onnx-image", path: MOBILENET });
  });

  it("a narrative project created through the procedure (as the page does) gets the LSA encoder, not the built-in featuriser", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const caller = createCaller({ db: testDb(), actor: scientist });
    const narrative = await caller.projectAdmin.create(config());
    expect((await projectRow(narrative.project.id)).encoderConfig).toEqual({ kind: "lsa", dim: 100 });
    const both = await caller.projectAdmin.create(config({ caseContent: "both" }));
    expect((await projectRow(both.project.id)).encoderConfig).toEqual({ kind: "lsa", dim: 100 });
    await expect(caller.projectAdmin.create(images())).rejects.toThrow(/needs an image encoder/);
  });
});

describe("editing and archiving", () => {
  it("edits name, description and case content with before/after in the audit trail; a duplicate name is refused", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const a = await createProject(ctxOf(scientist), config());
    const b = await createProject(ctxOf(scientist), config());
    const newName = `Renamed ${unique()}`;
    await updateProject(ctxOf(scientist), { projectId: a.project.id, name: newName, description: "New text", caseContent: "both" });
    expect(await projectRow(a.project.id)).toMatchObject({ name: newName, description: "New text", caseContent: "both" });
    const [event] = await auditOf(a.project.id, "project.update");
    expect(event!.details).toEqual({
      before: { name: a.project.name, description: "Which notes are neurology?", caseContent: "narrative" },
      after: { name: newName, description: "New text", caseContent: "both" },
    });
    const error = await refusal(updateProject(ctxOf(scientist), { projectId: b.project.id, name: newName.toLowerCase(), description: "", caseContent: "images" }));
    expect(error).toMatchObject({ kind: "CONFLICT", field: "name" });
    expect(await projectRow(b.project.id)).toMatchObject({ name: b.project.name, caseContent: "narrative" });
  });

  it("switching what a case holds to content the cases or the encoder do not fit asks for confirmation naming the counts", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 7 });
    await testDb().project.update({ where: { id: projectId }, data: { caseContent: "narrative" } });
    const { name } = await projectRow(projectId);
    const change = { projectId, name, description: "", caseContent: "images" as const };
    const warned = await refusal(updateProject(ctxOf(scientist), change));
    expect(warned).toMatchObject({ kind: "CONFLICT", field: "caseContent" });
    expect(warned.message).toContain("7 cases of 7 hold only a narrative");
    expect(warned.message).toContain('The encoder no longer fits: The cases of this project hold only images, but the "builtin" encoder reads the narrative');
    expect(await projectRow(projectId)).toMatchObject({ caseContent: "narrative" });
    expect(await auditOf(projectId, "project.update")).toHaveLength(0);
    // Confirmed: saved, and the audit event keeps the warning that was accepted.
    await updateProject(ctxOf(scientist), { ...change, acknowledgeContentMismatch: true });
    expect(await projectRow(projectId)).toMatchObject({ caseContent: "images" });
    const [event] = await auditOf(projectId, "project.update");
    expect((event!.details as { acceptedWarning: string }).acceptedWarning).toContain("7 cases of 7 hold only a narrative");
    // "Narrative and images" fits every case and the text encoder: no question asked.
    await updateProject(ctxOf(scientist), { ...change, caseContent: "both" });
    expect(await projectRow(projectId)).toMatchObject({ caseContent: "both" });
  });

  it("a clinician member may see but not configure", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const clinician = await createTestUser("CLINICIAN");
    const created = await createProject(ctxOf(scientist), config());
    await testDb().projectMember.create({ data: { projectId: created.project.id, userId: clinician.id, role: "CLINICIAN" } });
    const view = await getProjectAdmin(ctxOf(clinician), { projectId: created.project.id });
    expect(view.role).toBe("CLINICIAN");
    expect(view.permissions).toContain("annotate");
    expect(view.permissions).not.toContain("project.configure");
    expect(await refusal(updateProject(ctxOf(clinician), { projectId: created.project.id, name: "x", description: "", caseContent: "both" }))).toMatchObject({ kind: "FORBIDDEN" });
  });

  it("archives (read-only, nothing deleted) and unarchives, each audited with before/after", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const created = await createProject(ctxOf(scientist), config());
    const id = created.project.id;
    await testDb().case.create({ data: { projectId: id, externalId: "c1", narrative: "Headache." } });
    const archived = await setProjectArchived(ctxOf(scientist), { projectId: id, archived: true });
    expect(archived.archivedAt).not.toBeNull();
    expect((await getProjectAdmin(ctxOf(scientist), { projectId: id })).archived).toBe(true);
    expect(await refusal(updateProject(ctxOf(scientist), { projectId: id, name: "Changed while archived", description: "", caseContent: "both" }))).toMatchObject({ kind: "CONFLICT" });
    expect(await refusal(updateLabelSchema(ctxOf(scientist), { projectId: id, labelSchema: config().labelSchema, minorityClasses: ["neuro"], rho: 0.4 }))).toMatchObject({ kind: "CONFLICT" });
    expect(await testDb().case.count({ where: { projectId: id } })).toBe(1);
    await setProjectArchived(ctxOf(scientist), { projectId: id, archived: false });
    expect((await projectRow(id)).archivedAt).toBeNull();
    const [archive] = await auditOf(id, "project.archive");
    const [unarchive] = await auditOf(id, "project.unarchive");
    expect(archive!.details).toEqual({ before: { archivedAt: null }, after: { archivedAt: archived.archivedAt } });
    expect(unarchive!.details).toEqual({ before: { archivedAt: archived.archivedAt }, after: { archivedAt: null } });
    await updateProject(ctxOf(scientist), { projectId: id, name: created.project.name, description: "editable again", caseContent: "both" });
  });
});

describe("the label schema", () => {
  async function projectWithAnnotations() {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const doc1 = await createTestUser("CLINICIAN");
    const doc2 = await createTestUser("CLINICIAN");
    const created = await createProject(ctxOf(scientist), config());
    const projectId = created.project.id;
    const c1 = await testDb().case.create({ data: { projectId, externalId: "c1", narrative: "Knee pain.", importedLabel: "ortho" } });
    const c2 = await testDb().case.create({ data: { projectId, externalId: "c2", narrative: "Seizure." } });
    const t0 = new Date(Date.now() - 60_000);
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    // c1: doc1 said ortho then other (v2 is current); doc2 said ortho later (the case's current annotation).
    await testDb().annotation.createMany({
      data: [
        { caseId: c1.id, authorId: doc1.id, version: 1, labels: ["ortho"], spans: [{ start: 0, end: 4, label: "ortho", text: "Knee" }], createdAt: at(1) },
        { caseId: c1.id, authorId: doc1.id, version: 2, labels: ["other"], createdAt: at(2) },
        { caseId: c1.id, authorId: doc2.id, version: 1, labels: ["ortho"], comment: "clear", createdAt: at(3) },
        { caseId: c2.id, authorId: doc1.id, version: 1, labels: ["neuro"], createdAt: at(4) },
      ],
    });
    return { scientist, doc1, doc2, projectId, c1: c1.id, c2: c2.id };
  }

  const withoutOrtho = () => config().labelSchema.labels.filter((l) => l.key !== "ortho");

  it("renames a class keeping its key, and changes minority classes and ρ, audited with before/after", async () => {
    const { scientist, projectId } = await projectWithAnnotations();
    const labels = config().labelSchema.labels.map((l) => (l.key === "ortho" ? { ...l, name: "Orthopaedics", guideline: "Bones and joints." } : l));
    await updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels, multiLabel: true }, minorityClasses: ["neuro", "ortho"], rho: { neuro: 0.3, ortho: 0.2 } });
    const view = await getProjectAdmin(ctxOf(scientist), { projectId });
    expect(view.config.labelSchema.labels.find((l) => l.key === "ortho")).toMatchObject({ name: "Orthopaedics", guideline: "Bones and joints." });
    expect(view.config.labelSchema.multiLabel).toBe(true);
    expect(view.config.minorityClasses).toEqual(["neuro", "ortho"]);
    expect(view.config.selectionParams.rho).toEqual({ neuro: 0.3, ortho: 0.2 });
    // The rest of the selection parameters are untouched.
    expect(view.config.selectionParams).toMatchObject({ strategy: "rads", budget: 10 });
    const [event] = await auditOf(projectId, "project.labels");
    const details = event!.details as { before: { rho: unknown; minorityClasses: string[] }; after: { rho: unknown; labelSchema: { labels: { name: string }[] } } };
    expect(details.before).toMatchObject({ rho: 0.5, minorityClasses: ["neuro"] });
    expect(details.after.rho).toEqual({ neuro: 0.3, ortho: 0.2 });
    expect(details.after.labelSchema.labels.map((l) => l.name)).toContain("Orthopaedics");
    // No annotation was touched by a rename.
    expect(await testDb().annotation.count({ where: { case: { projectId } } })).toBe(4);
  });

  it("keeps the stored ρ when the edit gives none, and checks it against the new minority classes", async () => {
    const { scientist, projectId } = await projectWithAnnotations();
    const labels = config().labelSchema.labels;
    await updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels, multiLabel: false }, minorityClasses: ["neuro", "ortho"], rho: { neuro: 0.2, ortho: 0.1 } });
    await updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels: labels.map((l) => ({ ...l, name: `${l.name}!` })), multiLabel: false }, minorityClasses: ["neuro", "ortho"] });
    expect((await getProjectAdmin(ctxOf(scientist), { projectId })).config.selectionParams.rho).toEqual({ neuro: 0.2, ortho: 0.1 });
    // Dropping "ortho" from the minority classes leaves the stored ρ naming it: refused on that share.
    const error = await refusal(updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels, multiLabel: false }, minorityClasses: ["neuro"] }));
    expect(error).toMatchObject({ kind: "BAD_INPUT", field: "rho.ortho", message: '"ortho" is not a minority class' });
    expect((await projectRow(projectId)).minorityClasses).toEqual(["neuro", "ortho"]);
  });

  it.each([
    ["a label key used twice", (l: ReturnType<typeof withoutOrtho>) => ({ labelSchema: { labels: [...l, { ...l[0]!, shortcut: "9", name: "Copy" }], multiLabel: false } }), "labelSchema.labels.2.key"],
    ["a shortcut used twice", (l: ReturnType<typeof withoutOrtho>) => ({ labelSchema: { labels: [...l, { key: "new", name: "New", color: "#123456", shortcut: "1" }], multiLabel: false } }), "labelSchema.labels.2.shortcut"],
    ["ρ above 1", () => ({ rho: 1.5 }), "rho"],
    ["per-class ρ summing over 1", () => ({ minorityClasses: ["neuro", "other"], rho: { neuro: 0.6, other: 0.6 } }), "rho"],
    ["ρ for a class that is not minority", () => ({ rho: { other: 0.3 } }), "rho.other"],
    ["a minority class not in the schema", () => ({ minorityClasses: ["ortho"] }), "minorityClasses.0"],
  ])("refuses %s with its field and changes nothing", async (_what, change, field) => {
    const { scientist, projectId } = await projectWithAnnotations();
    const before = await projectRow(projectId);
    const labels = withoutOrtho();
    const input = { projectId, labelSchema: { labels, multiLabel: false }, minorityClasses: ["neuro"], rho: 0.4 as number | Record<string, number>, mapping: { ortho: "other" }, ...change(labels) };
    const error = await refusal(updateLabelSchema(ctxOf(scientist), input));
    expect(error.kind).toBe("BAD_INPUT");
    expect(error.field).toBe(field);
    const after = await projectRow(projectId);
    expect(after.labelSchema).toEqual(before.labelSchema);
    expect(after.selectionParams).toEqual(before.selectionParams);
    expect(await testDb().annotation.count({ where: { case: { projectId } } })).toBe(4);
    expect(await auditOf(projectId, "project.labels")).toHaveLength(0);
  });

  it("refuses to remove a class that annotations use unless it is mapped, naming how often it is used", async () => {
    const { scientist, projectId } = await projectWithAnnotations();
    const usage = await getLabelUsage(ctxOf(scientist), { projectId });
    expect(usage.find((u) => u.key === "ortho")).toEqual({ key: "ortho", annotations: 2, importedLabels: 1 });
    const error = await refusal(updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels: withoutOrtho(), multiLabel: false }, minorityClasses: ["neuro"], rho: 0.5 }));
    expect(error).toMatchObject({ kind: "BAD_INPUT", field: "mapping.ortho" });
    expect(error.message).toBe('The class "ortho" is used by 2 annotations and 1 imported label: choose the class they move to, or keep it.');
    expect((await getProjectAdmin(ctxOf(scientist), { projectId })).config.labelSchema.labels.map((l) => l.key)).toEqual(["neuro", "ortho", "other"]);
    // A class nobody uses can go without a mapping.
    const unused = config().labelSchema.labels.concat({ key: "spare", name: "Spare", color: "#00ff00" });
    await updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels: unused, multiLabel: false }, minorityClasses: ["neuro"], rho: 0.5 });
    await updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels: config().labelSchema.labels, multiLabel: false }, minorityClasses: ["neuro"], rho: 0.5 });
  });

  it("maps a removed class: new versions for the current annotations, history kept, imported labels moved, all audited", async () => {
    const { scientist, doc1, doc2, projectId, c1, c2 } = await projectWithAnnotations();
    const result = await updateLabelSchema(ctxOf(scientist), { projectId, labelSchema: { labels: withoutOrtho(), multiLabel: false }, minorityClasses: ["neuro"], rho: 0.5, mapping: { ortho: "other" } });
    expect(result.remapped).toEqual({ annotationVersions: 1, importedLabels: 1, drafts: 0 });
    const c1Rows = await testDb().annotation.findMany({ where: { caseId: c1 }, orderBy: [{ createdAt: "desc" }, { version: "desc" }] });
    // doc2's current annotation (the case's latest) got version 2 with the kept class, and is still the case's latest.
    expect(c1Rows[0]).toMatchObject({ authorId: doc2.id, version: 2, labels: ["other"], comment: "clear" });
    // History: doc2's v1 and doc1's v1 still say ortho; doc1's current (v2, "other") needed no new version.
    expect(c1Rows.filter((r) => r.labels.includes("ortho")).map((r) => [r.authorId, r.version]).sort()).toEqual([[doc1.id, 1], [doc2.id, 1]].sort());
    expect(await testDb().annotation.count({ where: { caseId: c1, authorId: doc1.id } })).toBe(2);
    expect(await testDb().annotation.count({ where: { caseId: c2 } })).toBe(1);
    expect((await testDb().case.findUniqueOrThrow({ where: { id: c1 } })).importedLabel).toBe("other");
    const [event] = await auditOf(projectId, "project.labels");
    expect(event!.details).toMatchObject({ mapping: { ortho: "other" }, remapped: { annotationVersions: 1, drafts: 0, importedLabels: [{ caseId: c1, from: "ortho" }] } });
    expect((await getLabelUsage(ctxOf(scientist), { projectId })).find((u) => u.key === "ortho")).toEqual({ key: "ortho", annotations: 2, importedLabels: 0 });
  });
});

describe("npm run project (CLI)", () => {
  it("without DATABASE_URL, on the embedded database it finds, export reads the server settings too (it said \"DATABASE_URL is not set\")", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-cli-embedded-"));
    fs.chmodSync(dataDir, 0o755); // the postgres user must reach the data folder when tests run as root
    const port = await freePort();
    const { DATABASE_URL: _url, ...rest } = process.env;
    const cli = (...args: string[]) => run(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/project.ts", ...args], { cwd: root, env: { ...rest, LOG_LEVEL: "warn", DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) } });
    try {
      const file = path.join(dataDir, "config.json");
      fs.writeFileSync(file, JSON.stringify({ name: "CLI on its own database", caseContent: "narrative", labelSchema: { labels: [{ key: "eye", name: "Eye", color: "#1f77b4" }, { key: "other", name: "Other", color: "#ff7f0e" }] }, minorityClasses: ["eye"], selectionParams: { budget: 10 } }));
      const made = await cli("create", "--config", file);
      expect(made.stdout).toMatch(/created project "CLI on its own database"/);
      const exported = await cli("export", "CLI on its own database");
      expect(JSON.parse(exported.stdout)).toMatchObject({ name: "CLI on its own database", minorityClasses: ["eye"], selectionParams: { budget: 10 } });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it("export → create → export gives the same configuration (but the name)", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const created = await createProject(ctxOf(scientist), config({ encoderConfig: { kind: "builtin", dim: 128 }, settings: { annotationsPerCase: 2, fourEyes: true } }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-project-cli-"));
    const cli = (...args: string[]) => run(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/project.ts", ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: "warn" } });
    try {
      const exported = await cli("export", created.project.id, "--as", scientist.email);
      const first = JSON.parse(exported.stdout);
      expect(first).toEqual(await exportProjectConfig(ctxOf(scientist), { projectId: created.project.id }));
      const file = path.join(dir, "config.json");
      fs.writeFileSync(file, exported.stdout);
      const copyName = `Copy ${unique()}`;
      const made = await cli("create", "--config", file, "--name", copyName, "--as", scientist.email);
      const id = /\(([^)]+)\)\s*$/.exec(made.stdout)?.[1];
      expect(id).toBeTruthy();
      // Audited as the CLI's user, marked as a command-line action.
      const [madeEvent] = await auditOf(id!, "project.create");
      expect(madeEvent).toMatchObject({ actorId: scientist.id, details: expect.objectContaining({ via: "cli" }) });
      // Without --as: no user, and the audit log says "command line", not "system (worker)".
      const systemName = `System copy ${unique()}`;
      const systemId = /\(([^)]+)\)\s*$/.exec((await cli("create", "--config", file, "--name", systemName)).stdout)?.[1];
      const admin = await createTestUser("ADMIN");
      const listed0 = await listAudit(ctxOf(admin), { limit: 5, targetId: systemId!, action: "project.create" });
      expect(listed0.events.map((e) => e.actorLabel)).toEqual(["command line (no --as user)"]);
      const second = JSON.parse((await cli("export", copyName, "--as", scientist.email)).stdout);
      expect({ ...second, name: first.name }).toEqual(first);
      expect(second.name).toBe(copyName);
      const listed = await cli("list", "--as", scientist.email);
      expect(listed.stdout).toContain(copyName);
      // The same file again: the name is taken, one line naming the field, exit code 1.
      const again = await cli("create", "--config", file, "--name", copyName.toLowerCase()).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(again?.code).toBe(1);
      expect(again?.stderr).toMatch(/config\.json: name: A project named .* already exists/);
      // A file with several problems: every one on its own line (field path: message), nothing created, exit code 1.
      const bad = path.join(dir, "bad.json");
      const badName = `Bad ${unique()}`;
      fs.writeFileSync(bad, JSON.stringify({ ...first, name: badName, settings: { ...first.settings, leaseMinutes: "abc" }, selectionParams: { ...first.selectionParams, lambda: -1, budget: 1.5 } }));
      const refused = await cli("create", "--config", bad).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(refused?.code).toBe(1);
      const lines = refused!.stderr.split("\n").filter((l) => l.startsWith(`${bad}: `));
      expect(lines.sort()).toEqual(
        [
          `${bad}: selectionParams.budget: B must be a whole number between 1 and 10,000`,
          `${bad}: selectionParams.lambda: λ must be a number between 0 and 10`,
          `${bad}: settings.leaseMinutes: Lease minutes must be a whole number between 1 and 1,440`,
        ].sort(),
      );
      expect(await testDb().project.count({ where: { name: badName } })).toBe(0);
      // An encoder outside the models folder, from the command line too.
      fs.writeFileSync(bad, JSON.stringify({ ...first, name: badName, caseContent: "images", encoderConfig: { kind: "onnx-image", path: "../../etc/passwd" } }));
      const outside = await run(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/project.ts", "create", "--config", bad], { cwd: root, env: { ...process.env, LOG_LEVEL: "warn", MODELS_DIR: "../shared/models" } }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(outside?.code).toBe(1);
      expect(outside?.stderr).toContain(`${bad}: encoderConfig.path: "../../etc/passwd" is outside the models folder (MODELS_DIR).`);
      expect(await testDb().project.count({ where: { name: badName } })).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
