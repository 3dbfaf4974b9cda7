/**
 * The label set changed under the approved model (a class added, removed or reordered in the
 * project's label schema after the model was trained): the loop check asks for a round when none is
 * open, and the select job writes a cold-start round instead of selecting with the stale head, asks
 * for the retraining when labels of two classes exist, and says why in the round's stats — the one
 * line the selection page shows beside the round's strategy. Real PostgreSQL; the jobs run in this
 * process (no pg-boss: the worker context's wake-ups are dropped, the runs are executed directly).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { writeSelectionRound } from "@/server/services/selection-rounds";
import { getSelectionStats } from "@/server/services/selection-stats";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { executeJobRun } from "./job-runtime";
import { labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import { checkRetrainTriggers, trainDedupeKey } from "./loop-triggers";
import { selectJob } from "./select";
import { createLoopProject, LOOP_LABEL_SCHEMA, testWorkerContext, type LoopCase } from "../testing/loop-fixtures";

const db = testDb();
const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-select-label-set-"));
const worker = testWorkerContext(db, storageDir, null);

afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));

const NARRATIVES = ["Headache with aura and photophobia.", "Knee pain after a fall, swelling.", "Seizure witnessed by family.", "Chest pain on exertion.", "Numbness of the left hand.", "Cough and fever for three days."];
const testCase = (i: number, split: LoopCase["split"]): LoopCase => ({ externalId: `c-${String(i).padStart(3, "0")}`, narrative: `Report ${i}: ${NARRATIVES[i % NARRATIVES.length]}`, label: i % 3 === 0 ? "minority" : "rest", split });

/**
 * A project whose approved model v1 was trained with ["minority", "rest"] and whose round from that
 * model is fully annotated (no round open). `seedPerClass` SEED cases per class carry imported labels.
 */
async function projectWithApprovedModel(seedPerClass: number) {
  const scientist = await createTestUser("DATA_SCIENTIST");
  const cases = [...Array.from({ length: 30 }, (_, i) => testCase(i, "POOL")), testCase(100, "TEST"), testCase(101, "TEST")];
  const { projectId } = await createLoopProject(db, cases, { memberIds: [scientist.id], selectionParams: { strategy: "entropy", budget: 5, mcPasses: 3 }, encoderDim: 32, seedPerClass });
  const classes = projectClasses(await db.project.findUniqueOrThrow({ where: { id: projectId } }));
  const { training } = await labelledSets(db, projectId, classes);
  const model = await db.modelVersion.create({
    data: { projectId, version: 1, status: "APPROVED", encoderVersion: "builtin", metrics: {}, trainingSnapshot: { trainingSetHash: trainingSetHash(training) }, params: { classes: ["minority", "rest"] } },
  });
  const pool = await db.case.findMany({ where: { projectId, split: "POOL" }, orderBy: { externalId: "asc" }, take: 3, select: { id: true } });
  const round = await writeSelectionRound(db, { projectId, strategy: "entropy", coldStart: false, modelVersionId: model.id, params: {}, stats: {}, items: pool.map((c, i) => ({ caseId: c.id, rank: i + 1, features: {} })) });
  await db.queueItem.updateMany({ where: { roundId: round.roundId }, data: { status: "DONE" } });
  return { projectId, scientist, model };
}

async function addClass(projectId: string) {
  await db.project.update({ where: { id: projectId }, data: { labelSchema: { ...LOOP_LABEL_SCHEMA, labels: [...LOOP_LABEL_SCHEMA.labels, { key: "other", name: "Other", shortcut: "3" }] } } });
}

/** Runs the select JobRun the loop check queued (its dedupe key names the label-set change) in this process. */
async function runLabelSetSelect(projectId: string) {
  const run = await db.jobRun.findFirstOrThrow({ where: { projectId, kind: "select", dedupeKey: { startsWith: `select:${projectId}:label-set:` } } });
  const outcome = await executeJobRun(selectJob.spec, worker, run.id, true);
  expect(outcome.status, JSON.stringify(outcome)).toBe("succeeded");
  return (outcome as { result: Record<string, unknown> }).result;
}

describe("select job after the label set changed under the approved model", () => {
  it("writes a cold-start round that says why, asks for the retraining once, and the selection page shows the reason", async () => {
    const { projectId, scientist } = await projectWithApprovedModel(2);
    // Unchanged label set: the loop check only stores the finished round's hit rate (the approved model has its round).
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["hit-rate:1"]);

    await addClass(projectId);
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["select:label-set-changed"]);
    const result = await runLabelSetSelect(projectId);
    expect(result).toMatchObject({ coldStart: true, created: true, number: 2, labelSetChanged: { trainedWith: ["minority", "rest"], now: ["minority", "rest", "other"] } });
    const reason = "Label set changed since model v1 was trained (added: other): cold start instead of a round from that model; retraining queued.";
    expect(result.reason).toBe(reason);

    const round2 = await db.selectionRound.findFirstOrThrow({ where: { projectId, number: 2 }, include: { _count: { select: { items: true } } } });
    expect(round2).toMatchObject({ coldStart: true, strategy: "cold-start" });
    expect(round2._count.items).toBe(5);
    expect(round2.stats).toMatchObject({ reason, labelSetChanged: { trainedWith: ["minority", "rest"], now: ["minority", "rest", "other"], modelVersion: 1 } });

    // The retraining: one train run keyed by the labels and the new label set (the loop check's own key).
    const classes = projectClasses(await db.project.findUniqueOrThrow({ where: { id: projectId } }));
    const { training } = await labelledSets(db, projectId, classes);
    const train = await db.jobRun.findUniqueOrThrow({ where: { id: result.retrainJobRunId as string } });
    expect(train).toMatchObject({ kind: "train", dedupeKey: trainDedupeKey(projectId, trainingSetHash(training), ["minority", "rest", "other"]) });

    const stats = await getSelectionStats(createServiceContext(db, scientist), { projectId });
    expect(stats.rounds.find((r) => r.number === 2)?.reason).toBe(reason);
    expect(stats.rounds.find((r) => r.number === 1)?.reason).toBeNull();

    // A round is open now: the loop check asks for nothing more, and the same change is handled once.
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual([]);
    await db.queueItem.updateMany({ where: { roundId: round2.id }, data: { status: "SKIPPED" } });
    expect((await checkRetrainTriggers(worker, projectId)).actions).not.toContain("select:label-set-changed");
    expect(await db.jobRun.count({ where: { projectId, kind: "train" } })).toBe(1);
  });

  it("without labels of two classes writes the cold start and says it cannot retrain yet", async () => {
    const { projectId } = await projectWithApprovedModel(0);
    await addClass(projectId);
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["hit-rate:1", "select:label-set-changed"]);
    const result = await runLabelSetSelect(projectId);
    expect(result).toMatchObject({ coldStart: true, created: true, retrainJobRunId: null });
    expect(result.reason).toBe("Label set changed since model v1 was trained (added: other): cold start instead of a round from that model; too few labels to retrain yet (labelled cases of two classes needed).");
    expect(await db.jobRun.count({ where: { projectId, kind: "train" } })).toBe(0);
  });

  it("a change of the minority classes alone keeps the approved model's rounds (same classes, same head)", async () => {
    const { projectId } = await projectWithApprovedModel(2);
    await db.project.update({ where: { id: projectId }, data: { minorityClasses: ["rest"] } });
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["hit-rate:1"]);
  });
});
