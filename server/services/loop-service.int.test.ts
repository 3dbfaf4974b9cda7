import { afterAll, describe, expect, it } from "vitest";
import { createServiceContext } from "./context";
import { stopJobClient } from "./enqueue-job";
import { getCasePrediction, listProjectJobs, requestTraining } from "./loop-service";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";

const db = testDb();

afterAll(async () => {
  await stopJobClient();
});

async function approvedModelWithPrediction(projectId: string, caseId: string) {
  const model = await db.modelVersion.create({ data: { projectId, version: 1, status: "APPROVED", encoderVersion: "test" } });
  await db.prediction.create({ data: { caseId, modelVersionId: model.id, probabilities: [0.1, 0.2, 0.7], predictedLabel: "suspicious", confidence: 0.7 } });
  return model;
}

describe("case prediction for clinicians", () => {
  it("is hidden unless the project shows predictions, and a non-member finds no case", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const outsider = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 3 });
    const model = await approvedModelWithPrediction(projectId, caseIds[0]!);
    const ctx = createServiceContext(db, clinician);

    expect(await getCasePrediction(ctx, { caseId: caseIds[0]! })).toEqual({ shown: false, prediction: null });

    await db.project.update({ where: { id: projectId }, data: { settings: { annotationsPerCase: 1, showPredictions: true } } });
    const shown = await getCasePrediction(ctx, { caseId: caseIds[0]! });
    expect(shown.prediction).toMatchObject({ label: "suspicious", labelName: "Suspicious", confidence: 0.7, modelVersion: 1, modelVersionId: model.id });
    expect(shown.prediction!.probabilities.map((p) => p.probability)).toEqual([0.1, 0.2, 0.7]);
    // A case without a prediction of the active model.
    expect(await getCasePrediction(ctx, { caseId: caseIds[1]! })).toEqual({ shown: true, prediction: null });
    // A retired model's prediction is not shown.
    await db.modelVersion.update({ where: { id: model.id }, data: { status: "RETIRED" } });
    expect((await getCasePrediction(ctx, { caseId: caseIds[0]! })).prediction).toBeNull();

    await expect(getCasePrediction(createServiceContext(db, outsider), { caseId: caseIds[0]! })).rejects.toThrow(/No such case/);
  });
});

describe("jobs panel and retrain button", () => {
  it("queues one training per label state, audited, and lists it for members only", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const outsider = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 2 });
    const ctx = createServiceContext(db, scientist);

    const first = await requestTraining(ctx, { projectId });
    expect(first.created).toBe(true);
    const again = await requestTraining(createServiceContext(db, scientist), { projectId });
    expect(again).toMatchObject({ jobRunId: first.jobRunId, created: false });
    expect(await db.auditEvent.count({ where: { action: "job.train-requested", projectId } })).toBe(2);

    const listed = await listProjectJobs(ctx, { projectId, limit: 50 });
    expect(listed.jobs).toHaveLength(1);
    expect(listed.jobs[0]).toMatchObject({ id: first.jobRunId, kind: "train", status: "QUEUED", percent: 0 });

    // A failed run does not block the button: the next request queues a new run.
    await db.jobRun.update({ where: { id: first.jobRunId }, data: { status: "FAILED", error: "boom" } });
    const retry = await requestTraining(createServiceContext(db, scientist), { projectId });
    expect(retry.created).toBe(true);
    expect(retry.jobRunId).not.toBe(first.jobRunId);

    await expect(listProjectJobs(createServiceContext(db, outsider), { projectId, limit: 50 })).rejects.toThrow(/No such project/);
    await expect(requestTraining(createServiceContext(db, outsider), { projectId })).rejects.toThrow(/No such project/);
  });
});
