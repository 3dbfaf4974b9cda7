import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStoredProjectConfig } from "@/contracts/project-config";
import type { UpdateSelectionSettingsInput } from "@/contracts/project-settings";
import { executeJobRun, type WorkerContext } from "@/workers/jobs/job-runtime";
import { checkRetrainTriggers } from "@/workers/jobs/loop-triggers";
import { selectJob } from "@/workers/jobs/select";
import { testWorkerContext } from "@/workers/testing/loop-fixtures";
import { createTestUser, testDb, refusal } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createServiceContext } from "./context";
import { getSelectionSettings, updateSelectionSettings } from "./project-settings-service";
import { leaseNext } from "./queue-service";

const db = testDb();
let storageDir: string;
let worker: WorkerContext;

beforeAll(() => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-settings-"));
  worker = testWorkerContext(db, storageDir, null);
});

afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await db.$disconnect();
});

async function storedConfig(projectId: string) {
  return parseStoredProjectConfig(await db.project.findUniqueOrThrow({ where: { id: projectId } }));
}

describe("selection and loop settings", () => {
  it("saves the changed fields, audits them before/after, and the worker's next jobs read them", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const clinician = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id, clinician.id], cases: 20 });
    const ctx = createServiceContext(db, scientist);

    // An older row (flat settings) reads with defaults: retrain every 20 labels, on round complete.
    const current = await getSelectionSettings(ctx, { projectId });
    expect(current.values).toMatchObject({ strategy: "rads", budget: 5, everyNLabels: 20, onRoundComplete: true, scheduleHours: null, leaseMinutes: 30 });
    expect(current.poolSize).toBe(20);

    // Three labels of two classes: not enough for "every 20 labels"; no round yet → a cold start is queued.
    for (const [i, label] of ["normal", "suspicious", "normal"].entries()) {
      await db.annotation.create({ data: { caseId: caseIds[i]!, authorId: clinician.id, version: 1, labels: [label] } });
    }
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["select:cold-start"]);

    const input: UpdateSelectionSettingsInput = { projectId, ...current.values, budget: 4, leaseMinutes: 7, everyNLabels: 3, onRoundComplete: false, strategy: "entropy" };
    const saved = await updateSelectionSettings(ctx, input);
    expect(saved.changed.sort()).toEqual(["budget", "everyNLabels", "leaseMinutes", "onRoundComplete", "strategy"]);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { projectId, action: "project.settings.update" }, orderBy: { id: "desc" } });
    expect(audit.actorId).toBe(scientist.id);
    expect(audit.details).toMatchObject({
      section: "selection",
      before: { budget: 5, leaseMinutes: 30, everyNLabels: 20, onRoundComplete: true, strategy: "rads" },
      after: { budget: 4, leaseMinutes: 7, everyNLabels: 3, onRoundComplete: false, strategy: "entropy" },
    });
    const stored = await storedConfig(projectId);
    expect(stored.selectionParams).toMatchObject({ strategy: "entropy", budget: 4 });
    expect(stored.settings.retrainTriggers).toEqual({ onRoundComplete: false, everyNLabels: 3, scheduleHours: null });

    // retrain-check: 3 new labels now reach "every 3 labels".
    expect((await checkRetrainTriggers(worker, projectId)).actions).toEqual(["train:n-labels"]);

    // The queued select job (cold start) runs after the change and picks B = 4.
    const selectRun = await db.jobRun.findUniqueOrThrow({ where: { dedupeKey: `select:${projectId}:cold-start` } });
    expect((await executeJobRun(selectJob.spec, worker, selectRun.id, true)).status).toBe("succeeded");
    const round = await db.selectionRound.findFirstOrThrow({ where: { projectId }, include: { _count: { select: { items: true } } } });
    expect(round._count.items).toBe(4);

    // The queue's lease lasts the new 7 minutes.
    const before = Date.now();
    const lease = await leaseNext(createServiceContext(db, clinician), { projectId });
    const minutes = (new Date(lease!.expiresAt).getTime() - before) / 60_000;
    expect(minutes).toBeGreaterThan(6.9);
    expect(minutes).toBeLessThan(7.1);
  });

  it("audits a change of the patient-identifier opt-out before/after; a caller that does not name it leaves it as it is", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 5 });
    const ctx = createServiceContext(db, scientist);
    const current = await getSelectionSettings(ctx, { projectId });
    expect(current.values).toMatchObject({ allowPatientIdentifiers: false, keepDateIntervals: false });
    const saved = await updateSelectionSettings(ctx, { projectId, ...current.values, allowPatientIdentifiers: true });
    expect(saved.changed).toEqual(["allowPatientIdentifiers"]);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { projectId, action: "project.settings.update" }, orderBy: { id: "desc" } });
    expect(audit.details).toMatchObject({ before: { allowPatientIdentifiers: false }, after: { allowPatientIdentifiers: true } });
    const { allowPatientIdentifiers: _omit, keepDateIntervals: _omit2, ...others } = current.values;
    await updateSelectionSettings(ctx, { projectId, ...others, leaseMinutes: 12 });
    expect((await storedConfig(projectId)).settings.allowPatientIdentifiers).toBe(true);
  });

  it("refuses bad values with the field they belong to, saving nothing", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 6 });
    const ctx = createServiceContext(db, scientist);
    const values = (await getSelectionSettings(ctx, { projectId })).values;
    const before = await db.project.findUniqueOrThrow({ where: { id: projectId }, select: { selectionParams: true, settings: true, updatedAt: true } });

    const tooBig = await refusal(updateSelectionSettings(ctx, { projectId, ...values, budget: 7 }));
    expect(tooBig).toMatchObject({ kind: "BAD_INPUT", field: "budget" });
    expect(tooBig.message).toContain("6 cases can still be selected");
    expect(await refusal(updateSelectionSettings(ctx, { projectId, ...values, rho: { benign: 0.3 } }))).toMatchObject({ kind: "BAD_INPUT", field: "rho" });
    await db.project.update({ where: { id: projectId }, data: { minorityClasses: [] } });
    expect(await refusal(updateSelectionSettings(ctx, { projectId, ...values, strategy: "rads" }))).toMatchObject({ kind: "BAD_INPUT", field: "strategy" });
    await db.project.update({ where: { id: projectId }, data: { minorityClasses: ["suspicious"] } });
    const after = await db.project.findUniqueOrThrow({ where: { id: projectId }, select: { selectionParams: true, settings: true } });
    expect(after.selectionParams).toEqual(before.selectionParams);
    expect(after.settings).toEqual(before.settings);
    expect(await db.auditEvent.count({ where: { projectId, action: "project.settings.update" } })).toBe(0);

    // Per-class ρ over the minority classes is fine.
    await updateSelectionSettings(ctx, { projectId, ...values, rho: { suspicious: 0.6 } });
    expect((await storedConfig(projectId)).selectionParams.rho).toEqual({ suspicious: 0.6 });
  });

  it("is for members with project.configure only; an archived project is read-only", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const clinician = await createTestUser("CLINICIAN");
    const outsider = await createTestUser("ADMIN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id, clinician.id], cases: 3 });
    const values = (await getSelectionSettings(createServiceContext(db, scientist), { projectId })).values;
    expect(await refusal(getSelectionSettings(createServiceContext(db, outsider), { projectId }))).toMatchObject({ kind: "NOT_FOUND", message: "No such project." });
    expect((await refusal(updateSelectionSettings(createServiceContext(db, outsider), { projectId, ...values }))).kind).toBe("NOT_FOUND");
    expect((await refusal(updateSelectionSettings(createServiceContext(db, clinician), { projectId, ...values }))).kind).toBe("FORBIDDEN");
    await db.project.update({ where: { id: projectId }, data: { archivedAt: new Date() } });
    expect((await refusal(updateSelectionSettings(createServiceContext(db, scientist), { projectId, ...values, budget: 2 }))).kind).toBe("CONFLICT");
  });
});
