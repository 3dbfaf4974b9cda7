/**
 * A speculative round is the round its approval would compute (select.ts): with a logistic head
 * (bootstrap uncertainty and calibrated stopping estimate from one refit) and platform RADS, the
 * round the approval's run computes afresh — its speculative run's result hidden from it — picks the
 * same cases in the same order with the same features, seed and stopping estimate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDb } from "@/server/testing/fixtures";
import { startLoopWorker, stopLoopWorker, type LoopWorker } from "../testing/loop-fixtures";
import { approve, coldStartRound, createLoopTestProject, expectJobSucceeds, labelAndTrain, waitForSpeculativeRun } from "../testing/loop-test-project";

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "select-fresh");
});

afterAll(() => stopLoopWorker(loop));

interface StoredRound {
  speculative: true;
  round: { picked: { caseId: string; rank: number; features: Record<string, unknown> }[]; stats: Record<string, unknown> };
}

/** `value` with every number rounded to 12 significant digits (deeply). */
function roundedNumbers(value: unknown): unknown {
  if (typeof value === "number") return Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(roundedNumbers);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundedNumbers(v)]));
  return value;
}

describe("speculative round vs the same round computed afresh", () => {
  it("selects the same cases with the same features and stopping estimate", async () => {
    const project = await createLoopTestProject(db, {
      seed: 23,
      selectionParams: { strategy: "rads", budget: 12, mcPasses: 4, episodes: 6 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false, head: { kind: "logistic" } },
      encoderDim: 64,
      seedPerClass: 2,
    });
    const { projectId } = project;
    const round1 = await coldStartRound(db, loop, projectId);
    const train = await labelAndTrain(db, loop, project, round1.id, 120_000);
    const modelVersionId = (train.result as { modelVersionId: string }).modelVersionId;
    const queued = await waitForSpeculativeRun(db, projectId, modelVersionId);
    const speculative = await expectJobSucceeds(db, queued.id, 120_000);
    const kept = speculative.result as unknown as StoredRound;
    expect(kept.speculative).toBe(true);
    expect(kept.round.picked).toHaveLength(12);

    // Hide the kept round: the approval's run then computes the round itself.
    await db.jobRun.update({ where: { id: queued.id }, data: { result: { skipped: "hidden by the test" } } });
    const select = await expectJobSucceeds(db, (await approve(db, project, modelVersionId)).id, 120_000);
    const result = select.result as { roundId: string; speculative: string };
    expect(result.speculative).toBe('none ("hidden by the test")');

    const round2 = await db.selectionRound.findUniqueOrThrow({ where: { id: result.roundId }, include: { items: { orderBy: { rank: "asc" }, select: { caseId: true, rank: true, features: true } } } });
    expect(round2.items.map((i) => i.caseId)).toEqual(kept.round.picked.map((p) => p.caseId));
    expect(round2.items.map((i) => i.features)).toEqual(kept.round.picked.map((p) => p.features));
    const stats = round2.stats as Record<string, unknown>;
    expect(stats.remainingMinority).toMatchObject({ basis: { method: "calibrated-bootstrap" } });
    for (const field of ["seed", "poolSize", "poolHistograms", "featureSample", "pseudoMinorityPrior", "remainingMinorityStatus"]) {
      expect(stats[field], field).toEqual(kept.round.stats[field]);
    }
    // The fresh round's estimate is patched in after publication by a jsonb merge, which keeps all 17
    // digits of a double where Prisma's JSON write keeps 15–16: equal to 12 significant digits.
    expect(stats.remainingMinorityStatus).toBe("ready");
    expect(roundedNumbers(stats.remainingMinority)).toEqual(roundedNumbers(kept.round.stats.remainingMinority));
  }, 600_000);
});
