/**
 * A real worker process (workers/main.ts) de-identifies, when it starts, the DICOM images stored
 * before de-identification on import existed (workers/jobs/deidentify-stored.ts): the stored file
 * with fake identifiers is rewritten, the image route serves none of them, the pass is audited as a
 * system action (before it, the route refuses the stored file), a project that keeps identifiers is left alone, a second pass changes nothing, and
 * while another worker holds the lock this one leaves the work to it.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCK_DEIDENTIFY_STORED, openLockSession } from "@/server/db/advisory-lock";
import type { Actor } from "@/server/services/context";
import { IMAGE_AWAITING_DEIDENTIFY_MESSAGE, readImageForMember } from "@/server/services/image-service";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { FAKE_IDENTIFIERS, fakeIdentifiedDicom } from "@/server/testing/fake-dicom";
import { createTestUser, refusal, testDb } from "@/server/testing/fixtures";
import { deidentifyStoredOnce } from "./jobs/deidentify-stored";
import { testWorkerContext } from "./testing/loop-fixtures";
import { killProcess, startWorkerProcess } from "./testing/worker-process";

const db = testDb();
let storageDir: string;
let scientist: Actor;
const children: ChildProcess[] = [];
const blobs = () => createLocalBlobStore(storageDir);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-deid-start-"));
  scientist = await createTestUser("DATA_SCIENTIST");
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) await killProcess(child);
  fs.rmSync(storageDir, { recursive: true, force: true });
});

/** A project with one case whose DICOM file is stored as imports stored it before de-identification (no record). */
async function projectWithStoredOriginal(settings: Record<string, unknown>, ownKey: string) {
  const bytes = fakeIdentifiedDicom();
  await blobs().put(ownKey, bytes);
  const project = await db.project.create({
    data: {
      name: `deid-start-${Math.random().toString(36).slice(2, 10)}`,
      labelSchema: { labels: [], multiLabel: false },
      minorityClasses: [],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: settings as never,
      members: { create: [{ userId: scientist.id }] },
      cases: { create: [{ externalId: "old-case", images: { create: [{ storageKey: ownKey, mimeType: "application/dicom", sha256: "original", attributes: { modality: "US" } }] } }] },
    },
    select: { id: true },
  });
  const image = await db.caseImage.findFirstOrThrow({ where: { case: { projectId: project.id } }, select: { id: true } });
  return { projectId: project.id, imageId: image.id, key: ownKey, bytes };
}

async function servedText(imageId: string): Promise<string> {
  const served = await readImageForMember(db, scientist, imageId, blobs());
  return Buffer.from(served!.bytes).toString("latin1");
}

describe("worker start", () => {
  it("rewrites images stored without de-identification, so they are served without identifiers, audited, once", async () => {
    const clean = await projectWithStoredOriginal({}, "images/legacy/clean.dcm");
    const kept = await projectWithStoredOriginal({ allowPatientIdentifiers: true }, "images/legacy/kept.dcm");
    // Before: the route refuses the file as stored (it may hold identifiers); the project that keeps them is served.
    expect(await refusal(readImageForMember(db, scientist, clean.imageId, blobs()))).toMatchObject({ kind: "CONFLICT", message: IMAGE_AWAITING_DEIDENTIFY_MESSAGE });
    expect(await servedText(kept.imageId)).toContain(FAKE_IDENTIFIERS.patientName);

    // Another worker holding the lock does the work: this one leaves it.
    const other = await openLockSession(process.env.DATABASE_URL!);
    expect(await other.tryLock(LOCK_DEIDENTIFY_STORED, "stored-images")).toBe(true);
    expect(await deidentifyStoredOnce(testWorkerContext(db, storageDir, null))).toEqual({ status: "another-worker" });
    await other.close();
    expect((await db.caseImage.findUniqueOrThrow({ where: { id: clean.imageId } })).storageKey).toBe(clean.key);

    startWorkerProcess(storageDir, children);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const row = await db.caseImage.findUniqueOrThrow({ where: { id: clean.imageId }, select: { attributes: true } });
      if ((row.attributes as { deidentified?: unknown }).deidentified === true) break;
      if (Date.now() > deadline) throw new Error("the worker did not de-identify the stored image");
      await sleep(200);
    }

    // The row is rewritten first; the original blob is deleted and the project's audit event written just after it,
    // so give those a moment (at most 5 s) before looking.
    for (let i = 0; i < 50; i++) {
      const audited = await db.auditEvent.count({ where: { projectId: clean.projectId, action: "images.deidentify" } });
      if (audited > 0 && !(await blobs().exists(clean.key))) break;
      await sleep(100);
    }
    const text = await servedText(clean.imageId);
    for (const [what, value] of Object.entries(FAKE_IDENTIFIERS)) expect(text.includes(value), what).toBe(false);
    const row = await db.caseImage.findUniqueOrThrow({ where: { id: clean.imageId }, select: { storageKey: true } });
    expect(row.storageKey).not.toBe(clean.key);
    expect(await blobs().exists(clean.key)).toBe(false);
    const audit = await db.auditEvent.findMany({ where: { projectId: clean.projectId, action: "images.deidentify" }, select: { actorId: true, details: true } });
    expect(audit).toEqual([{ actorId: null, details: { deidentified: 1, failed: 0, skipped: 0 } }]);

    // The project that keeps identifiers is left as it was.
    expect(await servedText(kept.imageId)).toContain(FAKE_IDENTIFIERS.patientName);
    expect(await db.auditEvent.count({ where: { projectId: kept.projectId, action: "images.deidentify" } })).toBe(0);

    // A second pass (the next start) changes nothing here.
    await deidentifyStoredOnce(testWorkerContext(db, storageDir, null));
    expect((await db.caseImage.findUniqueOrThrow({ where: { id: clean.imageId }, select: { storageKey: true } })).storageKey).toBe(row.storageKey);
    expect(await db.auditEvent.count({ where: { projectId: clean.projectId, action: "images.deidentify" } })).toBe(1);
  });
});
