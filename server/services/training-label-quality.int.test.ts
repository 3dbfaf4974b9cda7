import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { createServiceContext } from "./context";
import { stopJobClient } from "./enqueue-job";
import { requestAdjudication } from "./adjudication-service";
import { getModelReview } from "./review-service";

afterAll(async () => {
  await stopJobClient();
  await testDb().$disconnect();
});

describe("model review: the agreement of the candidate's training labels", () => {
  it("reaches the review data: alpha over the training cases as of training time, and the label sources from the snapshot", async () => {
    const reviewer = await createTestUser("REVIEWER");
    const [a, b] = [await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
    const { projectId, caseIds } = await createTestProject({ memberIds: [reviewer.id, a.id, b.id], cases: 11 });
    const model = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.85], seed: 3, labelCount: 10, rounds: [1] });
    const trainedAt = (await testDb().modelVersion.findUniqueOrThrow({ where: { id: model.id }, select: { createdAt: true } })).createdAt;
    const before = new Date(trainedAt.getTime() - 60_000);
    const after = new Date(trainedAt.getTime() + 60_000);
    const annotate = (caseId: string, authorId: string, version: number, label: string, createdAt: Date) =>
      testDb().annotation.create({ data: { caseId, authorId, version, labels: [label], kind: "SUBMITTED", createdAt } });

    // Training cases 0..9: A and B disagree on cases 3, 6 and 9.
    const byA = ["normal", "normal", "normal", "normal", "benign", "benign", "benign", "suspicious", "suspicious", "suspicious"];
    const byB = ["normal", "normal", "normal", "benign", "benign", "benign", "suspicious", "suspicious", "suspicious", "normal"];
    for (let i = 0; i < 10; i++) {
      await annotate(caseIds[i]!, a.id, 1, byA[i]!, before);
      await annotate(caseIds[i]!, b.id, 1, byB[i]!, before);
    }
    // After training B changed case 0 (not what the model was trained on), and case 10 is not a training case.
    await annotate(caseIds[0]!, b.id, 2, "suspicious", after);
    await annotate(caseIds[10]!, a.id, 1, "normal", before);
    await annotate(caseIds[10]!, b.id, 1, "suspicious", before);
    await testDb().modelVersion.update({
      where: { id: model.id },
      data: {
        trainingSnapshot: {
          labelCount: 10,
          rounds: [1],
          cases: caseIds.slice(0, 10).map((caseId) => ({ caseId, split: "POOL", labelSource: "consensus" })),
          labelRule: "adjudicated, else majority, else imported, else excluded",
          labelSources: { adjudicated: 3, consensus: 6, imported: 1 },
        },
      },
    });

    const review = await getModelReview(createServiceContext(testDb(), reviewer), { modelVersionId: model.id });
    const q = review.labelQuality;
    expect(q.rule).toBe("adjudicated, else majority, else imported, else excluded");
    expect(q.sources).toEqual({ adjudicated: 3, consensus: 6, imported: 1 });
    expect(q.trainingCases).toBe(10);
    expect(q.casesWithTwoOrMore).toBe(10);
    // By hand: 7 of 10 agree. Krippendorff's nominal alpha, 20 pairable values (normal 8, benign 6,
    // suspicious 6), 6 off-diagonal coincidences: 1 − 19·6 / (20² − 8² − 6² − 6²) = 1 − 114/264.
    expect(q.percentAgreement.value).toBeCloseTo(0.7, 10);
    expect(q.krippendorffAlpha.value).toBeCloseTo(1 - 114 / 264, 3);
    expect(q.krippendorffAlpha.cases).toBe(10);
    expect(q.krippendorffAlpha.low!).toBeLessThanOrEqual(q.krippendorffAlpha.value!);
    expect(q.krippendorffAlpha.high!).toBeGreaterThanOrEqual(q.krippendorffAlpha.value!);

    // A model from before the rule was recorded: no sources, no training cases, empty estimates — not an error.
    const old = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.85], seed: 4, labelCount: 5, rounds: [1] });
    const oldQ = (await getModelReview(createServiceContext(testDb(), reviewer), { modelVersionId: old.id })).labelQuality;
    expect(oldQ).toMatchObject({ rule: null, sources: null, trainingCases: 0, casesWithTwoOrMore: 0 });
    expect(oldQ.krippendorffAlpha).toMatchObject({ value: null, cases: 0 });
  });

  it("lists the suspected label errors stored with the model, by external id and largest margin first; sending one to adjudication shows it queued", async () => {
    const reviewer = await createTestUser("REVIEWER");
    const { projectId, caseIds } = await createTestProject({ memberIds: [reviewer.id], cases: 3 });
    const model = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.85], seed: 5, labelCount: 3, rounds: [1] });
    const stored = await testDb().modelVersion.findUniqueOrThrow({ where: { id: model.id }, select: { metrics: true } });
    const labelErrors = {
      method: "confident-learning",
      folds: 3,
      thresholds: { normal: 0.8, benign: 0.5, suspicious: 0.4 },
      flaggedCount: 3,
      cases: [
        { caseId: caseIds[2]!, given: "normal", suggested: "suspicious", pGiven: 0.1, pSuggested: 0.85, margin: 0.75 },
        { caseId: "deleted-case", given: "normal", suggested: "benign", pGiven: 0.2, pSuggested: 0.7, margin: 0.5 },
        { caseId: caseIds[0]!, given: "benign", suggested: "normal", pGiven: 0.3, pSuggested: 0.6, margin: 0.3 },
      ],
    };
    await testDb().modelVersion.update({ where: { id: model.id }, data: { metrics: { ...(stored.metrics as object), labelErrors, labelErrorsSkipped: null } } });
    const ctx = createServiceContext(testDb(), reviewer);
    let review = await getModelReview(ctx, { modelVersionId: model.id });
    expect(review.labelErrors).toMatchObject({ flaggedCount: 3, folds: 3, skipped: null, canSendToAdjudication: true });
    expect(review.labelErrors.rows!.map((r) => [r.externalId, r.given, r.suggested, r.margin, r.inAdjudication])).toEqual([
      ["case-0002", "normal", "suspicious", 0.75, false],
      ["case-0000", "benign", "normal", 0.3, false],
    ]);

    expect(await requestAdjudication(ctx, { projectId, caseId: review.labelErrors.rows![0]!.caseId })).toEqual({ requested: true });
    review = await getModelReview(ctx, { modelVersionId: model.id });
    expect(review.labelErrors.rows!.map((r) => r.inAdjudication)).toEqual([true, false]);

    // A model without a recorded list (trained before it existed): rows null, not an error.
    const old = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.85], seed: 6, labelCount: 3, rounds: [1] });
    expect((await getModelReview(ctx, { modelVersionId: old.id })).labelErrors).toMatchObject({ rows: null, flaggedCount: 0, skipped: null });
  });
});
