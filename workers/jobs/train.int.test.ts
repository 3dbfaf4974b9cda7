import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { executeJobRun, type WorkerContext } from "./job-runtime";
import { trainJob } from "./train";

const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-train-test-"));
const worker = (): WorkerContext => ({ db: testDb(), store: createLocalBlobStore(storeDir), databaseUrl: process.env.DATABASE_URL!, provider: "cpu", send: async () => undefined });

afterAll(() => fs.rmSync(storeDir, { recursive: true, force: true }));

describe("train job on degenerate features", () => {
  it("fails with a message that says what to fix, and registers no model, when every case's features are zero", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id], cases: 12 });
    // Labelled cases without narratives: the built-in text featuriser gives all-zero vectors.
    for (const [i, id] of caseIds.entries()) await testDb().case.update({ where: { id }, data: { narrative: null, importedLabel: i % 3 === 0 ? "suspicious" : "normal" } });
    const run = await testDb().jobRun.create({ data: { projectId, kind: "train", payload: { projectId, headConfig: { maxEpochs: 5 } } }, select: { id: true } });
    const outcome = await executeJobRun(trainJob.spec, worker(), run.id, true);
    expect(outcome).toMatchObject({ status: "failed", final: true });
    const row = await testDb().jobRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(row.status).toBe("FAILED");
    expect(row.error).toBe("Not training: the features of the project's encoder cannot separate any classes — all 12 feature vectors are zero. Check the encoder configuration and the cases' narratives or images, then retrain.");
    expect(await testDb().modelVersion.count({ where: { projectId } })).toBe(0);
  });
});
