/**
 * Request bodies of the routes Next.js answers in the production server (scripts/web-server.mjs, as
 * `npm start` runs it, on a free port against the test database):
 *  - an import upload over 10 MB (a generated zip of noise PNGs and a manifest) is imported whole:
 *    the proxy (proxy.ts) used to cover the import route, and Next buffers a proxied body and cuts it
 *    at 10 MB, which the route then read as a corrupt upload ("ended before its closing boundary");
 *  - a malformed sign-in body (JSON that does not parse, JSON that is not an object, an oversized
 *    form) is a 400/413 with a message and the API's security headers, never a 500 with a stack
 *    trace in the log; a body of a type NextAuth does not read is no 500 either.
 * The production build is made first if the sources changed, under the lock the other server tests
 * hold (server/web/server.int.test.ts does the same).
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { zipSync } from "fflate";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "@/scripts/lib/api-client";
import { hashPassword } from "@/server/auth/password";
import { freePort } from "@/server/db/embedded-postgres";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";

const root = path.resolve(import.meta.dirname, "..");
const PASSWORD = "route-bodies-test-password";

let child: ChildProcess | null = null;
let base = "";
let log = "";
let scientist: ApiClient;
let projectId = "";
let storageDir = "";

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const user = await createTestUser("DATA_SCIENTIST", await hashPassword(PASSWORD));
  projectId = (await createTestProject({ memberIds: [user.id], cases: 0 })).projectId;
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-route-bodies-"));
  const build = `node --import tsx -e 'const { ensureWebBuild } = await import("./scripts/lib/web-build.ts"); await ensureWebBuild(process.cwd(), process.env, (line) => console.log(line));'`;
  const script = `${build} && exec node scripts/web-server.mjs --port ${port} --host 127.0.0.1`;
  const command = fs.existsSync("/usr/bin/flock") ? ["/usr/bin/flock", "-w", "900", "/tmp/e2e.lock", "sh", "-c", script] : ["sh", "-c", script];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    NEXTAUTH_URL: base,
    NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64url"),
    STORAGE_DIR: storageDir,
    LOG_LEVEL: "warn",
    TRUSTED_PROXY_HOPS: "0",
  };
  // The documented default (512 MB), whatever the calling shell has.
  delete env.IMPORT_MAX_UPLOAD_MB;
  child = spawn(command[0]!, command.slice(1), { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"], env });
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (/web-server: ready on /.test(log)) resolve();
    };
    child!.stdout!.on("data", onData);
    child!.stderr!.on("data", onData);
    child!.once("exit", (code) => reject(new Error(`the web server exited (${code}) before it was ready:\n${log.slice(-20_000)}`)));
  });
  scientist = new ApiClient(user.email, { base, password: PASSWORD });
  await scientist.signIn();
}, 1_200_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await exited;
  }
  if (storageDir) fs.rmSync(storageDir, { recursive: true, force: true });
});

/** The server's output since `from` (an offset into the log). */
const logSince = (from: number) => log.slice(from);

/** A PNG of random pixels: it does not compress, so its size is about width × height × 4 bytes. */
function noisePng(width: number, height: number): Uint8Array {
  const image = new PNG({ width, height });
  crypto.randomFillSync(image.data);
  return new Uint8Array(PNG.sync.write(image, { deflateLevel: 1 }));
}

function expectApiSecurityHeaders(response: Response) {
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
}

describe("an import upload over 10 MB (the proxy's body limit)", () => {
  it("is received whole and imported; the server does not cut it", async () => {
    const images = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`xray-${i}.png`, noisePng(1100, 1100)]));
    const manifest = ["file,id", ...Object.keys(images).map((name, i) => `${name},BIG-${i}`)].join("\n");
    // Stored, not deflated (the noise would not shrink anyway): the body is the zip's size.
    const zip = zipSync({ "manifest.csv": new TextEncoder().encode(manifest), ...images }, { level: 0 });
    expect(zip.length).toBeGreaterThan(13 * 1024 * 1024);
    const form = new FormData();
    form.append("files", new Blob([zip], { type: "application/zip" }), "xray.zip");
    form.append("mapping", "{}");
    const from = log.length;
    const response = await fetch(`${base}/api/projects/${projectId}/import`, { method: "POST", headers: { cookie: scientist.cookieHeader(), origin: base }, body: form });
    const body = (await response.json()) as { status?: string; error?: { message: string }; counts?: { cases: number; images: number } };
    expect(body.error?.message).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ status: "imported", counts: { cases: 3, images: 3 } });
    expect(await testDb().case.count({ where: { projectId } })).toBe(3);
    expectApiSecurityHeaders(response);
    expect(logSince(from)).not.toMatch(/Request body exceeded/);
  });
});

describe("malformed sign-in bodies (NextAuth's routes)", () => {
  const post = (route: string, contentType: string, body: string) => fetch(`${base}/api/auth/${route}`, { method: "POST", redirect: "manual", headers: { "content-type": contentType, origin: base }, body });

  it("JSON that does not parse: 400 with a message and the security headers, no stack trace in the log", async () => {
    const from = log.length;
    for (const route of ["callback/credentials", "signin/credentials", "signout", "_log"]) {
      const response = await post(route, "application/json", "{bad");
      expect(response.status, route).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
      expectApiSecurityHeaders(response);
    }
    expect(logSince(from)).not.toMatch(/SyntaxError|⨯|\n\s+at /);
  });

  it("JSON that is not an object, or a body over the limit: 400 / 413, never 500", async () => {
    const from = log.length;
    for (const body of ["[1]", "null", '"text"', "42"]) {
      const response = await post("callback/credentials", "application/json", body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/JSON object/);
    }
    const huge = await post("callback/credentials", "application/x-www-form-urlencoded", `email=a&password=${"x".repeat(200_000)}`);
    expect(huge.status).toBe(413);
    expectApiSecurityHeaders(huge);
    expect(logSince(from)).not.toMatch(/SyntaxError|TypeError|⨯|\n\s+at /);
  });

  it("a body of a type NextAuth does not read, or garbage in a form: no 500", async () => {
    const from = log.length;
    for (const [route, type, body] of [
      ["callback/credentials", "text/plain", "{bad"],
      ["callback/credentials", "application/octet-stream", "\u0000\u0001"],
      ["callback/credentials", "application/x-www-form-urlencoded", "%%%&&&=="],
      ["signout", "multipart/form-data; boundary=x", "garbage"],
    ] as const) {
      const response = await post(route, type, body);
      expect(response.status, `${route} ${type}`).toBeLessThan(500);
      await response.arrayBuffer();
    }
    expect(logSince(from)).not.toMatch(/SyntaxError|TypeError|⨯|\n\s+at /);
    // The ordinary sign-in still works.
    await scientist.signIn();
  });
});
