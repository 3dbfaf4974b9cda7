import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { createServiceContext } from "./context";
import { stopJobClient } from "./enqueue-job";
import { listProjectJobs } from "./loop-service";
import { getModelReview } from "./review-service";
import { getSelectionStats } from "./selection-stats";

afterAll(async () => {
  await stopJobClient();
  await testDb().$disconnect();
});

async function predict(modelVersionId: string, caseIds: string[], label: (i: number) => string) {
  await testDb().prediction.createMany({
    data: caseIds.map((caseId, i) => ({ caseId, modelVersionId, probabilities: [0.6, 0.3, 0.1], predictedLabel: label(i), confidence: 0.6 })),
  });
}

describe("minority watch (a selector that sees no minority says so)", () => {
  it("warns on the selection, jobs and review answers when the active model predicts no minority case, and not when it predicts some", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const reviewer = await createTestUser("REVIEWER");
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id, reviewer.id], cases: 12 });
    const asScientist = createServiceContext(testDb(), scientist);

    // No active model: nothing is claimed.
    expect((await getSelectionStats(asScientist, { projectId })).minorityWatch.status).toBe("no-model");

    const blind = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0], seed: 3, labelCount: 20, rounds: [] });
    await predict(blind.id, caseIds, (i) => (i % 2 ? "benign" : "normal"));
    await testDb().selectionRound.create({ data: { projectId, number: 1, strategy: "rads", modelVersionId: blind.id, stats: { pseudoMinorityPrior: 0 } } });

    const stats = await getSelectionStats(asScientist, { projectId });
    expect(stats.minorityWatch).toMatchObject({ status: "blind", predictedMinority: 0, predictedPool: 12, rounds: [{ number: 1, poolPrior: 0 }], minorityNames: ["Suspicious"] });
    expect(stats.minorityWatch.message).toContain("0 of 12 pool cases");
    expect(stats.minorityWatch.message).toContain("0.0 %");
    expect(stats.minorityWatch.suggestions.join(" ")).toMatch(/seed positives.*case browser.*another strategy/s);
    expect((await listProjectJobs(asScientist, { projectId, limit: 10 })).minorityWatch.status).toBe("blind");
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.8], seed: 4, labelCount: 30, rounds: [1] });
    expect((await getModelReview(createServiceContext(testDb(), reviewer), { modelVersionId: candidate.id })).minorityWatch.status).toBe("blind");

    // A model that predicts the minority for some pool cases, with a round whose π̂₊ is not ~0: no warning.
    await testDb().modelVersion.update({ where: { id: blind.id }, data: { status: "RETIRED" } });
    const seeing = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.8], seed: 5, labelCount: 30, rounds: [1] });
    await predict(seeing.id, caseIds, (i) => (i < 2 ? "suspicious" : "normal"));
    await testDb().selectionRound.create({ data: { projectId, number: 2, strategy: "rads", modelVersionId: seeing.id, stats: { pseudoMinorityPrior: 0.15 } } });
    const after = await getSelectionStats(asScientist, { projectId });
    expect(after.minorityWatch).toMatchObject({ status: "ok", modelVersion: seeing.version, predictedMinority: 2, predictedPool: 12, message: null, suggestions: [] });

    // π̂₊ alone is enough evidence: a newer round of the same model at 0 % warns even though some predictions are minority.
    await testDb().selectionRound.create({ data: { projectId, number: 3, strategy: "rads", modelVersionId: seeing.id, stats: { pseudoMinorityPrior: 0.001 } } });
    expect((await getSelectionStats(asScientist, { projectId })).minorityWatch.status).toBe("blind");
  });
});
