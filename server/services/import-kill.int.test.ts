/**
 * kill -9 of the process running an import, in the middle of its one transaction. The process is
 * the real import CLI (scripts/import.ts → the same import service as the upload route), started as
 * a child and killed once PostgreSQL shows it holding the project's import lock (the lock is taken
 * inside the transaction, after the blobs are written). Afterwards nothing of the batch exists —
 * no ImportBatch, no case, no image row, no audit event — and running the same import again
 * succeeds in full; a third run is recognised as already imported.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";
import { loadMtsamplesRows } from "@/workers/testing/loop-fixtures";

const db = testDb();
const root = path.resolve(import.meta.dirname, "../..");
const DICOM_DIR = path.resolve(root, "../shared/data/dicom");
let dir: string;
let lockWatcher: pg.Client;

const csvField = (value: string) => `"${value.replace(/"/g, '""')}"`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-import-kill-"));
  lockWatcher = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await lockWatcher.connect();
});

afterAll(async () => {
  await lockWatcher?.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

function importArgs(projectId: string, files: string[]) {
  return ["--import", "tsx", path.join(root, "scripts/import.ts"), "--project", projectId, "--id-col", "case_id", "--text-col", "report", "--narrative-identifiers", "keep", ...files];
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, STORAGE_DIR: path.join(dir, "storage"), LOG_LEVEL: "warn", NODE_ENV: "test" });

describe("import killed with SIGKILL mid-transaction", () => {
  it("leaves nothing of the batch behind, and the same import then succeeds once", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 0 });
    // 5,000 real narratives (a few seconds inside the transaction) and two DICOM studies.
    const rows = loadMtsamplesRows({ count: 5000, specialty: "Urology", seed: 2 });
    const csv = path.join(dir, "reports.csv");
    fs.writeFileSync(csv, ["case_id,report", ...rows.map((r, i) => `kill-${i},${csvField(r.narrative)}`)].join("\n"));
    const dicoms = ["CT_small.dcm", "MR_small.dcm"].map((name) => {
      const target = path.join(dir, name);
      fs.copyFileSync(path.join(DICOM_DIR, name), target);
      return target;
    });
    const files = [csv, ...dicoms];

    const child = spawn(process.execPath, importArgs(projectId, files), { cwd: root, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // Inside the transaction: the import's advisory lock (727005) is held by a backend.
    let inTransaction = false;
    for (const deadline = Date.now() + 90_000; Date.now() < deadline && child.exitCode === null; ) {
      const held = await lockWatcher.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 727005 AND granted");
      if (held.rowCount) {
        inTransaction = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(inTransaction, `the import never reached its transaction:\n${output}`).toBe(true);
    // Let it write some of the rows first.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(child.exitCode, `the import finished before it could be killed:\n${output}`).toBeNull();
    child.kill("SIGKILL");
    await exited;

    // PostgreSQL rolls the dead connection's transaction back: nothing of the batch exists.
    for (let i = 0; i < 100; i++) {
      const stillOpen = await lockWatcher.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 727005");
      if (!stillOpen.rowCount) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await db.importBatch.count({ where: { projectId } })).toBe(0);
    expect(await db.case.count({ where: { projectId } })).toBe(0);
    expect(await db.caseImage.count({ where: { case: { projectId } } })).toBe(0);
    expect(await db.auditEvent.count({ where: { projectId, action: "import.batch" } })).toBe(0);

    // The same import again: complete, every case once.
    const again = spawnSync(process.execPath, importArgs(projectId, files), { cwd: root, env: childEnv(), encoding: "utf8", timeout: 120_000 });
    expect(again.status, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(await db.importBatch.count({ where: { projectId } })).toBe(1);
    expect(await db.case.count({ where: { projectId } })).toBe(5002);
    expect(await db.caseImage.count({ where: { case: { projectId } } })).toBe(2);
    expect(await db.auditEvent.count({ where: { projectId, action: "import.batch" } })).toBe(1);

    const third = spawnSync(process.execPath, importArgs(projectId, files), { cwd: root, env: childEnv(), encoding: "utf8", timeout: 120_000 });
    expect(third.status, `${third.stdout}\n${third.stderr}`).toBe(0);
    expect(`${third.stdout}${third.stderr}`).toMatch(/already imported/i);
    expect(await db.case.count({ where: { projectId } })).toBe(5002);
  }, 240_000);
});
