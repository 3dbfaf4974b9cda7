/** Lease holders named on the queue, and leases of away holders (signed out, idle past the lease time) released. */
import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { endSession, startSession } from "./auth-service";
import { createServiceContext, type Actor } from "./context";
import { projectQueue } from "./queue-read-service";
import { leaseNext } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";

afterAll(async () => {
  await testDb().$disconnect();
});

const ctxOf = (actor: Actor) => createServiceContext(testDb(), actor);

async function setup() {
  const alice = await createTestUser("CLINICIAN");
  const bob = await createTestUser("CLINICIAN");
  const { projectId, caseIds } = await createTestProject({ memberIds: [alice.id, bob.id], cases: 3, settings: { leaseMinutes: 30 } });
  await writeSelectionRound(testDb(), {
    projectId,
    strategy: "cold-start",
    coldStart: true,
    modelVersionId: null,
    params: {},
    stats: {},
    items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })),
  });
  return { alice, bob, projectId, caseIds };
}

describe("leases tell who holds a case, and away holders do not block a round", () => {
  it("names the holder and the lease's end to colleagues", async () => {
    const { alice, bob, projectId } = await setup();
    const sid = await startSession(testDb(), alice.id);
    const lease = (await leaseNext(ctxOf(alice), { projectId }))!;
    const queue = await projectQueue(ctxOf(bob), { projectId });
    const item = queue.items.find((i) => i.caseId === lease.caseId)!;
    const aliceName = (await testDb().user.findUniqueOrThrow({ where: { id: alice.id } })).name;
    expect(item.state).toBe("leased");
    expect(item.heldBy).toEqual([{ name: aliceName, until: lease.expiresAt }]);
    // Bob gets the next case, not Alice's.
    expect((await leaseNext(ctxOf(bob), { projectId }))!.caseId).not.toBe(lease.caseId);
    await endSession(testDb(), sid);
  });

  it("a holder who signs out frees the case at once; the next lease releases it and audits that", async () => {
    const { alice, bob, projectId } = await setup();
    const sid = await startSession(testDb(), alice.id);
    const lease = (await leaseNext(ctxOf(alice), { projectId }))!;
    expect(lease.rank).toBe(1);
    await endSession(testDb(), sid);

    const queue = await projectQueue(ctxOf(bob), { projectId });
    expect(queue.items.find((i) => i.caseId === lease.caseId)).toMatchObject({ state: "available", heldBy: [] });
    const bobs = (await leaseNext(ctxOf(bob), { projectId }))!;
    expect(bobs.caseId).toBe(lease.caseId);
    const row = await testDb().queueLease.findFirstOrThrow({ where: { userId: alice.id, queueItemId: lease.queueItemId } });
    expect(row.expiresAt.getTime()).toBeLessThanOrEqual(Date.now());
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "queue.lease-released", targetId: lease.queueItemId } });
    expect(audit.details).toMatchObject({ holderId: alice.id, leaseMinutes: 30 });
  });

  it("a holder idle past the lease time is away; an active holder and a holder without any session keep their leases", async () => {
    const { alice, bob, projectId } = await setup();
    const carol = await createTestUser("CLINICIAN");
    await testDb().projectMember.create({ data: { projectId, userId: carol.id } });
    const aliceSid = await startSession(testDb(), alice.id);
    const bobSid = await startSession(testDb(), bob.id);
    const a = (await leaseNext(ctxOf(alice), { projectId }))!;
    const b = (await leaseNext(ctxOf(bob), { projectId }))!;
    // Alice's last request was 31 minutes ago (lease time 30); Bob's just now.
    await testDb().authSession.update({ where: { id: aliceSid }, data: { lastSeenAt: new Date(Date.now() - 31 * 60_000) } });
    const queue = await projectQueue(ctxOf(carol), { projectId });
    expect(queue.items.find((i) => i.caseId === a.caseId)!.state).toBe("available");
    expect(queue.items.find((i) => i.caseId === b.caseId)!.state).toBe("leased");
    expect((await leaseNext(ctxOf(carol), { projectId }))!.caseId).toBe(a.caseId);
    expect((await testDb().queueLease.findFirstOrThrow({ where: { userId: bob.id } })).expiresAt.getTime()).toBeGreaterThan(Date.now());
    await endSession(testDb(), bobSid);

    // A holder with no session row at all (the CLI, a script) is never counted as away.
    const other = await setup();
    const lease = (await leaseNext(ctxOf(other.alice), { projectId: other.projectId }))!;
    const seen = await projectQueue(ctxOf(other.bob), { projectId: other.projectId });
    expect(seen.items.find((i) => i.caseId === lease.caseId)!.state).toBe("leased");
  });

  it("each queue item says why it was selected, with the class and the model's probability only where predictions are shown", async () => {
    const alice = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [alice.id], cases: 2, settings: { showPredictions: true } });
    const model = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.5], seed: 1, labelCount: 10, rounds: [] });
    await testDb().prediction.create({ data: { caseId: caseIds[0]!, modelVersionId: model.id, probabilities: [0.5, 0.12, 0.38], predictedLabel: "normal", confidence: 0.5 } });
    await writeSelectionRound(testDb(), {
      projectId,
      strategy: "rads",
      coldStart: false,
      modelVersionId: model.id,
      params: {},
      stats: {},
      items: [
        { caseId: caseIds[0]!, rank: 1, features: { pseudoLabel: 2, pseudoLabelKey: "suspicious", byPolicy: 1, bald: 0.3 } },
        { caseId: caseIds[1]!, rank: 2, features: { pseudoLabel: 0, pseudoLabelKey: "normal", byPolicy: 0, bald: 0.2 } },
      ],
    });
    let queue = await projectQueue(ctxOf(alice), { projectId });
    expect(queue.items.map((i) => i.reason)).toEqual([
      { kind: "rarity", text: "Likely rare finding: Suspicious (model 38 %)" },
      { kind: "uncertainty", text: "Model uncertain about this case" },
    ]);
    await testDb().project.update({ where: { id: projectId }, data: { settings: { showPredictions: false } } });
    queue = await projectQueue(ctxOf(alice), { projectId });
    expect(queue.items.map((i) => i.reason?.text)).toEqual(["Chosen for rarity", "Chosen for uncertainty"]);
  });
});
