/**
 * The production server's front door for a path that does not percent-decode (server/web/malformed-path.ts) on a
 * real node:http server: 400 as JSON under /api and as a page elsewhere, the security headers (HSTS over https),
 * no-store, the connection closed only when a body was declared and left unread, one warn-level log line without
 * the path; a well-formed path (percent-encoded or not) is handed on.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { MALFORMED_PATH_MESSAGE, refusedForMalformedPath } from "./malformed-path";

let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const target = req.url ?? "/";
    const query = target.indexOf("?");
    if (refusedForMalformedPath(req, res, query === -1 ? target : target.slice(0, query))) return;
    res.writeHead(200, { "Content-Type": "text/plain" }).end("handed on");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Sends raw bytes; everything received until the server closed or `until` matched. */
function exchange(request: string, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      if (until?.test(text)) socket.end();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? resolve(text) : reject(error)));
    socket.on("close", () => resolve(text));
    socket.write(request);
  });
}

describe("refusedForMalformedPath (the web server's front door)", () => {
  it("answers 400 JSON under /api and a page elsewhere, with the security headers and no-store, for every malformed path", async () => {
    for (const target of ["/api/trpc/%", "/api/trpc/annotations.%ZZcase", "/api/images/%E0%A4%A", "/api/projects/%/import", "/api/auth/%E0%A4%A", "/api/%C0%80?x=1"]) {
      const response = await fetch(`http://127.0.0.1:${port}${target}`);
      expect(response.status, target).toBe(400);
      expect(response.headers.get("content-type"), target).toBe("application/json");
      expect(await response.json(), target).toEqual({ error: { message: MALFORMED_PATH_MESSAGE } });
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(response.headers.get("strict-transport-security")).toBeNull();
    }
    for (const target of ["/projects/%E0%A4%A", "/%", "/apix/%ZZ"]) {
      const response = await fetch(`http://127.0.0.1:${port}${target}`);
      expect(response.status, target).toBe(400);
      expect(response.headers.get("content-type"), target).toBe("text/html; charset=utf-8");
      expect(await response.text()).toContain("This address is not valid");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("hands on a path that decodes, percent-encoded or not (a malformed query is not its business)", async () => {
    for (const target of ["/", "/api/trpc/health%2Eping", "/projects/%E0%A4%A4", "/signin?next=%ZZ"]) {
      const response = await fetch(`http://127.0.0.1:${port}${target}`);
      expect(response.status, target).toBe(200);
      expect(await response.text()).toBe("handed on");
    }
  });

  it("logs one warn-level line naming neither the path nor anything in it", async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    await fetch(`http://127.0.0.1:${port}/api/projects/MRN-739104%E0%A4%A/export`);
    await fetch(`http://127.0.0.1:${port}/cases/Zyxwvutska%ZZ`);
    vi.restoreAllMocks();
    expect(lines.length).toBe(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", message: "request refused: its path is not valid percent-encoding", method: "GET", api: true });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: "warn", api: false });
    expect(lines.join("")).not.toMatch(/MRN|739104|Zyxwvutska|export|cases|%/);
  });

  it("keeps the connection when no body was declared, closes it when one was left unread; HEAD gets no body; HSTS over https", async () => {
    const kept = await exchange(`GET /api/trpc/%25%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(kept).toMatch(/^HTTP\/1\.1 400 /);
    expect(kept).toContain("handed on");
    const closed = await exchange(`POST /api/projects/%/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n--x`);
    expect(closed).toMatch(/^HTTP\/1\.1 400 /);
    expect(closed).toMatch(/\r\nConnection: close\r\n/i);
    const head = await exchange(`HEAD /projects/%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.endsWith("\r\n\r\n")).toBe(true);
    const before = process.env.NEXTAUTH_URL;
    process.env.NEXTAUTH_URL = "https://annotate.example";
    try {
      const https = await fetch(`http://127.0.0.1:${port}/api/%`);
      expect(https.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
    } finally {
      if (before === undefined) delete process.env.NEXTAUTH_URL;
      else process.env.NEXTAUTH_URL = before;
    }
  });
});
