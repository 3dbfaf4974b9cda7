/**
 * A user who must still change their printed or temporary password (User.mustChangePassword) is
 * refused by the REST routes (upload, export, images) as by tRPC: 403 with MUST_CHANGE_PASSWORD_MESSAGE,
 * from the one project front door (server/services/project-access.ts requireActor) that every
 * route's service goes through — not from a check in each route. The same member, once the flag is
 * cleared, gets through each route (so the refusal is the flag's, not the role's). The route handlers
 * run as Next.js calls them, with the session mocked.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DomainError } from "../errors";
import { MUST_CHANGE_PASSWORD_MESSAGE } from "../http-guards";
import { createServiceContext, type Actor } from "../services/context";
import { requireProject } from "../services/project-access";
import { seedAccessProject, type AccessIds } from "../testing/access-fixtures";
import { createTestUser, testDb } from "../testing/fixtures";
import { ROUTE_PERMISSIONS } from "./permissions";

const session = vi.hoisted(() => ({ user: null as null | Record<string, unknown> }));
vi.mock("@/server/auth/session", () => ({ currentUser: async () => session.user }));
// The upload route asks the worker for a retrain check after an import; no worker runs here.
vi.mock("@/server/services/enqueue-job", () => ({ requestRetrainCheck: async () => undefined }));

const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-route-password-"));
let scientist: Actor;
let ids: AccessIds;

beforeAll(async () => {
  process.env.STORAGE_DIR = storageDir;
  scientist = await createTestUser("DATA_SCIENTIST");
  ids = await seedAccessProject([{ userId: scientist.id, role: "DATA_SCIENTIST" }], storageDir, "route-password");
});
afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await testDb().$disconnect();
});

const SAME_ORIGIN = { origin: "http://localhost", host: "localhost" };

/** Each REST route of ROUTE_PERMISSIONS called as Next.js calls it, with valid input for the seeded project. */
const CALLS: Record<keyof typeof ROUTE_PERMISSIONS, () => Promise<Response>> = {
  "POST /api/projects/[projectId]/import": async () => {
    const { POST } = await import("@/app/api/projects/[projectId]/import/route");
    const form = new FormData();
    form.append("mapping", "{}");
    form.append("files", new Blob([`id,text\npw-${Math.random().toString(36).slice(2, 8)},Lungs clear.\n`]), "notes.csv");
    return POST(new Request(`http://localhost/api/projects/${ids.projectId}/import`, { method: "POST", body: form, headers: SAME_ORIGIN }), { params: Promise.resolve({ projectId: ids.projectId }) });
  },
  "POST /api/projects/[projectId]/export": async () => {
    const { POST } = await import("@/app/api/projects/[projectId]/export/route");
    return POST(new Request(`http://localhost/api/projects/${ids.projectId}/export?format=jsonl`, { method: "POST", headers: SAME_ORIGIN }), { params: Promise.resolve({ projectId: ids.projectId }) });
  },
  "GET /api/images/[imageId]": async () => {
    const { GET } = await import("@/app/api/images/[imageId]/route");
    return GET(new Request(`http://localhost/api/images/${ids.imageId}`, { headers: SAME_ORIGIN }), { params: Promise.resolve({ imageId: ids.imageId }) });
  },
};

describe("a user who must change their password", () => {
  it.each(Object.keys(CALLS) as (keyof typeof CALLS)[])("is refused by %s with 403 and the message; once changed, gets through", async (route) => {
    session.user = { ...scientist, sessionEpoch: 0, mustChangePassword: true };
    const refused = await CALLS[route]();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { message: MUST_CHANGE_PASSWORD_MESSAGE } });

    session.user = { ...scientist, sessionEpoch: 0, mustChangePassword: false };
    const allowed = await CALLS[route]();
    expect(allowed.status, await allowed.clone().text()).toBe(200);
  });

  it("is refused by the project front door itself, whatever their project role allows", async () => {
    const ctx = createServiceContext(testDb(), { ...scientist, mustChangePassword: true });
    const error = await requireProject(ctx, ids.projectId, "project.view").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: "FORBIDDEN", message: MUST_CHANGE_PASSWORD_MESSAGE });
    await expect(requireProject(createServiceContext(testDb(), scientist), ids.projectId, "project.view")).resolves.toMatchObject({ role: "DATA_SCIENTIST" });
  });

  it("gets 403 from the image route even for an image id that does not exist (no probing, no 404)", async () => {
    const { GET } = await import("@/app/api/images/[imageId]/route");
    session.user = { ...scientist, sessionEpoch: 0, mustChangePassword: true };
    const refused = await GET(new Request("http://localhost/api/images/doesnotexist0"), { params: Promise.resolve({ imageId: "doesnotexist0" }) });
    expect(refused.status).toBe(403);
  });
});
