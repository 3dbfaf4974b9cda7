/**
 * The node:http glue of the production server's tRPC path (server/web/trpc-node.ts) on a real
 * `node:http` server with a stand-in handler that applies the same limit check as the real one
 * (server/api/request-limits.ts `limitTrpcRequest`) and echoes what reached it: another site's POST
 * refused before its body is read, one Request per call
 * with the body read under the cap, 413 with a closed connection for a body over the cap (declared
 * or chunked), a body exactly at the cap accepted, a client that leaves mid-body not waited for,
 * HEAD as GET, the security headers in one set, a generic 500 when the handler throws.
 */
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { Readable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TRPC_MAX_BODY_BYTES } from "@/contracts/request-limits";
import { limitTrpcRequest } from "@/server/api/request-limits";
import { serveImage } from "./image-node";
import { readLimitedBody, serveTrpc } from "./trpc-node";

interface Seen {
  method: string;
  /** Whether the Request the limit check passed on is the very one this server built (no second Request). */
  same: boolean;
  sha256: string;
  bytes: number;
}

let server: http.Server;
let port = 0;
const seen: Seen[] = [];
/** serveTrpc calls that have not settled yet. */
let pending = 0;
let throwing = false;

beforeAll(async () => {
  const handle = async (request: Request): Promise<Response> => {
    if (throwing) throw new Error("secret internal detail");
    const limited = await limitTrpcRequest(request, "/api/trpc");
    if (limited instanceof Response) return limited;
    const body = new Uint8Array(await limited.arrayBuffer());
    seen.push({ method: limited.method, same: limited === request, sha256: crypto.createHash("sha256").update(body).digest("hex"), bytes: body.byteLength });
    return Response.json({ result: { data: { bytes: body.byteLength } } });
  };
  server = http.createServer((req, res) => {
    pending += 1;
    void serveTrpc(handle, req, res, 0).finally(() => (pending -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.length = 0;
  throwing = false;
});

/** Sends `head` (request line and headers) then `body` parts on a raw socket; resolves with all it received until the server closed. */
function raw(head: string, parts: (string | Buffer)[], options: { destroyAfterSend?: boolean } = {}): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The server may close while we still send: what it answered before is what counts.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") resolve({ text, closedByServer: true });
      else reject(error);
    });
    socket.on("end", () => resolve({ text, closedByServer: true }));
    socket.on("close", () => resolve({ text, closedByServer: !options.destroyAfterSend }));
    socket.write(head);
    for (const part of parts) socket.write(part);
    if (options.destroyAfterSend) setTimeout(() => socket.destroy(), 50);
  });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function settled(): Promise<void> {
  for (let i = 0; i < 200 && pending > 0; i++) await wait(10);
}

describe("tRPC on node:http (server/web/trpc-node.ts)", () => {
  it("hands one Request per POST to the handler, its body read in full (a body exactly at the cap is accepted)", async () => {
    const body = crypto.randomBytes(TRPC_MAX_BODY_BYTES);
    const response = await fetch(`http://127.0.0.1:${port}/api/trpc/annotations.submit`, { method: "POST", body, headers: { "content-type": "application/json", origin: `http://127.0.0.1:${port}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: { data: { bytes: TRPC_MAX_BODY_BYTES } } });
    expect(seen).toEqual([{ method: "POST", same: true, sha256: crypto.createHash("sha256").update(body).digest("hex"), bytes: TRPC_MAX_BODY_BYTES }]);
    expect(response.headers.get("connection")).not.toBe("close");
  });

  it("reads a chunked body of several parts in full", async () => {
    const parts = [Buffer.from('{"0":{"json":'), Buffer.from('{"caseId":"c1"}'), Buffer.from("}}")];
    const chunked = parts.flatMap((part) => [`${part.byteLength.toString(16)}\r\n`, part, "\r\n"]);
    const { text } = await raw(`POST /api/trpc/a?batch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, [...chunked, "0\r\n\r\n"]);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen[0]?.sha256).toBe(crypto.createHash("sha256").update(Buffer.concat(parts)).digest("hex"));
    expect(seen[0]?.same).toBe(true);
  });

  it("refuses a chunked body over the cap with 413 and closes the connection, and stops reading", async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const frame = Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
    // 64 MiB announced in 256 KiB chunks; the server must answer long before all of it would be read.
    const frames = Array.from({ length: (TRPC_MAX_BODY_BYTES / chunk.byteLength) * 16 }, () => frame);
    const { text, closedByServer } = await raw(`POST /api/trpc/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`, frames);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text).toContain("larger than 4096 KiB");
    expect(closedByServer).toBe(true);
    expect(seen).toEqual([]);
    await settled();
    expect(pending).toBe(0);
  });

  it("refuses a declared Content-Length over the cap with 413 before the body is sent, and closes the connection", async () => {
    const { text, closedByServer } = await raw(`POST /api/trpc/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`, ["{"]);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(closedByServer).toBe(true);
    expect(seen).toEqual([]);
  });

  it("refuses another site's POST with 403 before reading its body (a declared 4 MiB body is never sent), and closes the connection", async () => {
    const { text, closedByServer } = await raw(`POST /api/trpc/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: ${TRPC_MAX_BODY_BYTES}\r\n\r\n`, ["{"]);
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
    expect(text).toContain("Cross-site request refused.");
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(closedByServer).toBe(true);
    expect(seen).toEqual([]);
    const noOrigin = await raw(`POST /api/trpc/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n`, ["{}"]);
    expect(noOrigin.text).toMatch(/^HTTP\/1\.1 403 /);
    expect(seen).toEqual([]);
  });

  it("does not wait for a client that leaves mid-body, and keeps serving", async () => {
    await raw(`POST /api/trpc/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nContent-Length: 1000\r\n\r\n`, ["0123456789"], { destroyAfterSend: true });
    await settled();
    expect(pending).toBe(0);
    expect(seen).toEqual([]);
    const after = await fetch(`http://127.0.0.1:${port}/api/trpc/a`, { method: "POST", body: "{}", headers: { origin: `http://127.0.0.1:${port}` } });
    expect(after.status).toBe(200);
  });

  it("answers HEAD as a GET without body, OPTIONS and other methods with Allow; the security headers once, no HSTS over plain http", async () => {
    const head = await fetch(`http://127.0.0.1:${port}/api/trpc/health.ping`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(seen.map((s) => s.method)).toEqual(["GET"]);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    expect(head.headers.get("x-frame-options")).toBe("DENY");
    expect(head.headers.get("x-content-type-options")).toBe("nosniff");
    expect(head.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(head.headers.get("strict-transport-security")).toBeNull();
    const options = await fetch(`http://127.0.0.1:${port}/api/trpc/health.ping`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
    const put = await fetch(`http://127.0.0.1:${port}/api/trpc/health.ping`, { method: "PUT", body: "x" });
    expect(put.status).toBe(405);
    expect(put.headers.get("x-frame-options")).toBe("DENY");
    // One value per header: the list is not added twice.
    const { text } = await raw(`GET /api/trpc/health.ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, []);
    expect(text.match(/\r\nX-Frame-Options: /gi)?.length).toBe(1);
    expect(text).toMatch(/\r\nContent-Length: \d+\r\n/i);
  });

  it("answers a Host header that makes no URL with 400 and the security headers and closes — on the tRPC and the image route — without calling the handler", async () => {
    const bad = `GET /api/trpc/health.ping HTTP/1.1\r\nHost: [::zz\r\n\r\n`;
    const trpcAnswer = await raw(bad, []);
    expect(trpcAnswer.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(trpcAnswer.text).toMatch(/\r\nX-Frame-Options: DENY\r\n/i);
    expect(trpcAnswer.text).toContain("make no URL");
    expect(trpcAnswer.closedByServer).toBe(true);
    expect(seen).toEqual([]);
    let imageCalls = 0;
    const imageServer = http.createServer((req, res) => void serveImage(async () => (imageCalls++, new Response("bytes")), "img-1", req, res));
    await new Promise<void>((resolve) => imageServer.listen(0, "127.0.0.1", resolve));
    try {
      const imagePort = (imageServer.address() as AddressInfo).port;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(imagePort, "127.0.0.1");
        let text = "";
        socket.on("data", (chunk) => (text += chunk.toString("latin1")));
        socket.on("error", reject);
        socket.on("close", () => resolve(text));
        socket.write(`GET /api/images/img-1 HTTP/1.1\r\nHost: [::zz\r\n\r\n`);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/\r\nContent-Security-Policy: /i);
      expect(imageCalls).toBe(0);
    } finally {
      imageServer.closeAllConnections();
      await new Promise((resolve) => imageServer.close(resolve));
    }
  });

  it("adds HSTS when served over https (NEXTAUTH_URL)", async () => {
    const before = process.env.NEXTAUTH_URL;
    process.env.NEXTAUTH_URL = "https://annotate.example";
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/trpc/health.ping`);
      expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    } finally {
      if (before === undefined) delete process.env.NEXTAUTH_URL;
      else process.env.NEXTAUTH_URL = before;
    }
  });

  it("answers a handler that throws with a generic 500 and an error id, never its text", async () => {
    throwing = true;
    const response = await fetch(`http://127.0.0.1:${port}/api/trpc/a`, { method: "POST", body: "{}", headers: { origin: `http://127.0.0.1:${port}` } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("secret internal detail");
    expect(JSON.parse(text)).toMatchObject({ error: { errorId: expect.any(String) } });
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("readLimitedBody", () => {
  /** A request-like stream of `size` bytes in 64 KiB chunks, counting what was pulled from it. */
  function source(size: number, headers: Record<string, string> = {}) {
    const counter = { pulled: 0 };
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const stream = new Readable({
      read() {
        if (counter.pulled >= size) return void this.push(null);
        const part = chunk.subarray(0, Math.min(chunk.byteLength, size - counter.pulled));
        counter.pulled += part.byteLength;
        this.push(part);
      },
    });
    return { req: Object.assign(stream, { headers }) as unknown as http.IncomingMessage, counter };
  }

  it("stops reading just past the cap", async () => {
    const { req, counter } = source(64 * 1024 * 1024);
    const read = await readLimitedBody(req, TRPC_MAX_BODY_BYTES);
    expect(read).toMatchObject({ complete: false, body: null });
    expect(counter.pulled).toBeLessThanOrEqual(TRPC_MAX_BODY_BYTES + 3 * 64 * 1024);
  });

  it("refuses a declared length over the cap without reading", async () => {
    const { req, counter } = source(1024, { "content-length": String(TRPC_MAX_BODY_BYTES + 1) });
    expect(await readLimitedBody(req, TRPC_MAX_BODY_BYTES)).toMatchObject({ complete: false, bytes: 0 });
    expect(counter.pulled).toBe(0);
  });

  it("reads a body at the cap in full, and reports a stream that errors before its end as aborted", async () => {
    const { req } = source(TRPC_MAX_BODY_BYTES);
    const read = await readLimitedBody(req, TRPC_MAX_BODY_BYTES);
    expect(read).toMatchObject({ complete: true, bytes: TRPC_MAX_BODY_BYTES });
    expect("body" in read && read.body?.byteLength).toBe(TRPC_MAX_BODY_BYTES);
    const broken = new Readable({ read() {} });
    const pending = readLimitedBody(Object.assign(broken, { headers: {} }) as unknown as http.IncomingMessage, 10);
    broken.push(Buffer.from("abc"));
    broken.destroy(new Error("aborted"));
    expect(await pending).toEqual({ aborted: true });
  });
});
