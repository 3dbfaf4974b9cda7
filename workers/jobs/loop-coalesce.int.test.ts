/**
 * Retraining triggers are coalesced per project (issue 16): a burst of triggers queues one training,
 * a trigger inside settings.minTrainingIntervalMinutes of the latest model waits for the interval's
 * end instead of training at once, and is not lost — the check asks for itself again at that end
 * (a pg-boss message with startAfter, one waiting per project), when the training is queued.
 * Times are passed to the check as `now`; nothing here waits for or measures a clock.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers, deferredCheckKey, RETRAIN_CHECK_JOB, scheduleLoopCheck } from "./loop-triggers";
import { labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import { createLoopProject, testWorkerContext, type LoopCase } from "../testing/loop-fixtures";

const db = testDb();
const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-loop-coalesce-"));
const worker = testWorkerContext(db, storageDir, null);
let boss: PgBoss;

beforeAll(async () => {
  boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, schema: "pgboss", application_name: "rads-coalesce-test" });
  await boss.start();
  await boss.createQueue(RETRAIN_CHECK_JOB);
});
afterAll(async () => {
  await boss?.stop({ graceful: false, wait: true });
  fs.rmSync(storageDir, { recursive: true, force: true });
});

const NARRATIVES = ["Headache with aura.", "Knee pain after a fall.", "Seizure witnessed by family.", "Chest pain on exertion.", "Numbness of the left hand."];
const testCase = (i: number, split: LoopCase["split"]): LoopCase => ({ externalId: `c-${String(i).padStart(3, "0")}`, narrative: `Report ${i}: ${NARRATIVES[i % NARRATIVES.length]}`, label: i % 3 === 0 ? "minority" : "rest", split });

/** A project that retrains after every new label, with `minTrainingIntervalMinutes`; SEED cases of both classes carry imported labels. */
async function project(minTrainingIntervalMinutes: number) {
  const clinician = await createTestUser("CLINICIAN");
  const cases = [...Array.from({ length: 20 }, (_, i) => testCase(i, "POOL")), testCase(100, "TEST")];
  const { projectId } = await createLoopProject(db, cases, {
    memberIds: [clinician.id],
    selectionParams: { strategy: "random", budget: 5 },
    settings: { minTrainingIntervalMinutes, retrainTriggers: { onRoundComplete: false, everyNLabels: 1, scheduleHours: null } },
    encoderDim: 32,
    seedPerClass: 2,
  });
  const pool = await db.case.findMany({ where: { projectId, split: "POOL" }, orderBy: { externalId: "asc" }, select: { id: true } });
  let next = 0;
  /** One more submitted label (a new training set). */
  const label = () => db.annotation.create({ data: { caseId: pool[next++]!.id, authorId: clinician.id, version: 1, kind: "SUBMITTED", labels: [next % 2 ? "rest" : "minority"] } });
  return { projectId, label };
}

const trainActions = (outcome: { actions: string[] }) => outcome.actions.filter((a) => a.startsWith("train"));
const trainRuns = (projectId: string) => db.jobRun.count({ where: { projectId, kind: "train" } });

/** A model registered at `at`, trained on the project's current labels (what a finished training leaves). */
async function modelAt(projectId: string, at: Date) {
  const { training } = await labelledSets(db, projectId, projectClasses(await db.project.findUniqueOrThrow({ where: { id: projectId } })));
  await db.modelVersion.create({ data: { projectId, version: 1, status: "CANDIDATE", encoderVersion: "builtin", metrics: {}, trainingSnapshot: { trainingSetHash: trainingSetHash(training) }, params: {}, createdAt: at } });
}

describe("retraining triggers, coalesced per project", () => {
  it("a burst of triggers queues one training: later ones fold into the queued run and ask for a later check", async () => {
    const { projectId, label } = await project(10);
    const outcomes = [];
    for (let i = 0; i < 6; i++) {
      await label(); // each trigger sees a new training set, so the dedupe key alone would queue six
      outcomes.push(await checkRetrainTriggers(worker, projectId));
    }
    expect(outcomes.map(trainActions)).toEqual([["train:n-labels"], ...Array.from({ length: 5 }, () => ["train:n-labels:coalesced"])]);
    expect(await trainRuns(projectId)).toBe(1);
    expect(outcomes[0]!.checkAgainAt).toBeUndefined();
    for (const o of outcomes.slice(1)) expect(o.checkAgainAt).toBeInstanceOf(Date);

    // Once the queued run has finished, the labels that came meanwhile are still new: the next check (after the interval) trains them.
    await db.jobRun.updateMany({ where: { projectId, kind: "train" }, data: { status: "SUCCEEDED" } });
    const registered = new Date(Date.now() - 3_600_000);
    await db.modelVersion.create({ data: { projectId, version: 1, status: "CANDIDATE", encoderVersion: "builtin", metrics: {}, trainingSnapshot: { trainingSetHash: "an older set" }, params: {}, createdAt: registered } });
    await label();
    expect(trainActions(await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 10 * 60_000)))).toEqual(["train:n-labels"]);
    expect(await trainRuns(projectId)).toBe(2);
  });

  it("holds a trigger inside the minimum interval and queues its training when the interval ends", async () => {
    const { projectId, label } = await project(10);
    await label();
    const registered = new Date(Date.now() - 3_600_000);
    await modelAt(projectId, registered);
    await label(); // new since the model: the trigger fires

    const early = await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 4 * 60_000));
    expect(trainActions(early)).toEqual(["train:n-labels:deferred"]);
    expect(early.checkAgainAt).toEqual(new Date(registered.getTime() + 10 * 60_000));
    expect(await trainRuns(projectId)).toBe(0);

    // The check asked for at the interval's end finds the trigger still holding and queues the training.
    const atEnd = await checkRetrainTriggers(worker, projectId, early.checkAgainAt);
    expect(trainActions(atEnd)).toEqual(["train:n-labels"]);
    expect(atEnd.checkAgainAt).toBeUndefined();
    expect(await trainRuns(projectId)).toBe(1);
  });

  it("with a minimum interval of 0 trains at once after a model", async () => {
    const { projectId, label } = await project(0);
    await label();
    const registered = new Date(Date.now() - 3_600_000);
    await modelAt(projectId, registered);
    await label();
    expect(trainActions(await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 1000)))).toEqual(["train:n-labels"]);
  });

  it("keeps one deferred check waiting per project, delivered at the time asked for", async () => {
    const projectId = `project-${Date.now()}`;
    const at = new Date(Date.now() + 3_600_000);
    expect(await scheduleLoopCheck(boss, projectId, at, "interval")).toBe(true);
    expect(await scheduleLoopCheck(boss, projectId, new Date(at.getTime() + 60_000), "interval")).toBe(false);
    // Another kind (the spacing of on-demand checks) waits on its own.
    expect(await scheduleLoopCheck(boss, projectId, new Date(Date.now() + 5_000), "spacing")).toBe(true);
    const { rows } = await boss.getDb().executeSql("SELECT data->>'projectId' AS project, start_after FROM pgboss.job WHERE name = $1 AND singleton_key = $2", [RETRAIN_CHECK_JOB, deferredCheckKey(projectId, "interval")]);
    expect(rows).toHaveLength(1);
    expect(rows[0].project).toBe(projectId);
    expect(new Date(rows[0].start_after).getTime()).toBe(at.getTime());
  });
});
