/**
 * The loop check asks for a project's cold-start round only once the project has pool cases: a
 * project created before its import must still get its first round after the import (the cold
 * start's dedupe key allows one request per project, so a request on an empty pool would be the
 * only one — found by the issue-10 Playwright walk, playwright/project-setup.spec.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers } from "./loop-triggers";
import { createLoopProject, testWorkerContext, type LoopCase } from "../testing/loop-fixtures";

const db = testDb();
const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-cold-trigger-"));
const worker = testWorkerContext(db, storageDir, null);

afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));

const testCase = (i: number, split: LoopCase["split"]): LoopCase => ({ externalId: `c-${i}`, narrative: `Report ${i}: headache and dizziness.`, label: i % 2 ? "minority" : "rest", split });

describe("cold-start trigger", () => {
  it("asks for no cold start without pool cases, and for one once pool cases are imported", async () => {
    const { projectId } = await createLoopProject(db, [testCase(1, "TEST"), testCase(2, "TEST")], { memberIds: [], selectionParams: { strategy: "rads", budget: 2 } });
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual([]);
    expect(await db.jobRun.count({ where: { projectId, kind: "select" } })).toBe(0);

    await db.case.createMany({ data: [3, 4, 5].map((i) => ({ projectId, externalId: `c-${i}`, narrative: `Report ${i}.`, split: "POOL" as const })) });
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["select:cold-start"]);
    expect(await db.jobRun.count({ where: { projectId, kind: "select", dedupeKey: `select:${projectId}:cold-start` } })).toBe(1);
  });
});
