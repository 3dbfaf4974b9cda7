/**
 * Gold cases (issue 14 item 3) against the real database: marking (only cases with a known answer, audited),
 * the queue mixing them in at the project's rate over a seeded round, each at most once per clinician,
 * nothing in a clinician's payloads telling a gold case apart, accuracy and flagging, and the training label.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ZUpdateSelectionSettingsInput } from "@/contracts/project-settings";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { labelledSets, projectClasses } from "@/workers/jobs/loop-data";
import { exportAgreement } from "./agreement-service";
import { moveCases } from "./case-browser-service";
import { getCaseView, submitAnnotation } from "./annotation-service";
import { createServiceContext, type Actor } from "./context";
import { goldPhase, goldSlots } from "./gold-mixing";
import { goldReport, listGold, markGold, unmarkGold } from "./gold-service";
import { getSelectionSettings, updateSelectionSettings } from "./project-settings-service";
import { myQueues, projectQueue } from "./queue-read-service";
import { leaseNext, skipCase } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";

afterAll(async () => {
  await testDb().$disconnect();
});

const ctxOf = (actor: Actor) => createServiceContext(testDb(), actor);
const content = (label: string) => ({ labels: [label], spans: [], uncertain: false, comment: "" });

/**
 * A project with `regular` unlabelled POOL cases (in one round) and `gold` cases imported with a label
 * (alternately "suspicious", the minority class, and "benign"), marked gold by a data scientist.
 */
async function setup(opts: { regular: number; gold: number; goldRate: number; clinicians?: number; annotationsPerCase?: number; showPredictions?: boolean }) {
  const ds = await createTestUser("DATA_SCIENTIST");
  const clinicians: Actor[] = [];
  for (let i = 0; i < (opts.clinicians ?? 1); i++) clinicians.push(await createTestUser("CLINICIAN"));
  const { projectId, caseIds } = await createTestProject({
    memberIds: [ds.id, ...clinicians.map((c) => c.id)],
    cases: opts.regular + opts.gold,
    settings: { goldRate: opts.goldRate, annotationsPerCase: opts.annotationsPerCase ?? 1, showPredictions: opts.showPredictions ?? false },
  });
  const regularIds = caseIds.slice(0, opts.regular);
  const goldIds = caseIds.slice(opts.regular);
  for (const [i, id] of goldIds.entries()) await testDb().case.update({ where: { id }, data: { importedLabel: i % 2 === 0 ? "suspicious" : "benign", split: "SEED" } });
  const roundId = regularIds.length
    ? (await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: regularIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) })).roundId
    : (await testDb().selectionRound.create({ data: { projectId, number: 1, strategy: "cold-start", coldStart: true } })).id;
  if (goldIds.length) await markGold(ctxOf(ds), { projectId, caseIds: goldIds });
  return { ds, clinicians, projectId, regularIds, goldIds, roundId };
}

/** Works through the clinician's queue (submitting `answer(caseId)`), returning the served case ids in order. */
async function workThrough(actor: Actor, projectId: string, answer: (caseId: string) => string, limit = 200) {
  const served: string[] = [];
  for (let i = 0; i < limit; i++) {
    const lease = await leaseNext(ctxOf(actor), { projectId });
    if (!lease) break;
    served.push(lease.caseId);
    const view = await getCaseView(ctxOf(actor), { caseId: lease.caseId });
    await submitAnnotation(ctxOf(actor), { caseId: lease.caseId, expectedVersion: view.caseVersion, content: content(answer(lease.caseId)), timeSpentMs: 1000 });
  }
  return served;
}

/** A value's shape: the type of every leaf, arrays by the shapes of their elements (deduplicated). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return [...new Set(value.map((v) => JSON.stringify(shape(v))))].sort();
  if (value === null) return "null";
  if (typeof value === "object") return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  return typeof value;
}

describe("marking gold cases", () => {
  it("marks cases imported with a label or adjudicated, with that answer; refuses the rest; audits both ways", async () => {
    const { ds, clinicians, projectId, regularIds, goldIds } = await setup({ regular: 3, gold: 2, goldRate: 0, clinicians: 1 });
    const reviewer = await createTestUser("REVIEWER");
    await testDb().projectMember.create({ data: { projectId, userId: reviewer.id } });
    // An adjudicated case: its newest adjudication is the answer, even over an imported label.
    await testDb().case.update({ where: { id: regularIds[0]! }, data: { importedLabel: "normal" } });
    await testDb().annotation.create({ data: { caseId: regularIds[0]!, authorId: reviewer.id, version: 1, kind: "ADJUDICATED", labels: ["benign"], comment: "first", createdAt: new Date(Date.now() - 60_000) } });
    await testDb().annotation.create({ data: { caseId: regularIds[0]!, authorId: reviewer.id, version: 2, kind: "ADJUDICATED", labels: ["suspicious"], comment: "second" } });

    const result = await markGold(ctxOf(ds), { projectId, caseIds: [regularIds[0]!, goldIds[0]!] });
    expect(result).toEqual({ marked: 1, refreshed: 1 });
    const list = await listGold(ctxOf(ds), { projectId });
    expect(list.cases.map((c) => [c.caseId, c.labels, c.source])).toEqual(
      expect.arrayContaining([
        [regularIds[0], ["suspicious"], "adjudicated"],
        [goldIds[0], ["suspicious"], "imported"],
        [goldIds[1], ["benign"], "imported"],
      ]),
    );
    expect(list.cases).toHaveLength(3);

    // A case without a known answer: refused, naming it, and nothing of the batch is written.
    const bad = await refusal(markGold(ctxOf(ds), { projectId, caseIds: [regularIds[1]!, regularIds[2]!] }));
    expect(bad).toMatchObject({ kind: "BAD_INPUT", field: "caseIds" });
    expect(bad.message).toMatch(/2 of the selected cases have no known answer \(case-0001, case-0002\)/);
    expect((await listGold(ctxOf(ds), { projectId })).cases).toHaveLength(3);

    // Another project's case reads as missing; a clinician and a reviewer may not mark.
    const other = await createTestProject({ memberIds: [ds.id], cases: 1 });
    expect((await refusal(markGold(ctxOf(ds), { projectId, caseIds: [other.caseIds[0]!] }))).kind).toBe("NOT_FOUND");
    expect((await refusal(markGold(ctxOf(clinicians[0]!), { projectId, caseIds: [goldIds[0]!] }))).kind).toBe("FORBIDDEN");
    expect((await refusal(markGold(ctxOf(reviewer), { projectId, caseIds: [goldIds[0]!] }))).kind).toBe("FORBIDDEN");

    expect(await unmarkGold(ctxOf(ds), { projectId, caseIds: [goldIds[1]!, regularIds[1]!] })).toEqual({ unmarked: 1, notGold: 1 });
    const events = await testDb().auditEvent.findMany({ where: { projectId, action: { in: ["gold.mark", "gold.unmark"] } }, orderBy: { id: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["gold.mark", "gold.mark", "gold.unmark"]);
    expect(events[1]!.details).toMatchObject({ changed: expect.arrayContaining([{ caseId: regularIds[0], externalId: "case-0000", before: null, after: { labels: ["suspicious"], source: "adjudicated" } }]) });
    expect(events[2]!.details).toEqual({ changed: [{ caseId: goldIds[1], before: { labels: ["benign"], source: "imported" }, after: null }], notGold: 1 });

    // The CLI without --as: a system action, audited without an actor; never for a signed-in caller's context.
    const system = createServiceContext(testDb(), null);
    expect(await markGold(system, { projectId, caseIds: [goldIds[1]!] }, { system: true })).toEqual({ marked: 1, refreshed: 0 });
    expect((await testDb().auditEvent.findFirstOrThrow({ where: { projectId, action: "gold.mark" }, orderBy: { id: "desc" } })).actorId).toBeNull();
    await expect(markGold(ctxOf(clinicians[0]!), { projectId, caseIds: [goldIds[1]!] }, { system: true })).rejects.toThrow(/may not/);
  });
});

describe("a gold case stays in SEED", () => {
  it("moving it to POOL or TEST is refused naming it, nothing of the batch moves; unmarked, it moves", async () => {
    const { ds, projectId, regularIds, goldIds } = await setup({ regular: 2, gold: 2, goldRate: 0 });
    for (const split of ["POOL", "TEST"] as const) {
      const err = await refusal(moveCases(ctxOf(ds), { projectId, caseIds: [regularIds[0]!, goldIds[1]!], split }));
      expect(err).toMatchObject({ kind: "CONFLICT", field: "caseIds" });
      expect(err.message).toBe(`1 selected case(s) are gold cases, known answers clinicians are scored against; a gold case stays in SEED, so it cannot move to ${split} — unmark it as gold first (case-0003).`);
    }
    const splits = await testDb().case.findMany({ where: { id: { in: [...regularIds, ...goldIds] } }, orderBy: { externalId: "asc" }, select: { split: true } });
    expect(splits.map((c) => c.split)).toEqual(["POOL", "POOL", "SEED", "SEED"]);
    // To SEED (where it is) is fine; once unmarked it is an ordinary case again.
    expect(await moveCases(ctxOf(ds), { projectId, caseIds: goldIds, split: "SEED" })).toMatchObject({ changed: 0 });
    await unmarkGold(ctxOf(ds), { projectId, caseIds: [goldIds[1]!] });
    expect(await moveCases(ctxOf(ds), { projectId, caseIds: [goldIds[1]!], split: "TEST" })).toMatchObject({ changed: 1 });
  });
});

describe("gold settings", () => {
  it("are edited with the selection settings: one schema for form and procedure, range-checked, audited", async () => {
    const { ds, projectId } = await setup({ regular: 1, gold: 0, goldRate: 0 });
    const current = await getSelectionSettings(ctxOf(ds), { projectId });
    expect(current.values).toMatchObject({ goldRate: 0, goldMinAccuracy: 0.8 });
    const tooHigh = ZUpdateSelectionSettingsInput.safeParse({ projectId, ...current.values, goldRate: 0.6 });
    expect(tooHigh.success).toBe(false);
    expect(tooHigh.error!.issues[0]).toMatchObject({ path: ["goldRate"], message: "The gold rate must be a number between 0 and 0.5" });
    const saved = await updateSelectionSettings(ctxOf(ds), ZUpdateSelectionSettingsInput.parse({ projectId, ...current.values, goldRate: 0.25, goldMinAccuracy: 0.9 }));
    expect(saved.changed.sort()).toEqual(["goldMinAccuracy", "goldRate"]);
    expect((await getSelectionSettings(ctxOf(ds), { projectId })).values).toMatchObject({ goldRate: 0.25, goldMinAccuracy: 0.9 });
    const event = await testDb().auditEvent.findFirstOrThrow({ where: { projectId, action: "project.settings.update" }, orderBy: { id: "desc" } });
    expect(event.details).toMatchObject({ before: { goldRate: 0, goldMinAccuracy: 0.8 }, after: { goldRate: 0.25, goldMinAccuracy: 0.9 } });
    // A caller that does not name them keeps them.
    const { goldRate: _r, goldMinAccuracy: _a, ...rest } = (await getSelectionSettings(ctxOf(ds), { projectId })).values;
    await updateSelectionSettings(ctxOf(ds), { projectId, ...rest, leaseMinutes: 20 });
    expect((await getSelectionSettings(ctxOf(ds), { projectId })).values).toMatchObject({ goldRate: 0.25, goldMinAccuracy: 0.9, leaseMinutes: 20 });
  });
});

describe("the queue mixes gold cases in", () => {
  it("at the set rate over a seeded round: exactly the gold slots of the clinician's phase", async () => {
    const { clinicians, projectId, goldIds, roundId } = await setup({ regular: 20, gold: 8, goldRate: 0.2 });
    const alice = clinicians[0]!;
    const served = await workThrough(alice, projectId, () => "benign");
    const gold = new Set(goldIds);
    const goldPositions = served.flatMap((caseId, k) => (gold.has(caseId) ? [k] : []));
    // Every regular case once, and the gold slots of this (round, clinician) phase among the positions served.
    expect(served.filter((id) => !gold.has(id))).toHaveLength(20);
    const expected = goldSlots(served.length, 0.2, goldPhase(roundId, alice.id));
    expect(goldPositions).toEqual(expected.filter((k) => k < served.length));
    expect(goldPositions.length).toBe(Math.floor(served.length * 0.2 + goldPhase(roundId, alice.id)));
    expect(goldPositions.length / served.length).toBeGreaterThanOrEqual(0.15);
    expect(goldPositions.length / served.length).toBeLessThanOrEqual(0.25);
    // Each gold case at most once.
    expect(new Set(served).size).toBe(served.length);
    // The servings are audited.
    expect(await testDb().auditEvent.count({ where: { projectId, action: "queue.next", targetType: "GoldServing", actorId: alice.id } })).toBe(goldPositions.length);
  });

  it("gives a clinician a gold case at most once across rounds; slots without gold left take regular cases", async () => {
    const { clinicians, projectId, goldIds } = await setup({ regular: 6, gold: 2, goldRate: 0.5, clinicians: 2, annotationsPerCase: 2 });
    const [alice, bob] = clinicians as [Actor, Actor];
    const first = await workThrough(alice, projectId, () => "normal");
    // Rate 0.5 would want 4 gold among 8+ cases; only 2 gold cases exist: both once, then regular cases.
    expect(first.filter((id) => goldIds.includes(id)).sort()).toEqual([...goldIds].sort());
    expect(first).toHaveLength(8);
    // A second round: Alice never gets either gold case again; Bob gets both.
    const more = await createTestProjectCases(projectId, 6);
    await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: more.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    const second = await workThrough(alice, projectId, () => "normal");
    expect(second.filter((id) => goldIds.includes(id))).toEqual([]);
    expect(second).toHaveLength(6);
    const bobs = await workThrough(bob, projectId, () => "normal");
    expect(bobs.filter((id) => goldIds.includes(id)).sort()).toEqual([...goldIds].sort());
    expect(await testDb().goldServing.count({ where: { projectId, userId: alice.id } })).toBe(2);
  });

  it("a gold case stays the clinician's until answered (reload resumes it); a skip answers it without scoring", async () => {
    const { clinicians, projectId, goldIds, roundId } = await setup({ regular: 10, gold: 3, goldRate: 0.5 });
    const alice = clinicians[0]!;
    const phase = goldPhase(roundId, alice.id);
    // Lease until the first gold slot.
    const firstGoldSlot = goldSlots(10, 0.5, phase)[0]!;
    for (let k = 0; k < firstGoldSlot; k++) {
      const lease = (await leaseNext(ctxOf(alice), { projectId }))!;
      await submitAnnotation(ctxOf(alice), { caseId: lease.caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 10 });
    }
    const gold = (await leaseNext(ctxOf(alice), { projectId }))!;
    expect(goldIds).toContain(gold.caseId);
    expect(gold.resumed).toBe(false);
    const again = (await leaseNext(ctxOf(alice), { projectId }))!;
    expect(again).toMatchObject({ caseId: gold.caseId, queueItemId: gold.queueItemId, resumed: true });
    await skipCase(ctxOf(alice), { projectId, caseId: gold.caseId, reason: "cannot read it" });
    const next = (await leaseNext(ctxOf(alice), { projectId }))!;
    expect(next.caseId).not.toBe(gold.caseId);
    const report = await goldReport(ctxOf((await setupDs(projectId))!), { projectId });
    expect(report.annotators).toEqual([]);
  });
});

describe("nothing a clinician receives tells a gold case apart", () => {
  it("the lease, the queue list and the case view have the same shape for a gold and a regular case; a gold case hides others' answers", async () => {
    const { clinicians, projectId, goldIds } = await setup({ regular: 8, gold: 4, goldRate: 0.5, clinicians: 2 });
    const [alice, bob] = clinicians as [Actor, Actor];
    const gold = new Set(goldIds);
    // Alice answered every gold case before (her answers must not be shown to Bob on a gold case, N = 1).
    for (const caseId of goldIds) await testDb().annotation.create({ data: { caseId, authorId: alice.id, version: 1, kind: "SUBMITTED", labels: ["normal"] } });
    const leases = [];
    for (let i = 0; i < 6; i++) {
      const lease = (await leaseNext(ctxOf(bob), { projectId }))!;
      leases.push(lease);
      const view = await getCaseView(ctxOf(bob), { caseId: lease.caseId });
      if (gold.has(lease.caseId)) {
        // Alice answered this gold case before: Bob sees neither her version nor a case version counting it.
        expect(view.current).toBeNull();
        expect(view.caseVersion).toBe(0);
        expect(view.history).toEqual([]);
      }
      await submitAnnotation(ctxOf(bob), { caseId: lease.caseId, expectedVersion: view.caseVersion, content: content("benign"), timeSpentMs: 10 });
    }
    const goldLease = leases.find((l) => gold.has(l.caseId))!;
    const regularLease = leases.find((l) => !gold.has(l.caseId))!;
    expect(goldLease).toBeDefined();
    expect(regularLease).toBeDefined();
    expect(shape(goldLease)).toEqual(shape(regularLease));
    expect(goldLease.queueItemId).toMatch(/^c[a-z0-9]{20,}$/);
    expect(regularLease.queueItemId).toMatch(/^c[a-z0-9]{20,}$/);

    const queue = await projectQueue(ctxOf(bob), { projectId });
    const goldItems = queue.items.filter((i) => gold.has(i.caseId));
    const regularItems = queue.items.filter((i) => !gold.has(i.caseId));
    expect(goldItems.length).toBeGreaterThan(0);
    for (const item of goldItems) expect(shape(item)).toEqual(shape(regularItems[0]));
    // Bob's done gold items read like his done regular items; ranks are 1..n without gaps or repeats.
    expect(goldItems.every((i) => i.state === "done-by-me" && i.status === "DONE")).toBe(true);
    expect(queue.items.map((i) => i.rank)).toEqual(queue.items.map((_, i) => i + 1));
    // The queue overview counts the same cases as the list; nothing in either payload names gold.
    const summary = (await myQueues(ctxOf(bob))).find((q) => q.projectId === projectId)!;
    expect({ total: summary.total, done: summary.done }).toEqual({ total: queue.counts.total, done: queue.counts.done });
    expect(JSON.stringify(summary)).not.toMatch(/gold/i);
    expect(JSON.stringify(queue)).not.toMatch(/gold/i);
    expect(JSON.stringify(goldLease)).not.toMatch(/gold/i);
    const goldView = await getCaseView(ctxOf(bob), { caseId: goldLease.caseId });
    const regularView = await getCaseView(ctxOf(bob), { caseId: regularLease.caseId });
    expect(shape(goldView)).toEqual(shape(regularView));
    expect(JSON.stringify(goldView)).not.toMatch(/gold/i);
  });
});

describe("a gold serving leaves no trace in the clinician's counts or reasons", () => {
  it("the round's total (the header's 'case k of N') is the same before and after every serving, gold or not, and is what they are served", async () => {
    const { clinicians, projectId, goldIds } = await setup({ regular: 10, gold: 4, goldRate: 0.3 });
    const alice = clinicians[0]!;
    const gold = new Set(goldIds);
    const totalOf = async () => (await projectQueue(ctxOf(alice), { projectId })).counts.total;
    const overviewOf = async () => (await myQueues(ctxOf(alice))).find((q) => q.projectId === projectId)!.total;
    const first = await totalOf();
    const served: string[] = [];
    for (let i = 0; i < 50; i++) {
      const lease = await leaseNext(ctxOf(alice), { projectId });
      if (!lease) break;
      served.push(lease.caseId);
      // Right after the serving (the moment the header re-reads the queue) and after the answer.
      expect({ at: i, total: await totalOf(), overview: await overviewOf() }).toEqual({ at: i, total: first, overview: first });
      const view = await getCaseView(ctxOf(alice), { caseId: lease.caseId });
      await submitAnnotation(ctxOf(alice), { caseId: lease.caseId, expectedVersion: view.caseVersion, content: content("benign"), timeSpentMs: 10 });
      expect(await totalOf()).toBe(first);
    }
    expect(served.filter((id) => gold.has(id)).length).toBeGreaterThan(0);
    expect(served).toHaveLength(first);
    const queue = await projectQueue(ctxOf(alice), { projectId });
    expect(queue.items).toHaveLength(first);
    expect(queue.counts).toMatchObject({ total: first, done: first, remaining: 0 });
  });

  it("with predictions shown, a gold row's reason has the regular rows' form: the model's probability of this case, or the same words without one", async () => {
    const { clinicians, projectId, goldIds } = await setup({ regular: 0, gold: 3, goldRate: 0.5, showPredictions: true });
    const alice = clinicians[0]!;
    const regularIds = await createTestProjectCases(projectId, 6);
    const model = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.5], seed: 1, labelCount: 10, rounds: [] });
    // Probabilities in class order (normal, benign, suspicious), different per case.
    for (const [i, caseId] of [...regularIds, ...goldIds].entries()) {
      const suspicious = 0.3 + i * 0.03;
      await testDb().prediction.create({ data: { caseId, modelVersionId: model.id, probabilities: [0.7 - suspicious, 0.3, suspicious], predictedLabel: "normal", confidence: 0.7 - suspicious } });
    }
    await writeSelectionRound(testDb(), {
      projectId,
      strategy: "rads",
      coldStart: false,
      modelVersionId: model.id,
      params: {},
      stats: {},
      items: regularIds.map((caseId, i) => ({ caseId, rank: i + 1, features: { pseudoLabel: 2, pseudoLabelKey: "suspicious", byPolicy: 1, bald: 0.3 } })),
    });
    const served = await workThrough(alice, projectId, () => "benign");
    const gold = new Set(goldIds);
    expect(served.filter((id) => gold.has(id)).length).toBeGreaterThan(0);
    let queue = await projectQueue(ctxOf(alice), { projectId });
    const rows = (ids: Set<string>, inside: boolean) => queue.items.filter((i) => ids.has(i.caseId) === inside);
    expect(rows(gold, true).length).toBeGreaterThan(0);
    for (const row of queue.items) expect(row.reason).toEqual({ kind: "rarity", text: expect.stringMatching(/^Likely rare finding: Suspicious \(model \d+ %\)$/) });
    // Each gold row shows its own case's stored probability.
    for (const [i, caseId] of goldIds.entries()) {
      const row = queue.items.find((r) => r.caseId === caseId);
      if (row) expect(row.reason!.text).toBe(`Likely rare finding: Suspicious (model ${Math.round((0.3 + (regularIds.length + i) * 0.03) * 100)} %)`);
    }
    // No predictions stored: gold and regular rows read the same words.
    await testDb().prediction.deleteMany({ where: { modelVersionId: model.id } });
    queue = await projectQueue(ctxOf(alice), { projectId });
    expect(new Set(queue.items.map((r) => JSON.stringify(r.reason)))).toEqual(new Set([JSON.stringify({ kind: "rarity", text: "Likely rare finding: Suspicious" })]));
  });
});

describe("accuracy on gold and flagging", () => {
  it("scores first answers per annotator with minority recall and batches; flags below the threshold only with ≥ 5 answers", async () => {
    const { ds, clinicians, projectId, goldIds } = await setup({ regular: 0, gold: 10, goldRate: 0.2, clinicians: 3 });
    const [good, poor, fresh] = clinicians as [Actor, Actor, Actor];
    const round = await testDb().selectionRound.findFirstOrThrow({ where: { projectId } });
    const answers = new Map<string, string>(goldIds.map((id, i) => [id, i % 2 === 0 ? "suspicious" : "benign"]));
    let t = Date.now() - 3_600_000;
    async function answer(user: Actor, caseId: string, label: string) {
      const servedAt = new Date((t += 1000));
      await testDb().goldServing.create({ data: { projectId, caseId, userId: user.id, roundId: round.id, position: 0, servedAt, expiresAt: new Date(servedAt.getTime() + 60_000) } });
      await testDb().annotation.create({ data: { caseId, authorId: user.id, version: 1, kind: "SUBMITTED", labels: [label], createdAt: new Date((t += 1000)) } });
    }
    // good: 9 of 10 right (misses one suspicious case); poor: 6 of 10 (misses 4 of the 5 suspicious); fresh: 4 answers, all wrong.
    for (const [i, id] of goldIds.entries()) await answer(good, id, i === 0 ? "benign" : answers.get(id)!);
    for (const [i, id] of goldIds.entries()) await answer(poor, id, i % 2 === 0 && i < 8 ? "normal" : answers.get(id)!);
    for (const id of goldIds.slice(0, 4)) await answer(fresh, id, "normal");
    // A later edit does not change the score: the first answer counts.
    await testDb().annotation.create({ data: { caseId: goldIds[0]!, authorId: good.id, version: 2, kind: "SUBMITTED", labels: ["suspicious"] } });

    const report = await goldReport(ctxOf(ds), { projectId, batchSize: 5 });
    const by = new Map(report.annotators.map((a) => [a.userId, a]));
    expect(by.get(good.id)).toMatchObject({ answers: 10, correct: 9, accuracy: 0.9, minorityAnswers: 5, minorityHits: 4, minorityRecall: 0.8, flagged: false, note: null });
    expect(by.get(good.id)!.batches.map((b) => [b.index, b.answers, b.correct])).toEqual([[1, 5, 4], [2, 5, 5]]);
    expect(by.get(poor.id)).toMatchObject({ answers: 10, correct: 6, accuracy: 0.6, minorityAnswers: 5, minorityHits: 1, minorityRecall: 0.2, flagged: true });
    expect(by.get(poor.id)!.note).toMatch(/accuracy 60% is below the project's threshold of 80%/);
    expect(by.get(fresh.id)).toMatchObject({ answers: 4, correct: 0, accuracy: 0, flagged: false });
    expect(by.get(fresh.id)!.note).toMatch(/at least 5 are needed/);
    expect(report.flagged.map((f) => f.userId)).toEqual([poor.id]);
    expect(report).toMatchObject({ goldCases: 10, minAnswers: 5, goldMinAccuracy: 0.8, batchSize: 5 });

    // The threshold is the project's: at 0.5 nobody is flagged. A clinician may not read the report.
    await testDb().project.update({ where: { id: projectId }, data: { settings: { annotationsPerCase: 1, goldRate: 0.2, goldMinAccuracy: 0.5 } } });
    expect((await goldReport(ctxOf(ds), { projectId })).flagged).toEqual([]);
    expect((await refusal(goldReport(ctxOf(good), { projectId }))).kind).toBe("FORBIDDEN");
  });

  it("training takes a gold case's own label: clinicians' gold answers never vote", async () => {
    // Four regular cases: at rate 0.5 each clinician's round has both gold slots before its fourth regular case.
    const { ds, clinicians, projectId, goldIds } = await setup({ regular: 4, gold: 2, goldRate: 0.5, clinicians: 2, annotationsPerCase: 2 });
    // Both clinicians answer everything "normal" — against the gold answers suspicious / benign.
    for (const c of clinicians) await workThrough(c, projectId, () => "normal");
    expect(await testDb().annotation.count({ where: { caseId: { in: goldIds }, kind: "SUBMITTED" } })).toBe(4);
    const project = await testDb().project.findUniqueOrThrow({ where: { id: projectId } });
    const classes = projectClasses(project);
    const sets = await labelledSets(testDb(), projectId, classes);
    const byCase = new Map(sets.training.map((e) => [e.caseId, e]));
    expect(byCase.get(goldIds[0]!)).toMatchObject({ label: classes.index.get("suspicious"), source: "imported" });
    expect(byCase.get(goldIds[1]!)).toMatchObject({ label: classes.index.get("benign"), source: "imported" });
    // Regular cases still take their annotators' majority.
    expect(sets.training.filter((e) => !goldIds.includes(e.caseId)).every((e) => e.source === "consensus" && e.label === classes.index.get("normal"))).toBe(true);
    // The agreement report's final labels follow the same rule (gold answers never vote there either).
    const report = await exportAgreement(ctxOf(ds), { projectId });
    const externalIds = await testDb().case.findMany({ where: { id: { in: goldIds } }, select: { id: true, externalId: true } });
    const finalOf = (caseId: string) => report.finalLabels.find((r) => r.caseId === externalIds.find((c) => c.id === caseId)!.externalId);
    expect(finalOf(goldIds[0]!)).toMatchObject({ label: "suspicious", source: "imported" });
    expect(finalOf(goldIds[1]!)).toMatchObject({ label: "benign", source: "imported" });
  });
});

/** More POOL cases in an existing project (for a second round). */
async function createTestProjectCases(projectId: string, n: number): Promise<string[]> {
  const stamp = Date.now().toString(36);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await testDb().case.create({ data: { projectId, externalId: `more-${stamp}-${i}`, narrative: `More report ${i}.` } })).id);
  return ids;
}

/** The project's data scientist. */
async function setupDs(projectId: string): Promise<Actor | null> {
  const member = await testDb().projectMember.findFirst({ where: { projectId, role: "DATA_SCIENTIST" }, include: { user: true } });
  return member ? { id: member.user.id, role: member.user.role, name: member.user.name, email: member.user.email } : null;
}
