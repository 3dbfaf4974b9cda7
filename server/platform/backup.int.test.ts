/**
 * Backup → restore round trip: a project with imported real DICOM cases, narratives, versioned
 * annotations, a draft, an embedding (bytea), a model version whose artefact files are in the blob
 * store, a prediction, a job run and its audit events is backed up from the test database and its
 * storage folder, restored into a SECOND fresh database and storage folder, and compared row by
 * row (read back through Prisma on both sides, so not by the code that wrote the dump) and file by
 * file. Also: a non-empty target is refused without --force, a damaged backup is refused, and the
 * AuditEvent sequence continues after the restored ids.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db/client";
import { createServiceContext, type Actor } from "../services/context";
import { importCases } from "../services/import-service";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, testDb } from "../testing/fixtures";
import { backupPlatform, restorePlatform, verifyBackup } from "./backup";
import { asDatabaseAdmin } from "../testing/database-admin";

const DICOM_DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");

let work: string;
let sourceStorage: string;
let targetStorage: string;
let targetUrl: string;
let targetDb: Db;
let targetName: string;
let projectId: string;

/** Creating databases needs the superuser (server/testing/database-admin.ts). */
const admin = asDatabaseAdmin;

function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex");
  }
  return out;
}

/** Every model, read in primary-key order through Prisma (Dates, BigInt ids and bytes as Prisma returns them). */
async function snapshot(db: Db) {
  return {
    users: await db.user.findMany({ orderBy: { id: "asc" } }),
    loginThrottles: await db.loginThrottle.findMany({ orderBy: { key: "asc" } }),
    authSessions: await db.authSession.findMany({ orderBy: { id: "asc" } }),
    projects: await db.project.findMany({ orderBy: { id: "asc" } }),
    members: await db.projectMember.findMany({ orderBy: [{ projectId: "asc" }, { userId: "asc" }] }),
    batches: await db.importBatch.findMany({ orderBy: { id: "asc" } }),
    cases: await db.case.findMany({ orderBy: { id: "asc" } }),
    images: await db.caseImage.findMany({ orderBy: { id: "asc" } }),
    annotations: await db.annotation.findMany({ orderBy: { id: "asc" } }),
    drafts: await db.annotationDraft.findMany({ orderBy: [{ caseId: "asc" }, { authorId: "asc" }] }),
    embeddings: await db.embedding.findMany({ orderBy: [{ caseId: "asc" }, { encoderVersion: "asc" }] }),
    models: await db.modelVersion.findMany({ orderBy: { id: "asc" } }),
    rounds: await db.selectionRound.findMany({ orderBy: { id: "asc" } }),
    items: await db.queueItem.findMany({ orderBy: { id: "asc" } }),
    leases: await db.queueLease.findMany({ orderBy: { id: "asc" } }),
    jobs: await db.jobRun.findMany({ orderBy: { id: "asc" } }),
    predictions: await db.prediction.findMany({ orderBy: [{ caseId: "asc" }, { modelVersionId: "asc" }] }),
    audit: await db.auditEvent.findMany({ orderBy: { id: "asc" } }),
    goldCases: await db.goldCase.findMany({ orderBy: { caseId: "asc" } }),
    goldServings: await db.goldServing.findMany({ orderBy: { id: "asc" } }),
  };
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "rads-backup-"));
  sourceStorage = path.join(work, "storage-a");
  targetStorage = path.join(work, "storage-b");
  targetName = `rads_restore_${crypto.randomBytes(4).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE "${targetName}" OWNER "${new URL(process.env.DATABASE_URL!).username}"`));
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${targetName}`;
  targetUrl = url.toString();
  targetDb = createDb(targetUrl);

  const db = testDb();
  const scientist: Actor = await createTestUser("DATA_SCIENTIST");
  const clinician: Actor = await createTestUser("CLINICIAN");
  const project = await db.project.create({
    data: {
      name: `backup-${crypto.randomBytes(4).toString("hex")}`,
      labelSchema: { labels: [{ key: "normal", name: "Normal" }, { key: "rare", name: "Rare finding" }], multiLabel: false },
      minorityClasses: ["rare"],
      selectionParams: { strategy: "rads", budget: 4 },
      encoderConfig: { kind: "builtin", dim: 8 },
      settings: { annotationsPerCase: 1 },
      members: { create: [{ userId: scientist.id }, { userId: clinician.id }] },
    },
  });
  projectId = project.id;
  const blobs = createLocalBlobStore(sourceStorage);
  const files = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm"].map((name) => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(DICOM_DIR, name))) }));
  files.push({ name: "notes.csv", bytes: new TextEncoder().encode('id,text,label\nn-1,"Lungs clear, no effusion.",normal\nn-2,Rare finding with “unicode” and émigré text.,rare\n') });
  const imported = await importCases(createServiceContext(db, scientist), { projectId, files, mapping: {}, via: "upload" }, { blobs });
  expect(imported.status).toBe("imported");

  const cases = await db.case.findMany({ where: { projectId }, orderBy: { externalId: "asc" } });
  for (const [i, c] of cases.entries()) {
    await db.annotation.create({ data: { caseId: c.id, authorId: clinician.id, version: 1, labels: ["normal"], spans: [], timeSpentMs: 1000 + i } });
    await db.annotation.create({ data: { caseId: c.id, authorId: clinician.id, version: 2, labels: ["rare"], comment: `second thoughts ${i}`, uncertain: true } });
  }
  await db.annotationDraft.create({ data: { caseId: cases[0]!.id, authorId: clinician.id, content: { labels: ["rare"] }, baseVersion: 2 } });
  await db.goldCase.create({ data: { caseId: cases[1]!.id, projectId, labels: ["rare"], source: "imported", markedById: scientist.id } });
  const vector = new Float32Array([0.1, -0.2, 0.3, 1e-7, 12345.678, -0, 0.5, 0.25]);
  await db.embedding.create({ data: { caseId: cases[0]!.id, encoderVersion: "builtin-test", dim: 8, vector: new Uint8Array(vector.buffer) } });
  await blobs.put(`models/${projectId}/v1/head.onnx`, crypto.randomBytes(4096));
  await blobs.put(`models/${projectId}/v1/model-card.json`, new TextEncoder().encode('{"classes":["normal","rare"]}'));
  const model = await db.modelVersion.create({
    data: { projectId, version: 1, status: "APPROVED", encoderVersion: "builtin-test", metrics: { test: { accuracy: 0.875 } }, artifactKey: `models/${projectId}/v1`, checksum: "abc", triggeredById: scientist.id },
  });
  await db.prediction.create({ data: { caseId: cases[1]!.id, modelVersionId: model.id, probabilities: [0.3, 0.7], predictedLabel: "rare", confidence: 0.7 } });
  await db.jobRun.create({ data: { projectId, kind: "train", status: "SUCCEEDED", percent: 100, result: { modelVersionId: model.id }, dedupeKey: `train:${projectId}:x` } });
  await createServiceContext(db, scientist).audit.record(db, { action: "test.backup", targetType: "Project", targetId: projectId, projectId, details: { note: "ümlaut ✓" } });
});

afterAll(async () => {
  await targetDb?.$disconnect();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${targetName}" WITH (FORCE)`));
  fs.rmSync(work, { recursive: true, force: true });
  await testDb().$disconnect();
});

/**
 * The backup dumps the whole test database, which holds every row the earlier integration files
 * wrote (fuzzing, loop tests …), so it grows with the suite: on CI's 2 cores it can pass the default
 * 60 s. It is a correctness test, not a timed one.
 */
const BACKUP_TEST_TIMEOUT_MS = 300_000;

describe("backup and restore", () => {
  it("round-trips every row and file into a fresh database and storage folder", async () => {
    const out = path.join(work, "backup");
    const backup = await backupPlatform(process.env.DATABASE_URL!, sourceStorage, out);
    expect(backup.manifest.files.length).toBe(5); // 3 DICOM + 2 model artefacts
    expect(backup.manifest.tables.find((t) => t.name === "AuditEvent")!.rows).toBeGreaterThan(0);
    expect(backup.manifest.sequences.map((s) => s.name)).toContain("AuditEvent_id_seq");
    // Backups hold patient data: readable by the platform's account only (issue 12, fault 10).
    for (const entry of fs.readdirSync(out, { recursive: true, withFileTypes: true })) {
      const full = path.join(entry.parentPath, entry.name);
      expect(fs.statSync(full).mode & 0o777, full).toBe(entry.isDirectory() ? 0o700 : 0o600);
    }
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);

    const restored = await restorePlatform(targetUrl, targetStorage, out);
    expect(restored.rows).toBe(backup.rows);
    expect(restored.files).toBe(5);

    const before = await snapshot(testDb());
    const after = await snapshot(targetDb);
    // The comparison covers every table: a new table must be added to snapshot() too.
    expect(backup.manifest.tables).toHaveLength(Object.keys(before).length);
    expect(after.cases.filter((c) => c.projectId === projectId)).toHaveLength(5);
    expect(after.annotations.filter((a) => a.version === 2).length).toBeGreaterThanOrEqual(5);
    for (const key of Object.keys(before) as (keyof typeof before)[]) {
      expect(after[key], key).toEqual(before[key]);
    }
    // Float32 bytes, BigInt ids and the unicode in JSON come back bit for bit.
    const embedding = after.embeddings.find((e) => e.encoderVersion === "builtin-test")!;
    expect(Array.from(new Float32Array(new Uint8Array(embedding.vector).buffer))).toEqual(Array.from(new Float32Array([0.1, -0.2, 0.3, 1e-7, 12345.678, -0, 0.5, 0.25])));
    expect(treeHashes(targetStorage)).toEqual(treeHashes(sourceStorage));
    const migrations = await targetDb.$queryRaw<{ name: string }[]>`SELECT name FROM "_app_migrations" ORDER BY name`;
    expect(migrations.length).toBe(backup.manifest.migrations.length);

    // New audit events continue after the restored ids (the sequence was restored, not reset).
    const maxId = after.audit.at(-1)!.id;
    const next = await targetDb.auditEvent.create({ data: { action: "test.after-restore", targetType: "Project" } });
    expect(next.id > maxId).toBe(true);
    // The append-only trigger is still in force in the restored database.
    await expect(targetDb.auditEvent.deleteMany({ where: { id: next.id } })).rejects.toThrow(/append-only/);
  }, BACKUP_TEST_TIMEOUT_MS);

  it("refuses a non-empty target unless forced, and a damaged backup", async () => {
    const out = path.join(work, "backup-2");
    await backupPlatform(process.env.DATABASE_URL!, sourceStorage, out);
    await expect(backupPlatform(process.env.DATABASE_URL!, sourceStorage, out)).rejects.toThrow(/not empty/);
    const emptyStorage = path.join(work, "storage-empty");
    await expect(restorePlatform(targetUrl, emptyStorage, out)).rejects.toThrow(/target database is not empty/);
    await expect(restorePlatform(targetUrl, targetStorage, out)).rejects.toThrow(/storage folder .* is not empty/);
    const countBefore = await targetDb.auditEvent.count();

    const forced = await restorePlatform(targetUrl, targetStorage, out, { force: true });
    expect(forced.files).toBe(5);
    // --force replaced the contents: the event written after the first restore is gone, nothing doubled.
    expect(await targetDb.auditEvent.count()).toBe(countBefore - 1);
    expect(await targetDb.case.count({ where: { projectId } })).toBe(5);

    const blob = verifyBackup(out).files[0]!;
    const damaged = path.join(out, "storage", blob.path);
    const bytes = fs.readFileSync(damaged);
    bytes[bytes.length >> 1]! ^= 0x01;
    fs.writeFileSync(damaged, bytes);
    expect(() => verifyBackup(out)).toThrow(new RegExp(`storage/${blob.path}.*checksum`));
    await expect(restorePlatform(targetUrl, targetStorage, out, { force: true })).rejects.toThrow(/damaged/);
    // A refused restore changed nothing.
    expect(await targetDb.case.count({ where: { projectId } })).toBe(5);
  }, BACKUP_TEST_TIMEOUT_MS);
});
