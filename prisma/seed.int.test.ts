/**
 * seedDemo against the real (embedded) PostgreSQL of the integration setup and a temporary
 * local blob store.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../server/db/generated/client";
import { createDb } from "../server/db/client";
import { createLocalBlobStore, type BlobStore } from "../server/storage/blob-store";
import { DEMO_IDENTIFIER_PATTERN, DEMO_LABEL_SCHEMA } from "./demo/narratives";
import { DEMO_PROJECT_NAME, DEMO_SETTINGS, DEMO_USERS, seedDemo } from "./seed";

// A stand-in for scrypt: the seed only has to store what it is given.
const hashPassword = async (pw: string) => `test-hash:${pw}`;
const opts = { demoPassword: "demo-password-for-tests", hashPassword };

let db: PrismaClient;
let blobDir: string;
let blobs: BlobStore;

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Removes the demo project (cascading to its cases and images) so each scenario starts clean. */
async function removeDemoProject() {
  await db.project.deleteMany({ where: { name: DEMO_PROJECT_NAME } });
}

beforeAll(async () => {
  db = createDb(process.env.DATABASE_URL!);
  blobDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-seed-blobs-"));
  blobs = createLocalBlobStore(blobDir);
  await removeDemoProject();
});

afterAll(async () => {
  await db?.$disconnect();
  if (blobDir) fs.rmSync(blobDir, { recursive: true, force: true });
});

describe("seedDemo", () => {
  it("creates the demo users, project, cases, images and an audit event", async () => {
    const result = await seedDemo(db, blobs, opts);
    expect(result.created).toBe(true);
    expect(result.users).toEqual(DEMO_USERS.map((u) => ({ email: u.email, role: u.role })));

    const project = await db.project.findUniqueOrThrow({ where: { name: DEMO_PROJECT_NAME }, include: { members: { include: { user: true } } } });
    expect(project.labelSchema).toEqual(DEMO_LABEL_SCHEMA);
    expect(project.minorityClasses).toEqual(["suspicious-nodule", "pneumothorax"]);
    expect(project.selectionParams).toEqual({ strategy: "rads", budget: 10, rho: 0.9, lambda: 0.01, mcPasses: 10, episodes: 300 });
    expect(project.encoderConfig).toEqual({ kind: "builtin", dim: 384 });
    expect(project.settings).toEqual(DEMO_SETTINGS);
    expect(project.members.map((m) => m.user.email).sort()).toEqual(DEMO_USERS.map((u) => u.email).sort());
    for (const member of project.members) expect(member.user.passwordHash).toBe("test-hash:demo-password-for-tests");

    const cases = await db.case.findMany({ where: { projectId: project.id }, include: { images: true } });
    expect(cases).toHaveLength(48);
    const splits = cases.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.split]: (acc[c.split] ?? 0) + 1 }), {});
    expect(splits).toEqual({ POOL: 33, TEST: 10, SEED: 5 });
    for (const c of cases) {
      expect(c.narrative).toBeTruthy();
      expect(c.importedLabel === null).toBe(c.split === "POOL");
      expect(JSON.stringify(c.metadata)).not.toMatch(DEMO_IDENTIFIER_PATTERN);
    }
    expect(cases.filter((c) => c.narrative && DEMO_IDENTIFIER_PATTERN.test(c.narrative)).length).toBeGreaterThan(0);

    const images = cases.flatMap((c) => c.images);
    expect(images).toHaveLength(16);
    expect(images.filter((i) => i.frames === 8)).toHaveLength(4);
    for (const image of images) {
      expect(image.mimeType).toBe("application/dicom");
      expect(image.storageKey).toBe(`images/${image.sha256.slice(0, 2)}/${image.sha256}.dcm`);
      expect(await blobs.exists(image.storageKey)).toBe(true);
      const bytes = await blobs.get(image.storageKey);
      expect(crypto.createHash("sha256").update(bytes).digest("hex")).toBe(image.sha256);
      expect(bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
      expect(bytes.subarray(128, 132).toString("latin1")).toBe("DICM");
      // The file has the fake patient name; the database row must not.
      expect(bytes.includes("DEMO^PATIENT^")).toBe(true);
      const attributes = image.attributes as Record<string, unknown>;
      expect(Object.keys(attributes).sort()).toEqual(["bodyPart", "columns", "modality", "rows", "seriesDescription", "studyDate"]);
      expect(JSON.stringify(attributes)).not.toMatch(DEMO_IDENTIFIER_PATTERN);
      expect(JSON.stringify(attributes)).not.toMatch(/patient/i);
    }

    const audit = await db.auditEvent.findMany({ where: { action: "demo.seed", targetId: project.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ targetType: "Project", projectId: project.id });
    expect(audit[0]!.details).toMatchObject({ cases: 48, images: 16 });
  });

  it("does nothing the second time", async () => {
    const projectId = (await db.project.findUniqueOrThrow({ where: { name: DEMO_PROJECT_NAME } })).id;
    const before = {
      cases: await db.case.count({ where: { projectId } }),
      images: await db.caseImage.count({ where: { case: { projectId } } }),
      users: await db.user.count(),
      audit: await db.auditEvent.count({ where: { action: "demo.seed" } }),
      files: listFiles(blobDir).map((f) => [f, fs.statSync(f).mtimeMs]),
    };
    let hashed = 0;
    const result = await seedDemo(db, blobs, { ...opts, hashPassword: async (pw) => (hashed++, hashPassword(pw)) });
    expect(result.created).toBe(false);
    expect(result.users.map((u) => u.email)).toEqual(DEMO_USERS.map((u) => u.email));
    expect(hashed).toBe(0);
    expect({
      cases: await db.case.count({ where: { projectId } }),
      images: await db.caseImage.count({ where: { case: { projectId } } }),
      users: await db.user.count(),
      audit: await db.auditEvent.count({ where: { action: "demo.seed" } }),
      files: listFiles(blobDir).map((f) => [f, fs.statSync(f).mtimeMs]),
    }).toEqual(before);
  });

  it("seeds exactly once when two processes start together, and keeps existing accounts as they are", async () => {
    await removeDemoProject();
    // An admin account that existed before the demo: its password and role must survive.
    await db.user.update({ where: { email: "admin@demo.local" }, data: { passwordHash: "kept-hash" } });
    const other = createDb(process.env.DATABASE_URL!);
    try {
      const results = await Promise.all([seedDemo(db, blobs, opts), seedDemo(other, blobs, opts)]);
      expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    } finally {
      await other.$disconnect();
    }
    expect(await db.project.count({ where: { name: DEMO_PROJECT_NAME } })).toBe(1);
    const projectId = (await db.project.findUniqueOrThrow({ where: { name: DEMO_PROJECT_NAME } })).id;
    expect(await db.case.count({ where: { projectId } })).toBe(48);
    expect((await db.user.findUniqueOrThrow({ where: { email: "admin@demo.local" } })).passwordHash).toBe("kept-hash");
    expect(await db.projectMember.count({ where: { projectId } })).toBe(5);
  });
});
