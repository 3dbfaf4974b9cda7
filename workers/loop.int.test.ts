/**
 * The whole active-learning loop on real text (../shared/data/text/mtsamples, Neurology vs the
 * rest, 600 cases, TEST split by text group), on the real database and a real pg-boss worker in
 * this process: cold-start queue → a clinician labels it → the round is complete → train →
 * CANDIDATE → a reviewer approves → RADS round from the approved model → the clinician labels it →
 * hit rate from the revealed labels.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { submitAnnotation } from "@/server/services/annotation-service";
import { decideModel } from "@/server/services/review-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers, computeRoundHitRate } from "./jobs/loop-triggers";
import { createLoopProject, loadMtsamplesTask, startLoopWorker, stopLoopWorker, waitForJobRun, waitForNewJobRun, type LoopWorker, type LoopCase } from "./testing/loop-fixtures";

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "rads-loop");
});

afterAll(() => stopLoopWorker(loop));

async function labelRound(clinicianCtx: ReturnType<typeof createServiceContext>, roundId: string, truth: Map<string, LoopCase>) {
  const items = await db.queueItem.findMany({ where: { roundId }, orderBy: { rank: "asc" }, select: { caseId: true } });
  for (const item of items) {
    // The clinician reads the case and gives the label the data set has for it.
    await submitAnnotation(clinicianCtx, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
  }
  return items.map((i) => i.caseId);
}

describe("active-learning loop on MTSamples (Neurology vs rest)", () => {
  it("cold start → labels → train → CANDIDATE → approve → RADS round → hit rate, never training on TEST", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const reviewer = await createTestUser("REVIEWER");
    const cases = loadMtsamplesTask({ size: 600, specialty: "Neurology", minorityShare: 0.1, seed: 7 });
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [clinician.id, reviewer.id],
      selectionParams: { strategy: "rads", budget: 40, rho: 0.9, lambda: 0.01, mcPasses: 5, episodes: 12 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false },
      encoderDim: 128,
    });
    const testIds = new Set([...truth].filter(([, c]) => c.split === "TEST").map(([id]) => id));
    expect(testIds.size).toBeGreaterThan(60);
    const clinicianCtx = createServiceContext(db, clinician);

    // 1. No round yet: the trigger asks for a cold start.
    let since = new Date();
    expect((await checkRetrainTriggers(loop.worker, projectId)).actions).toEqual(["select:cold-start"]);
    const coldRun = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(coldRun.status, coldRun.error ?? "").toBe("SUCCEEDED");
    const round1 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 1 }, include: { _count: { select: { items: true } } } });
    expect(round1.coldStart).toBe(true);
    expect(round1.strategy).toBe("cold-start");
    expect(round1._count.items).toBe(40);

    // 2. The clinician labels the whole queue; the complete round triggers training.
    const labelled1 = await labelRound(clinicianCtx, round1.id, truth);
    since = new Date();
    expect((await checkRetrainTriggers(loop.worker, projectId)).actions).toEqual(["hit-rate:1", "train:round-complete"]);
    const trainRun = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "train", since)).id);
    expect(trainRun.status, trainRun.error ?? "").toBe("SUCCEEDED");
    expect(trainRun.percent).toBe(100);
    // The same labels do not train twice, however often the check runs.
    expect((await checkRetrainTriggers(loop.worker, projectId)).actions).toEqual([]);

    const candidates = await db.modelVersion.findMany({ where: { projectId } });
    expect(candidates).toHaveLength(1);
    const model = candidates[0]!;
    expect(model.status).toBe("CANDIDATE");
    expect(model.artifactKey).toBe(`models/${projectId}/1/head.onnx`);
    expect(fs.existsSync(path.join(loop.storageDir, model.artifactKey!))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(loop.storageDir, `models/${projectId}/1/card.json`), "utf8")).onnx.sha256).toBe(model.checksum);
    const snapshot = model.trainingSnapshot as { cases: { caseId: string; split: string; round: number | null }[]; testSplit: { cases: number; inTraining: number }; rounds: number[] };
    expect(snapshot.cases.map((c) => c.caseId).sort()).toEqual([...labelled1].sort());
    expect(snapshot.cases.filter((c) => testIds.has(c.caseId))).toEqual([]);
    expect(snapshot.testSplit).toEqual({ cases: testIds.size, inTraining: 0 });
    expect(snapshot.rounds).toEqual([1]);
    const metrics = model.metrics as { test: { n: number; perClass: unknown[] } };
    expect(metrics.test.n).toBe(testIds.size);

    // 3. A reviewer approves; the approval's select job runs RADS with the approved model.
    since = new Date();
    await decideModel(createServiceContext(db, reviewer), { modelVersionId: model.id, decision: "approve", note: "good enough for round 2" });
    const selectRun = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(selectRun.status, selectRun.error ?? "").toBe("SUCCEEDED");
    const round2 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 2 }, include: { items: { orderBy: { rank: "asc" } } } });
    expect(round2.coldStart).toBe(false);
    expect(round2.strategy).toBe("rads");
    expect(round2.modelVersionId).toBe(model.id);
    expect(round2.items).toHaveLength(40);
    expect(round2.items.filter((i) => testIds.has(i.caseId) || labelled1.includes(i.caseId))).toEqual([]);
    const stats = round2.stats as Record<string, unknown>;
    // With stored embeddings rads weighs cosine redundancy at its own λ (0.1); the project's λ (0.01) is for pools without them.
    expect(stats).toMatchObject({ budget: 40, k: 5, episodes: 12, lambda: 0.1, redundancy: "embedding", hitRate: null });
    expect(stats.returnCurve).toHaveLength(12);
    expect(typeof stats.pseudoMinorityPrior).toBe("number");
    // The pool's feature distributions are kept with the round (the pool changes as cases get labelled).
    const histograms = stats.poolHistograms as Record<"bald" | "entropy" | "utility", { edges: number[]; counts: number[] }>;
    for (const feature of ["bald", "entropy", "utility"] as const) {
      expect(histograms[feature].counts.reduce((a, b) => a + b, 0), feature).toBe(stats.poolSize);
      expect(histograms[feature].edges).toHaveLength(21);
    }
    expect(Object.keys(round2.items[0]!.features as object)).toEqual(expect.arrayContaining(["bald", "entropy", "utility", "classWeight", "pseudoLabel", "pseudoLabelKey"]));
    // The active model's predictions for clinicians, one per case.
    expect(await db.prediction.count({ where: { modelVersionId: model.id } })).toBe(600);

    // 4. The clinician labels round 2; its hit rate comes from the revealed labels.
    const labelled2 = await labelRound(clinicianCtx, round2.id, truth);
    const hits = labelled2.filter((id) => truth.get(id)!.label === "minority").length;
    const hit = await computeRoundHitRate(db, round2.id);
    expect(hit).toMatchObject({ selected: 40, annotated: 40, minorityHits: hits, hitRate: hits / 40 });
    const trainingLabels = [...labelled1, ...labelled2].map((id) => truth.get(id)!.label);
    expect(hit.labelledPrior).toBeCloseTo(trainingLabels.filter((l) => l === "minority").length / trainingLabels.length, 12);
    since = new Date();
    expect((await checkRetrainTriggers(loop.worker, projectId)).actions).toEqual(["hit-rate:2", "train:round-complete"]);
    const stored = await db.selectionRound.findUniqueOrThrow({ where: { id: round2.id } });
    expect((stored.stats as { hitRate: { minorityHits: number } }).hitRate.minorityHits).toBe(hits);
    const retrain = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "train", since)).id);
    expect(retrain.status, retrain.error ?? "").toBe("SUCCEEDED");
    const v2 = await db.modelVersion.findFirstOrThrow({ where: { projectId, version: 2 } });
    expect((v2.trainingSnapshot as { rounds: number[] }).rounds).toEqual([1, 2]);
    expect((v2.trainingSnapshot as { cases: { caseId: string }[] }).cases.some((c) => testIds.has(c.caseId))).toBe(false);
  }, 120_000);
});
