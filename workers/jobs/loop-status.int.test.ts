/**
 * What the loop waits for is stored where the UI reads it: a trigger deferred by
 * settings.minTrainingIntervalMinutes says when the training starts and on what it rests, and is
 * cleared by the check that queues the training (or by a training queued meanwhile); a fully
 * annotated round whose labels add nothing trainable says how many of its cases wait for
 * adjudication. The deferral is reported (logged) once, not at every minute's check.
 * Times are passed to the check as `now`; nothing here waits for a clock.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { listProjectJobs, projectLoopStatus } from "@/server/services/loop-service";
import { writeSelectionRound } from "@/server/services/selection-rounds";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers, outcomeWorthLogging } from "./loop-triggers";
import { labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import { createLoopProject, testWorkerContext, type LoopCase } from "../testing/loop-fixtures";

const db = testDb();
const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-loop-status-"));
const worker = testWorkerContext(db, storageDir, null);

afterAll(() => {
  fs.rmSync(storageDir, { recursive: true, force: true });
});

const testCase = (i: number, split: LoopCase["split"]): LoopCase => ({ externalId: `s-${String(i).padStart(3, "0")}`, narrative: `Report ${i}: chest pain on exertion.`, label: i % 3 === 0 ? "minority" : "rest", split });

async function project(retrainTriggers: { onRoundComplete: boolean; everyNLabels: number | null }) {
  const [a, b] = [await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
  const scientist = await createTestUser("DATA_SCIENTIST");
  const cases = [...Array.from({ length: 12 }, (_, i) => testCase(i, "POOL")), testCase(100, "TEST")];
  const { projectId } = await createLoopProject(db, cases, {
    memberIds: [a.id, b.id, scientist.id],
    selectionParams: { strategy: "random", budget: 3 },
    settings: { minTrainingIntervalMinutes: 10, retrainTriggers: { ...retrainTriggers, scheduleHours: null } },
    encoderDim: 32,
    seedPerClass: 2,
  });
  const pool = await db.case.findMany({ where: { projectId, split: "POOL" }, orderBy: { externalId: "asc" }, select: { id: true } });
  const vote = (caseId: string, authorId: string, label: string) => db.annotation.create({ data: { caseId, authorId, version: 1, kind: "SUBMITTED", labels: [label] } });
  return { projectId, pool: pool.map((p) => p.id), a, b, scientist, vote };
}

/** A model registered at `at`, trained on the project's current labels (what a finished training leaves). */
async function modelAt(projectId: string, at: Date, version = 1) {
  const { training } = await labelledSets(db, projectId, projectClasses(await db.project.findUniqueOrThrow({ where: { id: projectId } })));
  await db.modelVersion.create({ data: { projectId, version, status: "APPROVED", encoderVersion: "builtin", metrics: {}, trainingSnapshot: { trainingSetHash: trainingSetHash(training) }, params: {}, createdAt: at } });
}

const trainRuns = (projectId: string) => db.jobRun.count({ where: { projectId, kind: "train" } });

describe("the loop's status, stored for the UI", () => {
  it("a deferred training says when it starts, is logged once, and is cleared when the training is queued", async () => {
    const { projectId, pool, a, scientist, vote } = await project({ onRoundComplete: false, everyNLabels: 1 });
    const registered = new Date(Date.now() - 3_600_000);
    await modelAt(projectId, registered, 3);
    await vote(pool[0]!, a.id, "minority"); // new since the model: the trigger fires
    const until = new Date(registered.getTime() + 10 * 60_000);

    const first = await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 8 * 60_000));
    expect(first.actions).toContain("train:n-labels:deferred");
    expect(first.statusChanged).toBe(true);
    expect(outcomeWorthLogging(first)).toBe(true);
    const read = await projectLoopStatus(db, projectId, new Date(registered.getTime() + 8 * 60_000));
    expect(read).toMatchObject({ kind: "deferred", reason: "n-labels", until: until.toISOString(), minIntervalMinutes: 10, latestModelVersion: 3, overdue: false });

    // The every-minute check finds the same deferral: nothing new to store or log, and the time first decided is kept.
    const again = await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 9 * 60_000));
    expect(again.actions).toContain("train:n-labels:deferred");
    expect(again.statusChanged).toBe(false);
    expect(outcomeWorthLogging(again)).toBe(false);
    expect(await projectLoopStatus(db, projectId, new Date(registered.getTime() + 9 * 60_000))).toEqual(read);
    // Past `until` with no check yet: still stored, marked overdue.
    expect((await projectLoopStatus(db, projectId, new Date(until.getTime() + 1000)))?.overdue).toBe(true);

    // The data scientist's jobs page carries it (and the interval), the status row is not listed as a job.
    const jobs = await listProjectJobs(createServiceContext(db, scientist), { projectId, limit: 50 });
    expect(jobs.loopStatus?.kind).toBe("deferred");
    expect(jobs.minTrainingIntervalMinutes).toBe(10);
    expect(jobs.jobs.filter((j) => j.kind === "retrain-check")).toEqual([]);

    // At the interval's end the check queues the training and clears the status.
    const atEnd = await checkRetrainTriggers(worker, projectId, until);
    expect(atEnd.actions).toContain("train:n-labels");
    expect(atEnd.statusChanged).toBe(true);
    expect(atEnd.status).toBeNull();
    expect(await trainRuns(projectId)).toBe(1);
    expect(await projectLoopStatus(db, projectId, until)).toBeNull();
    expect((await listProjectJobs(createServiceContext(db, scientist), { projectId, limit: 50 })).loopStatus).toBeNull();
  });

  it("a training queued meanwhile (Retrain now) hides a stored deferral", async () => {
    const { projectId, pool, a, vote } = await project({ onRoundComplete: false, everyNLabels: 1 });
    const registered = new Date(Date.now() - 3_600_000);
    await modelAt(projectId, registered);
    await vote(pool[0]!, a.id, "rest");
    await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 60_000));
    expect((await projectLoopStatus(db, projectId))?.kind).toBe("deferred");
    await db.jobRun.create({ data: { projectId, kind: "train", status: "QUEUED", dedupeKey: `train:${projectId}:manual:test` } });
    expect(await projectLoopStatus(db, projectId)).toBeNull();
  });

  it("archiving the project clears a stored deferral (no training will come)", async () => {
    const { projectId, pool, a, vote } = await project({ onRoundComplete: false, everyNLabels: 1 });
    const registered = new Date(Date.now() - 3_600_000);
    await modelAt(projectId, registered);
    await vote(pool[0]!, a.id, "rest");
    await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 60_000));
    expect((await projectLoopStatus(db, projectId))?.kind).toBe("deferred");
    await db.project.update({ where: { id: projectId }, data: { archivedAt: new Date() } });
    const outcome = await checkRetrainTriggers(worker, projectId, new Date(registered.getTime() + 2 * 60_000));
    expect(outcome).toMatchObject({ actions: [], status: null, statusChanged: true });
    expect(await projectLoopStatus(db, projectId)).toBeNull();
  });

  it("a finished round whose cases all disagree says nothing is trainable and how many wait for adjudication", async () => {
    const { projectId, pool, a, b, scientist, vote } = await project({ onRoundComplete: true, everyNLabels: null });
    const registered = new Date(Date.now() - 3_600_000);
    await modelAt(projectId, registered);
    const round = await writeSelectionRound(db, { projectId, strategy: "random", coldStart: false, params: {}, stats: {}, items: pool.slice(0, 3).map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    for (const caseId of pool.slice(0, 3)) {
      await vote(caseId, a.id, "minority");
      await vote(caseId, b.id, "rest");
    }
    await db.queueItem.updateMany({ where: { roundId: round.roundId }, data: { status: "DONE" } });
    const roundNumber = (await db.selectionRound.findUniqueOrThrow({ where: { id: round.roundId } })).number;

    const outcome = await checkRetrainTriggers(worker, projectId, new Date());
    expect(outcome.actions.filter((x) => x.startsWith("train"))).toEqual([]);
    expect(await projectLoopStatus(db, projectId)).toMatchObject({ kind: "no-trainable-labels", roundNumber, awaitingAdjudication: 3 });

    // Adjudicating one adds a trainable label: the training is queued (interval long passed) and the status clears.
    await db.annotation.create({ data: { caseId: pool[0]!, authorId: scientist.id, version: 1, kind: "ADJUDICATED", labels: ["minority"] } });
    const after = await checkRetrainTriggers(worker, projectId, new Date());
    expect(after.actions).toContain("train:round-complete");
    expect(await projectLoopStatus(db, projectId)).toBeNull();
  });
});
