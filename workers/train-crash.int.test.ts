/**
 * A training worker killed with SIGKILL in the middle of training leaves no half-registered model:
 * a real worker process (workers/main.ts) is started, killed while the train JobRun says
 * "training", and started again; the restarted worker's start-up recovery re-delivers the run,
 * which then registers exactly one CANDIDATE, with its files, and nothing orphaned.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueJobRun } from "@/server/services/enqueue-job";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createLoopProject, loadMtsamplesTask, waitForJobRun } from "./testing/loop-fixtures";
import { exited, startWorkerProcess } from "./testing/worker-process";

const db = testDb();
let storageDir: string;
let boss: PgBoss;
const children: ChildProcess[] = [];

const startWorker = () => startWorkerProcess(storageDir, children);

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-crash-"));
  boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, schema: "pgboss", application_name: "rads-crash-test" });
  await boss.start();
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited(child);
  }
  await boss?.stop({ graceful: false, wait: true });
  fs.rmSync(storageDir, { recursive: true, force: true });
});

describe("train job killed with SIGKILL mid-training", () => {
  it("is retried after a restart and registers exactly one CANDIDATE, leaving no orphan rows or files", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    // Labelled training cases come with the import here (SEED split), so no annotation step is needed.
    const cases = loadMtsamplesTask({ size: 900, specialty: "Urology", minorityShare: 0.15, seed: 3 });
    const { projectId, truth } = await createLoopProject(db, cases, { memberIds: [scientist.id], selectionParams: { strategy: "rads", budget: 10 }, encoderDim: 256 });
    for (const [caseId, c] of truth) {
      if (c.split === "POOL") await db.case.update({ where: { id: caseId }, data: { split: "SEED", importedLabel: c.label } });
    }
    // Long enough to be killed in the middle: no early stopping, many epochs (the SIMD kernels run
    // an epoch of this set in a few milliseconds, so a few hundred epochs finish before the kill).
    const job = await enqueueJobRun(db, {
      kind: "train",
      projectId,
      payload: { projectId, reason: "manual", headConfig: { hidden: [64], maxEpochs: 1500, patience: 1500 } },
      dedupeKey: `train:${projectId}:crash-test`,
      requestedById: scientist.id,
    });
    // A temp file of some earlier run that died while writing: the next start must remove it.
    const orphan = path.join(storageDir, `tmp/models/${projectId}/deadrun0000/head.onnx`);
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.writeFileSync(orphan, "half a file");

    const first = startWorker();
    await boss.createQueue("train");
    await boss.send("train", { jobRunId: job.jobRunId, projectId });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const row = await db.jobRun.findUniqueOrThrow({ where: { id: job.jobRunId } });
      if (row.stage.startsWith("training")) break;
      expect(row.status, row.error ?? "").not.toBe("FAILED");
      if (Date.now() > deadline) throw new Error(`training never started (stage ${row.stage})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    first.kill("SIGKILL");
    await exited(first);

    const killed = await db.jobRun.findUniqueOrThrow({ where: { id: job.jobRunId } });
    expect(killed.status).toBe("RUNNING");
    expect(killed.stage).toMatch(/^training/);
    expect(await db.modelVersion.count({ where: { projectId } })).toBe(0);

    startWorker();
    const done = await waitForJobRun(db, job.jobRunId, 90_000);
    expect(done.status, done.error ?? "").toBe("SUCCEEDED");
    expect(done.attempts).toBe(2);

    const models = await db.modelVersion.findMany({ where: { projectId } });
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ status: "CANDIDATE", version: 1, artifactKey: `models/${projectId}/1/head.onnx` });
    expect((done.result as { modelVersionId: string }).modelVersionId).toBe(models[0]!.id);
    expect(fs.existsSync(path.join(storageDir, models[0]!.artifactKey!))).toBe(true);
    // Temp files: the planted orphan swept at start, the run's own removed after registering — after the
    // transaction that marks the run SUCCEEDED, so a moment after waitForJobRun returns; and the sweep runs
    // concurrently with the retry. Give both a moment (at most 5 s) before looking.
    const tmpFiles = () => (fs.existsSync(path.join(storageDir, "tmp")) ? fs.readdirSync(path.join(storageDir, "tmp"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : []);
    for (let i = 0; i < 50 && tmpFiles().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.existsSync(orphan)).toBe(false);
    expect(tmpFiles()).toEqual([]);
    expect(fs.readdirSync(path.join(storageDir, `models/${projectId}`))).toEqual(["1"]);
    expect(await db.auditEvent.count({ where: { action: "model.candidate-registered", projectId } })).toBe(1);
  }, 180_000);
});
