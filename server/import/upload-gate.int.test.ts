/**
 * Issue 12, fault 12: uploads are bounded in concurrency. With IMPORT_MAX_CONCURRENT slots held,
 * the upload route answers 429 at once without reading the body; once a slot frees, the same
 * upload is imported.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "../services/context";
import { UPLOAD_BUSY_MESSAGE, uploadGate } from "./upload-gate";

const session = vi.hoisted(() => ({ user: null as null | Record<string, unknown> }));
vi.mock("@/server/auth/session", () => ({ currentUser: async () => session.user }));
// The route asks the worker for a retrain check after an import; no worker runs here.
vi.mock("@/server/services/enqueue-job", () => ({ requestRetrainCheck: async () => undefined }));

let scientist: Actor;
let storage: string;
let projectId: string;

beforeAll(async () => {
  storage = fs.mkdtempSync(path.join(os.tmpdir(), "rads-upload-gate-"));
  process.env.STORAGE_DIR = storage;
  process.env.IMPORT_MAX_CONCURRENT = "2";
  scientist = await createTestUser("DATA_SCIENTIST");
  session.user = { ...scientist, mustChangePassword: false };
  const project = await testDb().project.create({
    data: {
      name: `upload-gate-${Math.random().toString(36).slice(2, 8)}`,
      labelSchema: { labels: [{ key: "normal", name: "Normal", color: "#1f77b4" }], multiLabel: false },
      minorityClasses: [],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: {},
      members: { create: [{ userId: scientist.id }] },
    },
    select: { id: true },
  });
  projectId = project.id;
});
afterAll(async () => {
  fs.rmSync(storage, { recursive: true, force: true });
  await testDb().$disconnect();
});

async function upload(): Promise<Response> {
  const { POST } = await import("@/app/api/projects/[projectId]/import/route");
  const form = new FormData();
  form.append("mapping", "{}");
  form.append("files", new Blob(["id,text\ngate-1,Lungs clear.\n"]), "notes.csv");
  const request = new Request(`http://localhost/api/projects/${projectId}/import`, { method: "POST", body: form, headers: { origin: "http://localhost", host: "localhost" } });
  return POST(request, { params: Promise.resolve({ projectId }) });
}

it("answers 429 while IMPORT_MAX_CONCURRENT uploads run, stores nothing, and imports once a slot frees", async () => {
  const held = [await uploadGate().enter(), await uploadGate().enter()];
  expect(held.every((release) => release !== null)).toBe(true);
  const refused = await upload();
  expect(refused.status).toBe(429);
  expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(UPLOAD_BUSY_MESSAGE);
  expect(await testDb().case.count({ where: { projectId } })).toBe(0);

  held[0]!();
  const accepted = await upload();
  expect(accepted.status).toBe(200);
  expect(((await accepted.json()) as { status: string }).status).toBe("imported");
  expect(await testDb().case.count({ where: { projectId } })).toBe(1);
  held[1]!();
  expect(uploadGate().active).toBe(0);
});
