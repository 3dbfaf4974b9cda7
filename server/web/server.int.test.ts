/**
 * The production web server entry (scripts/web-server.mjs → server/web/server.ts) as `npm start`
 * runs it, on a free port against the test database: tRPC answered on node:http through the shared
 * handler (server/api/trpc-http.ts), everything else by Next.js. Checks what the Next.js route
 * guaranteed before (issue 16): the session check, the CSRF refusal, the batch and body limits,
 * the client address from the peer stamp only, the security headers on an API answer — and that
 * pages and NextAuth are still Next's. The image bytes (`/api/images/<id>`, server/api/image-http.ts,
 * answered on node:http too): a member gets the bytes with their type, length, no-store and the
 * security headers, and the read is audited; a non-member 404, no session 401, a user who must still
 * change their password 403.
 * The production build is made first if the sources changed (as scripts/soak.int.test.ts does),
 * under the lock the Playwright runs and the soak hold, which this test holds until its server
 * stops: a build replaces .next under a running server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "@/scripts/lib/api-client";
import { hashPassword } from "@/server/auth/password";
import { freePort } from "@/server/db/embedded-postgres";
import { MUST_CHANGE_PASSWORD_MESSAGE } from "@/server/http-guards";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";

const root = path.resolve(import.meta.dirname, "../..");
const PASSWORD = "web-server-test-password";

let child: ChildProcess | null = null;
let base = "";
let log = "";
let clinician: ApiClient;
let outsider: ApiClient;
let mustChange: ApiClient;
let caseId = "";
let projectId = "";
let imageId = "";
/** The stored image's bytes (any bytes: the route serves what is stored, already de-identified at import). */
const IMAGE_BYTES = crypto.randomBytes(3000);

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const hash = await hashPassword(PASSWORD);
  const user = await createTestUser("CLINICIAN", hash);
  const other = await createTestUser("CLINICIAN", hash);
  const renewing = await createTestUser("CLINICIAN", hash);
  const project = await createTestProject({ memberIds: [user.id, renewing.id], cases: 1 });
  caseId = project.caseIds[0]!;
  projectId = project.projectId;
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-web-server-test-"));
  const key = `images/web-server-test/${crypto.randomBytes(8).toString("hex")}.png`;
  await createLocalBlobStore(storageDir).put(key, new Uint8Array(IMAGE_BYTES));
  imageId = (await testDb().caseImage.create({ data: { caseId, storageKey: key, mimeType: "image/png", sha256: crypto.createHash("sha256").update(IMAGE_BYTES).digest("hex") } })).id;
  const build = `node --import tsx -e 'const { ensureWebBuild } = await import("./scripts/lib/web-build.ts"); await ensureWebBuild(process.cwd(), process.env, (line) => console.log(line));'`;
  const script = `${build} && exec node scripts/web-server.mjs --port ${port} --host 127.0.0.1`;
  const command = fs.existsSync("/usr/bin/flock") ? ["/usr/bin/flock", "-w", "900", "/tmp/e2e.lock", "sh", "-c", script] : ["sh", "-c", script];
  child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    detached: true, // its own process group: flock, sh and the server stop together
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXTAUTH_URL: base,
      NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64url"),
      STORAGE_DIR: storageDir,
      LOG_LEVEL: "warn",
      TRUSTED_PROXY_HOPS: "0",
    },
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
      if (/web-server: ready on /.test(log)) resolve();
    };
    child!.stdout!.on("data", onData);
    child!.stderr!.on("data", onData);
    child!.once("exit", (code) => reject(new Error(`the web server exited (${code}) before it was ready:\n${log}`)));
  });
  await ready;
  // The build's tRPC handler was found: tRPC is answered on node:http, not through Next's pipeline.
  expect(log).not.toContain("tRPC through Next.js");
  // …and through the route's answerCall, without Fetch Request/Response objects (server/api/trpc-resolve.ts).
  expect(log).not.toContain("has no answerCall");
  clinician = new ApiClient(user.email, { base, password: PASSWORD });
  await clinician.signIn();
  outsider = new ApiClient(other.email, { base, password: PASSWORD });
  await outsider.signIn();
  mustChange = new ApiClient(renewing.email, { base, password: PASSWORD });
  await mustChange.signIn();
  await testDb().user.update({ where: { id: renewing.id }, data: { mustChangePassword: true } });
}, 1_200_000);

afterAll(async () => {
  // The server's own output (its error log lines carry the detail behind a 500's error id), on request.
  if (process.env.WEB_SERVER_TEST_LOG) fs.writeFileSync(process.env.WEB_SERVER_TEST_LOG, log);
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child!.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  await exited;
});

describe("production web server (scripts/web-server.mjs)", () => {
  it("answers health.ping on node:http with the API security headers, no framework header", async () => {
    const response = await fetch(`${base}/api/trpc/health.ping`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ result: { data: { json: expect.anything() } } });
    const h = response.headers;
    expect(h.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(h.get("content-security-policy")).toContain("default-src 'self'");
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("referrer-policy")).toBe("same-origin");
    expect(h.get("permissions-policy")).toContain("camera=()");
    expect(h.get("x-powered-by")).toBeNull();
    // Served by our node:http path, not Next's (Next stamps its route answers with Vary: rsc, …).
    expect(h.get("vary") ?? "").not.toMatch(/rsc/i);
    // Plain http without a declared proxy: no HSTS.
    expect(h.get("strict-transport-security")).toBeNull();
  });

  it("answers the app's call shapes as tRPC does: a query with input, a batch of 2 with one failing (207), a mutation over GET refused (405), HEAD", async () => {
    const headers = { cookie: clinician.cookieHeader(), "content-type": "application/json" };
    // (queue.upcoming: a read that writes no audit event, unlike annotations.case, whose case.viewed a later test reads.)
    const query = await fetch(`${base}/api/trpc/queue.upcoming?input=${encodeURIComponent(JSON.stringify({ json: { projectId } }))}`, { headers });
    expect(query.status).toBe(200);
    expect(query.headers.get("content-type")).toBe("application/json");
    expect(query.headers.get("vary")).toBe("trpc-accept, accept");
    expect(query.headers.get("x-frame-options")).toBe("DENY");
    // The test project has no selection round yet: nothing upcoming (a project the caller is not in would be a 404, below).
    expect(await query.json()).toEqual({ result: { data: { json: [] } } });
    // httpBatchLink's shape: one call the user may make, one on a project they are not in.
    const input = encodeURIComponent(JSON.stringify({ 0: { json: { projectId } }, 1: { json: { projectId: "c000000000000000000000000" } } }));
    const batch = await fetch(`${base}/api/trpc/queue.upcoming,queue.upcoming?batch=1&input=${input}`, { headers });
    expect(batch.status).toBe(207);
    const items = (await batch.json()) as [{ result?: unknown; error?: unknown }, { error?: { json: { data: { code: string; httpStatus: number } } } }];
    expect(items[0]).toEqual({ result: { data: { json: [] } } });
    expect(items[1].error?.json.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
    const mutationOverGet = await fetch(`${base}/api/trpc/annotations.saveDraft?input=${encodeURIComponent(JSON.stringify({ json: { caseId } }))}`, { headers });
    expect(mutationOverGet.status).toBe(405);
    expect(((await mutationOverGet.json()) as { error: { json: { data: { code: string } } } }).error.json.data.code).toBe("METHOD_NOT_SUPPORTED");
    expect(await testDb().annotationDraft.count({ where: { caseId } })).toBe(0);
    const head = await fetch(`${base}/api/trpc/health.ping`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBeNull();
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("checks the session from the cookie: signed in → me.get is the user; no cookie → UNAUTHORIZED", async () => {
    const me = await clinician.call<{ email: string; role: string }>("query", "me.get", undefined);
    expect(me.email).toBe(clinician.email);
    expect(me.role).toBe("CLINICIAN");
    const anonymous = await fetch(`${base}/api/trpc/annotations.case?input=${encodeURIComponent(JSON.stringify({ json: { caseId } }))}`);
    expect(anonymous.status).toBe(401);
    const forged = await fetch(`${base}/api/trpc/annotations.case?input=${encodeURIComponent(JSON.stringify({ json: { caseId } }))}`, { headers: { cookie: "next-auth.session-token=forged.token.value" } });
    expect(forged.status).toBe(401);
  });

  it("refuses a cross-site or Origin-less POST (CSRF) before it runs", async () => {
    const post = (origin: string | null) =>
      fetch(`${base}/api/trpc/annotations.saveDraft`, {
        method: "POST",
        headers: { cookie: clinician.cookieHeader(), "content-type": "application/json", ...(origin ? { origin } : {}) },
        body: JSON.stringify({ json: { caseId, baseVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" } } }),
      });
    for (const origin of ["https://evil.example", null]) {
      const refused = await post(origin);
      expect(refused.status, String(origin)).toBe(403);
      expect(await refused.json()).toEqual({ error: { message: "Cross-site request refused." } });
      expect(refused.headers.get("x-frame-options")).toBe("DENY");
    }
    expect(await testDb().annotationDraft.count({ where: { caseId } })).toBe(0);
  });

  it("refuses a batch over the limit (400) and a body over the limit (413)", async () => {
    const names = Array.from({ length: 200 }, () => "me.get").join(",");
    const batch = await fetch(`${base}/api/trpc/${names}?batch=1&input=${encodeURIComponent("{}")}`, { headers: { cookie: clinician.cookieHeader() } });
    expect(batch.status).toBe(400);
    expect(await batch.text()).toContain("A batch may hold at most 20 calls; this one has 200.");
    const big = await fetch(`${base}/api/trpc/annotations.saveDraft?batch=1`, {
      method: "POST",
      headers: { cookie: clinician.cookieHeader(), origin: base, "content-type": "application/json" },
      body: "a".repeat(5 * 1024 * 1024),
    }).then(
      async (response) => ({ status: response.status, text: await response.text() }),
      (error: Error) => ({ status: 0, text: String(error.cause ?? error.message) }),
    );
    // The server may close the connection right after its 413, before the client finished sending.
    if (big.status !== 0) {
      expect(big.status).toBe(413);
      expect(big.text).toContain("larger than 4096 KiB");
    } else expect(big.text).toMatch(/ECONNRESET|EPIPE|socket|closed/i);
    // Still serving afterwards.
    expect((await clinician.call<{ email: string }>("query", "me.get", undefined)).email).toBe(clinician.email);
  });

  it("reads a chunked POST body in full, and refuses a chunked one over the cap with 413 and a closed connection", async () => {
    /** Sends a chunked POST of `parts` on a raw socket; what came back until the server closed or answered. */
    const chunkedPost = (procedure: string, parts: Buffer[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(base).port), "127.0.0.1");
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString("latin1");
          // A kept-alive answer with its length: done once the body is in.
          const head = text.indexOf("\r\n\r\n");
          const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text);
          if (head !== -1 && length && text.length >= head + 4 + Number(length[1])) socket.end();
        });
        socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? resolve(text) : reject(error)));
        socket.on("close", () => resolve(text));
        socket.write(`POST /api/trpc/${procedure} HTTP/1.1\r\nHost: ${new URL(base).host}\r\nOrigin: ${base}\r\nCookie: ${clinician.cookieHeader()}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
        for (const part of parts) socket.write(Buffer.concat([Buffer.from(`${part.byteLength.toString(16)}\r\n`), part, Buffer.from("\r\n")]));
        socket.write("0\r\n\r\n");
      });
    // A call in three chunks: read in full and handed to tRPC, whose procedure answers (no such case: 404) — any chunk
    // left out would make the JSON unreadable (400), and none is refused as too large (413).
    const small = await chunkedPost("annotations.saveDraft", [
      Buffer.from('{"json":'),
      Buffer.from('{"caseId":"no-such-case","baseVersion":0,'),
      Buffer.from('"content":{"labels":[],"spans":[],"uncertain":false,"comment":""}}}'),
    ]);
    expect(small).toMatch(/^HTTP\/1\.1 404 /);
    expect(small).toContain("No such case.");
    expect(small).not.toContain("larger than");
    const frame = Buffer.alloc(512 * 1024, 0x61);
    const big = await chunkedPost("annotations.saveDraft", Array.from({ length: 16 }, () => frame));
    expect(big).toMatch(/^HTTP\/1\.1 413 /);
    expect(big).toMatch(/\r\nconnection: close\r\n/i);
    expect(big).toContain("larger than 4096 KiB");
    expect((await clinician.call<{ email: string }>("query", "me.get", undefined)).email).toBe(clinician.email);
  });

  it("audits the client address from the TCP peer, not from headers a client sends", async () => {
    const response = await fetch(`${base}/api/trpc/annotations.case?input=${encodeURIComponent(JSON.stringify({ json: { caseId } }))}`, {
      headers: { cookie: clinician.cookieHeader(), "x-forwarded-for": "203.0.113.9", "x-rads-peer-address": "198.51.100.7", "user-agent": "web-server-test" },
    });
    expect(response.status).toBe(200);
    const event = await testDb().auditEvent.findFirst({ where: { action: "case.viewed", targetId: caseId }, orderBy: { at: "desc" } });
    expect(event?.details).toMatchObject({ address: "127.0.0.1", userAgent: "web-server-test" });
  });

  it("serves image bytes on node:http to a member: the stored bytes, type, length, no-store, security headers, one audit event", async () => {
    const before = await testDb().auditEvent.count({ where: { action: "image.read", targetId: imageId } });
    const response = await fetch(`${base}/api/images/${imageId}`, { headers: { cookie: clinician.cookieHeader(), "user-agent": "web-server-image-test" } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(IMAGE_BYTES)).toBe(true);
    const h = response.headers;
    expect(h.get("content-type")).toBe("image/png");
    expect(h.get("content-length")).toBe(String(IMAGE_BYTES.byteLength));
    expect(h.get("cache-control")).toBe("no-store");
    expect(h.get("vary")).toBe("Cookie"); // ours alone: Next's path adds rsc, … to Vary
    expect(h.get("content-disposition")).toBeNull();
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("content-security-policy")).toContain("default-src 'self'");
    const events = await testDb().auditEvent.findMany({ where: { action: "image.read", targetId: imageId } });
    expect(events.length).toBe(before + 1);
    expect(events.at(-1)?.details).toMatchObject({ caseId, address: "127.0.0.1", userAgent: "web-server-image-test" });
    // HEAD: the headers without the body.
    const head = await fetch(`${base}/api/images/${imageId}`, { method: "HEAD", headers: { cookie: clinician.cookieHeader() } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("image/png");
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("refuses image bytes: no session 401, a non-member 404 like a missing image, must change password 403", async () => {
    const get = (id: string, cookie?: string) => fetch(`${base}/api/images/${id}`, { headers: cookie ? { cookie } : {} });
    const anonymous = await get(imageId);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toBe("Sign in first.");
    expect(anonymous.headers.get("cache-control")).toBe("no-store");
    const forged = await get(imageId, "next-auth.session-token=forged.token.value");
    expect(forged.status).toBe(401);
    const stranger = await get(imageId, outsider.cookieHeader());
    expect(stranger.status).toBe(404);
    expect(await stranger.text()).toBe("Not found.");
    const missing = await get("doesnotexist0", clinician.cookieHeader());
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("Not found.");
    for (const id of [imageId, "doesnotexist0"]) {
      const refused = await get(id, mustChange.cookieHeader());
      expect(refused.status, id).toBe(403);
      expect(await refused.json()).toEqual({ error: { message: MUST_CHANGE_PASSWORD_MESSAGE } });
    }
    const post = await fetch(`${base}/api/images/${imageId}`, { method: "POST", headers: { cookie: clinician.cookieHeader(), origin: base } });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    // Nothing refused was audited: the one event is the member's read above.
    const readers = await testDb().auditEvent.findMany({ where: { action: "image.read", targetId: imageId }, select: { actorId: true } });
    expect(new Set(readers.map((r) => r.actorId))).toEqual(new Set([(await testDb().user.findUniqueOrThrow({ where: { email: clinician.email } })).id]));
  });

  it("answers a path that does not percent-decode with 400 on every route: JSON under /api, a page elsewhere, the security headers, a warning without the path", async () => {
    const cookie = { cookie: clinician.cookieHeader() };
    const api = ["/api/trpc/%", "/api/trpc/annotations.%ZZcase", "/api/images/%E0%A4%A", "/api/projects/%/import", "/api/projects/%E0%A4%A/export", "/api/auth/%E0%A4%A"];
    for (const target of api) {
      for (const headers of [{}, cookie]) {
        const response = await fetch(`${base}${target}`, { headers });
        expect(response.status, target).toBe(400);
        expect(response.headers.get("content-type"), target).toBe("application/json");
        expect(await response.json(), target).toEqual({ error: { message: expect.stringContaining("not valid percent-encoding") } });
        expect(response.headers.get("x-content-type-options"), target).toBe("nosniff");
        expect(response.headers.get("x-frame-options"), target).toBe("DENY");
        expect(response.headers.get("content-security-policy"), target).toContain("default-src 'self'");
        expect(response.headers.get("cache-control"), target).toBe("no-store");
      }
    }
    const post = await fetch(`${base}/api/trpc/annotations.%ZZsaveDraft`, { method: "POST", headers: { ...cookie, origin: base, "content-type": "application/json" }, body: "{}" });
    expect(post.status).toBe(400);
    const page = await fetch(`${base}/projects/%E0%A4%A`, { headers: cookie });
    expect(page.status).toBe(400);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("This address is not valid");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    // A well-formed percent-encoded path still reaches its route (tRPC decodes it itself).
    expect((await fetch(`${base}/api/trpc/health%2Eping`)).status).toBe(200);
    // Still serving on the same server afterwards.
    expect((await clinician.call<{ email: string }>("query", "me.get", undefined)).email).toBe(clinician.email);
    // Warn-level lines only, none naming the path; no error id, no "route failed".
    const lines = log.split("\n").filter((line) => line.includes("not valid percent-encoding"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({ level: "warn" });
      expect(line).not.toMatch(/%E0|%ZZ|annotations|projects/);
    }
    expect(log).not.toContain("URI malformed");
  });

  it("tRPC's edge answers: 415 for a POST that is not JSON (form data too) as JSON, 400 for a JSON array body to a single call", async () => {
    const post = (procedure: string, contentType: string | null, body: BodyInit) =>
      fetch(`${base}/api/trpc/${procedure}`, { method: "POST", headers: { cookie: clinician.cookieHeader(), origin: base, ...(contentType ? { "content-type": contentType } : {}) }, body });
    const form = new FormData();
    form.set("caseId", caseId);
    for (const [name, response] of [
      ["none", await post("annotations.saveDraft", null, "{}")],
      ["text", await post("annotations.saveDraft", "text/plain", "{}")],
      ["form data", await post("annotations.saveDraft", null, form)],
      ["octet stream", await post("annotations.saveDraft", "application/octet-stream", new Uint8Array([1, 2]))],
    ] as const) {
      expect(response.status, name).toBe(415);
      expect(response.headers.get("content-type"), name).toBe("application/json");
      expect(await response.json(), name).toEqual({ error: { message: "The tRPC API takes JSON: send the body with Content-Type: application/json." } });
    }
    const array = await post("annotations.saveDraft", "application/json", "[1,2]");
    expect(array.status).toBe(400);
    expect(array.headers.get("content-type")).toBe("application/json");
    expect(((await array.json()) as { error: { json: { message: string } } }).error.json.message).toBe('The request body must be a JSON object in tRPC\'s format ({"json": …}).');
    expect(await testDb().annotationDraft.count({ where: { caseId } })).toBe(0);
  });

  it("hands pages and NextAuth to Next.js: the sign-in page with its nonce CSP, the csrf endpoint", async () => {
    const page = await fetch(`${base}/signin`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'nonce-[^']+'/);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(await page.text()).toContain("<html");
    const csrf = await fetch(`${base}/api/auth/csrf`);
    expect(csrf.status).toBe(200);
    expect(((await csrf.json()) as { csrfToken?: string }).csrfToken).toMatch(/^[0-9a-f]{32,}$/);
  });
});
