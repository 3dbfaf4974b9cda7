/**
 * Issue 13 faults that need the database: text a clinician types (comment, draft, span, skip
 * reason) holding NUL or an unpaired surrogate is a 400 (BAD_REQUEST) at validation with nothing
 * stored; the same images imported again are refused naming them, skipped or re-imported at the
 * user's choice; an import that crashes is audited as import.rejected and says nothing internal.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import { createServiceContext, type Actor } from "./context";
import { importCases, type ImportResult } from "./import-service";

let clinician: Actor;
let scientist: Actor;
let storage: string;
let blobs: BlobStore;

beforeAll(async () => {
  clinician = await createTestUser("CLINICIAN");
  scientist = await createTestUser("DATA_SCIENTIST");
  storage = fs.mkdtempSync(path.join(os.tmpdir(), "rads-faults-"));
  blobs = createLocalBlobStore(storage);
});
afterAll(async () => {
  fs.rmSync(storage, { recursive: true, force: true });
  await testDb().$disconnect();
});

const EMOJI_NARRATIVE = "Pt reports pain \ud83d\ude23 in left knee.";

async function badRequest(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("BAD_REQUEST");
    return (error as TRPCError).message;
  }
  throw new Error("the call was accepted");
}

describe("clinician-typed text with NUL or an unpaired surrogate", () => {
  it.each([
    ["NUL", "bad \u0000 text"],
    ["unpaired surrogate", "bad \ud83d text"],
  ])("%s in a comment, a draft, a span or a skip reason is a 400 and nothing is stored", async (_kind, value) => {
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 1 });
    const caller = createCaller({ db: testDb(), actor: clinician });
    const content = { labels: ["normal"], spans: [], uncertain: false, comment: "" };
    await badRequest(caller.annotations.submit({ caseId: caseIds[0]!, expectedVersion: 0, timeSpentMs: 10, content: { ...content, comment: value } }));
    await badRequest(caller.annotations.saveDraft({ caseId: caseIds[0]!, baseVersion: 0, content: { ...content, comment: value } }));
    await badRequest(caller.annotations.saveDraft({ caseId: caseIds[0]!, baseVersion: 0, content: { ...content, spans: [{ start: 0, end: 3, label: "normal", text: value }] } }));
    await badRequest(caller.queue.skip({ projectId, caseId: caseIds[0]!, reason: `because ${value}` }));
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0]! } })).toBe(0);
  });

  it("a span whose boundary falls inside an emoji is a 400 naming spans; nothing is stored", async () => {
    const { caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 1 });
    await testDb().case.update({ where: { id: caseIds[0]! }, data: { narrative: EMOJI_NARRATIVE } });
    const caller = createCaller({ db: testDb(), actor: clinician });
    const at = EMOJI_NARRATIVE.indexOf("\ud83d");
    // Start inside the pair (after its high half), and end inside it.
    for (const [start, end] of [[at + 1, at + 5], [at - 5, at + 1]] as const) {
      const span = { start, end, label: "normal", text: EMOJI_NARRATIVE.slice(start, end) };
      const message = await badRequest(caller.annotations.submit({ caseId: caseIds[0]!, expectedVersion: 0, timeSpentMs: 10, content: { labels: ["normal"], spans: [span], uncertain: false, comment: "" } }));
      expect(message).toContain("spans");
    }
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0]! } })).toBe(0);
  });
});

function png(shade: number): Uint8Array {
  const image = new PNG({ width: 2, height: 2 });
  image.data.fill(shade);
  return new Uint8Array(PNG.sync.write(image));
}

async function emptyProject(): Promise<string> {
  const project = await testDb().project.create({
    data: { name: `faults-${Math.random().toString(36).slice(2, 8)}`, labelSchema: { labels: [], multiLabel: false }, minorityClasses: [], selectionParams: {}, encoderConfig: { kind: "builtin" }, settings: {}, members: { create: [{ userId: scientist.id }] } },
    select: { id: true },
  });
  return project.id;
}

describe("the same images imported twice", () => {
  it("are refused naming them, then skipped or imported again at the user's choice", async () => {
    const projectId = await emptyProject();
    const ctx = createServiceContext(testDb(), scientist);
    const first = await importCases(ctx, { projectId, files: [{ name: "knee-1.png", bytes: png(10) }], mapping: {}, via: "upload" }, { blobs });
    expect(first.status).toBe("imported");
    // The same bytes again, now under a new case id through a manifest, beside a new image.
    const manifest = new TextEncoder().encode("file,id\nknee-1.png,NEW-1\nknee-2.png,NEW-2\n");
    const batch = [
      { name: "manifest.csv", bytes: manifest },
      { name: "knee-1.png", bytes: png(10) },
      { name: "knee-2.png", bytes: png(200) },
    ];
    const asked = (await importCases(ctx, { projectId, files: batch, mapping: {}, via: "upload" }, { blobs })) as Extract<ImportResult, { status: "rejected" }>;
    expect(asked.status).toBe("rejected");
    expect(asked.duplicateImages).toEqual([{ file: "knee-1.png", existingCase: "knee-1" }]);
    expect(asked.issues[0]!.message).toMatch(/already in this project, in case "knee-1"/);
    expect(await testDb().case.count({ where: { projectId } })).toBe(1);

    const skipped = await importCases(ctx, { projectId, files: batch, mapping: {}, via: "upload", duplicateImages: "skip" }, { blobs });
    expect(skipped).toMatchObject({ status: "imported", counts: { cases: 1, images: 1, duplicateImagesSkipped: 1 } });
    expect((await testDb().case.findMany({ where: { projectId }, select: { externalId: true }, orderBy: { externalId: "asc" } })).map((c) => c.externalId)).toEqual(["NEW-2", "knee-1"]);

    const other = await emptyProject();
    await importCases(ctx, { projectId: other, files: [{ name: "knee-1.png", bytes: png(10) }], mapping: {}, via: "upload" }, { blobs });
    const again = await importCases(ctx, { projectId: other, files: batch, mapping: {}, via: "upload", duplicateImages: "import" }, { blobs });
    expect(again).toMatchObject({ status: "imported", counts: { cases: 2, images: 2 } });
  });
});

describe("an import that crashes", () => {
  it("is audited as import.rejected and says nothing internal", async () => {
    const projectId = await emptyProject();
    const broken: BlobStore = { ...blobs, exists: async () => false, put: async () => Promise.reject(new Error('relation "CaseImage" does not exist at character 15')) };
    let message = "";
    await importCases(createServiceContext(testDb(), scientist), { projectId, files: [{ name: "x.png", bytes: png(99) }], mapping: {}, via: "upload" }, { blobs: broken }).catch((error: Error) => {
      message = error.message;
    });
    expect(message).toMatch(/failed unexpectedly and nothing was imported \(error id [0-9a-f-]{36}/);
    expect(message).not.toMatch(/relation|CaseImage|character/);
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { projectId, action: "import.rejected" }, orderBy: { id: "desc" } });
    expect(audit.details).toMatchObject({ via: "upload", files: 1, crashed: true, errorId: message.match(/error id ([0-9a-f-]{36})/)![1] });
    expect(await testDb().case.count({ where: { projectId } })).toBe(0);
  });
});
