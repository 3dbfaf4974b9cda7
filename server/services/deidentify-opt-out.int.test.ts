/**
 * A project that stops keeping patient identifiers (new-user report, privacy): opt in → import the real
 * ../shared/data/dicom/CT_small.dcm (stored as uploaded, PatientName "CompressedSamples^CT1") → opt out.
 * (c) The opt-out queues the de-identification pass (a "deidentify-stored" JobRun with its pg-boss message) and
 * names it in the settings audit event; (a) until the pass has run, the image route refuses the image to every
 * member (409, a plain message, no read audit), while an image of a project that still keeps identifiers is
 * served; (b) the queued pass, run as the worker runs it, rewrites the file, and the served bytes then carry
 * neither PatientName nor PatientID.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDicomFile } from "@/models/dicom/decode";
import { executeJobRun, type WorkerContext } from "@/workers/jobs/job-runtime";
import { deidentifyStoredSpec } from "@/workers/jobs/deidentify-stored";
import { testWorkerContext } from "@/workers/testing/loop-fixtures";
import { sql } from "../db/sql";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import type { Actor } from "./context";
import { createServiceContext } from "./context";
import { stopJobClient } from "./enqueue-job";
import { IMAGE_AWAITING_DEIDENTIFY_MESSAGE, readImageForMember } from "./image-service";
import { importCases } from "./import-service";
import { getSelectionSettings, updateSelectionSettings } from "./project-settings-service";

const db = testDb();
const CT_SMALL = path.resolve(import.meta.dirname, "../../../shared/data/dicom/CT_small.dcm");
const parse = (bytes: Uint8Array) => parseDicomFile(bytes, (deflated) => zlib.inflateRawSync(deflated));
const text = (ds: ReturnType<typeof parse>, tag: string) => (ds.string(tag) ?? "").replace(/\0/g, "").trim();

let storageDir: string;
let worker: WorkerContext;
let scientist: Actor;
let clinician: Actor;
const blobs = () => createLocalBlobStore(storageDir);

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-deid-opt-out-"));
  worker = testWorkerContext(db, storageDir, null);
  scientist = await createTestUser("DATA_SCIENTIST");
  clinician = await createTestUser("CLINICIAN");
});
afterAll(async () => {
  await stopJobClient();
  fs.rmSync(storageDir, { recursive: true, force: true });
  await db.$disconnect();
});

/** A project of both users that keeps identifiers, with CT_small imported into it (stored as uploaded). */
async function projectWithIdentifiedImport() {
  const { projectId } = await createTestProject({ memberIds: [scientist.id, clinician.id], cases: 0 });
  const ctx = createServiceContext(db, scientist);
  const current = await getSelectionSettings(ctx, { projectId });
  expect((await updateSelectionSettings(ctx, { projectId, ...current.values, allowPatientIdentifiers: true })).deidentifyJobRunId).toBeNull();
  const original = new Uint8Array(fs.readFileSync(CT_SMALL));
  const result = await importCases(ctx, { projectId, files: [{ name: "CT_small.dcm", bytes: original }], mapping: {}, via: "upload" }, { blobs: blobs() });
  expect(result.status).toBe("imported");
  const image = await db.caseImage.findFirstOrThrow({ where: { case: { projectId } }, select: { id: true, storageKey: true } });
  return { projectId, ctx, values: current.values, original, image };
}

describe("turning 'Keep patient identifiers' off", () => {
  it("queues the pass with the audited change, refuses the raw file until it ran, then serves it without identifiers", async () => {
    const { projectId, ctx, values, original, image } = await projectWithIdentifiedImport();
    const originalDs = parse(original);
    const patientName = text(originalDs, "x00100010");
    const patientId = text(originalDs, "x00100020");
    expect(patientName).toBe("CompressedSamples^CT1");
    expect(patientId.length).toBeGreaterThan(0);
    // While the project keeps identifiers, the file is served as uploaded.
    const kept = await readImageForMember(db, clinician, image.id, blobs());
    expect(text(parse(new Uint8Array(kept!.bytes)), "x00100010")).toBe(patientName);

    const saved = await updateSelectionSettings(ctx, { projectId, ...values, allowPatientIdentifiers: false });
    expect(saved.changed).toEqual(["allowPatientIdentifiers"]);

    // (c) the pass is queued: a JobRun of the project with its pg-boss message, named in the settings audit event.
    const run = await db.jobRun.findUniqueOrThrow({ where: { id: saved.deidentifyJobRunId! } });
    expect(run).toMatchObject({ kind: "deidentify-stored", projectId, status: "QUEUED", requestedById: scientist.id });
    const messages = await sql(db).query<{ jobRunId: string }>(`SELECT data->>'jobRunId' AS "jobRunId" FROM pgboss.job WHERE name = 'deidentify-stored' AND data->>'jobRunId' = $1`, [run.id]);
    expect(messages).toHaveLength(1);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { projectId, action: "project.settings.update" }, orderBy: { id: "desc" } });
    expect(audit.actorId).toBe(scientist.id);
    expect(audit.details).toMatchObject({ before: { allowPatientIdentifiers: true }, after: { allowPatientIdentifiers: false }, deidentifyJobRunId: run.id });

    // (a) before the pass: every member is refused the stored file, with a plain message; nothing is audited as read.
    const readsBefore = await db.auditEvent.count({ where: { targetId: image.id, action: "image.read" } });
    for (const member of [clinician, scientist]) {
      const refused = await refusal(readImageForMember(db, member, image.id, blobs()));
      expect(refused).toMatchObject({ kind: "CONFLICT", message: IMAGE_AWAITING_DEIDENTIFY_MESSAGE });
    }
    expect(await db.auditEvent.count({ where: { targetId: image.id, action: "image.read" } })).toBe(readsBefore);
    // A non-member still gets the same nothing as a missing image (no hint that the image exists).
    expect(await readImageForMember(db, await createTestUser("CLINICIAN"), image.id, blobs())).toBeNull();

    // (b) the queued run, executed as the worker executes it, rewrites the file; the served bytes hold no identifier.
    const outcome = await executeJobRun(deidentifyStoredSpec, worker, run.id, true);
    expect(outcome).toMatchObject({ status: "succeeded" });
    expect((await db.jobRun.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("SUCCEEDED");
    const row = await db.caseImage.findUniqueOrThrow({ where: { id: image.id }, select: { storageKey: true, attributes: true } });
    expect(row.storageKey).not.toBe(image.storageKey);
    expect(row.attributes).toMatchObject({ deidentified: true });
    for (const member of [clinician, scientist]) {
      const served = await readImageForMember(db, member, image.id, blobs());
      const bytes = new Uint8Array(served!.bytes);
      const ds = parse(bytes);
      expect(text(ds, "x00100010")).not.toBe(patientName);
      expect(text(ds, "x00100020")).not.toBe(patientId);
      const latin1 = Buffer.from(bytes).toString("latin1");
      expect(latin1.includes(patientName)).toBe(false);
      expect(latin1.includes(patientId)).toBe(false);
    }
    const passAudit = await db.auditEvent.findFirstOrThrow({ where: { projectId, action: "images.deidentify" } });
    expect(passAudit.details).toMatchObject({ deidentified: 1, failed: 0 });
  });

  it("queues nothing for other changes, and a project that keeps identifiers still serves its file", async () => {
    const { projectId, ctx, values, original, image } = await projectWithIdentifiedImport();
    const saved = await updateSelectionSettings(ctx, { projectId, ...values, allowPatientIdentifiers: true, leaseMinutes: 12 });
    expect(saved.changed).toEqual(["leaseMinutes"]);
    expect(saved.deidentifyJobRunId).toBeNull();
    expect(await db.jobRun.count({ where: { projectId, kind: "deidentify-stored" } })).toBe(0);
    const served = await readImageForMember(db, clinician, image.id, blobs());
    expect(Buffer.from(served!.bytes).equals(Buffer.from(original))).toBe(true);
  });
});
