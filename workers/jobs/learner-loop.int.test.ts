/**
 * The new learner on the platform, end to end on real text (mtsamples, Neurology vs rest), a real
 * database and pg-boss: a project with the LSA encoder and the logistic head goes cold start →
 * labels → embed + train (a CANDIDATE with TEST metrics, its LSA fit stored in the blob store) →
 * approval → a BALD round of exactly B whose uncertainty comes from the bootstrap ensemble (a
 * linear ONNX head has no dropout, so MC passes would give BALD 0 everywhere) — which also carries the
 * calibrated "when to stop" estimate, returned by the selection page's service.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getSelectionStats } from "@/server/services/selection-stats";
import { parseRemainingMinority } from "@/contracts/remaining-minority";
import { testDb } from "@/server/testing/fixtures";
import { startLoopWorker, stopLoopWorker, type LoopWorker } from "../testing/loop-fixtures";
import { approve, coldStartRound, createLoopTestProject, expectJobSucceeds, labelAndTrain } from "../testing/loop-test-project";

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "rads-learner");
});

afterAll(() => stopLoopWorker(loop));

describe("LSA encoder + logistic head on the platform", () => {
  it("embeds with a stored LSA fit, trains a logistic CANDIDATE with metrics, and selects B cases by bootstrap BALD after approval", async () => {
    const budget = 20;
    const project = await createLoopTestProject(db, {
      seed: 17,
      selectionParams: { strategy: "bald", budget, mcPasses: 8 },
      settings: { fourEyes: false, head: { kind: "logistic" } },
      seedPerClass: 1,
    });
    const { projectId, truth } = project;
    await db.project.update({ where: { id: projectId }, data: { encoderConfig: { kind: "lsa", dim: 100 } } });

    const round1 = await coldStartRound(db, loop, projectId);
    await labelAndTrain(db, loop, project, round1.id, 180_000);
    const model = await db.modelVersion.findFirstOrThrow({ where: { projectId, version: 1 } });
    expect(model.status).toBe("CANDIDATE");
    // Vectors of the LSA encoder, whose fitted state is in the blob store.
    expect(model.encoderVersion).toMatch(/^lsa-text-v1-d100-n300-t\d+-[0-9a-f]{16}$/);
    const stored = fs.readdirSync(path.join(loop.storageDir, "encoders", projectId));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^lsa-d100-[0-9a-f]{32}\.bin$/);
    expect(await db.embedding.count({ where: { encoderVersion: model.encoderVersion, case: { projectId } } })).toBe(300);
    const params = model.params as { headKind: string; trainer: string; shape: { hidden: number[] }; logistic: { prefixEnsemble: number[]; chosenC: number[] } };
    expect(params).toMatchObject({ headKind: "logistic", trainer: "cpu-logistic-head", shape: { hidden: [] }, logistic: { prefixEnsemble: [50, 100] } });
    expect(params.logistic.chosenC).toHaveLength(2);
    const metrics = model.metrics as { testCases: number; exportMaxAbsDiff: number; test: { perClass: { auprc: number | null }[] } };
    expect(metrics.testCases).toBeGreaterThan(0);
    expect(metrics.exportMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    const minorityAuprc = metrics.test.perClass[0]!.auprc!;
    expect(minorityAuprc).toBeGreaterThan(0);

    await expectJobSucceeds(db, (await approve(db, project, model.id)).id, 180_000);
    const round2 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 2 } });
    expect(round2.strategy).toBe("bald");
    const items2 = await db.queueItem.findMany({ where: { roundId: round2.id }, select: { features: true } });
    expect(items2).toHaveLength(budget);
    const mi = items2.map((i) => (i.features as { mutualInformation: number }).mutualInformation);
    // The bootstrap members disagree: positive mutual information, and not the same for every case.
    expect(Math.max(...mi)).toBeGreaterThan(0);
    expect(Math.max(...mi) - Math.min(...mi)).toBeGreaterThan(0);

    // "When to stop": the estimate from K calibrated bootstrap members of the approved head is stored with
    // the round, over the round's pool, and names what it rests on.
    const stats2 = round2.stats as { poolSize: number; remainingMinority: unknown };
    const stop = parseRemainingMinority(stats2.remainingMinority);
    expect(stop, JSON.stringify(stats2.remainingMinority)).not.toBeNull();
    const snapshot = (model.trainingSnapshot as { cases: { label: string }[] }).cases;
    const minorityKey = "minority";
    expect(stop!.basis).toMatchObject({ method: "calibrated-bootstrap", members: 8, modelVersion: 1, labelled: snapshot.length, labelledMinority: snapshot.filter((c) => c.label === minorityKey).length });
    expect(stop!.poolSize).toBe(stats2.poolSize);
    expect(stop!.lo).toBeLessThanOrEqual(stop!.estimate);
    expect(stop!.hi).toBeGreaterThanOrEqual(stop!.estimate);
    expect(stop!.hi).toBeLessThanOrEqual(stop!.poolSize);
    // Found = the minority cases labelled outside TEST, at most those the clinician labelled in round 1 plus the seed case.
    const labelledMinority = round1.items.filter((i) => truth.get(i.caseId)!.label === minorityKey).length + 1;
    expect(stop!.found).toBeLessThanOrEqual(labelledMinority);
    expect(stop!.expectedRecall).toBeCloseTo(stop!.found / (stop!.found + stop!.estimate), 9);
    // The selection page's service returns it with the round (the page renders it: remaining-minority.tsx).
    const view = await getSelectionStats(project.scientist, { projectId });
    expect(view.rounds.find((r) => r.number === 2)!.remainingMinority).toEqual(stop);
  }, 400_000);
});
