/**
 * Skipping follows the workspace's rule (annotations-repo.ts annotationRefusal, queue-service.ts skipCase): a TEST case,
 * a case never queued, or one another clinician holds (annotationsPerCase = 1) is refused with the submission's
 * BAD_INPUT text and nothing is written — no annotation, lease or item change, audit event. A case the caller holds,
 * a free slot of a PENDING item, or a gold case served to them is still skipped.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../errors";
import { REFUSAL } from "../db/annotations-repo";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject, queueCases, serveGoldCase } from "../testing/project-fixtures";
import { createServiceContext, type Actor } from "./context";
import { leaseNext, skipCase } from "./queue-service";

const ctxOf = (actor: Actor) => createServiceContext(testDb(), actor);


/** Everything a skip could write about the case. */
async function written(caseId: string) {
  const db = testDb();
  const [annotations, leases, items, events] = await Promise.all([
    db.annotation.findMany({ where: { caseId }, select: { authorId: true, kind: true, version: true }, orderBy: [{ authorId: "asc" }, { version: "asc" }] }),
    db.queueLease.findMany({ where: { queueItem: { caseId } }, select: { userId: true, completedAt: true, expiresAt: true }, orderBy: { id: "asc" } }),
    db.queueItem.findMany({ where: { caseId }, select: { status: true } }),
    db.auditEvent.count({ where: { targetId: caseId, action: "queue.skip" } }),
  ]);
  return { annotations, leases, items, events };
}

async function expectSkipRefused(actor: Actor, projectId: string, caseId: string, message: string) {
  const before = await written(caseId);
  const outcome = await skipCase(ctxOf(actor), { projectId, caseId, reason: "cannot read it" }).catch((e: unknown) => e);
  expect(outcome).toBeInstanceOf(DomainError);
  expect(outcome).toMatchObject({ kind: "BAD_INPUT", message });
  expect(await written(caseId)).toEqual(before);
}

async function skippedBy(actor: Actor, caseId: string) {
  return testDb().annotation.count({ where: { caseId, authorId: actor.id, kind: "SKIPPED" } });
}

describe("skip is refused where annotating is", () => {
  let a: Actor;
  let b: Actor;
  beforeAll(async () => {
    [a, b] = (await Promise.all([createTestUser("CLINICIAN"), createTestUser("CLINICIAN")])) as [Actor, Actor];
  });

  it("refuses a TEST case, queued or not, and writes nothing", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id], cases: 1, split: "TEST" });
    await expectSkipRefused(a, projectId, caseIds[0]!, REFUSAL.test);
    // Even queued (written here directly: a round only queues POOL cases).
    await queueCases(projectId, caseIds);
    await expectSkipRefused(a, projectId, caseIds[0]!, REFUSAL.test);
  });

  it("refuses a case never queued and writes nothing", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id], cases: 2 });
    await queueCases(projectId, [caseIds[0]!]);
    await expectSkipRefused(a, projectId, caseIds[1]!, REFUSAL.notQueued);
  });

  it("with annotationsPerCase = 1, refuses a case another clinician holds; the holder's lease and history stay", async () => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id], cases: 1 });
    const caseId = caseIds[0]!;
    await queueCases(projectId, caseIds);
    expect((await leaseNext(ctxOf(b), { projectId }))?.caseId).toBe(caseId);
    await expectSkipRefused(a, projectId, caseId, REFUSAL.taken);
    const after = await written(caseId);
    expect(after.annotations).toEqual([]);
    expect(after.leases).toEqual([{ userId: b.id, completedAt: null, expiresAt: expect.any(Date) }]);
    expect(after.items).toEqual([{ status: "PENDING" }]);
    // The holder still skips it.
    await skipCase(ctxOf(b), { projectId, caseId, reason: "cannot read it" });
    expect(await skippedBy(b, caseId)).toBe(1);
  });
});

describe("skip still works where annotating does", () => {
  it("skips the caller's own leased case", async () => {
    const a = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id], cases: 2 });
    await queueCases(projectId, caseIds);
    const lease = await leaseNext(ctxOf(a), { projectId });
    expect(await skipCase(ctxOf(a), { projectId, caseId: lease!.caseId, reason: "image does not load" })).toMatchObject({ version: 1 });
    expect(await skippedBy(a, lease!.caseId)).toBe(1);
    expect((await written(lease!.caseId)).events).toBe(1);
  });

  it("skips a free slot of a PENDING item of the latest round without a lease", async () => {
    const [a, b] = (await Promise.all([createTestUser("CLINICIAN"), createTestUser("CLINICIAN")])) as [Actor, Actor];
    const { projectId, caseIds } = await createTestProject({ memberIds: [a.id, b.id], cases: 1 });
    await queueCases(projectId, caseIds);
    expect(await skipCase(ctxOf(a), { projectId, caseId: caseIds[0]!, reason: "cannot read it" })).toMatchObject({ version: 1 });
    expect(await skippedBy(a, caseIds[0]!)).toBe(1);
  });

  it("skips a gold case served to the caller; refuses it to one it was not served to", async () => {
    const [served, other] = (await Promise.all([createTestUser("CLINICIAN"), createTestUser("CLINICIAN")])) as [Actor, Actor];
    const { projectId, caseIds } = await createTestProject({ memberIds: [served.id, other.id], cases: 2, split: "SEED" });
    const goldId = caseIds[0]!;
    // A round to serve it in (the gold serving belongs to one).
    const round = await queueCases(projectId, [caseIds[1]!]);
    await serveGoldCase({ projectId, caseId: goldId, userId: served.id, roundId: round.roundId });
    await expectSkipRefused(other, projectId, goldId, REFUSAL.notQueued);
    expect(await skipCase(ctxOf(served), { projectId, caseId: goldId, reason: "cannot read it" })).toMatchObject({ version: 1 });
    expect(await skippedBy(served, goldId)).toBe(1);
  });
});
