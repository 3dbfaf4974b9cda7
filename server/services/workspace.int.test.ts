import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AnnotationConflict } from "@/contracts/annotations";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { getCaseView, saveDraft, submitAnnotation } from "./annotation-service";
import { createServiceContext, type Actor } from "./context";
import { readImageForMember } from "./image-service";
import { projectQueue } from "./queue-read-service";
import { leaseNext, skipCase } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";
import { DomainError } from "../errors";

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  await testDb().$disconnect();
});

const ctxOf = (actor: Actor) => createServiceContext(testDb(), actor);
const content = (label: string, extra: Partial<{ comment: string; uncertain: boolean }> = {}) => ({ labels: [label], spans: [], uncertain: false, comment: "", ...extra });

async function projectWithRound(opts: { clinicians: number; cases: number; settings?: Record<string, unknown> }) {
  const clinicians = await Promise.all(Array.from({ length: opts.clinicians }, () => createTestUser("CLINICIAN")));
  const { projectId, caseIds } = await createTestProject({ memberIds: clinicians.map((c) => c.id), cases: opts.cases, settings: opts.settings });
  const round = await writeSelectionRound(testDb(), {
    projectId,
    strategy: "cold-start",
    coldStart: true,
    modelVersionId: null,
    params: {},
    stats: {},
    items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })),
  });
  return { clinicians, projectId, caseIds, roundId: round.roundId };
}

describe("leasing", () => {
  it("never gives two clinicians calling at once the same case (annotationsPerCase = 1)", async () => {
    const { clinicians, projectId, caseIds } = await projectWithRound({ clinicians: 12, cases: 8 });
    const leases = await Promise.all(clinicians.map((c) => leaseNext(ctxOf(c), { projectId })));
    const got = leases.filter((l) => l !== null).map((l) => l!.caseId);
    expect(got).toHaveLength(8);
    expect(new Set(got).size).toBe(8);
    expect(new Set(got)).toEqual(new Set(caseIds));
    expect(leases.filter((l) => l === null)).toHaveLength(4);
    expect(await testDb().queueLease.count({ where: { queueItem: { round: { projectId } } } })).toBe(8);
  });

  it("gives each case to up to N different clinicians with annotationsPerCase = N", async () => {
    const { clinicians, projectId } = await projectWithRound({ clinicians: 7, cases: 3, settings: { annotationsPerCase: 2 } });
    // Each clinician asks twice in parallel with everyone else; the second call resumes their own lease.
    const leases = await Promise.all(clinicians.flatMap((c) => [leaseNext(ctxOf(c), { projectId }), leaseNext(ctxOf(c), { projectId })]));
    const perClinician = new Map<string, Set<string>>();
    leases.forEach((lease, i) => {
      if (!lease) return;
      const who = clinicians[Math.floor(i / 2)]!.id;
      perClinician.set(who, (perClinician.get(who) ?? new Set()).add(lease.caseId));
    });
    for (const cases of perClinician.values()) expect(cases.size).toBe(1);
    const rows = await testDb().queueLease.findMany({ where: { queueItem: { round: { projectId } } }, select: { queueItemId: true, userId: true } });
    expect(rows).toHaveLength(6); // 3 cases × 2 slots; the seventh clinician gets nothing
    const byItem = new Map<string, Set<string>>();
    for (const row of rows) byItem.set(row.queueItemId, (byItem.get(row.queueItemId) ?? new Set()).add(row.userId));
    expect([...byItem.values()].map((users) => users.size)).toEqual([2, 2, 2]);
  });

  it("resumes the caller's own lease, reuses expired leases, and marks an item DONE after N submissions", async () => {
    const { clinicians, projectId, caseIds, roundId } = await projectWithRound({ clinicians: 3, cases: 1, settings: { annotationsPerCase: 2 } });
    const [a, b, c] = clinicians as [Actor, Actor, Actor];
    const first = await leaseNext(ctxOf(a), { projectId });
    expect(first).toMatchObject({ caseId: caseIds[0], resumed: false });
    expect(await leaseNext(ctxOf(a), { projectId })).toMatchObject({ caseId: caseIds[0], resumed: true });
    expect(await leaseNext(ctxOf(b), { projectId })).toMatchObject({ caseId: caseIds[0] });
    expect(await leaseNext(ctxOf(c), { projectId })).toBeNull(); // both slots live

    await testDb().queueLease.updateMany({ where: { userId: b.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await leaseNext(ctxOf(c), { projectId })).toMatchObject({ caseId: caseIds[0] }); // b's slot expired: c takes it

    await submitAnnotation(ctxOf(a), { caseId: caseIds[0]!, expectedVersion: 0, content: content("normal"), timeSpentMs: 1200 });
    expect((await testDb().queueItem.findFirstOrThrow({ where: { roundId } })).status).toBe("PENDING");
    await submitAnnotation(ctxOf(c), { caseId: caseIds[0]!, expectedVersion: 0, content: content("benign"), timeSpentMs: 900 });
    expect((await testDb().queueItem.findFirstOrThrow({ where: { roundId } })).status).toBe("DONE");
    const queue = await projectQueue(ctxOf(a), { projectId });
    expect(queue.counts).toMatchObject({ total: 1, done: 1, remaining: 0, doneByMe: 1 });
    expect(queue.round).toMatchObject({ strategy: "cold-start", coldStart: true });
  });

  it("skipping releases the lease with a reason; the case goes to someone else, not back to the skipper", async () => {
    const { clinicians, projectId, caseIds } = await projectWithRound({ clinicians: 2, cases: 2 });
    const [a, b] = clinicians as [Actor, Actor];
    const lease = await leaseNext(ctxOf(a), { projectId });
    expect(lease?.caseId).toBe(caseIds[0]);
    await skipCase(ctxOf(a), { projectId, caseId: caseIds[0]!, reason: "image does not load" });
    const skipped = await testDb().annotation.findFirstOrThrow({ where: { caseId: caseIds[0]!, authorId: a.id } });
    expect(skipped).toMatchObject({ kind: "SKIPPED", skipReason: "image does not load", version: 1 });
    expect((await leaseNext(ctxOf(a), { projectId }))?.caseId).toBe(caseIds[1]);
    expect((await leaseNext(ctxOf(b), { projectId }))?.caseId).toBe(caseIds[0]);
  });

  it("shows a non-member nothing", async () => {
    const { projectId } = await projectWithRound({ clinicians: 1, cases: 2 });
    const outsider = await createTestUser("CLINICIAN");
    await expect(leaseNext(ctxOf(outsider), { projectId })).rejects.toMatchObject({ kind: "NOT_FOUND" });
    await expect(projectQueue(ctxOf(outsider), { projectId })).rejects.toMatchObject({ kind: "NOT_FOUND" });
  });
});

describe("versioning and conflicts", () => {
  it("inserts version n+1 per author, keeps history, and refuses a stale writer with both versions", async () => {
    const { clinicians, projectId, caseIds } = await projectWithRound({ clinicians: 2, cases: 1 });
    const [a, b] = clinicians as [Actor, Actor];
    const caseId = caseIds[0]!;
    await leaseNext(ctxOf(a), { projectId });
    const v1 = await submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 500 });
    expect(v1).toMatchObject({ version: 1, caseVersion: 1 });

    // b may read the case but not answer it: its one slot is a's (the item is DONE) and b never submitted it.
    const viewB = await getCaseView(ctxOf(b), { caseId });
    expect(viewB.current).toMatchObject({ labels: ["normal"], version: 1, mine: false });
    expect(viewB.refusal).toBe("This case is not in your queue.");
    await expect(submitAnnotation(ctxOf(b), { caseId, expectedVersion: 1, content: content("benign"), timeSpentMs: 1 })).rejects.toMatchObject({ kind: "BAD_INPUT" });
    // a opens the case from the history in two tabs at version 1; the second tab submits first, the first is stale.
    const viewA = await getCaseView(ctxOf(a), { caseId });
    expect(viewA.caseVersion).toBe(1);
    expect(viewA.refusal).toBeNull();
    await submitAnnotation(ctxOf(a), { caseId, expectedVersion: viewA.caseVersion, content: content("benign", { comment: "calcified" }), timeSpentMs: 700 });
    const error = await submitAnnotation(ctxOf(a), { caseId, expectedVersion: viewA.caseVersion, content: content("suspicious"), timeSpentMs: 800 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe("CONFLICT");
    const conflict = (error as DomainError).details!.conflict as AnnotationConflict;
    expect(conflict.currentVersion).toBe(2);
    expect(conflict.theirs).toMatchObject({ labels: ["benign"], comment: "calcified", authorName: "Test CLINICIAN" });
    expect(conflict.yours.labels).toEqual(["suspicious"]);

    // Resubmitting on top of the other tab's works and becomes a's version 3.
    const v3 = await submitAnnotation(ctxOf(a), { caseId, expectedVersion: conflict.currentVersion, content: content("suspicious"), timeSpentMs: 300 });
    expect(v3).toMatchObject({ version: 3, caseVersion: 3 });
    const history = (await getCaseView(ctxOf(a), { caseId })).history;
    expect(history.map((h) => [h.labels[0], h.version, h.mine])).toEqual([
      ["suspicious", 3, true],
      ["benign", 2, true],
      ["normal", 1, true],
    ]);
    expect(await testDb().annotation.count({ where: { caseId, authorId: b.id } })).toBe(0);
  });

  it("lets exactly one of many racing writers of the same version win; nothing is lost or overwritten", async () => {
    const { clinicians, caseIds } = await projectWithRound({ clinicians: 6, cases: 1 });
    const caseId = caseIds[0]!;
    // Same user in two tabs, plus other clinicians, all starting from version 0.
    const writers = [clinicians[0]!, clinicians[0]!, ...clinicians.slice(1)];
    const results = await Promise.allSettled(writers.map((w, i) => submitAnnotation(ctxOf(w), { caseId, expectedVersion: 0, content: content("normal", { comment: `writer ${i}` }), timeSpentMs: i })));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    // Under the lock, after the winner: its author's other tab conflicts; the others find the one slot taken (the item DONE).
    const winner = writers[results.findIndex((r) => r.status === "fulfilled")]!;
    results.forEach((r, i) => {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ kind: writers[i]!.id === winner.id ? "CONFLICT" : "BAD_INPUT" });
    });
    expect(await testDb().annotation.count({ where: { caseId } })).toBe(1);
  });

  it("keeps double-annotation opinions independent (per-author versions, others' labels hidden)", async () => {
    const { clinicians, caseIds } = await projectWithRound({ clinicians: 2, cases: 1, settings: { annotationsPerCase: 2 } });
    const [a, b] = clinicians as [Actor, Actor];
    const caseId = caseIds[0]!;
    await submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("normal"), timeSpentMs: 1 });
    const viewB = await getCaseView(ctxOf(b), { caseId });
    expect(viewB.caseVersion).toBe(0);
    expect(viewB.current).toBeNull();
    expect(viewB.history).toEqual([]);
    await submitAnnotation(ctxOf(b), { caseId, expectedVersion: 0, content: content("benign"), timeSpentMs: 1 });
    await expect(submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("benign"), timeSpentMs: 1 })).rejects.toMatchObject({ kind: "CONFLICT" });
  });

  it("validates labels and spans against the schema and the narrative", async () => {
    const { clinicians, caseIds } = await projectWithRound({ clinicians: 1, cases: 1 });
    const a = clinicians[0]!;
    const caseId = caseIds[0]!;
    const narrative = (await testDb().case.findUniqueOrThrow({ where: { id: caseId } })).narrative!;
    const base = { caseId, expectedVersion: 0, timeSpentMs: 1 };
    await expect(submitAnnotation(ctxOf(a), { ...base, content: content("made-up") })).rejects.toThrow(/Unknown label "made-up"/);
    await expect(submitAnnotation(ctxOf(a), { ...base, content: { ...content("normal"), labels: ["normal", "benign"] } })).rejects.toThrow(/one label per case/);
    await expect(submitAnnotation(ctxOf(a), { ...base, content: { ...content("normal"), labels: [] } })).rejects.toThrow(/Choose a label/);
    await expect(submitAnnotation(ctxOf(a), { ...base, content: { ...content("normal"), spans: [{ start: 0, end: 6, label: "normal", text: "wrong!" }] } })).rejects.toThrow(/does not match the narrative/);
    const span = { start: 0, end: 6, label: "normal", text: narrative.slice(0, 6) };
    await submitAnnotation(ctxOf(a), { ...base, content: { ...content("normal"), spans: [span] } });
    expect((await getCaseView(ctxOf(a), { caseId })).current?.spans).toEqual([span]);
  });

  it("autosaves a draft with its base version and removes it on submit", async () => {
    const { clinicians, caseIds } = await projectWithRound({ clinicians: 1, cases: 1 });
    const a = clinicians[0]!;
    const caseId = caseIds[0]!;
    await saveDraft(ctxOf(a), { caseId, baseVersion: 0, content: content("benign", { comment: "half done", uncertain: true }) });
    expect((await getCaseView(ctxOf(a), { caseId })).draft).toMatchObject({ baseVersion: 0, content: { labels: ["benign"], comment: "half done", uncertain: true } });
    await submitAnnotation(ctxOf(a), { caseId, expectedVersion: 0, content: content("benign"), timeSpentMs: 10 });
    expect((await getCaseView(ctxOf(a), { caseId })).draft).toBeNull();
  });
});

describe("image authorisation", () => {
  it("serves an image to members only; a non-member gets the same nothing as a missing image", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-img-"));
    tempDirs.push(dir);
    const blobs = createLocalBlobStore(dir);
    const dicom = fs.readFileSync(path.resolve(import.meta.dirname, "../../../shared/data/dicom/CT_small.dcm"));
    await blobs.put("images/test/ct-small.dcm", dicom);
    const { clinicians, caseIds } = await projectWithRound({ clinicians: 1, cases: 1 });
    const image = await testDb().caseImage.create({ data: { caseId: caseIds[0]!, storageKey: "images/test/ct-small.dcm", mimeType: "application/dicom", sha256: "abc", attributes: { deidentified: true } } });
    const served = await readImageForMember(testDb(), clinicians[0]!, image.id, blobs);
    expect(served?.mimeType).toBe("application/dicom");
    expect(Buffer.compare(served!.bytes, dicom)).toBe(0);
    const outsider = await createTestUser("CLINICIAN");
    expect(await readImageForMember(testDb(), outsider, image.id, blobs)).toBeNull();
    expect(await readImageForMember(testDb(), clinicians[0]!, "no-such-image", blobs)).toBeNull();
  });
});
