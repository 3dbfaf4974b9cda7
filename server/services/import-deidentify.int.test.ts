/**
 * De-identification on import (issue 12, fault 6), against the real database: every DICOM file of
 * ../shared/data/dicom that the importer accepts, plus a file written here with known fake
 * identifiers, is imported; the bytes the image route serves (readImageForMember) hold none of the
 * identifying values, no private element, the same Pixel Data bytes as the original, UIDs
 * replaced consistently within the project; burned-in review flags are stored. Narratives with
 * likely identifiers are held back until the data scientist chooses mask or keep (audited).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type dicomParser from "dicom-parser";
import { parseDicomFile } from "@/models/dicom/decode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDicom, DicomRejection } from "../import/dicom";
import { deidentifyDicom, replacementUid } from "../import/deidentify-dicom";
import { createLocalBlobStore } from "../storage/blob-store";
import { FAKE_IDENTIFIERS, FAKE_UIDS, fakeIdentifiedDicom } from "../testing/fake-dicom";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "./context";
import { createServiceContext } from "./context";
import { getCaseDetail } from "./case-browser-service";
import { readImageForMember } from "./image-service";
import { importCases } from "./import-service";

const DICOM_DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");

let storageDir: string;
let scientist: Actor;
const blobs = () => createLocalBlobStore(storageDir);

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-deid-"));
  scientist = await createTestUser("DATA_SCIENTIST");
});
afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await testDb().$disconnect();
});

async function createProject(settings: Record<string, unknown> = {}) {
  const project = await testDb().project.create({
    data: {
      name: `deid-test-${Math.random().toString(36).slice(2, 10)}`,
      labelSchema: { labels: [], multiLabel: false },
      minorityClasses: [],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: { allowPatientIdentifiers: false, ...settings },
      members: { create: [{ userId: scientist.id }] },
    },
    select: { id: true, deidSecret: true },
  });
  return project;
}

/** Parsed as the viewer parses (a file without preamble gets a Part-10 layout). */
const parse = (bytes: Uint8Array) => parseDicomFile(bytes, (deflated) => zlib.inflateRawSync(deflated));
/** The pixel element: Pixel Data, or Float / Double Float Pixel Data. */
const pixelElement = (ds: dicomParser.DataSet) => (ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009)!;

function pixelSha(ds: dicomParser.DataSet): string {
  const px = pixelElement(ds);
  const hash = crypto.createHash("sha256");
  if (px.encapsulatedPixelData) for (const f of px.fragments!) hash.update(ds.byteArray.subarray(f.position, f.position + f.length));
  else hash.update(ds.byteArray.subarray(px.dataOffset, px.dataOffset + px.length));
  return hash.digest("hex");
}

const IDENTIFYING_TAGS = ["x00100010", "x00100020", "x00100030", "x00080050", "x00080080", "x00080081", "x00080090", "x00181000", "x00081010", "x00081070", "x00101000"];

function hasPrivate(ds: dicomParser.DataSet, from: number): boolean {
  return Object.entries(ds.elements).some(([tag, el]) => (parseInt(tag.slice(1, 5), 16) % 2 === 1 && el.dataOffset >= from) || (el.items ?? []).some((i) => i.dataSet && hasPrivate(i.dataSet, 0)));
}

describe("DICOM de-identification on import", () => {
  it("serves no identifier, no private element and the same pixels, for every accepted file and a file with fake identifiers", async () => {
    const project = await createProject();
    const accepted: { name: string; bytes: Uint8Array }[] = [];
    for (const name of fs.readdirSync(DICOM_DIR).filter((f) => f.endsWith(".dcm")).sort()) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(DICOM_DIR, name)));
      try {
        checkDicom(bytes);
        accepted.push({ name, bytes });
      } catch (error) {
        if (!(error instanceof DicomRejection)) throw error;
      }
    }
    expect(accepted.length).toBeGreaterThan(40);
    const fake = [
      { name: "fake-1.dcm", bytes: fakeIdentifiedDicom({ instanceUid: "1.2.826.0.1.3680043.8.498.9001" }) },
      { name: "fake-2.dcm", bytes: fakeIdentifiedDicom({ instanceUid: "1.2.826.0.1.3680043.8.498.9002" }) },
    ];
    const files = [...accepted, ...fake];
    const result = await importCases(createServiceContext(testDb(), scientist), { projectId: project.id, files, mapping: {}, via: "upload" }, { blobs: blobs() });
    expect(result.status).toBe("imported");

    const images = await testDb().caseImage.findMany({ where: { case: { projectId: project.id } }, select: { id: true, sha256: true, attributes: true, case: { select: { externalId: true } } } });
    const bySha = new Map<string, { bytes: Uint8Array; ds: dicomParser.DataSet }>();
    for (const image of images) {
      const got = await readImageForMember(testDb(), scientist, image.id, blobs());
      expect(got).not.toBeNull();
      const bytes = new Uint8Array(got!.bytes);
      bySha.set(crypto.createHash("sha256").update(bytes).digest("hex"), { bytes, ds: parse(bytes) });
      expect((image.attributes as Record<string, unknown>).deidentified).toBe(true);
    }
    const servedSet = [...bySha.values()];

    for (const f of files) {
      const before = parse(f.bytes);
      // De-identification is deterministic per project: the served file of this upload is found by its hash.
      const expected = crypto.createHash("sha256").update(deidentifyDicom(f.bytes, { secret: project.deidSecret }).bytes).digest("hex");
      const after = bySha.get(expected);
      expect(after, f.name).toBeDefined();
      const sop = before.string("x00080018")?.replace(/\0/g, "").trim();
      if (sop) expect(after!.ds.string("x00080018")).toBe(replacementUid(project.deidSecret, sop));
      const header = Buffer.from(after!.bytes).subarray(0, pixelElement(after!.ds).dataOffset);
      const kept = `${before.string("x00080070") ?? ""} ${before.string("x00081090") ?? ""}`;
      for (const tag of IDENTIFYING_TAGS) {
        const value = (before.string(tag) ?? "").trim();
        // Short numbers ("204", "00000") occur inside replaced UIDs by chance: searched from 6 digits; the element itself is checked below.
        if ((/[A-Za-z]/.test(value) ? value.length >= 3 : value.length >= 6) && !/^(0+|ANONYMOUS|REMOVED|UNKNOWN)$/i.test(value) && !kept.includes(value)) expect(header.includes(Buffer.from(value, "latin1")), `${f.name} ${tag}`).toBe(false);
        expect((after!.ds.string(tag) ?? "").trim(), `${f.name} ${tag}`).toBe("");
      }
      expect(hasPrivate(after!.ds, 144 + after!.ds.uint32("x00020000")!), f.name).toBe(false);
      expect(after!.ds.string("x00120062")).toBe("YES");
      expect(pixelSha(after!.ds), f.name).toBe(pixelSha(before));
    }

    // The written file: every fake value gone from the served bytes, both instances in one case under the replaced study UID.
    const fakeServed = servedSet.filter((s) => s.ds.string("x0020000d") === replacementUid(project.deidSecret, FAKE_UIDS.study));
    expect(fakeServed).toHaveLength(2);
    for (const s of fakeServed) {
      const text = Buffer.from(s.bytes).toString("latin1");
      for (const [what, value] of Object.entries(FAKE_IDENTIFIERS)) expect(text.includes(value), what).toBe(false);
      expect(s.ds.string("x0020000e")).toBe(replacementUid(project.deidSecret, FAKE_UIDS.series));
    }
    const fakeCase = images.filter((i) => i.case.externalId === replacementUid(project.deidSecret, FAKE_UIDS.study));
    expect(fakeCase).toHaveLength(2);
    // US: flagged for burned-in text review, shown in the case view.
    for (const image of fakeCase) expect((image.attributes as Record<string, unknown>).burnedInReview).toBe("ultrasound");
    const fakeCaseRow = await testDb().case.findFirstOrThrow({ where: { projectId: project.id, externalId: replacementUid(project.deidSecret, FAKE_UIDS.study) }, select: { id: true } });
    const detail = await getCaseDetail(createServiceContext(testDb(), scientist), { projectId: project.id, caseId: fakeCaseRow.id });
    expect(detail.case.burnedInReview).toEqual(["ultrasound"]);
    // No case is named by an original StudyInstanceUID.
    const originals = new Set(files.map((f) => parse(f.bytes).string("x0020000d")?.replace(/\0/g, "").trim()).filter(Boolean));
    for (const image of images) expect(originals.has(image.case.externalId)).toBe(false);

    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { projectId: project.id, action: "import.batch" }, select: { details: true } });
    expect(audit.details).toMatchObject({ dicomDeidentified: files.length, burnedInReview: expect.any(Number) });
  });

  it("stores the file as uploaded when the project keeps identifiers", async () => {
    const project = await createProject({ allowPatientIdentifiers: true });
    const bytes = fakeIdentifiedDicom();
    const result = await importCases(createServiceContext(testDb(), scientist), { projectId: project.id, files: [{ name: "fake.dcm", bytes }], mapping: {}, via: "upload" }, { blobs: blobs() });
    expect(result.status).toBe("imported");
    const image = await testDb().caseImage.findFirstOrThrow({ where: { case: { projectId: project.id } }, select: { id: true } });
    const got = await readImageForMember(testDb(), scientist, image.id, blobs());
    expect(Buffer.from(got!.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it("keeps date intervals per patient when the project asks for it", async () => {
    const project = await createProject({ keepDateIntervals: true });
    const files = [
      { name: "a.dcm", bytes: fakeIdentifiedDicom({ instanceUid: "1.2.3.1", studyDate: "20240301" }) },
      { name: "b.dcm", bytes: fakeIdentifiedDicom({ instanceUid: "1.2.3.2", studyDate: "20240311" }) },
    ];
    const result = await importCases(createServiceContext(testDb(), scientist), { projectId: project.id, files, mapping: {}, via: "upload" }, { blobs: blobs() });
    expect(result.status).toBe("imported");
    const images = await testDb().caseImage.findMany({ where: { case: { projectId: project.id } }, select: { attributes: true } });
    const dates = images.map((i) => (i.attributes as { studyDate: string }).studyDate).sort();
    expect(dates).toHaveLength(2);
    expect((Date.parse(dates[1]!) - Date.parse(dates[0]!)) / 86_400_000).toBe(10);
    expect(dates).not.toContain("2024-03-01");
  });
});

describe("narratives with likely identifiers", () => {
  const csv = (rows: string[]) => ({ name: "notes.csv", bytes: new TextEncoder().encode(["id,text", ...rows].join("\n")) });
  const notes = csv([`n1,"Seen by Dr. Maria Rossi, call (617) 555-0182."`, `n2,"Chest pain, no identifiers."`, `n3,"DOB: 04/17/1962, MRN 00482913."`]);

  it("imports nothing until the data scientist chooses, naming file, line and kinds but never the values", async () => {
    const project = await createProject();
    const result = await importCases(createServiceContext(testDb(), scientist), { projectId: project.id, files: [notes], mapping: {}, via: "upload" }, { blobs: blobs() });
    expect(result.status).toBe("rejected");
    if (result.status !== "rejected") return;
    expect(result.identifiers?.totals).toEqual({ rows: 2, byKind: { name: 1, phone: 1, dob: 1, mrn: 1 } });
    expect(result.identifiers?.rows.map((r) => [r.file, r.line])).toEqual([["notes.csv", 2], ["notes.csv", 4]]);
    const shown = JSON.stringify(result);
    for (const value of ["Maria Rossi", "555-0182", "04/17/1962", "00482913"]) expect(shown).not.toContain(value);
    expect(await testDb().case.count({ where: { projectId: project.id } })).toBe(0);
  });

  it("imports the rows masked, or as written with the choice and counts in the audit", async () => {
    const masked = await createProject();
    const r1 = await importCases(createServiceContext(testDb(), scientist), { projectId: masked.id, files: [notes], mapping: { narrativeIdentifiers: "mask" }, via: "upload" }, { blobs: blobs() });
    expect(r1.status).toBe("imported");
    const texts = (await testDb().case.findMany({ where: { projectId: masked.id }, select: { externalId: true, narrative: true }, orderBy: { externalId: "asc" } })).map((c) => c.narrative);
    expect(texts).toEqual(["Seen by Dr. [NAME], call [PHONE].", "Chest pain, no identifiers.", "DOB: [DOB], MRN [ID]."]);

    const kept = await createProject();
    const r2 = await importCases(createServiceContext(testDb(), scientist), { projectId: kept.id, files: [notes], mapping: { narrativeIdentifiers: "keep" }, via: "upload" }, { blobs: blobs() });
    expect(r2.status).toBe("imported");
    const narrative = await testDb().case.findFirstOrThrow({ where: { projectId: kept.id, externalId: "n1" }, select: { narrative: true } });
    expect(narrative.narrative).toContain("Maria Rossi");
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { projectId: kept.id, action: "import.batch" }, select: { details: true } });
    expect(audit.details).toMatchObject({ narrativeIdentifiers: { choice: "keep", rows: 2, byKind: { name: 1, phone: 1, dob: 1, mrn: 1 } } });
  });

  it("imports as written in a project that keeps patient identifiers (its audited opt-out), counted in the audit", async () => {
    const project = await createProject({ allowPatientIdentifiers: true });
    const result = await importCases(createServiceContext(testDb(), scientist), { projectId: project.id, files: [notes], mapping: {}, via: "upload" }, { blobs: blobs() });
    expect(result.status).toBe("imported");
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { projectId: project.id, action: "import.batch" }, select: { details: true } });
    expect(audit.details).toMatchObject({ narrativeIdentifiers: { choice: "project-allows-identifiers", rows: 2 } });
  });
});
