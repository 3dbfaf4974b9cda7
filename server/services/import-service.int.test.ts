/**
 * The import service against the real database, with real files from ../shared:
 * mtsamples.csv (narratives), the DICOM test set (its manifest says which files are malformed)
 * and the COVID chest X-rays with their labels.csv (a manifest). Zips are built here with fflate.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import dicomParser from "dicom-parser";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDicomFile } from "@/models/dicom/decode";
import { parseCsv } from "@/scripts/lib/csv";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "./context";
import { createServiceContext } from "./context";
import { importCases, listImportBatches, type ImportResult } from "./import-service";
import { replacementUid } from "../import/deidentify-dicom";

const SHARED = path.resolve(import.meta.dirname, "../../../shared/data");
const MTSAMPLES = path.join(SHARED, "text/mtsamples/mtsamples.csv");
const DICOM_DIR = path.join(SHARED, "dicom");
const XRAY_DIR = path.join(SHARED, "images/covid_chestxray");

let storageDir: string;
let scientist: Actor;
const blobs = () => createLocalBlobStore(storageDir);

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-import-"));
  scientist = await createTestUser("DATA_SCIENTIST");
});
afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await testDb().$disconnect();
});

async function createProject(members: Actor[], opts: { labels?: string[]; allowPatientIdentifiers?: boolean } = {}) {
  const project = await testDb().project.create({
    data: {
      name: `import-test-${Math.random().toString(36).slice(2, 10)}`,
      labelSchema: { labels: (opts.labels ?? []).map((key) => ({ key, name: key })), multiLabel: false },
      minorityClasses: [],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: { allowPatientIdentifiers: opts.allowPatientIdentifiers ?? false },
      members: { create: members.map((m) => ({ userId: m.id })) },
    },
  });
  return project.id;
}

const file = (name: string, text: string) => ({ name, bytes: new TextEncoder().encode(text) });
const readFile = (full: string, name = path.basename(full)) => ({ name, bytes: new Uint8Array(fs.readFileSync(full)) });

function run(projectId: string, files: { name: string; bytes: Uint8Array }[], mapping = {}, actor: Actor = scientist): Promise<ImportResult> {
  return importCases(createServiceContext(testDb(), actor), { projectId, files, mapping, via: "upload" }, { blobs: blobs() });
}

const caseCount = (projectId: string) => testDb().case.count({ where: { projectId } });

/** The first `n` records of mtsamples.csv whose transcription is not empty, as the original bytes. */
function mtsamplesSlice(n: number): { text: string; ids: string[]; labels: string[] } {
  const raw = fs.readFileSync(MTSAMPLES, "utf8");
  const table = parseCsv(raw, { file: MTSAMPLES });
  const lines = raw.split("\n");
  const col = (name: string) => table.header.indexOf(name);
  const out: string[] = [lines.slice(0, table.rowLines[0]! - 1).join("\n")];
  const ids: string[] = [];
  const labels: string[] = [];
  for (let r = 0; r < table.rows.length && ids.length < n; r++) {
    const row = table.rows[r]!;
    if (row[col("transcription")]!.trim() === "") continue;
    const end = r + 1 < table.rows.length ? table.rowLines[r + 1]! - 1 : lines.length;
    out.push(lines.slice(table.rowLines[r]! - 1, end).join("\n"));
    ids.push(row[col("note_id")]!);
    labels.push(row[col("medical_specialty")]!.trim());
  }
  return { text: out.join("\n") + "\n", ids, labels };
}

// mtsamples names a few clinicians ("Dr. Trask"): imported as written, the identifier scan's choice made explicit.
const MT_MAPPING = { labelCol: "medical_specialty", narrativeIdentifiers: "keep" as const };

describe("narrative import", () => {
  it("imports real mtsamples rows with labels and metadata, audits counts only, and lists the batch", async () => {
    const slice = mtsamplesSlice(150);
    const projectId = await createProject([scientist], { labels: [...new Set(slice.labels)] });
    const result = await run(projectId, [file("mtsamples-150.csv", slice.text)], MT_MAPPING);
    expect(result.status).toBe("imported");
    if (result.status !== "imported") return;
    expect(result.counts).toMatchObject({ cases: 150, narratives: 150, images: 0, bySplit: { POOL: 150, TEST: 0, SEED: 0 } });
    const cases = await testDb().case.findMany({ where: { projectId }, orderBy: { externalId: "asc" } });
    expect(cases.map((c) => c.externalId).sort()).toEqual([...slice.ids].sort());
    const first = cases.find((c) => c.externalId === slice.ids[0])!;
    expect(first.importedLabel).toBe(slice.labels[0]);
    expect(first.narrative!.length).toBeGreaterThan(100);
    expect(Object.keys(first.metadata as object).sort()).toEqual(["description", "keywords", "sample_name"].filter((k) => (first.metadata as Record<string, unknown>)[k] !== undefined).sort());
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "import.batch", targetId: result.batchId } });
    expect(audit.actorId).toBe(scientist.id);
    expect(audit.details).toMatchObject({ cases: 150, narratives: 150, images: 0 });
    // Counts only: no narrative text, label or id leaks into the audit trail.
    const details = JSON.stringify(audit.details);
    expect(details).not.toContain(first.narrative!.slice(0, 40));
    expect(Object.keys(audit.details as object).sort()).toEqual(["bySplit", "bytes", "cases", "files", "images", "narrativeIdentifiers", "narratives", "via"]);
    const batches = await listImportBatches(createServiceContext(testDb(), scientist), { projectId });
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ id: result.batchId, caseCount: 150, casesNow: 150, createdBy: scientist.name });
  });

  it("re-importing the same file reports 'already imported'; a file with existing ids changes nothing and names them", async () => {
    const slice = mtsamplesSlice(20);
    const projectId = await createProject([scientist], { labels: [...new Set(slice.labels)] });
    const first = await run(projectId, [file("a.csv", slice.text)], MT_MAPPING);
    expect(first.status).toBe("imported");
    const again = await run(projectId, [file("renamed.csv", slice.text)], MT_MAPPING);
    expect(again).toMatchObject({ status: "already-imported", caseCount: 20 });
    if (first.status === "imported") expect(again.status === "already-imported" && again.batchId).toBe(first.batchId);
    expect(await caseCount(projectId)).toBe(20);

    const overlapping = `note_id,transcription\n${slice.ids[3]},"A changed text, which must not overwrite the stored one."\nnew-case-1,A new case.\n`;
    const result = await run(projectId, [file("overlap.csv", overlapping)]);
    expect(result.status).toBe("rejected");
    if (result.status !== "rejected") return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.message).toContain(`"${slice.ids[3]}"`);
    expect(result.issues[0]!.message).toMatch(/already exist/);
    expect(await caseCount(projectId)).toBe(20);
    const stored = await testDb().case.findFirstOrThrow({ where: { projectId, externalId: slice.ids[3] } });
    expect(stored.narrative).not.toContain("A changed text");
    expect(await testDb().case.count({ where: { projectId, externalId: "new-case-1" } })).toBe(0);
  });

  it("rejects the whole of mtsamples.csv: one error per empty transcription, at the lines an independent parser finds", async () => {
    const raw = fs.readFileSync(MTSAMPLES, "utf8");
    const reference = parseCsv(raw, { file: MTSAMPLES });
    const textCol = reference.header.indexOf("transcription");
    const emptyLines = reference.rows.flatMap((row, r) => (row[textCol]!.trim() === "" ? [reference.rowLines[r]!] : []));
    expect(emptyLines).toHaveLength(33);
    const projectId = await createProject([scientist]);
    const result = await run(projectId, [readFile(MTSAMPLES)], MT_MAPPING);
    expect(result.status).toBe("rejected");
    if (result.status !== "rejected") return;
    expect(result.issues.map((i) => i.line)).toEqual(emptyLines);
    expect(result.issues.every((i) => i.file === "mtsamples.csv" && i.field === "transcription" && i.message === "the text is empty")).toBe(true);
    expect(await caseCount(projectId)).toBe(0);
  });

  it("reports every broken row with its line number and imports nothing", async () => {
    const csv = [
      "id,text,label,split", // 1
      'c1,"fine, with a comma",,pool', // 2
      'c2,bro"ken quote,,POOL', // 3
      'c3,"closed" then text,,TEST', // 4
      "c4,,,POOL", // 5  missing text
      "c5,too,many,fields,here", // 6
      "c6,ok text,,HOLDOUT", // 7
      "c1,duplicate id,,SEED", // 8
      '"c7","multi', // 9
      'line text",,seed', // 10
      ",no id,,POOL", // 11
    ].join("\n");
    const projectId = await createProject([scientist]);
    const result = await run(projectId, [file("broken.csv", csv)]);
    expect(result.status).toBe("rejected");
    if (result.status !== "rejected") return;
    expect(result.issues.map((i) => [i.line, i.field ?? null])).toEqual([
      [3, null],
      [4, null],
      [5, "text"],
      [6, null],
      [7, "split"],
      [8, "id"],
      [11, "id"],
    ]);
    expect(result.issues[0]!.message).toMatch(/quote inside unquoted field 2/);
    expect(result.issues[3]!.message).toBe("the row has 5 fields but the header has 4");
    expect(result.issues[4]!.message).toBe('split "HOLDOUT" is not one of POOL, TEST, SEED');
    expect(result.issues[5]!.message).toBe('case id "c1" is already used on line 2');
    expect(await caseCount(projectId)).toBe(0);
  });

  it("reads JSONL with a column mapping and case-insensitive splits", async () => {
    const jsonl = [
      JSON.stringify({ note: "j1", body: "First narrative.", outcome: "yes", part: "test", site: "A" }),
      JSON.stringify({ note: "j2", body: "Second narrative.", outcome: "no", part: "Seed", site: "B" }),
      "",
      JSON.stringify({ note: "j3", body: "Third.", part: "POOL" }),
    ].join("\n");
    const projectId = await createProject([scientist], { labels: ["yes", "no"] });
    const result = await run(projectId, [file("cases.jsonl", jsonl)], { idCol: "note", textCol: "body", labelCol: "outcome", splitCol: "part" });
    expect(result).toMatchObject({ status: "imported", counts: { cases: 3, bySplit: { POOL: 1, TEST: 1, SEED: 1 } } });
    const j2 = await testDb().case.findFirstOrThrow({ where: { projectId, externalId: "j2" } });
    expect(j2).toMatchObject({ split: "SEED", importedLabel: "no", narrative: "Second narrative.", metadata: { site: "B" } });
  });

  it("is refused to clinicians and to data scientists outside the project", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const outsider = await createTestUser("DATA_SCIENTIST");
    const projectId = await createProject([scientist, clinician]);
    const csv = file("x.csv", "id,text\na,b\n");
    await expect(run(projectId, [csv], {}, clinician)).rejects.toMatchObject({ kind: "FORBIDDEN" });
    await expect(run(projectId, [csv], {}, outsider)).rejects.toMatchObject({ kind: "NOT_FOUND" });
    await expect(listImportBatches(createServiceContext(testDb(), outsider), { projectId })).rejects.toMatchObject({ kind: "NOT_FOUND" });
    expect(await caseCount(projectId)).toBe(0);
  });
});

const dicomFiles = fs.readdirSync(DICOM_DIR).filter((f) => f.endsWith(".dcm")).sort();
/** The files the importer refuses (see server/import/dicom.test.ts for the per-file decisions and reasons). */
const REJECTED_DICOM = new Set([
  "JPEG2000-embedded-sequence-delimiter.dcm", "MR_truncated.dcm", "chrJapMultiExplicitIR6.dcm", "emri_small_jpeg_2k_lossless_too_short.dcm",
  "meta_missing_tsyntax.dcm", "no_meta.dcm", "reportsi.dcm",
]);

// The importer's own parse (files without preamble included); node's zlib inflates the deflated file.
const parse = (bytes: Uint8Array) => parseDicomFile(bytes, (deflated) => zlib.inflateRawSync(deflated));
/** The case of a file: its StudyInstanceUID as the project's de-identification replaces it, or the file stem without one. */
function caseIdOf(f: { name: string; bytes: Uint8Array }, secret: string): string {
  const study = parse(f.bytes).string("x0020000d")?.replace(/\0/g, "").trim();
  return study ? replacementUid(secret, study) : f.name.replace(/\.dcm$/, "");
}

describe("DICOM import", () => {
  it("rejects a batch with one truncated file as a whole, naming only that file", async () => {
    const projectId = await createProject([scientist]);
    const files = ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "MR_truncated.dcm"].map((f) => readFile(path.join(DICOM_DIR, f)));
    const result = await run(projectId, files);
    expect(result.status).toBe("rejected");
    if (result.status !== "rejected") return;
    expect(result.issues).toEqual([{ file: "MR_truncated.dcm", message: expect.stringMatching(/truncated/) }]);
    expect(await caseCount(projectId)).toBe(0);
    expect(await testDb().importBatch.count({ where: { projectId } })).toBe(0);
  });

  it("imports every valid file of the set grouped by StudyInstanceUID, with non-identifying attributes only; again → already imported", async () => {
    const projectId = await createProject([scientist]);
    const valid = dicomFiles.filter((f) => !REJECTED_DICOM.has(f)).map((f) => readFile(path.join(DICOM_DIR, f)));
    expect(valid.length).toBe(53);
    const result = await run(projectId, valid);
    expect(result.status).toBe("imported");
    if (result.status !== "imported") return;
    const { deidSecret } = await testDb().project.findUniqueOrThrow({ where: { id: projectId }, select: { deidSecret: true } });
    const studies = new Set(valid.map((f) => caseIdOf(f, deidSecret)));
    expect(result.counts).toMatchObject({ cases: studies.size, dicom: expect.any(Number) });
    const images = await testDb().caseImage.findMany({ where: { case: { projectId } }, include: { case: true } });
    // Identical bytes in one study are stored once per case (CaseImage @@unique([caseId, sha256])).
    expect(images.length).toBe(result.counts.images);
    expect(images.length + result.counts.duplicateImagesSkipped).toBe(53);
    expect(images.filter((image) => "orientation" in (image.attributes as object)).length).toBeGreaterThan(10);
    for (const image of images) {
      expect(studies.has(image.case.externalId)).toBe(true); // a replaced StudyInstanceUID, or the file stem without one
      expect(image.mimeType).toBe("application/dicom");
      const attributes = image.attributes as Record<string, unknown>;
      // De-identified (server/import/deidentify-dicom.ts); US and secondary captures are flagged for burned-in text.
      // Orientation (the viewer's markers) only where the file has Image Orientation (Patient).
      expect(Object.keys(attributes).filter((k) => k !== "burnedInReview" && k !== "orientation").sort()).toEqual(["bodyPart", "columns", "deidentified", "frames", "modality", "rows", "seriesDescription", "studyDate", "transferSyntax"]);
      if ("orientation" in attributes) expect(String(attributes.orientation).split("\\")).toHaveLength(6);
      if (attributes.studyDate !== null) expect(attributes.studyDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(await blobs().exists(image.storageKey)).toBe(true);
    }
    // No identifier of any file appears in what was stored.
    const stored = JSON.stringify(images.map((i) => i.attributes));
    for (const f of valid) {
      const ds = parse(f.bytes);
      for (const tag of ["x00100010", "x00100020", "x00100030"]) {
        const value = ds.string(tag)?.trim();
        if (value && value.length > 2) expect(stored, `${f.name} ${tag}`).not.toContain(value);
      }
    }
    const multi = images.find((i) => (i.attributes as { frames: number }).frames === 30)!;
    expect(multi.frames).toBe(30);

    const again = await run(projectId, [...valid].reverse());
    expect(again.status).toBe("already-imported");
    expect(await testDb().caseImage.count({ where: { case: { projectId } } })).toBe(images.length);
  });

  it("keeps patient identifiers only when the project allows them", async () => {
    const projectId = await createProject([scientist], { allowPatientIdentifiers: true });
    const ct = readFile(path.join(DICOM_DIR, "CT_small.dcm"));
    const result = await run(projectId, [ct]);
    expect(result.status).toBe("imported");
    const image = await testDb().caseImage.findFirstOrThrow({ where: { case: { projectId } } });
    const name = dicomParser.parseDicom(ct.bytes).string("x00100010")!.trim();
    expect((image.attributes as Record<string, unknown>).patientName).toBe(name);
  });

  it("imports a zip of real files built with fflate, and refuses a zip with a path-traversal entry", async () => {
    const projectId = await createProject([scientist]);
    const pick = ["CT_small.dcm", "MR_small_RLE.dcm", "examples_ybr_color.dcm"];
    const entries = Object.fromEntries(pick.map((f) => [`series/${f}`, new Uint8Array(fs.readFileSync(path.join(DICOM_DIR, f)))]));
    const good = zipSync(entries);
    const result = await run(projectId, [{ name: "study.zip", bytes: good }]);
    expect(result).toMatchObject({ status: "imported", counts: { dicom: 3, files: 3 } });

    const otherProject = await createProject([scientist]);
    const evil = zipSync({ "ok/CT_small.dcm": entries["series/CT_small.dcm"]!, "../../etc/evil.dcm": entries["series/MR_small_RLE.dcm"]! });
    const refused = await run(otherProject, [{ name: "evil.zip", bytes: evil }]);
    expect(refused.status).toBe("rejected");
    if (refused.status !== "rejected") return;
    expect(refused.issues).toEqual([{ file: "evil.zip/../../etc/evil.dcm", message: expect.stringMatching(/leaves the archive/) }]);
    expect(await caseCount(otherProject)).toBe(0);
  });
});

describe("PNG/JPEG import", () => {
  const labels = parseCsv(fs.readFileSync(path.join(XRAY_DIR, "labels.csv"), "utf8"));
  const col = (name: string) => labels.header.indexOf(name);
  // 12 files are named .jpg but hold PNG bytes; take a few of those and a few real JPEGs.
  const rows = labels.rows.filter((_, r) => r % 10 === 0);

  it("groups by a manifest (labels.csv), drops identifying columns, and trusts bytes over extensions", async () => {
    const projectId = await createProject([scientist], { labels: ["covid19", "other_pneumonia", "no_finding"] });
    const manifest = [labels.header.join(","), ...rows.map((r) => r.map((v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(","))].join("\n");
    const images = rows.map((r) => readFile(path.join(XRAY_DIR, r[col("file")]!), r[col("file")]!));
    const result = await run(projectId, [file("labels.csv", manifest), ...images]);
    expect(result).toMatchObject({ status: "imported", counts: { cases: rows.length, images: rows.length, raster: rows.length } });
    const cases = await testDb().case.findMany({ where: { projectId }, include: { images: true } });
    for (const r of rows) {
      const stem = path.basename(r[col("file")]!).replace(/\.[^.]+$/, "");
      const c = cases.find((x) => x.externalId === stem)!;
      expect(c.importedLabel).toBe(r[col("label")]);
      expect(c.metadata).not.toHaveProperty("patientid");
      expect(c.metadata).toMatchObject({ finding: r[col("finding")] });
      const bytes = fs.readFileSync(path.join(XRAY_DIR, r[col("file")]!));
      expect(c.images[0]!.mimeType).toBe(bytes[0] === 0x89 ? "image/png" : "image/jpeg");
      expect(c.images[0]!.attributes).toMatchObject({ columns: Number(r[col("width")]), rows: Number(r[col("height")]) });
    }
  });

  it("without a manifest makes one case per image named by its file stem, and rejects a cut-off JPEG", async () => {
    const projectId = await createProject([scientist]);
    const jpg = rows.find((r) => r[col("format")] === "JPEG")!;
    const full = fs.readFileSync(path.join(XRAY_DIR, jpg[col("file")]!));
    const cut = { name: "cut.jpg", bytes: new Uint8Array(full.subarray(0, Math.floor(full.length / 2))) };
    const rejected = await run(projectId, [readFile(path.join(XRAY_DIR, jpg[col("file")]!)), cut]);
    expect(rejected).toMatchObject({ status: "rejected", issues: [{ file: "cut.jpg", message: expect.stringMatching(/truncated/) }] });
    const ok = await run(projectId, [readFile(path.join(XRAY_DIR, jpg[col("file")]!))]);
    expect(ok).toMatchObject({ status: "imported", counts: { cases: 1 } });
    expect((await testDb().case.findFirstOrThrow({ where: { projectId } })).externalId).toBe(path.basename(jpg[col("file")]!).replace(/\.[^.]+$/, ""));
  });
});
