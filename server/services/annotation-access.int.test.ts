/**
 * Who may annotate a case in the workspace (annotation-service.ts, annotations-repo.ts annotationRefusal): TEST cases
 * never; a case from the queue (own lease, a PENDING item's free slot), the caller's own earlier answer, a gold case
 * served to them. Every refusal writes nothing — no annotation, draft, lease, item change or audit event.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { AnnotationContent } from "@/contracts/annotations";
import { DomainError } from "../errors";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject, queueCases, serveGoldCase } from "../testing/project-fixtures";
import { getCaseView, saveDraft, submitAnnotation } from "./annotation-service";
import { createServiceContext, type Actor } from "./context";
import { exportLabels } from "./export-service";
import { leaseNext } from "./queue-service";

const ctxOf = (actor: Actor) => createServiceContext(testDb(), actor);
const content = (label: string): AnnotationContent => ({ labels: [label], spans: [], uncertain: false, comment: "" });


/** Everything a submission or autosave could write about the case. */
async function written(caseId: string) {
  const db = testDb();
  const [annotations, drafts, leases, items, events] = await Promise.all([
    db.annotation.count({ where: { caseId } }),
    db.annotationDraft.count({ where: { caseId } }),
    db.queueLease.findMany({ where: { queueItem: { caseId } }, select: { userId: true, completedAt: true }, orderBy: { id: "asc" } }),
    db.queueItem.findMany({ where: { caseId }, select: { status: true } }),
    db.auditEvent.count({ where: { targetId: caseId, action: { in: ["annotation.submit", "annotation.draft-save"] } } }),
  ]);
  return { annotations, drafts, leases, items, events };
}

/** Submit and autosave are both refused with `message` (BAD_INPUT on caseId), the case view says it, and nothing is written. */
async function expectRefused(actor: Actor, caseId: string, message: string) {
  const before = await written(caseId);
  const submit = await submitAnnotation(ctxOf(actor), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1000 }).catch((e: unknown) => e);
  expect(submit).toBeInstanceOf(DomainError);
  expect(submit).toMatchObject({ kind: "BAD_INPUT", message });
  await expect(saveDraft(ctxOf(actor), { caseId, baseVersion: 0, content: content("normal") })).rejects.toMatchObject({ kind: "BAD_INPUT", message });
  expect((await getCaseView(ctxOf(actor), { caseId })).refusal).toBe(message);
  expect(await written(caseId)).toEqual(before);
}

describe("TEST cases are never annotated in the workspace", () => {
  it("refuses submit and autosave on a TEST case, writes nothing, and the export keeps its imported label", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id, scientist.id], cases: 1, split: "TEST" });
    const caseId = caseIds[0]!;
    await testDb().case.update({ where: { id: caseId }, data: { importedLabel: "abnormal" } });
    await expectRefused(clinician, caseId, "This case is in the TEST split: its imported label is used to evaluate models, so it is not annotated here.");
    // Even queued (a round can only queue POOL cases; written here directly) a TEST case is refused.
    await queueCases(projectId, [caseId]);
    await expectRefused(clinician, caseId, "This case is in the TEST split: its imported label is used to evaluate models, so it is not annotated here.");

    // An annotation written before the rule (directly here) is exported as a row but does not override the imported label.
    await testDb().annotation.create({ data: { caseId, authorId: clinician.id, version: 1, kind: "SUBMITTED", labels: ["normal"], spans: [], uncertain: false, comment: "", timeSpentMs: 1 } });
    const jsonl = await exportLabels(ctxOf(scientist), { projectId, format: "jsonl", history: false });
    const [row] = jsonl.body.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(row).toMatchObject({ annotatorId: clinician.id, finalLabel: "abnormal", finalLabelRule: "imported", finalLabelVotes: 0, finalLabelVoters: 1 });
  });
});

describe("a POOL case is annotated from the queue", () => {
  let a: Actor;
  let b: Actor;
  let c: Actor;
  beforeAll(async () => {
    [a, b, c] = (await Promise.all([createTestUser("CLINICIAN"), createTestUser("CLINICIAN"), createTestUser("CLINICIAN")])) as [Actor, Actor, Actor];
  });

  it("refuses a case never queued; submits with the caller's own lease", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id], cases: 2 });
    await expectRefused(a, caseIds[1]!, "This case is not in your queue.");
    await queueCases(projectId, [caseIds[0]!]);
    const lease = await leaseNext(ctxOf(a), { projectId });
    expect(lease?.caseId).toBe(caseIds[0]);
    expect(await submitAnnotation(ctxOf(a), { caseId: caseIds[0]!, expectedVersion: 0, content: content("normal"), timeSpentMs: 1 })).toMatchObject({ version: 1 });
    expect((await written(caseIds[0]!)).items).toEqual([{ status: "DONE" }]);
    // The case that was never queued is still refused (and stays so after the round).
    await expectRefused(a, caseIds[1]!, "This case is not in your queue.");
  });

  it("with annotationsPerCase = 1, refuses a case another clinician holds; the holder submits", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id], cases: 1 });
    await queueCases(projectId, caseIds);
    await leaseNext(ctxOf(b), { projectId });
    await expectRefused(a, caseIds[0]!, "Another clinician is working on this case.");
    expect(await submitAnnotation(ctxOf(b), { caseId: caseIds[0]!, expectedVersion: 0, content: content("benign"), timeSpentMs: 1 })).toMatchObject({ version: 1, caseVersion: 1 });
    // Answered by b: a was never in it.
    await expectRefused(a, caseIds[0]!, "This case is not in your queue.");
  });

  it("takes a free slot of a PENDING item without a lease (the benchmark's loop), then lets the caller edit their answer from the history", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id], cases: 1 });
    const caseId = caseIds[0]!;
    await queueCases(projectId, caseIds);
    expect((await getCaseView(ctxOf(a), { caseId })).refusal).toBeNull();
    await saveDraft(ctxOf(a), { caseId, baseVersion: 0, content: content("normal") });
    expect(await submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1 })).toMatchObject({ version: 1 });
    const after = await written(caseId);
    expect(after.leases).toEqual([{ userId: a.id, completedAt: expect.any(Date) }]);
    expect(after.items).toEqual([{ status: "DONE" }]);
    // The item is DONE; a's own answer may still be edited.
    await saveDraft(ctxOf(a), { caseId, baseVersion: 1, content: content("benign") });
    expect(await submitAnnotation(ctxOf(a), { caseId, expectedVersion: 1, content: content("benign"), timeSpentMs: 1 })).toMatchObject({ version: 2, caseVersion: 2 });
  });

  it("with annotationsPerCase = 2, the second annotator takes the free slot; a third is refused", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id, c.id], cases: 1, settings: { annotationsPerCase: 2 } });
    const caseId = caseIds[0]!;
    await queueCases(projectId, caseIds);
    await leaseNext(ctxOf(a), { projectId });
    await submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1 });
    expect(await submitAnnotation(ctxOf(b), { caseId, expectedVersion: 0, content: content("benign"), timeSpentMs: 1 })).toMatchObject({ version: 1, caseVersion: 1 });
    expect((await written(caseId)).items).toEqual([{ status: "DONE" }]);
    await expectRefused(c, caseId, "This case is not in your queue.");
  });

  it("with annotationsPerCase = 2 and both slots held, a third clinician is told the case has its annotators", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id, c.id], cases: 1, settings: { annotationsPerCase: 2 } });
    await queueCases(projectId, caseIds);
    await leaseNext(ctxOf(a), { projectId });
    await leaseNext(ctxOf(b), { projectId });
    await expectRefused(c, caseIds[0]!, "This case already has all the annotators it needs.");
  });
});

describe("gold cases", () => {
  it("are answered once served to the clinician, and refused to one they were not served to", async () => {
    const [served, other] = (await Promise.all([createTestUser("CLINICIAN"), createTestUser("CLINICIAN")])) as [Actor, Actor];
    const { projectId, caseIds } = await createTestProject({ memberIds: [served.id, other.id], cases: 2, split: "SEED" });
    const goldId = caseIds[0]!;
    // A round to serve it in (the gold serving belongs to one).
    const round = await queueCases(projectId, [caseIds[1]!]);
    await serveGoldCase({ projectId, caseId: goldId, userId: served.id, roundId: round.roundId });
    expect(await submitAnnotation(ctxOf(served), { caseId: goldId, expectedVersion: 0, content: content("benign"), timeSpentMs: 1 })).toMatchObject({ version: 1 });
    await expectRefused(other, goldId, "This case is not in your queue.");
  });
});

describe("decided under the locks, on what was committed while the submission waited for them", () => {
  /** Starts `work`, which must wait on the case's row lock held by a transaction running `inside`; commits that transaction once `work` waits. */
  async function whileLockedBy<T>(caseId: string, inside: (tx: Parameters<Parameters<ReturnType<typeof testDb>["$transaction"]>[0]>[0]) => Promise<void>, work: () => Promise<T>) {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = testDb().$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "Case" WHERE id = ${caseId} FOR UPDATE`;
        await inside(tx);
        locked();
        await held;
      },
      { timeout: 60_000 },
    );
    await isLocked;
    const settled = work().catch((e: unknown) => e);
    // Until the submission's lock statement waits on the case's row (a row lock's wait is on the holder's transaction id).
    await expect
      .poll(async () => (await testDb().$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'`)[0]!.n, { timeout: 10_000 })
      .toBeGreaterThan(0);
    release();
    await holder;
    return settled;
  }

  it("a second tab waiting on the first tab's submission gets the conflict, not 'not in your queue'", async () => {
    const a = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id], cases: 1 });
    const caseId = caseIds[0]!;
    await queueCases(projectId, caseIds);
    // The first tab's submission, as its statement writes it: a's version 1, a completed lease, the item DONE.
    const outcome = await whileLockedBy(
      caseId,
      async (tx) => {
        const item = await tx.queueItem.findFirstOrThrow({ where: { caseId } });
        await tx.annotation.create({ data: { caseId, authorId: a.id, version: 1, kind: "SUBMITTED", labels: ["benign"], spans: [], uncertain: false, comment: "", timeSpentMs: 1 } });
        await tx.queueLease.create({ data: { queueItemId: item.id, userId: a.id, leasedAt: new Date(), expiresAt: new Date(), completedAt: new Date() } });
        await tx.queueItem.update({ where: { id: item.id }, data: { status: "DONE" } });
      },
      () => submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1 }),
    );
    expect(outcome).toMatchObject({ kind: "CONFLICT", details: { conflict: { currentVersion: 1, theirs: { byYou: true, labels: ["benign"] } } } });
  });

  it("a colleague's lease taken while the submission waited takes the one slot: refused, nothing written", async () => {
    const [a, b] = (await Promise.all([createTestUser("CLINICIAN"), createTestUser("CLINICIAN")])) as [Actor, Actor];
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id], cases: 1 });
    const caseId = caseIds[0]!;
    await queueCases(projectId, caseIds);
    const outcome = await whileLockedBy(
      caseId,
      async (tx) => {
        const item = await tx.queueItem.findFirstOrThrow({ where: { caseId } });
        await tx.queueLease.create({ data: { queueItemId: item.id, userId: b.id, leasedAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000) } });
      },
      () => submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1 }),
    );
    expect(outcome).toMatchObject({ kind: "BAD_INPUT", message: "Another clinician is working on this case." });
    expect(await testDb().annotation.count({ where: { caseId } })).toBe(0);
    expect(await testDb().queueLease.count({ where: { queueItem: { caseId }, userId: a.id } })).toBe(0);
  });
});
