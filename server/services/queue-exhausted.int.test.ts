/**
 * A skip must not leave a case open forever (tester's report): with annotationsPerCase = 2 and two clinicians, one
 * answers a case and the other skips it — the item is finished with the one answer, nobody is served it again,
 * the queue counts agree, and the loop check sees the round complete. A clinician who joined before is still
 * served the unfinished item; one removed since is not waited for.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkRetrainTriggers } from "@/workers/jobs/loop-triggers";
import { testWorkerContext } from "@/workers/testing/loop-fixtures";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { submitAnnotation } from "./annotation-service";
import { createServiceContext, type Actor } from "./context";
import { projectQueue } from "./queue-read-service";
import { leaseNext, skipCase } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";

const db = testDb();
const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-queue-exhausted-"));
const worker = testWorkerContext(db, storageDir, null);

afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await db.$disconnect();
});

const ctxOf = (actor: Actor) => createServiceContext(db, actor);

/** A project with annotationsPerCase = 2, the given clinicians as members, and one round of `cases` cases ranked in order. */
async function setup(clinicians: number, cases: number) {
  const users = await Promise.all(Array.from({ length: clinicians }, () => createTestUser("CLINICIAN")));
  const { projectId, caseIds } = await createTestProject({ memberIds: users.map((u) => u.id), cases, settings: { annotationsPerCase: 2, leaseMinutes: 30 } });
  const round = await writeSelectionRound(db, {
    projectId,
    strategy: "cold-start",
    coldStart: true,
    modelVersionId: null,
    params: {},
    stats: {},
    items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })),
  });
  return { users, projectId, caseIds, roundNumber: round.number };
}

async function leaseAndSubmit(actor: Actor, projectId: string, expectCase: string) {
  const lease = await leaseNext(ctxOf(actor), { projectId });
  expect(lease?.caseId).toBe(expectCase);
  await submitAnnotation(ctxOf(actor), { caseId: expectCase, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
}

async function leaseAndSkip(actor: Actor, projectId: string, expectCase: string) {
  const lease = await leaseNext(ctxOf(actor), { projectId });
  expect(lease?.caseId).toBe(expectCase);
  await skipCase(ctxOf(actor), { projectId, caseId: expectCase, reason: "image quality too poor" });
}

const statusOf = async (caseId: string) => (await db.queueItem.findFirstOrThrow({ where: { caseId }, select: { status: true } })).status;
const roundCompleteSeen = async (projectId: string, roundNumber: number) => (await checkRetrainTriggers(worker, projectId)).actions.includes(`hit-rate:${roundNumber}`);

describe("an item every member answered or skipped is finished", () => {
  it("two clinicians, two opinions asked: one answers, the other skips — in either order the item is DONE and the round complete", async () => {
    const { users, projectId, caseIds, roundNumber } = await setup(2, 2);
    const [alice, bob] = users as [Actor, Actor];
    const [a, x] = caseIds as [string, string];

    // Case A: Bob skips first (Alice may still answer: it stays open), then Alice's submission finishes it.
    await leaseAndSkip(bob, projectId, a);
    expect(await statusOf(a)).toBe("PENDING");
    await leaseAndSubmit(alice, projectId, a);
    expect(await statusOf(a)).toBe("DONE");

    // Case X, the tester's order: Alice answers, then Bob's skip finishes it.
    await leaseAndSubmit(alice, projectId, x);
    expect(await statusOf(x)).toBe("PENDING");
    expect(await roundCompleteSeen(projectId, roundNumber)).toBe(false);
    await leaseAndSkip(bob, projectId, x);
    expect(await statusOf(x)).toBe("DONE");
    const skipEvent = await db.auditEvent.findFirstOrThrow({ where: { action: "queue.skip", targetId: x } });
    expect(skipEvent.details).toMatchObject({ itemFinished: true });

    // Nothing is served, and the counts say so, to either clinician; the loop sees the round complete.
    for (const user of [alice, bob]) {
      expect(await leaseNext(ctxOf(user), { projectId })).toBeNull();
      expect((await projectQueue(ctxOf(user), { projectId })).counts).toMatchObject({ total: 2, done: 2, remaining: 0 });
    }
    expect(await roundCompleteSeen(projectId, roundNumber)).toBe(true);
    // Alice's answer of X is kept (it counts for training as usual).
    expect(await db.annotation.count({ where: { caseId: x, kind: "SUBMITTED" } })).toBe(1);
  });

  it("a third clinician who joined before is still served the unfinished item; the skipper is not", async () => {
    const { users, projectId, caseIds, roundNumber } = await setup(3, 1);
    const [alice, bob, carol] = users as [Actor, Actor, Actor];
    const [x] = caseIds as [string];
    await leaseAndSubmit(alice, projectId, x);
    await leaseAndSkip(bob, projectId, x);
    expect(await statusOf(x)).toBe("PENDING");
    expect(await leaseNext(ctxOf(bob), { projectId })).toBeNull();
    expect(await roundCompleteSeen(projectId, roundNumber)).toBe(false);
    await leaseAndSubmit(carol, projectId, x);
    expect(await statusOf(x)).toBe("DONE");
    expect(await roundCompleteSeen(projectId, roundNumber)).toBe(true);
  });

  it("a member removed after the others answered or skipped is not waited for: the loop check finishes the item", async () => {
    const { users, projectId, caseIds, roundNumber } = await setup(3, 1);
    const [alice, bob, carol] = users as [Actor, Actor, Actor];
    const [x] = caseIds as [string];
    await leaseAndSubmit(alice, projectId, x);
    await leaseAndSkip(bob, projectId, x);
    await db.projectMember.delete({ where: { projectId_userId: { projectId, userId: carol.id } } });
    expect(await statusOf(x)).toBe("PENDING");
    expect(await roundCompleteSeen(projectId, roundNumber)).toBe(true);
    expect(await statusOf(x)).toBe("DONE");
  });
});
