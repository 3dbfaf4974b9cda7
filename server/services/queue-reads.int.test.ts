/**
 * The clinician's queue reads on raw statements (issue 16, goal 1: queue-read-service.ts over
 * server/db/queue-reads.ts) and the image read (image-service.ts): the answers built by hand from the fixture's rows
 * (the queue list page by page with gold rows at their served place, each row as the case on screen, the counts;
 * the prefetch list; the overview's totals) on a project with two rounds, gold cases, stored predictions,
 * submitted, skipped, open and away leases of other clinicians; how many statements
 * each sends (counted on the pool); refusal of non-members and of roles that may not annotate; and the image
 * read's audit event (once per user and image per window, with the client).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db/client";
import { observeStatements } from "../db/statement-observer";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { submitAnnotation } from "./annotation-service";
import { endSession, startSession } from "./auth-service";
import { createServiceContext, type Actor } from "./context";
import { readImageForMember } from "./image-service";
import { myQueues, projectQueue, upcoming } from "./queue-read-service";
import { leaseNext, skipCase } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";

let db: Db;
let trips = 0;
const tempDirs: string[] = [];

/** Counts every statement sent through the pool of `target` (each client's query calls). */
function countRoundTrips(target: Db): void {
  observeStatements(target, () => {
    trips += 1;
  });
}

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; trips: number }> {
  const before = trips;
  const result = await work();
  return { result, trips: trips - before };
}

beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!);
  countRoundTrips(db);
});
afterAll(async () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  await db.$disconnect();
  await testDb().$disconnect();
});

const ctxOf = (actor: Actor) => createServiceContext(db, actor);
const content = (label: string) => ({ labels: [label], spans: [], uncertain: false, comment: "" });

async function leaseAndSubmit(actor: Actor, projectId: string, label = "normal") {
  const lease = await leaseNext(ctxOf(actor), { projectId });
  if (!lease) return null;
  await submitAnnotation(ctxOf(actor), { caseId: lease.caseId, expectedVersion: 0, content: content(label), timeSpentMs: 1000 });
  return lease;
}

/**
 * A project with an earlier round (cases 0–7) and the latest (cases 8–27, RADS features, some with a priority
 * request, a model whose predictions are stored), 4 gold cases (28–31), and clinicians who submitted, skipped,
 * hold open leases, or hold a lease while signed out (away).
 */
async function busyProject(settings: Record<string, unknown>) {
  const clinicians = await Promise.all(Array.from({ length: 6 }, () => createTestUser("CLINICIAN")));
  await Promise.all(clinicians.map((c, i) => testDb().user.update({ where: { id: c.id }, data: { name: `Clinician ${i}` } })));
  const scientist = await createTestUser("DATA_SCIENTIST");
  const { projectId, caseIds } = await createTestProject({ memberIds: [...clinicians.map((c) => c.id), scientist.id], cases: 32, settings });
  const model = await testDb().modelVersion.create({ data: { projectId, version: 1, status: "APPROVED", encoderVersion: "builtin" }, select: { id: true } });
  await testDb().prediction.createMany({
    data: caseIds.slice(0, 30).map((caseId, i) => ({ caseId, modelVersionId: model.id, probabilities: [0.5 - i / 100, 0.2, 0.3 + i / 100], predictedLabel: "normal", confidence: 0.5 })),
  });
  await testDb().goldCase.createMany({ data: caseIds.slice(28).map((caseId) => ({ caseId, projectId, labels: ["suspicious"], source: "imported" })) });
  const image = await testDb().caseImage.create({ data: { caseId: caseIds[9]!, storageKey: "images/x.png", mimeType: "image/png", sha256: "a".repeat(64), frames: 1, position: 0, attributes: {} }, select: { id: true } });
  await testDb().caseImage.create({ data: { caseId: caseIds[29]!, storageKey: "images/y.png", mimeType: "image/png", sha256: "b".repeat(64), frames: 1, position: 0, attributes: {} } });
  await writeSelectionRound(testDb(), { projectId, strategy: "rads", coldStart: false, modelVersionId: model.id, params: {}, stats: {}, items: caseIds.slice(0, 8).map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
  const features = (i: number) =>
    i === 3 ? { priority: true } : i === 5 ? { pseudoLabelKey: "suspicious", byPolicy: 0 } : i === 6 ? {} : { score: 1 - i / 20, pseudoLabelKey: i % 2 ? "suspicious" : "normal", rareProbability: 0.3 };
  await writeSelectionRound(testDb(), { projectId, strategy: "rads", coldStart: false, modelVersionId: model.id, params: {}, stats: {}, items: caseIds.slice(8, 28).map((caseId, i) => ({ caseId, rank: i + 1, features: features(i) })) });
  const [me, a, b, c, open, away] = clinicians as [Actor, Actor, Actor, Actor, Actor, Actor];
  for (let k = 0; k < 3; k++) for (const who of [me, a, b]) await leaseAndSubmit(who, projectId, k === 1 ? "suspicious" : "normal");
  const skipped = await leaseNext(ctxOf(me), { projectId });
  if (skipped) await skipCase(ctxOf(me), { projectId, caseId: skipped.caseId, reason: "cannot read this one" });
  await leaseNext(ctxOf(me), { projectId });
  // Open leases of others, written directly (leaseNext could serve a gold case at a gold slot instead): one by a
  // clinician who never signed in (never away), one signed in, one signed out since (away).
  const items = await testDb().queueItem.findMany({ where: { round: { projectId, number: 2 }, rank: { in: [15, 16, 17] } }, orderBy: { rank: "asc" }, select: { id: true } });
  const expiresAt = new Date(Date.now() + 30 * 60_000);
  await testDb().queueLease.createMany({ data: [c, open, away].map((who, i) => ({ queueItemId: items[i]!.id, userId: who.id, expiresAt })) });
  await startSession(testDb(), open.id);
  await endSession(testDb(), await startSession(testDb(), away.id));
  // An item the data scientist took out of the round (status SKIPPED).
  const last = await testDb().queueItem.findFirstOrThrow({ where: { round: { projectId, number: 2 } }, orderBy: { rank: "desc" }, select: { id: true } });
  await testDb().queueItem.update({ where: { id: last.id }, data: { status: "SKIPPED" } });
  return { clinicians, scientist, projectId, caseIds, imageId: image.id };
}

type QueueRow = Awaited<ReturnType<typeof projectQueue>>["items"][number];

/** The caller's whole list, page by page (pages of `size`), and each row as `current` when its case is asked for. */
async function wholeList(who: Actor, projectId: string, size: number) {
  const rows: QueueRow[] = [];
  for (let offset = 0; ; offset += size) {
    const page = await projectQueue(ctxOf(who), { projectId, itemsOffset: offset, itemsLimit: size });
    expect(page.page).toEqual({ offset, limit: size, rows: page.page.rows });
    rows.push(...page.items);
    if (offset + size >= page.page.rows) break;
  }
  return rows;
}

/**
 * The caller's list built by hand from the fixture's rows: the latest round's items in rank order with the caller's
 * gold servings at their served position (the fixture serves them within the round's items), ranks 1…n with gold and
 * the items' own without; each row's state from the caller's annotations and leases, the item's status and the other
 * clinicians' live leases (the away clinician's not counted), as the module comment of queue-service.ts says.
 */
async function expectedList(who: Actor, projectId: string, annotationsPerCase: number, awayIds: string[]) {
  const round = await testDb().selectionRound.findFirstOrThrow({ where: { projectId }, orderBy: { number: "desc" }, select: { id: true, createdAt: true } });
  const items = await testDb().queueItem.findMany({
    where: { roundId: round.id },
    orderBy: { rank: "asc" },
    select: { caseId: true, rank: true, status: true, leases: { select: { userId: true, expiresAt: true, completedAt: true, user: { select: { name: true } } } } },
  });
  const gold = await testDb().goldServing.findMany({ where: { roundId: round.id, userId: who.id }, orderBy: { position: "asc" }, select: { caseId: true, position: true, servedAt: true } });
  const answers = await testDb().annotation.findMany({ where: { authorId: who.id, kind: { in: ["SUBMITTED", "SKIPPED"] } }, select: { caseId: true, kind: true, createdAt: true } });
  const annotatedInRound = new Set((await testDb().annotation.findMany({ where: { authorId: who.id, createdAt: { gte: round.createdAt } }, select: { caseId: true } })).map((a) => a.caseId));
  const now = Date.now();
  // Done for the caller: items no longer PENDING, or finished by them (completed lease, annotation since the round began), and gold servings answered or skipped.
  let doneForMe = items.filter((item) => item.status !== "PENDING" || item.leases.some((l) => l.userId === who.id && l.completedAt !== null) || annotatedInRound.has(item.caseId)).length;
  const rows: { caseId: string; rank: number; state: string; status: string; heldBy: string[] }[] = items.map((item) => {
    const mine = item.leases.find((l) => l.userId === who.id);
    const live = item.leases.filter((l) => l.completedAt !== null || (l.expiresAt.getTime() > now && !awayIds.includes(l.userId)));
    const state = mine?.completedAt
      ? "done-by-me"
      : item.status === "DONE"
        ? "done"
        : item.status === "SKIPPED"
          ? "skipped"
          : mine && mine.expiresAt.getTime() > now
            ? "leased-by-me"
            : live.length >= annotationsPerCase
              ? "leased"
              : "available";
    const heldBy = item.leases.filter((l) => l.userId !== who.id && l.completedAt === null && l.expiresAt.getTime() > now && !awayIds.includes(l.userId)).map((l) => l.user.name);
    return { caseId: item.caseId, rank: item.rank, state, status: item.status, heldBy };
  });
  for (const g of gold) {
    expect(g.position).toBeLessThan(rows.length); // served within the round's items
    const answer = answers.filter((a) => a.caseId === g.caseId && a.createdAt >= g.servedAt).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
    const submitted = answer?.kind === "SUBMITTED";
    if (answer) doneForMe += 1;
    rows.splice(g.position, 0, { caseId: g.caseId, rank: 0, state: submitted ? "done-by-me" : answer ? "available" : "leased-by-me", status: submitted && annotationsPerCase === 1 ? "DONE" : "PENDING", heldBy: [] });
  }
  if (gold.length > 0) rows.forEach((row, i) => (row.rank = i + 1));
  return { rows, items: items.length, gold: gold.length, doneForMe };
}

/** Checks one clinician's queue list, counts, pages and current rows against the hand-built list. */
async function checkQueueOf(who: Actor, projectId: string, annotationsPerCase: number, awayIds: string[]) {
  const expected = await expectedList(who, projectId, annotationsPerCase, awayIds);
  const whole = await projectQueue(ctxOf(who), { projectId, itemsLimit: 200 });
  expect(whole.items.map((r) => ({ caseId: r.caseId, rank: r.rank, state: r.state, status: r.status, heldBy: r.heldBy.map((h) => h.name) }))).toEqual(expected.rows);
  expect(whole.page.rows).toBe(expected.items + expected.gold);
  // Paging: pages of 3 and of 7 put together are the whole list; each row is the `current` of its case.
  expect(await wholeList(who, projectId, 3)).toEqual(whole.items);
  expect(await wholeList(who, projectId, 7)).toEqual(whole.items);
  for (const row of whole.items) expect((await projectQueue(ctxOf(who), { projectId, caseId: row.caseId, itemsOffset: 100, itemsLimit: 1 })).current).toEqual(row);
  expect((await projectQueue(ctxOf(who), { projectId, itemsOffset: 100 })).items).toEqual([]);
  // Counts of the whole list, whichever page is asked.
  const doneByMe = expected.rows.filter((r) => r.state === "done-by-me").length;
  const done = expected.doneForMe;
  const page2 = await projectQueue(ctxOf(who), { projectId, itemsOffset: 3, itemsLimit: 3 });
  expect(page2.counts).toEqual(whole.counts);
  expect(whole.counts).toMatchObject({ done, doneByMe, remaining: whole.counts.total - done });
  // The overview (its own statement) counts the same: total, done and remaining agree.
  const line = (await myQueues(ctxOf(who))).find((q) => q.projectId === projectId)!;
  expect({ total: line.total, done: line.done, remaining: line.remaining }).toEqual({ total: whole.counts.total, done, remaining: whole.counts.remaining });
  return { whole, expected };
}

/** The prefetch list by hand: PENDING items in rank order the caller neither completed nor annotated since the round began, with a free slot. */
async function expectedUpcoming(who: Actor, projectId: string, slots: number, limit: number) {
  const round = await testDb().selectionRound.findFirstOrThrow({ where: { projectId }, orderBy: { number: "desc" }, select: { id: true, createdAt: true } });
  const items = await testDb().queueItem.findMany({ where: { roundId: round.id, status: "PENDING" }, orderBy: { rank: "asc" }, select: { caseId: true, rank: true, leases: { select: { userId: true, expiresAt: true, completedAt: true } } } });
  const annotated = new Set((await testDb().annotation.findMany({ where: { authorId: who.id, createdAt: { gte: round.createdAt } }, select: { caseId: true } })).map((a) => a.caseId));
  const now = Date.now();
  return items
    .filter((i) => !annotated.has(i.caseId) && !i.leases.some((l) => l.userId === who.id && l.completedAt !== null))
    .filter((i) => i.leases.filter((l) => l.userId !== who.id && (l.completedAt !== null || l.expiresAt.getTime() > now)).length < slots)
    .slice(0, limit)
    .map((i) => ({ caseId: i.caseId, rank: i.rank }));
}

describe("the queue reads answer what the fixture's rows say", () => {
  it("queue.project, queue.upcoming and queue.mine with gold, predictions shown, two rounds, others' leases (N = 2)", async () => {
    const { clinicians, projectId } = await busyProject({ annotationsPerCase: 2, goldRate: 0.25, showPredictions: true });
    // A second project without a round and an archived one with a round, for the overview.
    const other = await createTestProject({ memberIds: clinicians.map((c) => c.id), cases: 3 });
    const archived = await createTestProject({ memberIds: clinicians.map((c) => c.id), cases: 3 });
    await writeSelectionRound(testDb(), { projectId: archived.projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: archived.caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    await testDb().project.update({ where: { id: archived.projectId }, data: { archivedAt: new Date() } });
    const away = clinicians[5]!.id;
    let goldRows = 0;
    for (const who of clinicians) {
      goldRows += (await checkQueueOf(who, projectId, 2, [away])).expected.gold;
      expect(await upcoming(ctxOf(who), { projectId })).toEqual(await expectedUpcoming(who, projectId, 2, 2));
      expect(await upcoming(ctxOf(who), { projectId, limit: 6 })).toEqual(await expectedUpcoming(who, projectId, 2, 6));
      const overview = await myQueues(ctxOf(who));
      expect(overview.map((q) => q.projectId)).toEqual([projectId, other.projectId]);
      expect(overview[1]).toMatchObject({ round: null, total: 0, done: 0, remaining: 0 });
    }
    // What the fixture was built to show, so the comparison is not between two empty answers.
    const view = await projectQueue(ctxOf(clinicians[0]!), { projectId, itemsLimit: 200 });
    const states = new Set(view.items.map((i) => i.state));
    for (const state of ["done-by-me", "leased-by-me", "skipped", "available"]) expect(states).toContain(state);
    expect(view.items.filter((i) => i.heldBy.some((h) => h.name === "Clinician 3" || h.name === "Clinician 4")).map((i) => i.rank)).toHaveLength(2);
    // The away clinician's lease no longer holds its slot: nobody is shown holding it.
    expect(view.items.some((i) => i.heldBy.some((h) => h.name === "Clinician 5"))).toBe(false);
    expect(new Set(view.items.map((i) => i.reason?.kind))).toEqual(new Set(["priority", "rarity", "uncertainty"]));
    expect(view.items.some((i) => /\(model \d+ %\)/.test(i.reason?.text ?? ""))).toBe(true);
    expect(view.items.some((i) => i.hasImages)).toBe(true);
    expect(view.counts.total).toBeGreaterThan(20); // gold slots planned beside the 20 items
    // The first clinician was served 5 cases at gold rate 0.25: at least one was a gold case (gold-mixing.ts), listed among the items.
    expect(await testDb().goldServing.count({ where: { projectId, userId: clinicians[0]!.id } })).toBeGreaterThan(0);
    expect(goldRows).toBeGreaterThan(0);
    // A page past the first: "cases 4–6" of the list, ranks numbered on.
    const page = await projectQueue(ctxOf(clinicians[0]!), { projectId, itemsOffset: 3, itemsLimit: 3 });
    expect(page.items.map((i) => i.rank)).toEqual([4, 5, 6]);
  });

  it("without predictions shown, without gold, N = 1, and a project with no round", async () => {
    const { clinicians, projectId } = await busyProject({ annotationsPerCase: 1, showPredictions: false });
    const empty = await createTestProject({ memberIds: clinicians.map((c) => c.id), cases: 2 });
    for (const who of clinicians.slice(0, 3)) {
      const { whole } = await checkQueueOf(who, projectId, 1, [clinicians[5]!.id]);
      // Without gold the ranks are the items' own and the total is the round's length.
      expect(whole.counts.total).toBe(20);
      expect(await upcoming(ctxOf(who), { projectId })).toEqual(await expectedUpcoming(who, projectId, 1, 2));
      const none = await projectQueue(ctxOf(who), { projectId: empty.projectId, caseId: empty.caseIds[0] });
      expect(none).toMatchObject({ round: null, items: [], current: null, nextRound: null, page: { offset: 0, limit: 50, rows: 0 }, counts: { total: 0, done: 0, remaining: 0, doneByMe: 0 } });
      expect(await upcoming(ctxOf(who), { projectId: empty.projectId })).toEqual([]);
    }
    const view = await projectQueue(ctxOf(clinicians[0]!), { projectId });
    expect(view.items.some((i) => /model/.test(i.reason?.text ?? ""))).toBe(false);
  });

  it("N = 2, three clinicians: a case one answered and one skipped is done for both, open only for the third", async () => {
    const clinicians = (await Promise.all(Array.from({ length: 3 }, () => createTestUser("CLINICIAN")))) as [Actor, Actor, Actor];
    const { projectId, caseIds } = await createTestProject({ memberIds: clinicians.map((c) => c.id), cases: 1, settings: { annotationsPerCase: 2 } });
    await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: [{ caseId: caseIds[0]!, rank: 1, features: {} }] });
    const [answerer, skipper, third] = clinicians;
    expect((await leaseAndSubmit(answerer, projectId))?.caseId).toBe(caseIds[0]);
    const lease = await leaseNext(ctxOf(skipper), { projectId });
    expect(lease?.caseId).toBe(caseIds[0]);
    await skipCase(ctxOf(skipper), { projectId, caseId: caseIds[0]!, reason: "cannot read this one" });
    // Still PENDING: the third clinician may answer it.
    expect((await testDb().queueItem.findFirstOrThrow({ where: { caseId: caseIds[0]! }, select: { status: true } })).status).toBe("PENDING");
    const countsOf = async (who: Actor) => {
      const { counts } = await projectQueue(ctxOf(who), { projectId });
      const line = (await myQueues(ctxOf(who))).find((q) => q.projectId === projectId)!;
      return { workspace: counts, mine: { total: line.total, done: line.done, remaining: line.remaining } };
    };
    expect(await countsOf(answerer)).toEqual({ workspace: { total: 1, done: 1, remaining: 0, doneByMe: 1 }, mine: { total: 1, done: 1, remaining: 0 } });
    expect(await countsOf(skipper)).toEqual({ workspace: { total: 1, done: 1, remaining: 0, doneByMe: 0 }, mine: { total: 1, done: 1, remaining: 0 } });
    expect(await countsOf(third)).toEqual({ workspace: { total: 1, done: 0, remaining: 1, doneByMe: 0 }, mine: { total: 1, done: 0, remaining: 1 } });
    // What "remaining" promises: the first two are served nothing, the third the case.
    expect(await leaseNext(ctxOf(answerer), { projectId })).toBeNull();
    expect(await leaseNext(ctxOf(skipper), { projectId })).toBeNull();
    expect((await leaseAndSubmit(third, projectId))?.caseId).toBe(caseIds[0]);
    expect(await countsOf(third)).toEqual({ workspace: { total: 1, done: 1, remaining: 0, doneByMe: 1 }, mine: { total: 1, done: 1, remaining: 0 } });
  });

  it("gold mixing (N = 2, gold rate 0.5, a skipped gold case): My queue and the workspace count the same, as built by hand", async () => {
    const { clinicians, projectId } = await busyProject({ annotationsPerCase: 2, goldRate: 0.5 });
    // One clinician skips the first gold case they are served, answering the regular ones before it.
    const skipper = clinicians[1]!;
    let skippedGold = false;
    for (let k = 0; k < 8 && !skippedGold; k++) {
      const lease = await leaseNext(ctxOf(skipper), { projectId });
      if (!lease) break;
      if (await testDb().goldServing.count({ where: { userId: skipper.id, caseId: lease.caseId } })) {
        await skipCase(ctxOf(skipper), { projectId, caseId: lease.caseId, reason: "cannot read this one" });
        skippedGold = true;
      } else await submitAnnotation(ctxOf(skipper), { caseId: lease.caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1000 });
    }
    expect(skippedGold).toBe(true);
    let goldRows = 0;
    for (const who of clinicians) goldRows += (await checkQueueOf(who, projectId, 2, [clinicians[5]!.id])).expected.gold;
    expect(goldRows).toBeGreaterThan(1);
  });

  it("refuses a page outside the input's bounds with a message naming it", async () => {
    const { clinicians, projectId } = await busyProject({ annotationsPerCase: 1 });
    await expect(projectQueue(ctxOf(clinicians[0]!), { projectId, itemsLimit: 201 })).rejects.toThrow(/At most 200 rows of the queue list per page/);
    await expect(projectQueue(ctxOf(clinicians[0]!), { projectId, itemsOffset: -1 })).rejects.toThrow(/offset is 0 or more/);
  });
});

describe("statements per call", () => {
  it("queue.project 1, queue.upcoming 2, queue.mine 3, an image 2 (+ none for its bytes)", async () => {
    const { clinicians, projectId, imageId } = await busyProject({ annotationsPerCase: 2, goldRate: 0.25, showPredictions: true });
    const me = clinicians[0]!;
    expect((await counted(() => projectQueue(ctxOf(me), { projectId }))).trips).toBe(1);
    const onScreen = (await leaseNext(ctxOf(me), { projectId }))!.caseId;
    const paged = await counted(() => projectQueue(ctxOf(me), { projectId, caseId: onScreen, itemsOffset: 5, itemsLimit: 4 }));
    expect(paged.trips).toBe(1);
    expect(paged.result.current?.caseId).toBe(onScreen);
    expect((await counted(() => upcoming(ctxOf(me), { projectId }))).trips).toBe(2);
    expect((await counted(() => myQueues(ctxOf(me)))).trips).toBe(3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "queue-reads-"));
    tempDirs.push(dir);
    const blobs = createLocalBlobStore(dir);
    await blobs.put("images/x.png", new Uint8Array([1, 2, 3]));
    const read = await counted(() => readImageForMember(db, me, imageId, blobs));
    expect(read.trips).toBe(2);
    expect([...read.result!.bytes]).toEqual([1, 2, 3]);
  });
});

describe("who may read", () => {
  it("refuses a non-member as a missing project, and a role that may not annotate", async () => {
    const { scientist, projectId } = await busyProject({ annotationsPerCase: 1 });
    const outsider = await createTestUser("CLINICIAN");
    expect(await refusal(projectQueue(ctxOf(outsider), { projectId }))).toMatchObject({ kind: "NOT_FOUND", message: "No such project." });
    expect(await refusal(upcoming(ctxOf(outsider), { projectId }))).toMatchObject({ kind: "NOT_FOUND", message: "No such project." });
    expect(await refusal(projectQueue(ctxOf(outsider), { projectId: "no-such-project" }))).toMatchObject({ kind: "NOT_FOUND" });
    expect((await myQueues(ctxOf(outsider))).map((q) => q.projectId)).not.toContain(projectId);
    expect(await refusal(projectQueue(ctxOf(scientist), { projectId }))).toMatchObject({ kind: "FORBIDDEN" });
    expect(await refusal(upcoming(ctxOf(scientist), { projectId }))).toMatchObject({ kind: "FORBIDDEN" });
    expect((await myQueues(ctxOf(scientist))).map((q) => q.projectId)).not.toContain(projectId);
    // A removed membership counts at the very next call.
    const member = await createTestUser("CLINICIAN");
    await testDb().projectMember.create({ data: { projectId, userId: member.id } });
    expect((await projectQueue(ctxOf(member), { projectId })).items.length).toBeGreaterThan(0);
    await testDb().projectMember.delete({ where: { projectId_userId: { projectId, userId: member.id } } });
    expect(await refusal(projectQueue(ctxOf(member), { projectId }))).toMatchObject({ kind: "NOT_FOUND" });
  });

  it("an image: audited once per user and window with the client, null for a non-member, bytes from the store", async () => {
    const { clinicians, projectId, imageId } = await busyProject({ annotationsPerCase: 1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "queue-reads-"));
    tempDirs.push(dir);
    const blobs = createLocalBlobStore(dir);
    await blobs.put("images/x.png", new Uint8Array([9, 8, 7]));
    const client = { address: "10.1.2.3", userAgent: "test-agent" };
    const me = clinicians[1]!;
    const events = () => testDb().auditEvent.findMany({ where: { action: "image.read", targetId: imageId }, select: { actorId: true, projectId: true, details: true, targetType: true } });
    const first = await readImageForMember(db, me, imageId, blobs, client);
    expect(first).toMatchObject({ mimeType: "image/png", sha256: "a".repeat(64) });
    expect([...first!.bytes]).toEqual([9, 8, 7]);
    await readImageForMember(db, me, imageId, blobs, client);
    const written = await events();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ actorId: me.id, projectId, targetType: "CaseImage", details: { address: "10.1.2.3", userAgent: "test-agent" } });
    await readImageForMember(db, clinicians[2]!, imageId, blobs);
    expect(await events()).toHaveLength(2);
    const outsider = await createTestUser("CLINICIAN");
    expect(await readImageForMember(db, outsider, imageId, blobs)).toBeNull();
    expect(await readImageForMember(db, me, "no-such-image", blobs)).toBeNull();
    expect(await events()).toHaveLength(2);
  });
});
