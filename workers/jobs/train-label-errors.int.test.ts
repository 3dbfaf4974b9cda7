import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import type { LabelErrorList } from "@/workers/ml/label-errors";
import { executeJobRun, type WorkerContext } from "./job-runtime";
import { trainJob } from "./train";

const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-train-label-errors-"));
const worker = (): WorkerContext => ({ db: testDb(), store: createLocalBlobStore(storeDir), databaseUrl: process.env.DATABASE_URL!, provider: "cpu", send: async () => undefined });

afterAll(() => fs.rmSync(storeDir, { recursive: true, force: true }));

describe("train job: suspected label errors", () => {
  it("stores the confident-learning list with the model, and it names the planted flips", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id], cases: 30 });
    const NORMAL = ["No acute findings, normal study.", "Normal chest, lungs clear, no acute disease.", "Unremarkable normal examination, no findings."];
    const SUSPICIOUS = ["Spiculated mass suspicious for malignancy, biopsy advised.", "Irregular spiculated lesion, suspicious, malignancy likely.", "Suspicious spiculated nodule, recommend biopsy for malignancy."];
    // Cases 0..19 read normal, 20..29 suspicious; cases 3 and 25 carry the wrong label (planted flips).
    const flipped = new Set([caseIds[3]!, caseIds[25]!]);
    for (const [i, id] of caseIds.entries()) {
      const isSuspicious = i >= 20;
      const label = isSuspicious !== flipped.has(id) ? "suspicious" : "normal";
      await testDb().case.update({ where: { id }, data: { narrative: (isSuspicious ? SUSPICIOUS : NORMAL)[i % 3]!, importedLabel: label } });
    }
    const run = await testDb().jobRun.create({ data: { projectId, kind: "train", payload: { projectId } }, select: { id: true } });
    const outcome = await executeJobRun(trainJob.spec, worker(), run.id, true);
    expect(outcome).toMatchObject({ status: "succeeded" });
    const model = await testDb().modelVersion.findFirstOrThrow({ where: { projectId }, select: { metrics: true } });
    const metrics = model.metrics as { labelErrors: LabelErrorList | null; labelErrorsSkipped: string | null };
    expect(metrics.labelErrorsSkipped).toBeNull();
    const list = metrics.labelErrors!;
    expect(list.method).toBe("confident-learning");
    expect(list.flaggedCount).toBe(list.cases.length);
    const flaggedIds = list.cases.map((c) => c.caseId);
    for (const id of flipped) expect(flaggedIds).toContain(id);
    expect(list.cases.length).toBeLessThanOrEqual(5);
    const c25 = list.cases.find((c) => c.caseId === caseIds[25])!;
    expect(c25).toMatchObject({ given: "normal", suggested: "suspicious" });
    expect(c25.margin).toBeCloseTo(c25.pSuggested - c25.pGiven, 12);
  });
});
