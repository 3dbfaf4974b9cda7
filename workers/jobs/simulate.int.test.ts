import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { stopJobClient } from "@/server/services/enqueue-job";
import { getSimulation, startSimulation } from "@/server/services/simulation-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { executeJobRun, type WorkerContext } from "./job-runtime";
import { simulateJob } from "./simulate";

const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-sim-test-"));
/** The worker's context as the job runtime passes it (this job writes no files and sends no messages). */
const worker = (): WorkerContext => ({ db: testDb(), store: createLocalBlobStore(storeDir), databaseUrl: process.env.DATABASE_URL!, provider: "cpu", send: async () => undefined });
const runSimulateJob = (jobRunId: string) => executeJobRun(simulateJob.spec, worker(), jobRunId, true);

afterAll(async () => {
  fs.rmSync(storeDir, { recursive: true, force: true });
  await stopJobClient();
  await testDb().$disconnect();
});

/** Narratives whose words give the class away, so a head trained on few labels learns something. */
const TEXT: Record<string, string> = {
  normal: "lungs clear no acute abnormality heart size normal",
  benign: "small calcified granuloma stable benign appearance",
  suspicious: "spiculated mass suspicious for malignancy biopsy advised",
};

async function labelledProject(scientistId: string, withTest: boolean) {
  const { projectId, caseIds } = await createTestProject({ memberIds: [scientistId], cases: 36 });
  // 36 cases: every 6th suspicious (minority), a third benign, the rest normal; every 4th case in TEST.
  for (const [i, id] of caseIds.entries()) {
    const label = i % 6 === 0 ? "suspicious" : i % 3 === 0 ? "benign" : "normal";
    await testDb().case.update({
      where: { id },
      data: { importedLabel: label, narrative: `Case ${i}. ${TEXT[label]}.`, split: withTest && i % 4 === 1 ? "TEST" : "POOL" },
    });
  }
  return projectId;
}

describe("simulate job", () => {
  it("runs a what-if simulation from the page's request to aggregated learning curves, with progress on the JobRun", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true);
    const ctx = createServiceContext(testDb(), scientist);
    const started = await startSimulation(ctx, { projectId, strategies: ["rads", "random"], budgets: [3], rounds: 2, seeds: 1, episodes: 10 });
    expect(ctx.audit.count).toBe(1);
    expect(started.queued).toBe(true);
    expect(await getSimulation(ctx, { projectId, jobRunId: started.jobRunId })).toMatchObject({ status: "QUEUED", percent: 0 });

    expect((await runSimulateJob(started.jobRunId)).status).toBe("succeeded");
    const done = await getSimulation(ctx, { projectId, jobRunId: started.jobRunId });
    expect(done).toMatchObject({ status: "SUCCEEDED", percent: 100, error: null });
    const result = done.result!;
    expect(result.testSize).toBe(9);
    expect(result.trainSize).toBe(27);
    expect(result.aggregates.map((a) => [a.strategy, a.budget])).toEqual([["rads", 3], ["random", 3]]);
    for (const a of result.aggregates) {
      expect(a.curve.map((p) => p.round)).toEqual([0, 1, 2]);
      // Each round adds the budget to the labelled set.
      expect(a.curve[2]!.labelled! - a.curve[0]!.labelled!).toBe(6);
      expect(a.final.minorityF1).toBeGreaterThanOrEqual(0);
      expect(a.final.minorityF1).toBeLessThanOrEqual(1);
    }
    const row = await testDb().jobRun.findUniqueOrThrow({ where: { id: started.jobRunId } });
    expect(row.startedAt).not.toBeNull();
    expect(row.finishedAt).not.toBeNull();

    // Idempotent: a second delivery of a finished run changes nothing.
    expect((await runSimulateJob(started.jobRunId)).status).toBe("skipped");
    expect((await testDb().jobRun.findUniqueOrThrow({ where: { id: started.jobRunId } })).finishedAt).toEqual(row.finishedAt);
  });

  it("fails with a message that says what is missing when the project has no labelled TEST cases", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, false);
    const ctx = createServiceContext(testDb(), scientist);
    const started = await startSimulation(ctx, { projectId, strategies: ["random"], budgets: [2], rounds: 1, seeds: 1, episodes: 10 });
    expect(await runSimulateJob(started.jobRunId)).toMatchObject({ status: "failed", final: true });
    const failed = await getSimulation(ctx, { projectId, jobRunId: started.jobRunId });
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/No labelled TEST cases/);
    // Another project's member cannot read it.
    const outsider = await createTestUser("DATA_SCIENTIST");
    await expect(getSimulation(createServiceContext(testDb(), outsider), { projectId, jobRunId: started.jobRunId })).rejects.toMatchObject({ kind: "NOT_FOUND" });
  });
});
