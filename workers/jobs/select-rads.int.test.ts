/**
 * The select job's RADS rounds on real text (mtsamples, Neurology vs rest) with a real database and
 * pg-boss: the first model round trains its agent from scratch and stores it as a blob; the next
 * round warm-starts from it; both rounds carry the stopping estimate (minority cases left in the
 * pool) in their stats.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { submitAnnotation } from "@/server/services/annotation-service";
import { decideModel } from "@/server/services/review-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers } from "./loop-triggers";
import { createLoopProject, loadMtsamplesTask, startLoopWorker, stopLoopWorker, waitForJobRun, waitForNewJobRun, type LoopWorker, type LoopCase } from "../testing/loop-fixtures";

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "rads-select");
});

afterAll(() => stopLoopWorker(loop));

async function labelRound(ctx: ReturnType<typeof createServiceContext>, roundId: string, truth: Map<string, LoopCase>) {
  const items = await db.queueItem.findMany({ where: { roundId }, orderBy: { rank: "asc" }, select: { caseId: true } });
  for (const item of items) {
    await submitAnnotation(ctx, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
  }
}

/** Label the open round, train on it, approve the candidate and wait for the select job it triggers; returns the new round. */
async function nextModelRound(
  projectId: string, roundId: string, truth: Map<string, LoopCase>, clinician: ReturnType<typeof createServiceContext>, reviewer: ReturnType<typeof createServiceContext>, version: number,
) {
  // Taken before labelling: the submission that completes the round asks any worker on the shared queue for a
  // retrain check, which may create the train run before the explicit check below does.
  let since = new Date();
  await labelRound(clinician, roundId, truth);
  await checkRetrainTriggers(loop.worker, projectId);
  const train = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "train", since)).id, 120_000);
  expect(train.status, train.error ?? "").toBe("SUCCEEDED");
  const model = await db.modelVersion.findFirstOrThrow({ where: { projectId, version } });
  since = new Date();
  await decideModel(reviewer, { modelVersionId: model.id, decision: "approve", note: "ok" });
  const select = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id, 120_000);
  expect(select.status, select.error ?? "").toBe("SUCCEEDED");
  return db.selectionRound.findFirstOrThrow({ where: { projectId, number: version + 1 } });
}

describe("select job with RADS", () => {
  it("stores the agent, warm-starts the next round from it and records the stopping estimate", async () => {
    const clinicianUser = await createTestUser("CLINICIAN");
    const reviewerUser = await createTestUser("REVIEWER");
    const cases = loadMtsamplesTask({ size: 300, specialty: "Neurology", minorityShare: 0.1, seed: 11 });
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [clinicianUser.id, reviewerUser.id],
      selectionParams: { strategy: "rads", budget: 25, mcPasses: 3, episodes: 8 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false },
      encoderDim: 64,
      seedPerClass: 1,
    });
    const clinician = createServiceContext(db, clinicianUser);
    const reviewer = createServiceContext(db, reviewerUser);
    const since = new Date();
    await checkRetrainTriggers(loop.worker, projectId);
    const cold = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(cold.status, cold.error ?? "").toBe("SUCCEEDED");
    const round1 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 1 } });

    const round2 = await nextModelRound(projectId, round1.id, truth, clinician, reviewer, 1);
    const s2 = round2.stats as Record<string, unknown>;
    expect(s2).toMatchObject({ strategy: "rads", variant: "platform", warmStarted: false, agentRounds: 1, episodes: 8 });
    expect(s2.agentStateKey).toBe(`projects/${projectId}/rads-agent/round-2.json`);
    expect(fs.existsSync(path.join(loop.storageDir, s2.agentStateKey as string))).toBe(true);
    expect(typeof s2.labelledMinority).toBe("number");
    const stop2 = s2.remainingMinority as { estimate: number; lo: number; hi: number; found: number; poolSize: number; expectedRecall: number };
    expect(stop2.poolSize).toBe(s2.poolSize);
    expect(stop2.lo).toBeLessThanOrEqual(stop2.estimate);
    expect(stop2.hi).toBeGreaterThanOrEqual(stop2.estimate);
    expect(stop2.found).toBe(s2.labelledMinority);
    expect(stop2.expectedRecall).toBeGreaterThanOrEqual(0);
    expect(stop2.expectedRecall).toBeLessThanOrEqual(1);

    const round3 = await nextModelRound(projectId, round2.id, truth, clinician, reviewer, 2);
    const s3 = round3.stats as Record<string, unknown>;
    // Warm start: min(warmEpisodes, episodes) episodes, and the agent has now seen two rounds.
    expect(s3).toMatchObject({ strategy: "rads", warmStarted: true, agentRounds: 2, episodes: 8 });
    expect(s3.agentStateKey).toBe(`projects/${projectId}/rads-agent/round-3.json`);
    // Round 2's labels are known now: as many labelled minority cases in the state as in round 2's, or more.
    expect(s3.labelledMinority as number).toBeGreaterThanOrEqual(s2.labelledMinority as number);
    expect((s3.remainingMinority as { found: number }).found).toBeGreaterThanOrEqual(stop2.found);
  }, 300_000);
});
