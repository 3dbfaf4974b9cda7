/**
 * The backfill of images stored before de-identification on import (deidentify-service.ts): a DICOM
 * file with fake identifiers stored as an old import stored it is rewritten, the image route's bytes
 * hold none of its identifiers and the same pixels, the original blob is deleted, a second run
 * changes nothing, and a project that keeps identifiers is left alone.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentKey, createLocalBlobStore } from "../storage/blob-store";
import { FAKE_IDENTIFIERS, fakeIdentifiedDicom } from "../testing/fake-dicom";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "./context";
import { createServiceContext } from "./context";
import { deidentifyStoredImages } from "./deidentify-service";
import { readImageForMember } from "./image-service";

let storageDir: string;
let scientist: Actor;
const blobs = () => createLocalBlobStore(storageDir);

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-deid-backfill-"));
  scientist = await createTestUser("DATA_SCIENTIST");
});
afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await testDb().$disconnect();
});

/** A project holding one case with the fake file stored as uploaded (as imports stored it before). */
async function projectWithStoredOriginal(settings: Record<string, unknown>) {
  const bytes = fakeIdentifiedDicom();
  const key = contentKey("images", bytes, ".dcm");
  await blobs().put(key, bytes);
  const project = await testDb().project.create({
    data: {
      name: `deid-backfill-${Math.random().toString(36).slice(2, 10)}`,
      labelSchema: { labels: [], multiLabel: false },
      minorityClasses: [],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: settings as never,
      members: { create: [{ userId: scientist.id }] },
      cases: { create: [{ externalId: "old-case", images: { create: [{ storageKey: key, mimeType: "application/dicom", sha256: "original", attributes: { modality: "US" } }] } }] },
    },
    select: { id: true },
  });
  const image = await testDb().caseImage.findFirstOrThrow({ where: { case: { projectId: project.id } }, select: { id: true } });
  return { projectId: project.id, imageId: image.id, key, bytes };
}

describe("deidentifyStoredImages", () => {
  it("rewrites stored originals once, deletes them, and leaves projects that keep identifiers alone", async () => {
    const kept = await projectWithStoredOriginal({ allowPatientIdentifiers: true });
    const clean = await projectWithStoredOriginal({});
    const ctx = createServiceContext(testDb(), null);

    const first = await deidentifyStoredImages(ctx, blobs(), { projectIds: [kept.projectId, clean.projectId] });
    expect(first.find((r) => r.projectId === clean.projectId)).toMatchObject({ deidentified: 1, failed: 0, keepsIdentifiers: false });
    expect(first.find((r) => r.projectId === kept.projectId)).toMatchObject({ deidentified: 0, keepsIdentifiers: true });

    const served = await readImageForMember(testDb(), scientist, clean.imageId, blobs());
    const text = Buffer.from(served!.bytes).toString("latin1");
    for (const [what, value] of Object.entries(FAKE_IDENTIFIERS)) expect(text.includes(value), what).toBe(false);
    // The pixels (the last 16 bytes of the written file) are unchanged.
    expect(Buffer.from(served!.bytes).subarray(-16).equals(Buffer.from(clean.bytes).subarray(-16))).toBe(true);
    const row = await testDb().caseImage.findUniqueOrThrow({ where: { id: clean.imageId }, select: { attributes: true, storageKey: true } });
    expect(row.attributes).toMatchObject({ deidentified: true, burnedInReview: "ultrasound" });
    // The same original is still used by the project that keeps identifiers: the shared blob stays.
    expect(await blobs().exists(clean.key)).toBe(true);
    const keptServed = await readImageForMember(testDb(), scientist, kept.imageId, blobs());
    expect(Buffer.from(keptServed!.bytes).equals(Buffer.from(kept.bytes))).toBe(true);

    const second = await deidentifyStoredImages(ctx, blobs(), { projectIds: [kept.projectId, clean.projectId] });
    expect(second.find((r) => r.projectId === clean.projectId)).toMatchObject({ deidentified: 0, skipped: 1 });
    const audit = await testDb().auditEvent.findMany({ where: { projectId: clean.projectId, action: "images.deidentify" }, select: { details: true } });
    expect(audit.map((a) => a.details)).toEqual([{ deidentified: 1, failed: 0, skipped: 0 }]);
  });

  it("deletes the original blob once no image uses it", async () => {
    const clean = await projectWithStoredOriginal({});
    // Move the original under a key of its own, so this project is its only user.
    const own = `images/test/${clean.imageId}.dcm`;
    await blobs().put(own, clean.bytes);
    await testDb().caseImage.update({ where: { id: clean.imageId }, data: { storageKey: own } });
    await deidentifyStoredImages(createServiceContext(testDb(), null), blobs(), { projectIds: [clean.projectId] });
    expect(await blobs().exists(own)).toBe(false);
  });
});
