/**
 * "Put into the next round with priority" end to end through the real select job: a data scientist
 * asks for two unlabelled POOL cases in the case browser; after the cold-start round is labelled,
 * trained on and approved, the select job's round queues them first (ranks 1 and 2, marked
 * `priority`), fills the rest of the budget with its strategy's picks, counts them in the round's
 * stats and clears the requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { submitAnnotation } from "@/server/services/annotation-service";
import { prioritizeCases } from "@/server/services/case-browser-service";
import { decideModel } from "@/server/services/review-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers } from "./loop-triggers";
import { createLoopProject, loadMtsamplesTask, startLoopWorker, stopLoopWorker, waitForJobRun, waitForNewJobRun, type LoopWorker } from "../testing/loop-fixtures";

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "rads-select-priority");
});

afterAll(() => stopLoopWorker(loop));

describe("select job and priority requests", () => {
  it("queues the requested cases first in the next model round and clears the requests", async () => {
    const [clinicianUser, reviewerUser, scientistUser] = [await createTestUser("CLINICIAN"), await createTestUser("REVIEWER"), await createTestUser("DATA_SCIENTIST")];
    const cases = loadMtsamplesTask({ size: 120, specialty: "Neurology", minorityShare: 0.15, seed: 5 });
    const budget = 6;
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [clinicianUser.id, reviewerUser.id, scientistUser.id],
      selectionParams: { strategy: "random", budget, mcPasses: 3 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false },
      encoderDim: 64,
      seedPerClass: 1,
    });
    const clinician = createServiceContext(db, clinicianUser);

    let since = new Date();
    await checkRetrainTriggers(loop.worker, projectId);
    const cold = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(cold.status, cold.error ?? "").toBe("SUCCEEDED");
    const round1 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 1 }, include: { items: { select: { caseId: true } } } });

    // Two POOL cases no round has queued, requested before the next round exists.
    const queued = new Set(round1.items.map((i) => i.caseId));
    const candidates = await db.case.findMany({ where: { projectId, split: "POOL" }, orderBy: { externalId: "desc" }, select: { id: true } });
    const wanted = candidates.filter((c) => !queued.has(c.id)).slice(0, 2).map((c) => c.id);
    expect(await prioritizeCases(createServiceContext(db, scientistUser), { projectId, caseIds: wanted })).toEqual({ requested: 2, alreadyRequested: 0 });

    // Taken before the submissions: the submission that completes the round asks any worker on the shared
    // queue for a retrain check, which may create the train run before the explicit check below does.
    since = new Date();
    for (const item of round1.items) {
      await submitAnnotation(clinician, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
    }
    await checkRetrainTriggers(loop.worker, projectId);
    const train = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "train", since)).id, 120_000);
    expect(train.status, train.error ?? "").toBe("SUCCEEDED");
    const model = await db.modelVersion.findFirstOrThrow({ where: { projectId, version: 1 } });
    since = new Date();
    await decideModel(createServiceContext(db, reviewerUser), { modelVersionId: model.id, decision: "approve", note: "ok" });
    const select = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id, 120_000);
    expect(select.status, select.error ?? "").toBe("SUCCEEDED");

    const round2 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 2 }, include: { items: { orderBy: { rank: "asc" }, select: { caseId: true, rank: true, features: true } } } });
    expect(round2.items).toHaveLength(budget);
    expect(round2.items.slice(0, 2).map((i) => i.caseId).sort()).toEqual([...wanted].sort());
    expect(round2.items.slice(0, 2).every((i) => (i.features as { priority?: boolean }).priority === true)).toBe(true);
    expect(round2.items.slice(2).some((i) => (i.features as { priority?: boolean }).priority === true)).toBe(false);
    expect(round2.items.map((i) => i.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((round2.stats as { priorityCases?: number }).priorityCases).toBe(2);
    expect(await db.case.count({ where: { projectId, priorityRequestedAt: { not: null } } })).toBe(0);
  }, 300_000);
});
