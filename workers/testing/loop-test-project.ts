/**
 * The set-up the learner-loop integration tests share (learner-loop, select-fresh, select-estimate):
 * a project of real MTSamples cases (Neurology vs rest) with a clinician, a reviewer and a data
 * scientist as members, and the loop's steps as those users take them — the cold-start round, a
 * round labelled with the true labels, the train run it starts, an approval and the select run it
 * starts. Every job run these helpers wait for must succeed (the test fails with the run's error).
 */
import { expect } from "vitest";
import type { Db, Prisma } from "@/server/db/client";
import { submitAnnotation } from "@/server/services/annotation-service";
import { createServiceContext, type ServiceContext } from "@/server/services/context";
import { decideModel } from "@/server/services/review-service";
import { createTestUser } from "@/server/testing/fixtures";
import { checkRetrainTriggers } from "../jobs/loop-triggers";
import { speculativeSelectDedupeKey } from "../jobs/select";
import { createLoopProject, loadMtsamplesTask, waitForJobRun, waitForNewJobRun, type LoopCase, type LoopWorker } from "./loop-fixtures";

export interface LoopTestProject {
  projectId: string;
  /** Each case's task row (its true label) by case id. */
  truth: Map<string, LoopCase>;
  clinician: ServiceContext;
  reviewer: ServiceContext;
  scientist: ServiceContext;
}

/**
 * A project of 300 MTSamples cases (one per text group, about 10 % Neurology = "minority", drawn
 * with `seed`; loadMtsamplesTask) made by createLoopProject with the given selection parameters,
 * settings, encoder dimension and seed cases per class; a new clinician, reviewer and data
 * scientist are its members.
 */
export async function createLoopTestProject(
  db: Db,
  options: { seed: number; selectionParams: Prisma.InputJsonObject; settings?: Prisma.InputJsonObject; encoderDim?: number; seedPerClass?: number },
): Promise<LoopTestProject> {
  const [clinicianUser, reviewerUser, scientistUser] = [await createTestUser("CLINICIAN"), await createTestUser("REVIEWER"), await createTestUser("DATA_SCIENTIST")];
  const { seed, ...projectOptions } = options;
  const cases = loadMtsamplesTask({ size: 300, specialty: "Neurology", minorityShare: 0.1, seed });
  const { projectId, truth } = await createLoopProject(db, cases, { memberIds: [clinicianUser.id, reviewerUser.id, scientistUser.id], ...projectOptions });
  return {
    projectId,
    truth,
    clinician: createServiceContext(db, clinicianUser),
    reviewer: createServiceContext(db, reviewerUser),
    scientist: createServiceContext(db, scientistUser),
  };
}

/** Waits for the JobRun (waitForJobRun) and expects it SUCCEEDED, its error as the message otherwise; returns the row. */
export async function expectJobSucceeds(db: Db, jobRunId: string, timeoutMs?: number) {
  const run = await waitForJobRun(db, jobRunId, timeoutMs);
  expect(run.status, run.error ?? "").toBe("SUCCEEDED");
  return run;
}

/** Round `number` of the project with its items' case ids by rank, or null while there is none. */
export function roundNumbered(db: Db, projectId: string, number: number) {
  return db.selectionRound.findFirst({ where: { projectId, number }, include: { items: { orderBy: { rank: "asc" }, select: { caseId: true } } } });
}

/** The cold start: the loop check asks for the first round, whose select run must succeed; returns round 1 with its items. */
export async function coldStartRound(db: Db, loop: LoopWorker, projectId: string) {
  const since = new Date();
  await checkRetrainTriggers(loop.worker, projectId);
  await expectJobSucceeds(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
  const round = await roundNumbered(db, projectId, 1);
  if (!round) throw new Error(`the cold-start select run of project ${projectId} wrote no round 1`);
  return round;
}

/** Submits every item of the round, by rank, as `project.clinician` with the case's true label. */
export async function labelRound(db: Db, project: LoopTestProject, roundId: string) {
  const items = await db.queueItem.findMany({ where: { roundId }, orderBy: { rank: "asc" }, select: { caseId: true } });
  for (const item of items) {
    const content = { labels: [project.truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" };
    await submitAnnotation(project.clinician, { caseId: item.caseId, expectedVersion: 0, content, timeSpentMs: 1000 });
  }
}

/**
 * Labels the round (labelRound), runs the loop check and waits for the train run that follows; it
 * must succeed. `since` is taken before the submissions: the one that completes the round asks any
 * worker on the shared queue for a retrain check, which may create the train run before this one does.
 */
export async function labelAndTrain(db: Db, loop: LoopWorker, project: LoopTestProject, roundId: string, timeoutMs: number) {
  const since = new Date();
  await labelRound(db, project, roundId);
  await checkRetrainTriggers(loop.worker, project.projectId);
  return expectJobSucceeds(db, (await waitForNewJobRun(db, project.projectId, "train", since)).id, timeoutMs);
}

/**
 * The speculative select run a successful train run asks for right after registering its candidate
 * (select.ts, `speculativeSelectDedupeKey`), as soon as it is queued (perhaps still running); throws
 * when none is queued within `timeoutMs`.
 */
export async function waitForSpeculativeRun(db: Db, projectId: string, modelVersionId: string, timeoutMs = 30_000) {
  const dedupeKey = speculativeSelectDedupeKey(projectId, modelVersionId);
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const queued = await db.jobRun.findUnique({ where: { dedupeKey } });
    if (queued) return queued;
    if (Date.now() > deadline) throw new Error(`no speculative select run for ${modelVersionId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The reviewer approves the model version; returns the select JobRun the approval queued (perhaps still running). */
export async function approve(db: Db, project: LoopTestProject, modelVersionId: string) {
  const since = new Date();
  await decideModel(project.reviewer, { modelVersionId, decision: "approve", note: "ok" });
  return waitForNewJobRun(db, project.projectId, "select", since);
}
