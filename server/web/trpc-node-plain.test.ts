/**
 * serveTrpc with `answer` (tRPC without Fetch objects, server/api/trpc-resolve.ts) against serveTrpc
 * without it (the Fetch Request/Response path), byte for byte on the wire: two node:http servers in
 * front of the same stand-in router (superjson, an errorFormatter, a session read from the Cookie
 * header whose outage is a 503), each built as server/api/trpc-http.ts builds its own (the same
 * checks, then tRPC). Every request below goes to both on a raw socket; the answers (status line,
 * headers without Date, body) must be identical, and the plain server must not have built a
 * Request for the common calls — while refusals (403/400/413) and unusual shapes still take the
 * Fetch path there.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { initTRPC, TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { TRPC_MAX_BATCH, TRPC_MAX_BODY_BYTES } from "@/contracts/request-limits";
import { limitTrpcRequest } from "@/server/api/request-limits";
import { createTrpcAnswer, TRPC_INPUT_NOT_OBJECT_MESSAGE, trpcRefusalResponse, trpcRequestRefusal, withJsonContentType } from "@/server/api/trpc-resolve";
import { crossSiteRefusal, isSameOrigin } from "@/server/http-guards";
import { serveTrpc } from "./trpc-node";

interface Ctx {
  user: string | null;
}

const t = initTRPC.context<Ctx>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    return { ...shape, data: { ...shape.data, stack: undefined, fieldErrors: error.cause instanceof z.ZodError ? z.flattenError(error.cause).fieldErrors : null } };
  },
});
const signedIn = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next();
});
const router = t.router({
  health: t.router({ ping: t.procedure.query(() => ({ ok: true, at: new Date("2026-12-01T00:00:00Z") })) }),
  me: signedIn.query(({ ctx }) => ({ user: ctx.user })),
  echo: signedIn.input(z.object({ text: z.string().max(5) })).query(({ input }) => input),
  submit: signedIn.input(z.object({ caseId: z.string() })).mutation(({ input }) => ({ id: input.caseId, savedAt: new Date(0) })),
  refuse: signedIn.mutation(() => {
    throw new TRPCError({ code: "CONFLICT", message: "Someone else saved first." });
  }),
});

/** The session from the Cookie header: "s=1" signed in, "s=outage" the database away (503), else none. */
async function context(cookie: string | null): Promise<Ctx> {
  if (cookie === "s=outage") throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "The database is unavailable; try again." });
  return { user: cookie === "s=1" ? "u1" : null };
}

/** handleTrpcRequest with the stand-in router: CSRF, its own refusals, limits, tRPC's fetch adapter (JSON content type). Counts its calls. */
let fetchCalls = 0;
async function handle(incoming: Request): Promise<Response> {
  fetchCalls += 1;
  if (incoming.method === "POST" && !isSameOrigin(incoming, 0)) return crossSiteRefusal();
  const refusal = trpcRequestRefusal(incoming.method, new URL(incoming.url).pathname, incoming.headers.get("content-type"));
  if (refusal) return trpcRefusalResponse(refusal);
  const request = await limitTrpcRequest(incoming, "/api/trpc");
  if (request instanceof Response) return request;
  return withJsonContentType(await fetchRequestHandler({ endpoint: "/api/trpc", req: request, router, createContext: () => context(request.headers.get("cookie")) }));
}
const answer = createTrpcAnswer({ router, endpoint: "/api/trpc", createContext: (header) => context(header("cookie")), trustedProxyHops: 0 });

const servers: http.Server[] = [];
let fetchPort = 0;
let plainPort = 0;

async function listen(withAnswer: boolean): Promise<number> {
  const server = http.createServer((req, res) => void serveTrpc(handle, req, res, 0, withAnswer ? answer : undefined));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  fetchPort = await listen(false);
  plainPort = await listen(true);
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Sends raw bytes, resolves with everything received until the server closed (Date header removed). */
function exchange(port: number, parts: (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    const done = () => resolve(text.replace(/\r\nDate: [^\r]*/gi, ""));
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? done() : reject(error)));
    socket.on("close", done);
    for (const part of parts) socket.write(part);
  });
}

/** The same request to both servers (Host and Origin naming each): both answers, the Fetch path's calls on the plain server. */
async function both(build: (host: string) => (string | Buffer)[]): Promise<{ viaFetch: string; plain: string; plainFetchCalls: number }> {
  const viaFetch = await exchange(fetchPort, build(`127.0.0.1:${fetchPort}`));
  fetchCalls = 0;
  const plain = await exchange(plainPort, build(`127.0.0.1:${plainPort}`));
  return { viaFetch: viaFetch.replaceAll(String(fetchPort), "PORT"), plain: plain.replaceAll(String(plainPort), "PORT"), plainFetchCalls: fetchCalls };
}

const get = (target: string, headers = "") => (host: string) => [`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nCookie: s=1\r\n${headers}Connection: close\r\n\r\n`];
const post = (target: string, body: string, headers = "") => (host: string) => [
  `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nCookie: s=1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`,
];
const input = (value: unknown) => encodeURIComponent(JSON.stringify({ json: value }));

/** Requests the plain server answers itself: [name, request, expected status]. */
const PLAIN: [string, (host: string) => (string | Buffer)[], number][] = [
  ["a GET query with input", get(`/api/trpc/echo?input=${input({ text: "hi" })}`, "Content-Type: application/json\r\n"), 200],
  ["a GET query as the app's httpBatchLink sends it (batch of 1)", get(`/api/trpc/health.ping?batch=1&input=${encodeURIComponent("{}")}`), 200],
  ["a GET batch of 2, one failing (207)", get(`/api/trpc/echo,echo?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { text: "ok" } }, 1: { json: { text: "too long" } } }))}`), 207],
  ["a mutation over GET (405)", get(`/api/trpc/submit?input=${input({ caseId: "c1" })}`), 405],
  ["an unknown procedure (404)", get("/api/trpc/nothing"), 404],
  ["no session (401)", (host) => [`GET /api/trpc/me HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`], 401],
  ["the session check's database outage (503)", (host) => [`GET /api/trpc/me HTTP/1.1\r\nHost: ${host}\r\nCookie: s=outage\r\nConnection: close\r\n\r\n`], 503],
  ["a POST mutation", post("/api/trpc/submit", JSON.stringify({ json: { caseId: "c1" } })), 200],
  ["a POST batch of 2 mutations, one failing (207)", post("/api/trpc/submit,refuse?batch=1", JSON.stringify({ 0: { json: { caseId: "c1" } } })), 207],
  ["a POST body that is not JSON (400)", post("/api/trpc/submit", "{nope"), 400],
  ["a batch exactly at the limit", get(`/api/trpc/${Array.from({ length: TRPC_MAX_BATCH }, () => "health.ping").join(",")}?batch=1`), 200],
  ["HEAD (a GET without body or length)", (host) => [`HEAD /api/trpc/health.ping HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`], 200],
  ["a GET that sent a body (the connection closes after the answer)", (host) => [`GET /api/trpc/health.ping HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\n`], 200],
];

/** Requests the plain server leaves to the Fetch path (refusals, unusual shapes): [name, request, expected status]. */
const VIA_FETCH: [string, (host: string) => (string | Buffer)[], number][] = [
  ["a batch over the limit (400)", get(`/api/trpc/${Array.from({ length: TRPC_MAX_BATCH + 1 }, () => "health.ping").join(",")}?batch=1`), 400],
  ["a declared body over the cap (413)", (host) => [`POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nContent-Type: application/json\r\nContent-Length: ${TRPC_MAX_BODY_BYTES + 1}\r\n\r\n{`], 413],
  [
    "a chunked body over the cap (413)",
    (host) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const frame = Buffer.concat([Buffer.from(`${chunk.byteLength.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
      return [`POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, ...Array.from({ length: 6 }, () => frame)];
    },
    413,
  ],
  ["a POST without a content type (415)", (host) => [`POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nCookie: s=1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`], 415],
  ["a batch mixing a query and a mutation (400)", get("/api/trpc/health.ping,submit?batch=1"), 400],
  ["a POST of form data (415)", (host) => [`POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nCookie: s=1\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n--x--`], 415],
  ["a path that does not percent-decode (400)", get("/api/trpc/annotations.%ZZcase"), 400],
  ["a bare % (400)", get("/api/trpc/%"), 400],
];

describe("serveTrpc with answer (tRPC without Fetch objects)", () => {
  for (const [name, request, status] of PLAIN) {
    it(`answers byte for byte as the Fetch path, without building a Request: ${name}`, async () => {
      const { viaFetch, plain, plainFetchCalls } = await both(request);
      expect(viaFetch).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(plain).toBe(viaFetch);
      expect(plainFetchCalls).toBe(0);
    });
  }

  for (const [name, request, status] of VIA_FETCH) {
    it(`leaves to the Fetch path, same answer: ${name}`, async () => {
      const { viaFetch, plain, plainFetchCalls } = await both(request);
      expect(viaFetch).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(plain).toBe(viaFetch);
      expect(plainFetchCalls).toBe(1);
      // Every answer is JSON and says so (tRPC's adapter sent its early errors as text/plain).
      expect(plain).toMatch(/\r\ncontent-type: application\/json\r\n/i);
    });
  }

  it("answers a JSON array body to a single mutation with 'must be a JSON object' (deliberately unlike tRPC's adapter, which the Fetch path still runs)", async () => {
    const { viaFetch, plain, plainFetchCalls } = await both(post("/api/trpc/submit", "[1,2]"));
    expect(plainFetchCalls).toBe(0);
    expect(plain).toMatch(/^HTTP\/1\.1 400 /);
    expect(viaFetch).toMatch(/^HTTP\/1\.1 400 /);
    // (exchange reads the wire as latin1: the body back to UTF-8 for the message's "…".)
    const message = (wire: string) => (JSON.parse(Buffer.from(wire.slice(wire.indexOf("\r\n\r\n") + 4), "latin1").toString("utf8")) as { error: { json: { message: string } } }).error.json.message;
    expect(message(plain)).toBe(TRPC_INPUT_NOT_OBJECT_MESSAGE.POST);
    expect(message(viaFetch)).toContain("expected object, received undefined");
    // Otherwise the same answer: status line and headers.
    const head = (wire: string) => wire.slice(0, wire.indexOf("\r\n\r\n")).replace(/\r\nContent-Length: \d+/i, "");
    expect(head(plain)).toBe(head(viaFetch));
  });

  it("refuses a cross-site or Origin-less POST with 403 before reading its body, as before", async () => {
    const evil = await both((host) => [`POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: ${TRPC_MAX_BODY_BYTES}\r\n\r\n{`]);
    expect(evil.plain).toMatch(/^HTTP\/1\.1 403 /);
    expect(evil.plain).toBe(evil.viaFetch);
    const none = await both((host) => [`POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`]);
    expect(none.plain).toMatch(/^HTTP\/1\.1 403 /);
    expect(none.plain).toBe(none.viaFetch);
  });

  it("keeps the connection alive between calls (two on one socket), and adds HSTS over https", async () => {
    const two = (host: string) => [
      `GET /api/trpc/health.ping HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `POST /api/trpc/submit HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nCookie: s=1\r\nContent-Type: application/json\r\nContent-Length: 23\r\nConnection: close\r\n\r\n{"json":{"caseId":"c"}}`,
    ];
    const kept = await both(two);
    expect(kept.plain.match(/HTTP\/1\.1 200 /g)?.length).toBe(2);
    expect(kept.plain).toMatch(/Keep-Alive: timeout=/);
    expect(kept.plain).toBe(kept.viaFetch);
    expect(kept.plainFetchCalls).toBe(0);
    const before = process.env.NEXTAUTH_URL;
    process.env.NEXTAUTH_URL = "https://annotate.example";
    try {
      const https = await both(get("/api/trpc/health.ping"));
      expect(https.plain).toMatch(/\r\nStrict-Transport-Security: max-age=\d+/);
      expect(https.plain).toBe(https.viaFetch);
    } finally {
      if (before === undefined) delete process.env.NEXTAUTH_URL;
      else process.env.NEXTAUTH_URL = before;
    }
  });

  it("treats a Host that makes no URL as before (the Fetch path's answer)", async () => {
    const { viaFetch, plain } = await both(() => [`GET /api/trpc/health.ping HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`]);
    expect(plain).toBe(viaFetch);
  });

  it("answers with a generic 500 when answer throws, never its text", async () => {
    const throwing = http.createServer((req, res) =>
      void serveTrpc(handle, req, res, 0, async () => {
        throw new Error("secret internal detail");
      }),
    );
    servers.push(throwing);
    await new Promise<void>((resolve) => throwing.listen(0, "127.0.0.1", resolve));
    const port = (throwing.address() as AddressInfo).port;
    const text = await exchange(port, [`GET /api/trpc/health.ping HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`]);
    expect(text).toMatch(/^HTTP\/1\.1 500 /);
    expect(text).not.toContain("secret internal detail");
    expect(text).toMatch(/\r\nX-Frame-Options: DENY\r\n/i);
  });
});
