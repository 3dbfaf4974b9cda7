/**
 * Issue 12, fault 7: reading patient data leaves a trace. Opening a case (one event per opening,
 * not per autosave refetch), fetching an image and exporting are audited with who, what, when and
 * from where; sign-in events carry the client address and User-Agent; resuming one's own lease with
 * queue.next writes no event any more.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { hashPassword } from "../auth/password";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, testDb, uniqueEmail } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { authenticateWithPassword } from "./auth-service";
import { createServiceContext, type Actor, type RequestClient } from "./context";
import { exportLabels } from "./export-service";
import { readImageForMember } from "./image-service";
import { writeSelectionRound } from "./selection-rounds";

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  await testDb().$disconnect();
});

const client: RequestClient = { address: "203.0.113.7", userAgent: "Mozilla/5.0 (ward-3 workstation)" };
const callerOf = (actor: Actor) => createCaller({ db: testDb(), actor, client });

async function projectWithRound(cases: number) {
  const clinician = await createTestUser("CLINICIAN");
  const scientist = await createTestUser("DATA_SCIENTIST");
  const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id, scientist.id], cases });
  await writeSelectionRound(testDb(), {
    projectId,
    strategy: "cold-start",
    coldStart: true,
    modelVersionId: null,
    params: {},
    stats: {},
    items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })),
  });
  return { clinician, scientist, projectId, caseIds };
}

const eventsOf = (actorId: string, action: string) => testDb().auditEvent.findMany({ where: { actorId, action }, orderBy: { id: "asc" } });

describe("read audit", () => {
  it("records one case.viewed per opening, with the client, however often the page refetches after autosaves", async () => {
    const { clinician, caseIds } = await projectWithRound(2);
    const caller = callerOf(clinician);
    const caseId = caseIds[0]!;
    await caller.annotations.case({ caseId });
    for (let i = 0; i < 3; i++) {
      await caller.annotations.saveDraft({ caseId, baseVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: `draft ${i}` } });
      await caller.annotations.case({ caseId });
    }
    const viewed = await eventsOf(clinician.id, "case.viewed");
    expect(viewed).toHaveLength(1);
    expect(viewed[0]).toMatchObject({ targetType: "Case", targetId: caseId, actorRole: "CLINICIAN" });
    expect(viewed[0]!.details).toMatchObject({ view: "workspace", address: client.address, userAgent: client.userAgent });
    // Another case is another opening.
    await caller.annotations.case({ caseId: caseIds[1]! });
    expect((await eventsOf(clinician.id, "case.viewed")).map((e) => e.targetId)).toEqual([caseId, caseIds[1]]);
  });

  it("records an image fetch once per user and image, and only when the image is served", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-read-audit-"));
    tempDirs.push(dir);
    const blobs = createLocalBlobStore(dir);
    await blobs.put("images/test/read-audit.png", Buffer.from("not really a png"));
    const { clinician, caseIds } = await projectWithRound(1);
    const image = await testDb().caseImage.create({ data: { caseId: caseIds[0]!, storageKey: "images/test/read-audit.png", mimeType: "image/png", sha256: "abc" } });
    expect(await readImageForMember(testDb(), clinician, image.id, blobs, client)).not.toBeNull();
    expect(await readImageForMember(testDb(), clinician, image.id, blobs, client)).not.toBeNull();
    const reads = await eventsOf(clinician.id, "image.read");
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ targetType: "CaseImage", targetId: image.id });
    expect(reads[0]!.details).toMatchObject({ caseId: caseIds[0], address: client.address, userAgent: client.userAgent });
    const outsider = await createTestUser("CLINICIAN");
    expect(await readImageForMember(testDb(), outsider, image.id, blobs, client)).toBeNull();
    expect(await eventsOf(outsider.id, "image.read")).toHaveLength(0);
  });

  it("records every export with the client", async () => {
    const { scientist, projectId } = await projectWithRound(1);
    await exportLabels(createServiceContext(testDb(), scientist, client), { projectId, format: "csv", history: false });
    const [event] = await eventsOf(scientist.id, "export.labels");
    expect(event!.details).toMatchObject({ format: "csv", address: client.address, userAgent: client.userAgent });
  });

  it("writes no event when queue.next resumes the caller's own lease (one event for the lease itself)", async () => {
    const { clinician, projectId } = await projectWithRound(2);
    const caller = callerOf(clinician);
    const first = await caller.queue.next({ projectId });
    for (let i = 0; i < 5; i++) expect(await caller.queue.next({ projectId })).toMatchObject({ caseId: first!.caseId, resumed: true });
    const events = await eventsOf(clinician.id, "queue.next");
    expect(events.map((e) => (e.details as { outcome: string }).outcome)).toEqual(["leased"]);
  });

  it("records the client address and User-Agent on sign-in events", async () => {
    const email = uniqueEmail("ua");
    await testDb().user.create({ data: { email, name: "UA", role: "CLINICIAN", passwordHash: await hashPassword("correct horse battery") } });
    const policy = { maxFailures: 5, lockMinutes: 15 };
    expect(await authenticateWithPassword(testDb(), email, "wrong password", policy, client)).toBeNull();
    const user = await authenticateWithPassword(testDb(), email, "correct horse battery", policy, client);
    const failed = await testDb().auditEvent.findFirstOrThrow({ where: { action: "auth.sign-in-failed", targetId: user!.id } });
    const signedIn = await testDb().auditEvent.findFirstOrThrow({ where: { action: "auth.sign-in", targetId: user!.id } });
    for (const event of [failed, signedIn]) expect(event.details).toMatchObject({ address: client.address, userAgent: client.userAgent });
  });
});
