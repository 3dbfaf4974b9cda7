/**
 * Speculative rounds (select.ts speculativeRun) with a real database and pg-boss: the train job asks
 * for the candidate's round as soon as the candidate is registered; its approval publishes that round
 * unchanged; a round whose inputs changed in between (labels, pool) is discarded and recomputed; a
 * rejected candidate's round is never published and its agent is deleted at the next publication.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { submitAnnotation } from "@/server/services/annotation-service";
import { decideModel } from "@/server/services/review-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers, enqueueLoopJob } from "./loop-triggers";
import { speculativeSelectDedupeKey } from "./select";
import { createLoopProject, loadMtsamplesTask, startLoopWorker, stopLoopWorker, waitForJobRun, waitForNewJobRun, type LoopCase, type LoopWorker } from "../testing/loop-fixtures";

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "select-speculative");
});

afterAll(() => stopLoopWorker(loop));

type Ctx = ReturnType<typeof createServiceContext>;

async function labelRound(ctx: Ctx, roundId: string, truth: Map<string, LoopCase>) {
  const items = await db.queueItem.findMany({ where: { roundId }, orderBy: { rank: "asc" }, select: { caseId: true } });
  for (const item of items) {
    await submitAnnotation(ctx, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
  }
}

/** The candidate a finished train run registered, and its speculative select run once that has finished. */
async function candidateWithSpeculativeRound(projectId: string, since: Date) {
  const train = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "train", since)).id, 120_000);
  expect(train.status, train.error ?? "").toBe("SUCCEEDED");
  const modelVersionId = (train.result as { modelVersionId: string }).modelVersionId;
  const key = speculativeSelectDedupeKey(projectId, modelVersionId);
  // The train run is SUCCEEDED when it registers the candidate; it asks for the speculative round right after.
  let queued = await db.jobRun.findUnique({ where: { dedupeKey: key } });
  for (const deadline = Date.now() + 30_000; !queued && Date.now() < deadline; queued = await db.jobRun.findUnique({ where: { dedupeKey: key } })) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!queued) throw new Error(`no speculative select run for ${modelVersionId}`);
  const speculative = await waitForJobRun(db, queued.id, 120_000);
  expect(speculative.status, speculative.error ?? "").toBe("SUCCEEDED");
  const result = speculative.result as { speculative: true; round: { picked: { caseId: string }[]; agentKey: string | null } };
  expect(result.speculative).toBe(true);
  return { modelVersionId, result };
}

async function approveAndWait(reviewer: Ctx, projectId: string, modelVersionId: string) {
  const since = new Date();
  await decideModel(reviewer, { modelVersionId, decision: "approve", note: "ok" });
  const select = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id, 120_000);
  expect(select.status, select.error ?? "").toBe("SUCCEEDED");
  return select.result as { number: number; roundId: string; speculative: string };
}

const itemsOf = async (roundId: string) => (await db.queueItem.findMany({ where: { roundId }, orderBy: { rank: "asc" }, select: { caseId: true } })).map((i) => i.caseId);

describe("speculative rounds", () => {
  it("are published on approval, discarded when the labels changed, and never published for a rejected candidate", async () => {
    const clinicianUser = await createTestUser("CLINICIAN");
    const reviewerUser = await createTestUser("REVIEWER");
    const cases = loadMtsamplesTask({ size: 300, specialty: "Neurology", minorityShare: 0.1, seed: 21 });
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [clinicianUser.id, reviewerUser.id],
      selectionParams: { strategy: "rads", budget: 20, mcPasses: 3, episodes: 6 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false },
      encoderDim: 64,
      seedPerClass: 1,
    });
    const clinician = createServiceContext(db, clinicianUser);
    const reviewer = createServiceContext(db, reviewerUser);
    let since = new Date();
    await checkRetrainTriggers(loop.worker, projectId);
    const cold = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(cold.status, cold.error ?? "").toBe("SUCCEEDED");
    const round1 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 1 } });

    // 1. Published: the approval's round is the speculative one, item for item, and its agent moves to the round's key.
    since = new Date();
    await labelRound(clinician, round1.id, truth);
    await checkRetrainTriggers(loop.worker, projectId);
    const v1 = await candidateWithSpeculativeRound(projectId, since);
    expect(v1.result.round.picked).toHaveLength(20);
    expect(await db.selectionRound.count({ where: { projectId } })).toBe(1);
    const published = await approveAndWait(reviewer, projectId, v1.modelVersionId);
    expect(published.speculative).toBe("published");
    expect(published.number).toBe(2);
    expect(await itemsOf(published.roundId)).toEqual(v1.result.round.picked.map((p) => p.caseId));
    const round2 = await db.selectionRound.findUniqueOrThrow({ where: { id: published.roundId } });
    expect(round2.modelVersionId).toBe(v1.modelVersionId);
    const s2 = round2.stats as { agentStateKey: string; speculative: string; warmStarted: boolean };
    expect(s2).toMatchObject({ speculative: "published", agentStateKey: `projects/${projectId}/rads-agent/round-2.json`, warmStarted: false });
    expect(fs.existsSync(path.join(loop.storageDir, s2.agentStateKey))).toBe(true);
    expect(fs.existsSync(path.join(loop.storageDir, v1.result.round.agentKey!))).toBe(false);

    // 2. Labels changed between the candidate and its approval: the speculative round is discarded and the round recomputed.
    since = new Date();
    await labelRound(clinician, round2.id, truth);
    await checkRetrainTriggers(loop.worker, projectId);
    const v2 = await candidateWithSpeculativeRound(projectId, since);
    const extra = await db.case.findFirstOrThrow({ where: { projectId, split: "POOL", annotations: { none: {} }, queueItems: { none: {} } }, select: { id: true } });
    await db.case.update({ where: { id: extra.id }, data: { split: "SEED", importedLabel: truth.get(extra.id)!.label } });
    const recomputed = await approveAndWait(reviewer, projectId, v2.modelVersionId);
    expect(recomputed.speculative).toMatch(/^discarded: .*labels.* changed/);
    expect(recomputed.number).toBe(3);
    const round3 = await db.selectionRound.findUniqueOrThrow({ where: { id: recomputed.roundId } });
    expect(round3.modelVersionId).toBe(v2.modelVersionId);
    expect(await itemsOf(round3.id)).not.toContain(extra.id);
    expect((round3.stats as { warmStarted: boolean; agentStateKey: string })).toMatchObject({ warmStarted: true, agentStateKey: `projects/${projectId}/rads-agent/round-3.json` });

    // 3. Rejected: no round for the candidate; the next approved candidate publishes its own, and the rejected one's agent is gone.
    since = new Date();
    await labelRound(clinician, round3.id, truth);
    await checkRetrainTriggers(loop.worker, projectId);
    const v3 = await candidateWithSpeculativeRound(projectId, since);
    expect(fs.existsSync(path.join(loop.storageDir, v3.result.round.agentKey!))).toBe(true);
    await decideModel(reviewer, { modelVersionId: v3.modelVersionId, decision: "reject", note: "no" });
    await checkRetrainTriggers(loop.worker, projectId);
    since = new Date();
    const another = await db.case.findFirstOrThrow({ where: { projectId, split: "POOL", annotations: { none: {} }, queueItems: { none: {} } }, select: { id: true } });
    await db.case.update({ where: { id: another.id }, data: { split: "SEED", importedLabel: truth.get(another.id)!.label } });
    await enqueueLoopJob(loop.worker, { kind: "train", projectId, payload: { projectId, reason: "manual" }, dedupeKey: `test:${projectId}:after-reject` });
    const v4 = await candidateWithSpeculativeRound(projectId, since);
    const round4 = await approveAndWait(reviewer, projectId, v4.modelVersionId);
    expect(round4).toMatchObject({ speculative: "published", number: 4 });
    expect(await itemsOf(round4.roundId)).toEqual(v4.result.round.picked.map((p) => p.caseId));
    expect(await db.selectionRound.count({ where: { projectId, modelVersionId: v3.modelVersionId } })).toBe(0);
    expect(fs.existsSync(path.join(loop.storageDir, v3.result.round.agentKey!))).toBe(false);
  }, 600_000);
});

describe("select job after the label schema changed under the approved model", () => {
  it("writes a cold-start round and asks for a retrain instead of selecting with the stale head", async () => {
    const clinicianUser = await createTestUser("CLINICIAN");
    const reviewerUser = await createTestUser("REVIEWER");
    const cases = loadMtsamplesTask({ size: 200, specialty: "Neurology", minorityShare: 0.1, seed: 22 });
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [clinicianUser.id, reviewerUser.id],
      selectionParams: { strategy: "entropy", budget: 20, mcPasses: 3 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false },
      encoderDim: 64,
      seedPerClass: 1,
    });
    const clinician = createServiceContext(db, clinicianUser);
    const reviewer = createServiceContext(db, reviewerUser);
    let since = new Date();
    await checkRetrainTriggers(loop.worker, projectId);
    const cold = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(cold.status, cold.error ?? "").toBe("SUCCEEDED");
    const round1 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 1 } });
    since = new Date();
    await labelRound(clinician, round1.id, truth);
    await checkRetrainTriggers(loop.worker, projectId);
    const v1 = await candidateWithSpeculativeRound(projectId, since);
    const round2 = await approveAndWait(reviewer, projectId, v1.modelVersionId);
    await labelRound(clinician, round2.roundId, truth);

    // A third label joins the schema: the approved head scores two classes, the project now has three.
    const project = await db.project.findUniqueOrThrow({ where: { id: projectId }, select: { labelSchema: true } });
    const schema = project.labelSchema as { labels: { key: string; name: string; shortcut: string }[]; multiLabel: boolean };
    const changedAt = new Date();
    await db.project.update({ where: { id: projectId }, data: { labelSchema: { ...schema, labels: [...schema.labels, { key: "other", name: "Other", shortcut: "3" }] } } });
    const run = await enqueueLoopJob(loop.worker, { kind: "select", projectId, payload: { projectId, reason: "manual" }, dedupeKey: `test:${projectId}:after-schema-change` });
    const select = await waitForJobRun(db, run.jobRunId, 120_000);
    expect(select.status, select.error ?? "").toBe("SUCCEEDED");
    const result = select.result as { labelSetChanged: { trainedWith: string[]; now: string[] }; retrainJobRunId: string | null; coldStart: boolean; created: boolean; number: number };
    expect(result.labelSetChanged).toEqual({ trainedWith: ["minority", "rest"], now: ["minority", "rest", "other"] });
    expect(result).toMatchObject({ coldStart: true, created: true, number: 3 });
    const round3 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 3 } });
    expect(round3.coldStart).toBe(true);
    expect(result.retrainJobRunId).not.toBeNull();
    const retrain = await db.jobRun.findUniqueOrThrow({ where: { id: result.retrainJobRunId! } });
    expect(retrain.kind).toBe("train");
    // A new training, not the one that produced the approved model (same labels, old schema).
    expect(retrain.createdAt.getTime()).toBeGreaterThanOrEqual(changedAt.getTime());
  }, 300_000);
});
