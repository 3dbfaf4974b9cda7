/**
 * PostgreSQL restarted while clinicians are submitting. A dedicated embedded PostgreSQL (not the
 * shared test one, which every other test needs) is stopped and started again under load:
 *  - every procedure call during the outage fails with SERVICE_UNAVAILABLE and the
 *    "database unavailable" message (never a 500 that reads like a bug, never a silent success);
 *  - every acknowledged submission is in the database afterwards, exactly once;
 *  - no pool connection leaks with the transactions the outage broke (server/db/client.ts);
 *  - a job running when the database goes does not kill the worker (pg-boss 10 records the
 *    outcome without awaiting it: an unhandled rejection, handled in workers/main.ts), and the
 *    worker's recovery completes it afterwards;
 *  - the web side's Prisma pool and a real worker process (workers/main.ts: Prisma + pg-boss)
 *    recover on their own once PostgreSQL is back: the same callers submit again, and the worker
 *    runs a job enqueued after the restart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PgBoss from "pg-boss";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "@/server/db/client";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "@/server/db/embedded-postgres";
import { prepareDatabase } from "@/server/platform/database";
import { enqueueJobRun } from "@/server/services/enqueue-job";
import { writeSelectionRound } from "@/server/services/selection-rounds";
import { TEST_LABEL_SCHEMA } from "@/server/testing/project-fixtures";
import { appRouter } from "./root";
import { createCallerFactory } from "./trpc";

const root = path.resolve(import.meta.dirname, "../..");
// Away from the shared test database's port range (55000–56999).
const PORT = 57000 + (process.pid % 900);
let dir: string;
let pgDir: string;
let embedded: EmbeddedDatabase | null = null;
let url: string;
let db: Db;
let worker: ChildProcess | null = null;
let workerLog = "";
let boss: PgBoss | null = null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Queued cases: more than four paced clinicians can finish before the outage, so they are still working when it comes. */
const CASES = 4000;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-outage-"));
  fs.chmodSync(dir, 0o755); // the postgres user must reach the data folder when tests run as root
  pgDir = path.join(dir, "pg");
  const prepared = await prepareDatabase({ dataDir: pgDir, embeddedPort: PORT, database: "rads_outage" });
  embedded = prepared.embedded;
  url = prepared.url;
  db = createDb(url);
});

afterAll(async () => {
  await boss?.stop({ graceful: false, wait: true }).catch(() => undefined);
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill("SIGKILL");
    await new Promise((resolve) => worker!.once("exit", resolve));
  }
  await db?.$disconnect().catch(() => undefined);
  await embedded?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function setUp(clinicians: number, cases: number) {
  const users = [];
  for (let i = 0; i < clinicians; i++) {
    users.push(await db.user.create({ data: { email: `outage-${i}@test.local`, name: `Clinician ${i}`, role: "CLINICIAN", passwordHash: null }, select: { id: true, role: true, name: true, email: true } }));
  }
  const project = await db.project.create({
    data: {
      name: "Outage project",
      labelSchema: TEST_LABEL_SCHEMA,
      minorityClasses: ["suspicious"],
      selectionParams: { strategy: "random", budget: 5 },
      encoderConfig: { kind: "builtin", dim: 32 },
      settings: { annotationsPerCase: 1, leaseMinutes: 30 },
      members: { create: users.map((u) => ({ userId: u.id })) },
    },
    select: { id: true },
  });
  await db.case.createMany({
    data: Array.from({ length: cases }, (_, i) => ({ projectId: project.id, externalId: `c-${i}`, narrative: `Report ${i}: ${i % 4 === 0 ? "spiculated nodule" : "lungs clear"}.`, split: "POOL" as const })),
  });
  const caseRows = await db.case.findMany({ where: { projectId: project.id }, orderBy: { externalId: "asc" }, select: { id: true } });
  await writeSelectionRound(db, { projectId: project.id, strategy: "random", coldStart: true, params: {}, stats: {}, items: caseRows.map((c, i) => ({ caseId: c.id, rank: i + 1, features: {} })) });
  return { users, projectId: project.id };
}

function startWorker(storageDir: string): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "workers/main.ts")], {
    cwd: root,
    // The schedule on: its per-minute check is what recovers a run the outage interrupted (the
    // test sends one such check itself rather than waiting for the minute).
    env: { ...process.env, DATABASE_URL: url, STORAGE_DIR: storageDir, LOOP_SCHEDULE: "on", LOG_LEVEL: "warn", NODE_ENV: "test", RADS_PROCESS: "worker" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr!.on("data", (chunk: Buffer) => (workerLog = (workerLog + chunk.toString()).slice(-20_000)));
  return child;
}

interface Outcome {
  ok: { userId: string; caseId: string; version: number; comment: string }[];
  errors: Map<string, number>;
  messages: string[];
}

/** One clinician: lease, submit, repeat — until `stop()` says so; every outcome recorded. */
async function clinicianLoop(actor: { id: string; role: "CLINICIAN"; name: string; email: string }, projectId: string, outcome: Outcome, running: () => boolean) {
  const caller = createCallerFactory(appRouter)({ db, actor });
  let n = 0;
  while (running()) {
    try {
      const lease = await caller.queue.next({ projectId });
      if (!lease) {
        outcome.errors.set("EMPTY_QUEUE", (outcome.errors.get("EMPTY_QUEUE") ?? 0) + 1);
        return;
      }
      const comment = `${actor.id}:${n++}`;
      const written = await caller.annotations.submit({ caseId: lease.caseId, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment }, timeSpentMs: 10 });
      outcome.ok.push({ userId: actor.id, caseId: lease.caseId, version: written.version, comment });
      // A clinician's pace (the raw hot path is fast enough to empty the queue before the outage).
      await sleep(100);
    } catch (error) {
      const code = error instanceof TRPCError ? error.code : "NOT_A_TRPC_ERROR";
      outcome.errors.set(code, (outcome.errors.get(code) ?? 0) + 1);
      if (code !== "SERVICE_UNAVAILABLE") outcome.messages.push(`${code}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause)}`);
      if (code === "SERVICE_UNAVAILABLE") expect((error as Error).message).toMatch(/database is unavailable/);
      await sleep(100);
    }
  }
}

describe("PostgreSQL restarted while clinicians submit", () => {
  it("answers SERVICE_UNAVAILABLE during the outage, loses no acknowledged submission, and recovers without restarting web or worker", async () => {
    const { users, projectId } = await setUp(4, CASES);
    const storageDir = path.join(dir, "storage");
    worker = startWorker(storageDir);
    boss = new PgBoss({ connectionString: url, schema: "pgboss", application_name: "rads-outage-test" });
    boss.on("error", () => undefined); // the test's own sender sees the outage too; it is not under test
    await boss.start();
    // The worker is up once its queues exist.
    for (let i = 0; i < 200 && !(await boss.getQueue("embed")); i++) await sleep(100);

    // A job in flight when the database goes: a long embed (3,000 cases, batches of 2).
    const big = await db.project.create({ data: { name: "Outage embed project", labelSchema: TEST_LABEL_SCHEMA, minorityClasses: ["suspicious"], selectionParams: {}, settings: {}, encoderConfig: { kind: "builtin", dim: 32 } }, select: { id: true } });
    await db.case.createMany({ data: Array.from({ length: 3000 }, (_, i) => ({ projectId: big.id, externalId: `b-${i}`, narrative: `Note ${i}: ${i % 3 ? "stable" : "new opacity"}.`, split: "POOL" as const })) });
    const inFlight = await enqueueJobRun(db, { kind: "embed", projectId: big.id, payload: { projectId: big.id, batchSize: 2 }, dedupeKey: `embed:${big.id}:in-flight`, requestedById: null });
    await boss.send("embed", { jobRunId: inFlight.jobRunId, projectId: big.id });

    const outcome: Outcome = { ok: [], errors: new Map(), messages: [] };
    let running = true;
    const loops = users.map((u) => clinicianLoop(u as { id: string; role: "CLINICIAN"; name: string; email: string }, projectId, outcome, () => running));
    // Submissions are flowing before the outage (waited for, not timed: a loaded CI machine is slow to warm up).
    for (const until = Date.now() + 20_000; outcome.ok.length < 3 && Date.now() < until; ) await sleep(100);
    const beforeOutage = outcome.ok.length;
    expect(beforeOutage).toBeGreaterThan(0);

    for (const until = Date.now() + 30_000; Date.now() < until; await sleep(50)) {
      const run = await db.jobRun.findUniqueOrThrow({ where: { id: inFlight.jobRunId } });
      if (run.status === "RUNNING" && run.percent > 0) break;
    }
    await embedded!.stop();
    await sleep(2500);
    const duringOutage = outcome.ok.length;
    // The refusals come as each clinician's next call reaches the database (waited for, not timed).
    for (const until = Date.now() + 20_000; !outcome.errors.get("SERVICE_UNAVAILABLE") && Date.now() < until; ) await sleep(100);
    await sleep(1000);
    // Nothing succeeds while the database is gone, and what fails says why.
    expect(outcome.ok.length).toBe(duringOutage);
    expect(outcome.errors.get("SERVICE_UNAVAILABLE") ?? 0, `errors during the outage: ${JSON.stringify([...outcome.errors])}; ${outcome.messages.slice(0, 5).join(" | ")}; ok ${outcome.ok.length}; worker: ${workerLog.slice(-1500)}`).toBeGreaterThan(0);

    embedded = await startEmbeddedPostgres({ dataDir: pgDir, port: PORT, database: "rads_outage" });
    const recoveredBy = Date.now() + 20_000;
    while (outcome.ok.length <= duringOutage && Date.now() < recoveredBy) await sleep(200);
    await sleep(1000);
    running = false;
    await Promise.all(loops);

    // Recovered on their own: submissions resumed after the restart with the same clients.
    expect(outcome.ok.length).toBeGreaterThan(duringOutage);
    // Every failure was the outage (an in-flight commit whose answer was lost would be retried as a
    // conflict by a real page; this loop starts each case fresh, so none is expected here).
    expect(outcome.messages).toEqual([]);
    // Every acknowledged submission is stored exactly once, with what was sent.
    const stored = await db.annotation.findMany({ where: { case: { projectId }, kind: "SUBMITTED" }, select: { authorId: true, caseId: true, version: true, comment: true } });
    const byComment = new Map(stored.map((a) => [a.comment, a]));
    expect(byComment.size).toBe(stored.length);
    for (const ack of outcome.ok) expect(byComment.get(ack.comment)).toMatchObject({ authorId: ack.userId, caseId: ack.caseId, version: ack.version });

    // No pool connection was lost with the transactions the outage broke: all ten (the pool's size)
    // can be inside a transaction at once. A leaked slot would leave this barrier waiting forever.
    let inside = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        db.$transaction(
          async (tx) => {
            await tx.$queryRaw`SELECT 1`;
            inside++;
            for (const until = Date.now() + 10_000; inside < 10; await sleep(20)) if (Date.now() > until) throw new Error(`only ${inside} of 10 pool connections usable after the restart`);
          },
          { maxWait: 12_000, timeout: 15_000 },
        ),
      ),
    );

    // The worker survived the outage and its queue connection came back: a job sent now runs.
    expect(worker.exitCode, workerLog).toBeNull();
    const job = await enqueueJobRun(db, { kind: "embed", projectId, payload: { projectId, batchSize: 64 }, dedupeKey: `embed:${projectId}:after-outage`, requestedById: null });
    await boss.send("embed", { jobRunId: job.jobRunId, projectId });
    let row = await db.jobRun.findUniqueOrThrow({ where: { id: job.jobRunId } });
    for (const deadline = Date.now() + 60_000; row.status !== "SUCCEEDED" && row.status !== "FAILED" && Date.now() < deadline; ) {
      await sleep(200);
      row = await db.jobRun.findUniqueOrThrow({ where: { id: job.jobRunId } });
    }
    expect(row.status, `${row.error ?? ""}\n${workerLog}`).toBe("SUCCEEDED");
    expect(await db.embedding.count({ where: { case: { projectId } } })).toBe(CASES);

    // The run the outage interrupted: the worker's recovery (the scheduled check, sent here at
    // once) re-delivers it and it completes, every case embedded once.
    await boss.send("retrain-check", {});
    let interrupted = await db.jobRun.findUniqueOrThrow({ where: { id: inFlight.jobRunId } });
    for (const deadline = Date.now() + 90_000; interrupted.status !== "SUCCEEDED" && interrupted.status !== "FAILED" && Date.now() < deadline; ) {
      await sleep(250);
      interrupted = await db.jobRun.findUniqueOrThrow({ where: { id: inFlight.jobRunId } });
    }
    expect(interrupted.status, `${interrupted.stage} ${interrupted.error ?? ""}\n${workerLog}`).toBe("SUCCEEDED");
    expect(interrupted.attempts).toBeGreaterThanOrEqual(2);
    expect(await db.embedding.count({ where: { case: { projectId: big.id } } })).toBe(3000);
    expect(worker.exitCode, workerLog).toBeNull();
  }, 150_000);
});
