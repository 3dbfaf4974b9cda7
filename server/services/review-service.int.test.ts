import fs from "node:fs";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { createServiceContext, type Actor } from "./context";
import { stopJobClient } from "./enqueue-job";
import { getSelectionSettings, updateSelectionSettings } from "./project-settings-service";
import { decideModel, getModelReview, listModelsForReview } from "./review-service";

afterAll(async () => {
  await stopJobClient();
  await testDb().$disconnect();
});

const GOOD = [0.9, 0.8, 0.85];
const WORSE_MINORITY = [0.95, 0.85, 0.3];

async function setup(settings: Record<string, unknown> = {}) {
  const reviewer = await createTestUser("REVIEWER");
  const otherReviewer = await createTestUser("REVIEWER");
  const scientist = await createTestUser("DATA_SCIENTIST");
  const { projectId } = await createTestProject({ memberIds: [reviewer.id, otherReviewer.id, scientist.id], cases: 4, settings });
  const active = await insertModelFixture({ projectId, status: "APPROVED", skill: GOOD, seed: 1, labelCount: 30, rounds: [1] });
  return { reviewer, otherReviewer, scientist, projectId, active };
}

const as = (actor: Actor) => createServiceContext(testDb(), actor);

describe("model review", () => {
  it("shows the candidate beside the active model with deltas, and the guard flags a minority regression", async () => {
    const { reviewer, projectId, active } = await setup();
    const worse = await insertModelFixture({ projectId, status: "CANDIDATE", skill: WORSE_MINORITY, seed: 2, labelCount: 42, rounds: [1, 2] });
    const review = await getModelReview(as(reviewer), { modelVersionId: worse.id });
    expect(review.active?.id).toBe(active.id);
    expect(review.candidate.labelCount).toBe(42);
    expect(review.changes.labelDelta).toBe(12);
    expect(review.changes.newRounds).toEqual([2]);
    expect(review.changes.sameTestSet).toBe(true);
    const cand = review.candidate.metrics!.classes.find((c) => c.key === "suspicious")!;
    const act = review.active!.metrics!.classes.find((c) => c.key === "suspicious")!;
    expect(cand.minority).toBe(true);
    expect(act.recall - cand.recall).toBeGreaterThan(0.02);
    expect(review.guard).toMatchObject({ tolerance: 0.02, flagged: true });
    expect(review.guard.findings.some((f) => f.classKey === "suspicious" && f.metric === "recall")).toBe(true);
    const recallDelta = review.changes.deltas.find((d) => d.metric === "Minority recall")!;
    expect(recallDelta.delta).toBeCloseTo(cand.recall - act.recall, 10);
    expect(review.candidate.metrics!.confusion).toHaveLength(3);
    expect(review.candidate.metrics!.reliability.length).toBeGreaterThan(0);

    // The same model as its own active model's twin is not flagged; a generous tolerance lets the regression pass.
    const twin = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 1, labelCount: 45, rounds: [1, 2] });
    expect((await getModelReview(as(reviewer), { modelVersionId: twin.id })).guard.flagged).toBe(false);
    await testDb().project.update({ where: { id: projectId }, data: { settings: { reviewTolerance: 0.9 } } });
    expect((await getModelReview(as(reviewer), { modelVersionId: worse.id })).guard).toMatchObject({ tolerance: 0.9, flagged: false });
  });

  it("the guard cannot pass on too few TEST cases, fails a minority recall of 0 even beside an equally blind active model, and the audit says so", async () => {
    // 6 TEST cases of the minority class (review-fixtures): under the default threshold of 10, "insufficient".
    const { reviewer, scientist, projectId } = await setup();
    const twin = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 1, labelCount: 45, rounds: [1, 2] });
    let review = await getModelReview(as(reviewer), { modelVersionId: twin.id });
    expect(review.guard).toMatchObject({ status: "insufficient", flagged: false, minSupport: 10, thin: [{ classKey: "suspicious", support: 6 }] });
    expect(review.changes.deltas.find((d) => d.metric === "Minority recall")).toMatchObject({ support: [{ classKey: "suspicious", support: 6 }], tooFew: true });
    // The list shows the integer support beside the minority metrics.
    const listed = (await listModelsForReview(as(reviewer))).find((m) => m.id === twin.id)!;
    expect(listed).toMatchObject({ minoritySupport: 6, minTestSupport: 10 });

    // At a threshold of 6 (set on the settings page, audited) the same pair passes.
    const scientistCtx = as(scientist);
    const current = await getSelectionSettings(scientistCtx, { projectId });
    expect(current.values.minTestSupport).toBe(10);
    expect((await updateSelectionSettings(scientistCtx, { projectId, ...current.values, minTestSupport: 6 })).changed).toEqual(["minTestSupport"]);
    review = await getModelReview(as(reviewer), { modelVersionId: twin.id });
    expect(review.guard).toMatchObject({ status: "passed", thin: [], floors: [] });

    // Blind to the minority (recall 0): the candidate fails on the floor even when the active model is just as blind.
    await testDb().modelVersion.updateMany({ where: { projectId, status: "APPROVED" }, data: { status: "RETIRED" } });
    await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0], seed: 7, labelCount: 30, rounds: [1] });
    const blind = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0], seed: 7, labelCount: 50, rounds: [1, 2] });
    review = await getModelReview(as(reviewer), { modelVersionId: blind.id });
    expect(review.candidate.metrics!.minorityRecall).toBe(0);
    expect(review.guard).toMatchObject({ status: "failed", flagged: true, findings: [], floors: [{ classKey: "suspicious", metric: "recall", candidate: 0, support: 6 }] });
    await decideModel(as(reviewer), { modelVersionId: blind.id, decision: "reject", note: "Finds no suspicious case." });
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "model.reject", targetId: blind.id } });
    expect(audit.details).toMatchObject({ guardStatus: "failed", guardFlagged: true, guardFloors: ["suspicious recall 0.000 on 6 TEST cases"] });
  });

  it("approval retires the previous model, records reviewer, note and time, audits, and queues the next selection round", async () => {
    const { reviewer, projectId, active } = await setup();
    // Same skill and seed as the active model: equal test metrics, so the guard passes.
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 1, labelCount: 40, rounds: [1, 2] });
    const ctx = as(reviewer);
    const before = Date.now();
    const result = await decideModel(ctx, { modelVersionId: candidate.id, decision: "approve", note: "Minority recall holds; more labels." });
    expect(result).toMatchObject({ status: "APPROVED", retiredVersions: [active.version] });
    expect(ctx.audit.count).toBe(1);

    const rows = await testDb().modelVersion.findMany({ where: { projectId }, orderBy: { version: "asc" } });
    expect(rows.map((r) => r.status)).toEqual(["RETIRED", "APPROVED"]);
    const approved = rows[1]!;
    expect(approved.reviewedById).toBe(reviewer.id);
    expect(approved.reviewNote).toBe("Minority recall holds; more labels.");
    expect(approved.reviewedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "model.approve", targetId: candidate.id } });
    expect(audit.actorId).toBe(reviewer.id);
    expect(audit.projectId).toBe(projectId);
    expect(audit.details).toMatchObject({ note: "Minority recall holds; more labels.", guardFlagged: false, retired: [{ id: active.id, version: active.version }] });

    const job = await testDb().jobRun.findUniqueOrThrow({ where: { id: result.selectJobRunId! } });
    expect(job).toMatchObject({ kind: "select", status: "QUEUED", projectId, requestedById: reviewer.id, dedupeKey: `select:${projectId}:approved:${candidate.id}` });
    expect(job.payload).toMatchObject({ modelVersionId: candidate.id });
    // The wake-up message went to the real pg-boss queue, carrying the JobRun id.
    const messages = await testDb().$queryRaw<{ data: { jobRunId: string } }[]>`SELECT data FROM pgboss.job WHERE name = 'select'`;
    expect(messages.some((m) => m.data.jobRunId === job.id)).toBe(true);

    // Deciding again is a conflict and changes nothing.
    await expect(decideModel(as(reviewer), { modelVersionId: candidate.id, decision: "reject", note: "changed my mind" })).rejects.toMatchObject({ kind: "CONFLICT" });
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe("APPROVED");
  });

  it("rejection keeps the active model and records the note", async () => {
    const { reviewer, projectId, active } = await setup();
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: WORSE_MINORITY, seed: 4, labelCount: 40, rounds: [1, 2] });
    const result = await decideModel(as(reviewer), { modelVersionId: candidate.id, decision: "reject", note: "Suspicious recall dropped." });
    expect(result).toMatchObject({ status: "REJECTED", selectJobRunId: null });
    const rows = await testDb().modelVersion.findMany({ where: { projectId }, orderBy: { version: "asc" } });
    expect(rows.map((r) => r.status)).toEqual(["APPROVED", "REJECTED"]);
    expect(rows[1]).toMatchObject({ reviewNote: "Suspicious recall dropped.", reviewedById: reviewer.id });
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "model.reject", targetId: candidate.id } });
    expect(audit.details).toMatchObject({ note: "Suspicious recall dropped.", guardFlagged: true });
    expect(await testDb().jobRun.count({ where: { projectId, kind: "select" } })).toBe(0);
    expect(active.id).toBe(rows[0]!.id);
  });

  it("four eyes: whoever triggered the training cannot approve it; another reviewer can", async () => {
    const { reviewer, otherReviewer, projectId } = await setup({ fourEyes: true });
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 5, labelCount: 40, rounds: [1, 2], triggeredById: reviewer.id });
    expect((await getModelReview(as(reviewer), { modelVersionId: candidate.id })).decision.fourEyesBlocked).toBe(true);
    const refused = decideModel(as(reviewer), { modelVersionId: candidate.id, decision: "approve", note: "Looks fine to me." });
    await expect(refused).rejects.toMatchObject({ kind: "FORBIDDEN" });
    await expect(refused).rejects.toThrow(/Four-eyes rule: you started the training of model v2/);
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe("CANDIDATE");
    expect(await testDb().auditEvent.count({ where: { targetId: candidate.id } })).toBe(0);

    await decideModel(as(otherReviewer), { modelVersionId: candidate.id, decision: "approve", note: "Second pair of eyes: fine." });
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe("APPROVED");
  });

  it("without four eyes the trainer may approve their own model", async () => {
    const { reviewer, projectId } = await setup({ fourEyes: false });
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 6, labelCount: 40, rounds: [1, 2], triggeredById: reviewer.id });
    await decideModel(as(reviewer), { modelVersionId: candidate.id, decision: "approve", note: "Single reviewer project." });
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe("APPROVED");
  });

  it("the note is required by the procedure's schema, and only member reviewers decide", async () => {
    const { reviewer, scientist, projectId } = await setup();
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 7, labelCount: 40, rounds: [2] });
    const caller = createCaller({ db: testDb(), actor: reviewer });
    for (const note of ["", "   ", "ok"]) {
      const attempt = caller.review.decide({ modelVersionId: candidate.id, decision: "approve", note });
      await expect(attempt).rejects.toBeInstanceOf(TRPCError);
      await expect(attempt).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe("CANDIDATE");

    // Roles are checked in the project: a clinician member may not open the review, a clinician outside it finds nothing.
    const clinician = await createTestUser("CLINICIAN");
    await expect(createCaller({ db: testDb(), actor: clinician }).review.get({ modelVersionId: candidate.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await testDb().projectMember.create({ data: { projectId, userId: clinician.id, role: "CLINICIAN" } });
    await expect(createCaller({ db: testDb(), actor: clinician }).review.get({ modelVersionId: candidate.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(createCaller({ db: testDb(), actor: scientist }).review.decide({ modelVersionId: candidate.id, decision: "approve", note: "I am not a reviewer" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    // A reviewer outside the project finds nothing.
    const outsider = await createTestUser("REVIEWER");
    await expect(decideModel(as(outsider), { modelVersionId: candidate.id, decision: "approve", note: "Not my project." })).rejects.toMatchObject({ kind: "NOT_FOUND" });
    await expect(getModelReview(as(outsider), { modelVersionId: candidate.id })).rejects.toMatchObject({ kind: "NOT_FOUND" });
    expect((await listModelsForReview(as(outsider))).some((m) => m.projectId === projectId)).toBe(false);

    const ok = await caller.review.decide({ modelVersionId: candidate.id, decision: "approve", note: "  Fine.  " });
    expect(ok.status).toBe("APPROVED");
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).reviewNote).toBe("Fine.");
  });

  it("two approvals at once leave exactly one APPROVED model, and the newer one wins", async () => {
    const { reviewer, otherReviewer, projectId } = await setup();
    const a = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 8, labelCount: 40, rounds: [2] });
    const b = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 9, labelCount: 41, rounds: [2] });
    const outcomes = await Promise.allSettled([
      decideModel(as(reviewer), { modelVersionId: a.id, decision: "approve", note: "Approve a." }),
      decideModel(as(otherReviewer), { modelVersionId: b.id, decision: "approve", note: "Approve b." }),
    ]);
    // b is newer: approved whatever the order. a is approved then retired (first) or superseded and refused (second).
    expect(outcomes[1]!.status).toBe("fulfilled");
    const rows = await testDb().modelVersion.findMany({ where: { projectId }, select: { id: true, status: true } });
    expect(rows.filter((r) => r.status === "APPROVED").map((r) => r.id)).toEqual([b.id]);
    const aStatus = rows.find((r) => r.id === a.id)!.status;
    if (outcomes[0]!.status === "fulfilled") expect(aStatus).toBe("RETIRED");
    else {
      expect(aStatus).toBe("SUPERSEDED");
      expect(outcomes[0]!.reason).toMatchObject({ kind: "CONFLICT" });
    }
  });

  it("approving a newer model supersedes older candidates: not approvable, shown as such with who, when and why, audited", async () => {
    // The tryout: v1 active, v2 a candidate without test metrics (no TEST cases when it was trained), v3 trained after TEST cases came.
    const { reviewer, otherReviewer, projectId, active } = await setup();
    const stale = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 10, labelCount: 10, rounds: [1] });
    await testDb().modelVersion.update({ where: { id: stale.id }, data: { metrics: {} } });
    const newer = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 1, labelCount: 40, rounds: [1, 2] });

    // Before: the stale candidate is open; its comparison rests on no metrics of its own.
    let review = await getModelReview(as(otherReviewer), { modelVersionId: stale.id });
    expect(review.decision.open).toBe(true);
    expect(review.superseded).toBeNull();
    expect(review.changes.sameTestSet).toBeNull();

    const result = await decideModel(as(reviewer), { modelVersionId: newer.id, decision: "approve", note: "Newer model, evaluated on the TEST split." });
    expect(result).toMatchObject({ status: "APPROVED", retiredVersions: [active.version], supersededVersions: [stale.version] });

    const row = await testDb().modelVersion.findUniqueOrThrow({ where: { id: stale.id } });
    expect(row).toMatchObject({ status: "SUPERSEDED", reviewedById: reviewer.id });
    expect(row.reviewNote).toContain(`v${newer.version}, trained after this model, was approved`);
    expect(row.reviewedAt).not.toBeNull();

    review = await getModelReview(as(otherReviewer), { modelVersionId: stale.id });
    expect(review.candidate.status).toBe("SUPERSEDED");
    expect(review.decision).toMatchObject({ open: false, canDecide: false });
    expect(review.superseded).toMatchObject({ byVersion: newer.version, by: reviewer.name });
    expect(review.superseded!.reason).toContain("Retrain");
    expect((await listModelsForReview(as(otherReviewer))).find((m) => m.id === stale.id)).toMatchObject({ status: "SUPERSEDED" });

    // Neither approval nor rejection: a conflict that says why, and nothing changes.
    for (const decision of ["approve", "reject"] as const) {
      const refused = decideModel(as(otherReviewer), { modelVersionId: stale.id, decision, note: "approving the stale v2 after v3" });
      await expect(refused).rejects.toMatchObject({ kind: "CONFLICT" });
      await expect(refused).rejects.toThrow(`Model v${stale.version} is superseded: v${newer.version}, trained after it, was approved`);
    }
    const statuses = (await testDb().modelVersion.findMany({ where: { projectId }, orderBy: { version: "asc" }, select: { status: true } })).map((r) => r.status);
    expect(statuses).toEqual(["RETIRED", "SUPERSEDED", "APPROVED"]);

    const approveAudit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "model.approve", targetId: newer.id } });
    expect(approveAudit.details).toMatchObject({ superseded: [{ id: stale.id, version: stale.version }] });
    const supersedeAudit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "model.supersede", targetId: stale.id } });
    expect(supersedeAudit).toMatchObject({ actorId: reviewer.id, projectId });
    expect(supersedeAudit.details).toMatchObject({ version: stale.version, supersededBy: { id: newer.id, version: newer.version } });
    expect(await testDb().auditEvent.count({ where: { targetId: stale.id, action: { in: ["model.approve", "model.reject"] } } })).toBe(0);
  });

  it("a candidate left behind by an earlier approval (stored CANDIDATE) is not approvable and is shown as superseded", async () => {
    const { reviewer, projectId } = await setup();
    const stale = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 11, labelCount: 10, rounds: [1] });
    // Approved outside decideModel (as before this rule existed): the older candidate stays CANDIDATE in the row.
    const newer = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 1, labelCount: 40, rounds: [1, 2] });
    await testDb().modelVersion.updateMany({ where: { projectId, status: "APPROVED" }, data: { status: "RETIRED" } });
    await testDb().modelVersion.update({ where: { id: newer.id }, data: { status: "APPROVED", reviewedById: reviewer.id, reviewedAt: new Date(), reviewNote: "Approved." } });
    const review = await getModelReview(as(reviewer), { modelVersionId: stale.id });
    expect(review.decision).toMatchObject({ open: false, canDecide: false });
    expect(review.superseded).toMatchObject({ byVersion: newer.version });
    await expect(decideModel(as(reviewer), { modelVersionId: stale.id, decision: "approve", note: "Approve the old one." })).rejects.toMatchObject({ kind: "CONFLICT" });
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: newer.id } })).status).toBe("APPROVED");
  });

  it("migration 0020 moves candidates left behind by earlier approvals to SUPERSEDED, and only those", async () => {
    const { reviewer, projectId, active } = await setup();
    const stale = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 14, labelCount: 10, rounds: [1] });
    const approvedAt = new Date("2026-01-02T03:04:05Z");
    const newer = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 1, labelCount: 40, rounds: [1, 2] });
    await testDb().modelVersion.update({ where: { id: active.id }, data: { status: "RETIRED" } });
    await testDb().modelVersion.update({ where: { id: newer.id }, data: { status: "APPROVED", reviewedById: reviewer.id, reviewedAt: approvedAt, reviewNote: "Approved." } });
    const fresh = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 15, labelCount: 45, rounds: [1, 2, 3] });
    // Another project's lone candidate has no newer approved model: untouched.
    const other = await setup();
    const lone = await insertModelFixture({ projectId: other.projectId, status: "CANDIDATE", skill: GOOD, seed: 16, labelCount: 10, rounds: [1] });

    const sql = fs.readFileSync(path.resolve(import.meta.dirname, "../../prisma/migrations/0020_supersede_stale_candidates/migration.sql"), "utf8");
    await testDb().$executeRawUnsafe(sql);

    const row = await testDb().modelVersion.findUniqueOrThrow({ where: { id: stale.id } });
    expect(row).toMatchObject({ status: "SUPERSEDED", reviewedById: reviewer.id, reviewedAt: approvedAt });
    expect(row.reviewNote).toContain(`v${newer.version} was approved after this model was trained`);
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: fresh.id } })).status).toBe("CANDIDATE");
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: lone.id } })).status).toBe("CANDIDATE");
    expect((await getModelReview(as(reviewer), { modelVersionId: stale.id })).superseded).toMatchObject({ byVersion: newer.version, by: reviewer.name });
  });

  it("rejecting a newer model supersedes nothing: the older candidate may still be approved", async () => {
    const { reviewer, projectId } = await setup();
    const older = await insertModelFixture({ projectId, status: "CANDIDATE", skill: GOOD, seed: 12, labelCount: 35, rounds: [1] });
    const newer = await insertModelFixture({ projectId, status: "CANDIDATE", skill: WORSE_MINORITY, seed: 13, labelCount: 40, rounds: [1, 2] });
    await decideModel(as(reviewer), { modelVersionId: newer.id, decision: "reject", note: "Minority recall dropped." });
    expect((await getModelReview(as(reviewer), { modelVersionId: older.id })).decision.open).toBe(true);
    expect(await decideModel(as(reviewer), { modelVersionId: older.id, decision: "approve", note: "The older one holds up." })).toMatchObject({ status: "APPROVED", supersededVersions: [] });
  });
});
