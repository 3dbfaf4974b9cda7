/**
 * Image evidence (issue 11 item 6) against the real database: regions are kept in drafts and
 * versions with the server's SOP Instance UID, exported with frame and coordinates, and refused with
 * a message naming the region when the image, frame, coordinates or label are wrong.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_FREEHAND_POINTS, ZSubmitInput, type ImageRegion } from "@/contracts/annotations";
import { createLocalBlobStore } from "../storage/blob-store";
import { FAKE_UIDS, fakeIdentifiedDicom } from "../testing/fake-dicom";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { getCaseView, saveDraft, submitAnnotation } from "./annotation-service";
import { createServiceContext, type Actor } from "./context";
import { exportLabels } from "./export-service";
import { writeSelectionRound } from "./selection-rounds";

let storage: string;
let clinician: Actor;
let scientist: Actor;
let projectId: string;
let caseId: string;
let otherCaseId: string;
let dicomId: string;
let pngId: string;
let otherImageId: string;

/** The first 24 bytes of a PNG (signature + IHDR) of `width`×`height`: all the size check reads. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write("IHDR", 12, "latin1");
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return bytes;
}

const ctxOf = (actor: Actor) => createServiceContext(testDb(), actor);
const rect = (over: Partial<ImageRegion> = {}): ImageRegion => ({ shape: "rectangle", imageId: dicomId, frame: 2, label: "benign", x: 10.5, y: 4, width: 20, height: 12.25, ...over }) as ImageRegion;

beforeAll(async () => {
  storage = fs.mkdtempSync(path.join(os.tmpdir(), "rads-regions-"));
  process.env.STORAGE_DIR = storage;
  const blobs = createLocalBlobStore(storage);
  clinician = await createTestUser("CLINICIAN");
  scientist = await createTestUser("DATA_SCIENTIST");
  const project = await createTestProject({ memberIds: [clinician.id, scientist.id], cases: 2 });
  projectId = project.projectId;
  [caseId, otherCaseId] = project.caseIds as [string, string];
  const db = testDb();
  // Queued (a PENDING item with a free slot): the clinician may annotate them without a lease.
  await writeSelectionRound(db, { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: project.caseIds.map((id, i) => ({ caseId: id, rank: i + 1, features: {} })) });
  const tag = path.basename(storage);
  await blobs.put(`images/${tag}/a.dcm`, fakeIdentifiedDicom());
  await blobs.put(`images/${tag}/b.png`, pngHeader(10, 8));
  await blobs.put(`images/${tag}/c.dcm`, fakeIdentifiedDicom({ instanceUid: "1.2.3.4" }));
  // 64 columns × 48 rows, 3 frames (the file is the source of the SOP Instance UID only).
  dicomId = (await db.caseImage.create({ data: { caseId, storageKey: `images/${tag}/a.dcm`, mimeType: "application/dicom", sha256: `${tag}-a`, frames: 3, attributes: { rows: 48, columns: 64, modality: "CT" } } })).id;
  pngId = (await db.caseImage.create({ data: { caseId, storageKey: `images/${tag}/b.png`, mimeType: "image/png", sha256: `${tag}-b`, position: 1 } })).id;
  otherImageId = (await db.caseImage.create({ data: { caseId: otherCaseId, storageKey: `images/${tag}/c.dcm`, mimeType: "application/dicom", sha256: `${tag}-c`, attributes: { rows: 48, columns: 64 } } })).id;
});

afterAll(async () => {
  fs.rmSync(storage, { recursive: true, force: true });
  await testDb().$disconnect();
});

describe("image regions", () => {
  it("are kept in the draft and the version with the file's SOP Instance UID, and exported with frame and coordinates", async () => {
    const ellipse: ImageRegion = { shape: "ellipse", imageId: dicomId, frame: 3, label: "suspicious", x: 0, y: 0, width: 64, height: 48, sopInstanceUid: "9.9.9 (client's claim)" };
    const outline: ImageRegion = { shape: "freehand", imageId: pngId, frame: 1, label: "benign", points: [[1, 1], [9, 2], [5, 7.5]] };
    const content = { labels: ["suspicious"], spans: [], regions: [rect(), ellipse, outline], uncertain: false, comment: "" };
    await saveDraft(ctxOf(clinician), { caseId, baseVersion: 0, content });
    const draft = (await getCaseView(ctxOf(clinician), { caseId })).draft!;
    expect(draft.content.regions).toEqual([
      { ...rect(), sopInstanceUid: FAKE_UIDS.instance },
      { ...ellipse, sopInstanceUid: FAKE_UIDS.instance },
      { ...outline, sopInstanceUid: null },
    ]);

    await submitAnnotation(ctxOf(clinician), { caseId, expectedVersion: 0, content, timeSpentMs: 1000 });
    const view = await getCaseView(ctxOf(clinician), { caseId });
    expect(view.draft).toBeNull();
    expect(view.current?.regions).toHaveLength(3);
    expect(view.history[0]!.regions.map((r) => [r.shape, r.frame])).toEqual([["rectangle", 2], ["ellipse", 3], ["freehand", 1]]);

    const jsonl = await exportLabels(ctxOf(scientist), { projectId, format: "jsonl", history: false });
    const row = jsonl.body.trim().split("\n").map((line) => JSON.parse(line)).find((r) => r.annotatorId === clinician.id);
    expect(row.regions).toEqual([
      { label: "benign", imageId: dicomId, sopInstanceUid: FAKE_UIDS.instance, frame: 2, shape: "rectangle", x: 10.5, y: 4, width: 20, height: 12.25 },
      { label: "suspicious", imageId: dicomId, sopInstanceUid: FAKE_UIDS.instance, frame: 3, shape: "ellipse", x: 0, y: 0, width: 64, height: 48 },
      { label: "benign", imageId: pngId, sopInstanceUid: null, frame: 1, shape: "freehand", points: [[1, 1], [9, 2], [5, 7.5]] },
    ]);
    const csv = await exportLabels(ctxOf(scientist), { projectId, format: "csv", history: false });
    expect(csv.body.split("\r\n")[0]).toContain(",regions,");
    expect(csv.body).toContain(`""frame"":3,""shape"":""ellipse"",""x"":0,""y"":0,""width"":64,""height"":48`);
  });

  it.each([
    ["an image of another case", () => rect({ imageId: otherImageId }), /regions\[0\]: the image is not one of this case's images/],
    ["a frame past the last", () => rect({ frame: 4 }), /regions\[0\]: frame 4 is out of range \(the image has 3 frames\)/],
    ["a rectangle past the right edge", () => rect({ x: 50, width: 14.5 }), /regions\[0\]: it reaches outside the image \(64×48 pixels/],
    ["a negative coordinate", () => rect({ y: -0.5 }), /outside the image/],
    ["an outline outside a PNG (size from its header)", () => ({ shape: "freehand", imageId: pngId, frame: 1, label: "normal", points: [[1, 1], [11, 2], [5, 5]] }) as ImageRegion, /regions\[0\]: it reaches outside the image \(10×8 pixels/],
    ["a second frame of a PNG", () => rect({ imageId: pngId, frame: 2, x: 0, y: 0, width: 1, height: 1 }), /frame 2 is out of range \(the image has 1 frame\)/],
    ["a label not in the schema", () => rect({ label: "fracture" }), /regions\[0\]: unknown label "fracture"/],
  ])("refuses %s, naming the region", async (_what, region, message) => {
    const content = { labels: ["normal"], spans: [], regions: [region()], uncertain: false, comment: "" };
    await expect(saveDraft(ctxOf(clinician), { caseId, baseVersion: 1, content })).rejects.toMatchObject({ kind: "BAD_INPUT", message: expect.stringMatching(message) });
    await expect(submitAnnotation(ctxOf(clinician), { caseId, expectedVersion: 1, content, timeSpentMs: 1 })).rejects.toMatchObject({ kind: "BAD_INPUT" });
  });

  it("the input schema refuses non-finite numbers, empty boxes and outlines beyond the point cap", () => {
    const submit = (region: unknown) => ZSubmitInput.safeParse({ caseId, expectedVersion: 0, timeSpentMs: 0, content: { labels: ["normal"], regions: [region] } });
    expect(submit(rect()).success).toBe(true);
    expect(submit({ ...rect(), x: Number.NaN }).success).toBe(false);
    expect(submit({ ...rect(), width: Number.POSITIVE_INFINITY }).success).toBe(false);
    expect(submit({ ...rect(), height: 0 }).success).toBe(false);
    expect(submit({ ...rect(), frame: 0 }).success).toBe(false);
    expect(submit({ ...rect(), frame: 1.5 }).success).toBe(false);
    expect(submit({ ...rect(), shape: "polygon" }).success).toBe(false);
    const points = (n: number) => Array.from({ length: n }, (_, i) => [i % 60, Math.floor(i / 60) % 40]);
    expect(submit({ shape: "freehand", imageId: pngId, frame: 1, label: "normal", points: points(MAX_FREEHAND_POINTS) }).success).toBe(true);
    expect(submit({ shape: "freehand", imageId: pngId, frame: 1, label: "normal", points: points(MAX_FREEHAND_POINTS + 1) }).success).toBe(false);
    expect(submit({ shape: "freehand", imageId: pngId, frame: 1, label: "normal", points: points(2) }).success).toBe(false);
  });
});
