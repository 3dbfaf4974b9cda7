import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createColdStartRound, writeSelectionRound } from "../services/selection-rounds";
import { listSelectableCaseIds } from "./loop-repo";
import { countSelectablePool } from "./project-settings-repo";
import { hasSelectableCase, listSelectableCases } from "./rounds-repo";

afterAll(async () => {
  await testDb().$disconnect();
});

/**
 * A project whose POOL holds one case of each kind: imported label, submitted annotation,
 * adjudicated, only skipped, queued in an open round, imported label put into the next round with
 * priority, and plain unlabelled ones; plus a TEST case.
 */
async function mixedProject() {
  const db = testDb();
  const clinician = await createTestUser("CLINICIAN");
  const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 9 });
  const [imported, submitted, adjudicated, skipped, queued, prioritised, test, plainA, plainB] = caseIds as [string, string, string, string, string, string, string, string, string];
  await db.case.update({ where: { id: imported }, data: { importedLabel: "normal" } });
  await db.case.update({ where: { id: prioritised }, data: { importedLabel: "benign", priorityRequestedAt: new Date(), priorityRequestedById: clinician.id } });
  await db.case.update({ where: { id: test }, data: { split: "TEST" } });
  await db.annotation.create({ data: { caseId: submitted, authorId: clinician.id, version: 1, kind: "SUBMITTED", labels: ["benign"] } });
  await db.annotation.create({ data: { caseId: adjudicated, authorId: clinician.id, version: 1, kind: "ADJUDICATED", labels: ["normal"], comment: "agreed" } });
  await db.annotation.create({ data: { caseId: skipped, authorId: clinician.id, version: 1, kind: "SKIPPED", labels: [], skipReason: "unreadable" } });
  await writeSelectionRound(db, { projectId, strategy: "random", coldStart: false, params: {}, stats: {}, items: [{ caseId: queued, rank: 1, features: {} }] });
  return { projectId, queued, expected: [skipped, prioritised, plainA, plainB].sort(), known: [imported, submitted, adjudicated] };
}

describe("the selectable pool (one definition)", () => {
  it("leaves out cases whose label is known (imported, submitted, adjudicated) and queued ones; keeps skipped and priority-requested cases", async () => {
    const db = testDb();
    const { projectId, expected } = await mixedProject();
    expect((await listSelectableCases(db, projectId)).map((c) => c.id).sort()).toEqual(expected);
    expect((await listSelectableCaseIds(db, projectId)).map((c) => c.id).sort()).toEqual(expected);
    expect(await countSelectablePool(db, projectId)).toBe(expected.length);
    expect(await hasSelectableCase(db, projectId)).toBe(true);
  });

  it("the cold start never queues a case with a known label", async () => {
    const db = testDb();
    const { projectId, queued: wasQueued, expected, known } = await mixedProject();
    // Its round done (and never annotated), the queued case is selectable again.
    await db.queueItem.updateMany({ where: { round: { projectId } }, data: { status: "DONE" } });
    const round = await createColdStartRound(db, projectId, { seed: 3 });
    expect(round.created).toBe(true);
    if (!round.created) return;
    const queued = (await db.queueItem.findMany({ where: { roundId: round.roundId }, select: { caseId: true } })).map((i) => i.caseId);
    expect(queued.length).toBeGreaterThan(0);
    for (const id of queued) expect([...expected, wasQueued]).toContain(id);
    for (const id of known) expect(queued).not.toContain(id);
  });

  it("a POOL made only of imported-labelled cases has nothing to select: no cold-start round", async () => {
    const db = testDb();
    const clinician = await createTestUser("CLINICIAN");
    const { projectId } = await createTestProject({ memberIds: [clinician.id], cases: 6 });
    await db.case.updateMany({ where: { projectId }, data: { importedLabel: "normal" } });
    expect(await hasSelectableCase(db, projectId)).toBe(false);
    expect(await countSelectablePool(db, projectId)).toBe(0);
    expect(await createColdStartRound(db, projectId, { seed: 1 })).toEqual({ created: false, reason: "empty-pool" });
  });
});
