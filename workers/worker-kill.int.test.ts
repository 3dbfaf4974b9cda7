/**
 * kill -9 of a real worker process (workers/main.ts) in the middle of `embed` and of `select`,
 * then a new worker: its start-up recovery re-delivers the interrupted run, which completes
 * exactly once — every case embedded once with no duplicate vector, one selection round with its
 * queue items and one set of predictions — and the clinicians' annotations are untouched.
 * (The same for `train`: workers/train-crash.int.test.ts.)
 * Also the state a kill between "round written" and "predictions stored" leaves: the retry must
 * still store the predictions, not stop at "round already written".
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitAnnotation } from "@/server/services/annotation-service";
import { createServiceContext } from "@/server/services/context";
import { enqueueJobRun } from "@/server/services/enqueue-job";
import { writeSelectionRound } from "@/server/services/selection-rounds";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { releaseHeadSessions } from "@/models/registry";
import { executeJobRun } from "./jobs/job-runtime";
import { selectJob } from "./jobs/select";
import { createLoopProject, loadMtsamplesTask, testWorkerContext, waitForJobRun } from "./testing/loop-fixtures";
import { killProcess, startWorkerProcess } from "./testing/worker-process";

const db = testDb();
let storageDir: string;
let boss: PgBoss;
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const startWorker = () => startWorkerProcess(storageDir, children);

const kill = killProcess;

/** Polls the JobRun until `ready(row)`; fails fast if the run failed or finished first. */
async function waitForStage(jobRunId: string, ready: (row: { stage: string; percent: number }) => boolean, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db.jobRun.findUniqueOrThrow({ where: { id: jobRunId } });
    if (row.status === "RUNNING" && ready(row)) return row;
    if (row.status === "FAILED" || row.status === "SUCCEEDED") throw new Error(`run ended (${row.status}, ${row.stage}) before the stage to kill it in: ${row.error ?? ""}`);
    if (Date.now() > deadline) throw new Error(`stage never reached (now "${row.stage}" ${row.percent}%)`);
    await sleep(25);
  }
}

async function send(kind: string, jobRunId: string, projectId: string) {
  await boss.createQueue(kind);
  await boss.send(kind, { jobRunId, projectId });
}

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-kill-"));
  boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, schema: "pgboss", application_name: "rads-kill-test" });
  await boss.start();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) await kill(child);
  await boss?.stop({ graceful: false, wait: true });
  releaseHeadSessions();
  fs.rmSync(storageDir, { recursive: true, force: true });
});

describe("worker killed with SIGKILL", () => {
  it("mid-embed: the restarted worker embeds the rest, every case exactly once", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const cases = loadMtsamplesTask({ size: 1200, specialty: "Urology", minorityShare: 0.1, seed: 11 });
    const { projectId } = await createLoopProject(db, cases, { memberIds: [scientist.id], selectionParams: { strategy: "random", budget: 10 }, encoderDim: 512 });
    // Small batches: many commits, so the kill lands between two of them with some written.
    const job = await enqueueJobRun(db, { kind: "embed", projectId, payload: { projectId, batchSize: 4 }, dedupeKey: `embed:${projectId}:kill`, requestedById: scientist.id });
    const first = startWorker();
    await send("embed", job.jobRunId, projectId);
    await waitForStage(job.jobRunId, (row) => row.stage.startsWith("embedding") && row.percent >= 10);
    await kill(first);

    const partial = await db.embedding.count({ where: { case: { projectId } } });
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(cases.length);
    expect((await db.jobRun.findUniqueOrThrow({ where: { id: job.jobRunId } })).status).toBe("RUNNING");

    startWorker();
    const done = await waitForJobRun(db, job.jobRunId, 120_000);
    expect(done.status, done.error ?? "").toBe("SUCCEEDED");
    expect(done.attempts).toBe(2);
    const result = done.result as { embedded: number; alreadyEmbedded: number; cases: number; encoderVersion: string };
    // The retry computed only what the killed run had not committed.
    expect(result.alreadyEmbedded).toBeGreaterThanOrEqual(partial);
    expect(result.embedded + result.alreadyEmbedded).toBe(cases.length);
    const rows = await db.embedding.groupBy({ by: ["caseId", "encoderVersion"], where: { case: { projectId } }, _count: { _all: true } });
    expect(rows).toHaveLength(cases.length);
    expect(rows.every((r) => r._count._all === 1 && r.encoderVersion === result.encoderVersion)).toBe(true);
  }, 240_000);

  it("mid-select (RADS on an approved model): one round, one set of predictions, annotations untouched", async () => {
    // The previous test's restarted worker would otherwise take this run and never be killed.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) await kill(child);
    const [scientist, clinician] = [await createTestUser("DATA_SCIENTIST"), await createTestUser("CLINICIAN")];
    const cases = loadMtsamplesTask({ size: 900, specialty: "Urology", minorityShare: 0.15, seed: 5 });
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [scientist.id, clinician.id],
      // Many episodes, so the run spends seconds in selection and the kill lands there.
      selectionParams: { strategy: "rads", budget: 12, episodes: 300, mcPasses: 10 },
      encoderDim: 256,
    });
    const pool = [...truth].filter(([, c]) => c.split === "POOL").map(([id]) => id);
    // Half of the pool is labelled training data (SEED), the other half stays selectable.
    for (const caseId of pool.slice(0, Math.floor(pool.length / 2))) await db.case.update({ where: { id: caseId }, data: { split: "SEED", importedLabel: truth.get(caseId)!.label } });
    const selectable = pool.slice(Math.floor(pool.length / 2));

    // A clinician's annotations on a round of their own (written before the worker is touched).
    const ctx = createServiceContext(db, { id: clinician.id, role: "CLINICIAN", name: clinician.name, email: clinician.email });
    await writeSelectionRound(db, { projectId, strategy: "random", coldStart: true, params: {}, stats: {}, items: selectable.slice(0, 3).map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    for (const caseId of selectable.slice(0, 3)) await submitAnnotation(ctx, { caseId, expectedVersion: 0, content: { labels: ["rest"], spans: [], uncertain: false, comment: `kept ${caseId}` }, timeSpentMs: 5 });
    const annotationsBefore = await db.annotation.findMany({ where: { case: { projectId } }, select: { id: true, version: true, labels: true, comment: true }, orderBy: { id: "asc" } });

    const first = startWorker();
    const train = await enqueueJobRun(db, { kind: "train", projectId, payload: { projectId, reason: "manual", headConfig: { hidden: [32], maxEpochs: 20 } }, dedupeKey: `train:${projectId}:kill`, requestedById: scientist.id });
    await send("train", train.jobRunId, projectId);
    const trained = await waitForJobRun(db, train.jobRunId, 120_000);
    expect(trained.status, trained.error ?? "").toBe("SUCCEEDED");
    const model = await db.modelVersion.update({ where: { id: (trained.result as { modelVersionId: string }).modelVersionId }, data: { status: "APPROVED" } });

    const select = await enqueueJobRun(db, { kind: "select", projectId, payload: { projectId, modelVersionId: model.id, reason: "model-approved" }, dedupeKey: `select:${projectId}:approved:${model.id}`, requestedById: null });
    await send("select", select.jobRunId, projectId);
    await waitForStage(select.jobRunId, (row) => row.stage.startsWith("rads selection"));
    await sleep(100);
    await kill(first);
    expect(await db.selectionRound.count({ where: { projectId, modelVersionId: model.id } })).toBe(0);

    startWorker();
    const done = await waitForJobRun(db, select.jobRunId, 120_000);
    expect(done.status, done.error ?? "").toBe("SUCCEEDED");
    expect(done.attempts).toBe(2);
    const rounds = await db.selectionRound.findMany({ where: { projectId, modelVersionId: model.id }, include: { _count: { select: { items: true } } } });
    expect(rounds).toHaveLength(1);
    expect(rounds[0]!._count.items).toBe(12);
    expect(await db.auditEvent.count({ where: { action: "selection.round-created", targetId: rounds[0]!.id } })).toBe(1);
    // One prediction per case of the project from the approved model (none twice).
    expect(await db.prediction.count({ where: { modelVersionId: model.id } })).toBe(cases.length);
    // Nothing half-registered by the kill: one model per finished train run (the clinician's
    // completed round may have triggered a training of its own), each with its file.
    const trainRuns = await db.jobRun.findMany({ where: { projectId, kind: "train" } });
    const models = await db.modelVersion.findMany({ where: { projectId } });
    expect(models.length).toBe(trainRuns.filter((r) => r.status === "SUCCEEDED").length);
    expect(new Set(models.map((m) => (m.params as { jobRunId: string }).jobRunId)).size).toBe(models.length);
    for (const m of models) expect(m.artifactKey && fs.existsSync(path.join(storageDir, m.artifactKey))).toBeTruthy();
    const annotationsAfter = await db.annotation.findMany({ where: { case: { projectId } }, select: { id: true, version: true, labels: true, comment: true }, orderBy: { id: "asc" } });
    expect(annotationsAfter).toEqual(annotationsBefore);

    // The state a kill between "round written" and "predictions stored" leaves behind: the
    // predictions are gone, the round is there. Re-running the run must complete it.
    await db.prediction.deleteMany({ where: { modelVersionId: model.id } });
    await db.jobRun.update({ where: { id: select.jobRunId }, data: { status: "RUNNING", stage: "storing predictions" } });
    const inProcess = testWorkerContext(db, storageDir, null);
    const outcome = await executeJobRun(selectJob.spec, inProcess, select.jobRunId, false);
    expect(outcome.status).toBe("succeeded");
    expect(await db.selectionRound.count({ where: { projectId, modelVersionId: model.id } })).toBe(1);
    expect(await db.prediction.count({ where: { modelVersionId: model.id } })).toBe(cases.length);
  }, 300_000);
});
