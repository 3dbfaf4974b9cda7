/**
 * server/api/trpc-resolve.ts against tRPC's own fetch adapter, answer for answer: a stand-in router
 * with superjson and an errorFormatter (like server/api/trpc.ts), a middleware that refuses before
 * the input is read, zod inputs, dates both ways. Each request goes to `fetchRequestHandler` (what
 * handleTrpcRequest calls) and to `resolveTrpcJson`; both must give the same status, headers and
 * body bytes — or resolveTrpcJson answers null (the Fetch path's turn) without having made a context.
 * Also `createTrpcAnswer`'s checks: cross-site POST, batch too long, body over the cap, a path that does not
 * percent-decode, a POST that is not JSON → null. Where resolveTrpcJson deliberately answers otherwise than tRPC's
 * adapter (DIFFERENT: a single call's input that is JSON but not an object), both answers are checked as they are.
 * And the refusals handleTrpcRequest adds before tRPC (trpcRequestRefusal) and its JSON content type on tRPC's
 * early errors (withJsonContentType), against what tRPC's adapter answers alone.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TRPC_MAX_BATCH, TRPC_MAX_BODY_BYTES } from "@/contracts/request-limits";
import {
  createTrpcAnswer,
  plainSuperjson,
  resolveTrpcJson,
  TRPC_INPUT_NOT_OBJECT_MESSAGE,
  TRPC_JSON_ONLY_MESSAGE,
  TRPC_MALFORMED_PATH_MESSAGE,
  trpcRefusalResponse,
  trpcRequestRefusal,
  withJsonContentType,
  type TrpcNodeCall,
} from "./trpc-resolve";

/** Outputs superjson annotates in every way plain values can be (the `shaped` procedure answers SHAPES[n]). */
const shared = { same: "object twice" };
const SHAPES: unknown[] = [
  { when: new Date(1), list: [new Date(2), { at: new Date(3) }, undefined, null], "dotted.key": new Date(4), "back\\slash": [new Date(5)], 7: new Date(6), 10: "x" },
  [{ d: new Date(7) }, new Date(8), [[new Date(9)]]],
  { nested: { "0": { deep: new Date(10) }, "1": new Date(11), z: undefined }, empty: {}, none: [], text: "tab\t\u2028 ✓" },
  new Date(12),
  undefined,
  "plain text",
  { a: shared, b: shared },
  { n: -0, inf: Infinity, nan: NaN },
  { big: 1n, set: new Set([1]), map: new Map([[1, 2]]), re: /x/g },
  { bad: new Date(NaN) },
  Object.assign(new Array<number>(3), { 0: 1, 2: 3 }),
  Object.assign(Object.create(null) as object, { x: new Date(13) }),
];

interface Ctx {
  user: string | null;
}

const t = initTRPC.context<Ctx>().create({
  transformer: superjson,
  errorFormatter({ shape, error, path, input }) {
    return { ...shape, data: { ...shape.data, stack: undefined, path: path ?? null, sawInput: input === undefined ? null : JSON.stringify(input), zod: error.cause instanceof z.ZodError } };
  },
});
const signedIn = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first." });
  return next();
});
const router = t.router({
  health: t.router({ ping: t.procedure.query(() => ({ ok: true, at: new Date("2026-12-01T00:00:00Z") })) }),
  me: signedIn.query(({ ctx }) => ({ user: ctx.user })),
  echo: t.procedure.input(z.object({ text: z.string().max(5), when: z.date().optional() })).query(({ input }) => ({ input, big: 10n })),
  fail: t.procedure.query(() => {
    throw new Error("secret internal detail");
  }),
  conflict: t.procedure.query(() => {
    throw new TRPCError({ code: "CONFLICT", message: "Someone else saved first." });
  }),
  stream: t.procedure.query(() => ({ later: Promise.resolve(1) })),
  shaped: t.procedure.input(z.number().int()).query(({ input }) => SHAPES[input]),
  submit: signedIn.input(z.object({ caseId: z.string(), labels: z.array(z.string()) })).mutation(({ input }) => ({ id: input.caseId, version: 1, savedAt: new Date(0) })),
  refuse: signedIn.mutation(() => {
    throw new TRPCError({ code: "FORBIDDEN", message: "Your role may not do this." });
  }),
  ticks: t.procedure.subscription(async function* () {
    yield 1;
  }),
});

interface Case {
  method: "GET" | "POST";
  target: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

const BASE = "http://127.0.0.1:3000";

/** What tRPC's fetch adapter answers (the Response path). */
async function viaFetch(c: Case, context: () => Promise<Ctx>): Promise<Answer> {
  const body = c.body === undefined ? undefined : typeof c.body === "string" ? new TextEncoder().encode(c.body) : c.body;
  const req = new Request(BASE + c.target, { method: c.method, headers: c.headers, body });
  const res = await fetchRequestHandler({ endpoint: "/api/trpc", req, router, createContext: context });
  return { status: res.status, headers: [...res.headers].flat(), body: await res.text() };
}

/** What resolveTrpcJson answers, and how many contexts it made. */
async function viaPlain(c: Case, context: () => Promise<Ctx>): Promise<{ answer: Answer | null; contexts: number }> {
  let contexts = 0;
  const lower = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = c.body === undefined ? null : typeof c.body === "string" ? new TextEncoder().encode(c.body) : c.body;
  const answer = await resolveTrpcJson({
    router,
    endpoint: "/api/trpc",
    call: { method: c.method, url: new URL(BASE + c.target), body: c.method === "POST" ? (body ?? new Uint8Array(0)) : null },
    header: (name) => lower[name] ?? null,
    createContext: () => {
      contexts += 1;
      return context();
    },
  });
  return { answer: answer && { status: answer.status, headers: [...answer.headers], body: answer.body }, contexts };
}

const json = { "content-type": "application/json" };
const input = (value: unknown) => encodeURIComponent(JSON.stringify(superjson.serialize(value)));
const signed = async (): Promise<Ctx> => ({ user: "u1" });
const anonymous = async (): Promise<Ctx> => ({ user: null });
const outage = async (): Promise<Ctx> => {
  throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: "The database is unavailable." });
};
const broken = async (): Promise<Ctx> => {
  throw new Error("context bug");
};

/** Requests both paths must answer identically (status, headers, body). */
const SAME: [string, Case, () => Promise<Ctx>, number][] = [
  ["a GET query without input", { method: "GET", target: "/api/trpc/health.ping", headers: json }, signed, 200],
  ["a GET query without a content type", { method: "GET", target: "/api/trpc/health.ping" }, signed, 200],
  ["a GET query with input (dates, bigint out)", { method: "GET", target: `/api/trpc/echo?input=${input({ text: "hi", when: new Date(5) })}`, headers: json }, signed, 200],
  ["a GET query whose input fails its schema", { method: "GET", target: `/api/trpc/echo?input=${input({ text: "too long" })}`, headers: json }, signed, 400],
  ["a GET query whose input is not JSON", { method: "GET", target: "/api/trpc/echo?input=%7Bnope", headers: json }, signed, 400],
  ["a GET batch of 2, one failing (207)", { method: "GET", target: `/api/trpc/health.ping,conflict?batch=1&input=${encodeURIComponent("{}")}`, headers: json }, signed, 207],
  ["a GET batch of 2 with inputs, both failing alike", { method: "GET", target: `/api/trpc/echo,echo?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: superjson.serialize({ text: "toolong" }), 1: superjson.serialize({ text: "6chars" }) }))}`, headers: json }, signed, 400],
  ["a GET batch whose input is not an object", { method: "GET", target: `/api/trpc/echo,health.ping?batch=1&input=${encodeURIComponent("[1]")}`, headers: json }, signed, 207],
  ["a mutation over GET (refused)", { method: "GET", target: `/api/trpc/submit?input=${input({ caseId: "c1", labels: [] })}`, headers: json }, signed, 405],
  ["a query over POST (refused)", { method: "POST", target: "/api/trpc/health.ping", headers: json, body: "{}" }, signed, 405],
  ["an unknown procedure", { method: "GET", target: "/api/trpc/nothing.here", headers: json }, signed, 404],
  ["a procedure that throws (500, errorFormatter)", { method: "GET", target: "/api/trpc/fail", headers: json }, signed, 500],
  ["a stream-like result outside a stream", { method: "GET", target: "/api/trpc/stream", headers: json }, signed, 415],
  ["a stream-like result in a batch", { method: "GET", target: "/api/trpc/stream,health.ping?batch=1", headers: json }, signed, 207],
  ["a refusal before the input is read (no session, invalid JSON body)", { method: "POST", target: "/api/trpc/submit", headers: json, body: "{nope" }, anonymous, 401],
  ["a POST mutation", { method: "POST", target: "/api/trpc/submit", headers: json, body: JSON.stringify(superjson.serialize({ caseId: "c1", labels: ["normal"] })) }, signed, 200],
  ["a POST mutation with a byte-order mark", { method: "POST", target: "/api/trpc/submit", headers: { "content-type": "Application/JSON; charset=utf-8" }, body: "\ufeff" + JSON.stringify({ json: { caseId: "c1", labels: [] } }) }, signed, 200],
  ["a POST mutation whose body is not JSON", { method: "POST", target: "/api/trpc/submit", headers: json, body: "{nope" }, signed, 400],
  ["a POST mutation with an empty body", { method: "POST", target: "/api/trpc/submit", headers: json, body: "" }, signed, 400],
  ["a POST batch of 2 mutations, one failing", { method: "POST", target: "/api/trpc/submit,refuse?batch=1", headers: json, body: JSON.stringify({ 0: { json: { caseId: "c1", labels: [] } } }) }, signed, 207],
  ["a POST batch naming an unknown procedure", { method: "POST", target: "/api/trpc/submit,nothing?batch=1", headers: json, body: JSON.stringify({ 0: { json: { caseId: "c1", labels: [] } } }) }, signed, 207],
  ["the session check's outage (503)", { method: "GET", target: "/api/trpc/me", headers: json }, outage, 503],
  ["the session check's outage in a batch (503 each)", { method: "POST", target: "/api/trpc/submit,refuse?batch=1", headers: json, body: "{}" }, outage, 503],
  ["an unknown procedure while the context fails (404 first)", { method: "GET", target: "/api/trpc/nothing", headers: json }, outage, 404],
  ["a context that throws (500)", { method: "GET", target: "/api/trpc/me", headers: json }, broken, 500],
  ["a percent-encoded path", { method: "GET", target: "/api/trpc/health%2Eping", headers: json }, signed, 200],
  ["a trailing slash", { method: "GET", target: "/api/trpc/health.ping/", headers: json }, signed, 200],
  ["trpc-accept other than jsonl", { method: "GET", target: "/api/trpc/health.ping", headers: { ...json, "trpc-accept": "application/json", accept: "application/jsonl" } }, signed, 200],
  ["the endpoint alone", { method: "GET", target: "/api/trpc", headers: json }, signed, 404],
  ...SHAPES.map((_, n): [string, Case, () => Promise<Ctx>, number] => [`an output superjson annotates (shape ${n})`, { method: "GET", target: `/api/trpc/shaped?input=${input(n)}`, headers: json }, signed, 200]),
  ["a batch of outputs superjson annotates", { method: "GET", target: `/api/trpc/shaped,shaped,shaped?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: superjson.serialize(0), 1: superjson.serialize(6), 2: superjson.serialize(1) }))}`, headers: json }, signed, 200],
];

/** Requests resolveTrpcJson leaves to the Fetch path (null, no context made). */
const FETCH_PATH: [string, Case][] = [
  ["a POST without a content type", { method: "POST", target: "/api/trpc/submit", body: "{}" }],
  ["a POST of form data", { method: "POST", target: "/api/trpc/submit", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x--" }],
  ["a GET with an octet-stream content type", { method: "GET", target: "/api/trpc/health.ping", headers: { "content-type": "application/octet-stream" } }],
  ["a streamed batch (accept: application/jsonl)", { method: "GET", target: "/api/trpc/health.ping?batch=1", headers: { ...json, accept: "text/html, application/jsonl" } }],
  ["a streamed call (trpc-accept)", { method: "GET", target: "/api/trpc/health.ping", headers: { ...json, "trpc-accept": "application/jsonl" } }],
  ["a batch mixing a query and a mutation", { method: "GET", target: "/api/trpc/health.ping,submit?batch=1", headers: json }],
  ["a subscription", { method: "GET", target: "/api/trpc/ticks", headers: json }],
  ["connectionParams", { method: "GET", target: "/api/trpc/health.ping?connectionParams=1", headers: json }],
  ["a path that is not valid percent-encoding", { method: "GET", target: "/api/trpc/health%E0%A4%A", headers: json }],
];

/**
 * Requests resolveTrpcJson answers deliberately otherwise than tRPC's adapter: [name, request, what the
 * plain path's client reads, what tRPC's adapter told it]. Same status and headers; the message differs.
 */
const DIFFERENT: [string, Case, string, string][] = [
  ["a JSON array body to a single mutation", { method: "POST", target: "/api/trpc/submit", headers: json, body: "[1,2]" }, TRPC_INPUT_NOT_OBJECT_MESSAGE.POST, "expected object, received undefined"],
  ["a JSON string body to a single mutation", { method: "POST", target: "/api/trpc/submit", headers: json, body: '"c1"' }, TRPC_INPUT_NOT_OBJECT_MESSAGE.POST, "expected object, received undefined"],
  ["a JSON array as a single query's input", { method: "GET", target: `/api/trpc/echo?input=${encodeURIComponent("[1]")}`, headers: json }, TRPC_INPUT_NOT_OBJECT_MESSAGE.GET, "expected object, received undefined"],
];

describe("resolveTrpcJson (tRPC without Fetch objects)", () => {
  for (const [name, c, context, status] of SAME) {
    it(`answers as tRPC's fetch adapter does: ${name}`, async () => {
      const expected = await viaFetch(c, context);
      const { answer, contexts } = await viaPlain(c, context);
      expect(expected.status).toBe(status);
      expect(answer).toEqual(expected);
      expect(contexts).toBe(1);
    });
  }

  for (const [name, c] of FETCH_PATH) {
    it(`leaves to the Fetch path before making a context: ${name}`, async () => {
      const { answer, contexts } = await viaPlain(c, signed);
      expect(answer).toBeNull();
      expect(contexts).toBe(0);
    });
  }

  for (const [name, c, ours, theirs] of DIFFERENT) {
    it(`answers deliberately otherwise than tRPC's fetch adapter (its message, same status and headers): ${name}`, async () => {
      const expected = await viaFetch(c, signed);
      const { answer, contexts } = await viaPlain(c, signed);
      expect(contexts).toBe(1);
      expect(answer?.status).toBe(400);
      expect(answer?.status).toBe(expected.status);
      expect(answer?.headers).toEqual(expected.headers);
      const message = (body: string) => (JSON.parse(body) as { error: { json: { message: string; data: { code: string } } } }).error.json;
      expect(message(answer!.body)).toMatchObject({ message: ours, data: { code: "BAD_REQUEST" } });
      expect(message(expected.body).message).toContain(theirs);
    });
  }

  it("parses the input once for a batch, after the middleware, and shows each call its own", async () => {
    const body = JSON.stringify({ 0: superjson.serialize({ caseId: "a", labels: [] }), 1: superjson.serialize({ caseId: "b", labels: ["x"] }) });
    const c: Case = { method: "POST", target: "/api/trpc/submit,submit?batch=1", headers: json, body };
    const { answer } = await viaPlain(c, signed);
    const items = JSON.parse(answer!.body) as { result: { data: { json: { id: string } } } }[];
    expect(items.map((item) => item.result.data.json.id)).toEqual(["a", "b"]);
    expect(answer).toEqual(await viaFetch(c, signed));
  });
});

describe("handleTrpcRequest's own refusals and content type (trpcRequestRefusal, withJsonContentType)", () => {
  it("refuses a path that does not percent-decode and a POST that is not JSON; lets the rest through", () => {
    for (const path of ["/api/trpc/%", "/api/trpc/annotations.%ZZcase", "/api/trpc/health%E0%A4%A", "/api/trpc/%C0%80"]) {
      expect(trpcRequestRefusal("GET", path, null), path).toEqual({ status: 400, message: TRPC_MALFORMED_PATH_MESSAGE });
    }
    for (const type of [null, "multipart/form-data; boundary=x", "application/octet-stream", "text/plain", "application/jsonl", "application/x-www-form-urlencoded"]) {
      expect(trpcRequestRefusal("POST", "/api/trpc/submit", type), String(type)).toEqual({ status: 415, message: TRPC_JSON_ONLY_MESSAGE });
    }
    expect(trpcRequestRefusal("POST", "/api/trpc/submit", "Application/JSON; charset=utf-8")).toBeNull();
    expect(trpcRequestRefusal("GET", "/api/trpc/health%2Eping", null)).toBeNull();
    expect(trpcRequestRefusal("GET", "/api/trpc/health.ping", "multipart/form-data")).toBeNull();
  });

  it("answers a refusal as JSON, never cached", async () => {
    const response = trpcRefusalResponse({ status: 415, message: TRPC_JSON_ONLY_MESSAGE });
    expect(response.status).toBe(415);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ error: { message: TRPC_JSON_ONLY_MESSAGE } });
  });

  // tRPC's adapter alone: an error found before any call ran has a JSON body but the Response's default text/plain type.
  const EARLY: [string, Case, number][] = [
    ["a POST without a content type", { method: "POST", target: "/api/trpc/submit", body: "{}" }, 415],
    ["a batch mixing a query and a mutation", { method: "GET", target: "/api/trpc/health.ping,submit?batch=1", headers: json }, 400],
    ["a GET of form data", { method: "GET", target: "/api/trpc/health.ping", headers: { "content-type": "multipart/form-data; boundary=x" } }, 405],
    ["a path that does not percent-decode", { method: "GET", target: "/api/trpc/health%E0%A4%A", headers: json }, 400],
  ];
  for (const [name, c, status] of EARLY) {
    it(`marks tRPC's early error JSON, body unchanged: ${name}`, async () => {
      const body = c.body === undefined ? undefined : new TextEncoder().encode(c.body as string);
      const req = () => new Request(BASE + c.target, { method: c.method, headers: c.headers, body });
      const plain = await fetchRequestHandler({ endpoint: "/api/trpc", req: req(), router, createContext: signed });
      expect(plain.status).toBe(status);
      expect(plain.headers.get("content-type")).toMatch(/^text\/plain/);
      const marked = withJsonContentType(await fetchRequestHandler({ endpoint: "/api/trpc", req: req(), router, createContext: signed }));
      expect(marked.status).toBe(status);
      expect(marked.headers.get("content-type")).toBe("application/json");
      expect(await marked.text()).toBe(await plain.text());
    });
  }

  it("leaves tRPC's other answers as they are", async () => {
    const ok = await fetchRequestHandler({ endpoint: "/api/trpc", req: new Request(`${BASE}/api/trpc/health.ping`), router, createContext: signed });
    expect(withJsonContentType(ok).headers.get("content-type")).toBe("application/json");
    const head = await fetchRequestHandler({ endpoint: "/api/trpc", req: new Request(`${BASE}/api/trpc/health.ping`, { method: "HEAD" }), router, createContext: signed });
    expect(withJsonContentType(head).headers.get("content-type")).toBeNull();
  });
});

describe("plainSuperjson (superjson's output written without its walk)", () => {
  it("writes plain values as superjson does, and leaves everything else to superjson", () => {
    const plain = [0, 1, 2, 3, 4, 5, 11];
    for (const [n, value] of SHAPES.entries()) {
      const ours = plainSuperjson(value);
      if (plain.includes(n)) expect(JSON.stringify(ours), `shape ${n}`).toBe(JSON.stringify(superjson.serialize(value)));
      else expect(ours, `shape ${n}`).toBeNull();
    }
    expect(plainSuperjson({ fn: () => 1 })).toBeNull();
    expect(plainSuperjson(JSON.parse('{"__proto__": 1}'))).toBeNull();
    expect(plainSuperjson({ constructor: 1 })).toBeNull();
  });

  it("writes random trees of objects, arrays, Dates, undefined and strange keys byte for byte as superjson", () => {
    let seed = 16;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ["a", "b.c", "0", "12", "x\\y", "", "1.5", "-1", "ünï", "z"];
    const tree = (depth: number): unknown => {
      const r = random();
      if (depth > 4 || r < 0.3) {
        const leaf = random();
        return leaf < 0.3 ? new Date(Math.floor(random() * 2e12)) : leaf < 0.4 ? undefined : leaf < 0.5 ? null : leaf < 0.7 ? `s${leaf}` : leaf < 0.85 ? Math.floor(leaf * 1000) - 500 : leaf < 0.9;
      }
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => tree(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--) object[keys[Math.floor(random() * keys.length)]!] = tree(depth + 1);
      return object;
    };
    for (let i = 0; i < 500; i++) {
      const value = tree(0);
      const ours = plainSuperjson(value);
      expect(ours).not.toBeNull();
      expect(JSON.stringify(ours)).toBe(JSON.stringify(superjson.serialize(value)));
    }
  });
});

describe("createTrpcAnswer (the checks of handleTrpcRequest)", () => {
  let contexts = 0;
  const answer = createTrpcAnswer({
    router,
    endpoint: "/api/trpc",
    createContext: async (header) => {
      contexts += 1;
      return { user: header("cookie") === "s=1" ? "u1" : null };
    },
    trustedProxyHops: 0,
  });
  const post = (target: string, headers: TrpcNodeCall["headers"], body: string, read = { complete: true, bytes: Buffer.byteLength(body) }): TrpcNodeCall => ({
    method: "POST",
    url: new URL(BASE + target),
    headers: { host: "127.0.0.1:3000", "content-type": "application/json", cookie: "s=1", ...headers },
    body: read.complete ? new TextEncoder().encode(body) : null,
    read,
  });
  const submit = JSON.stringify({ json: { caseId: "c1", labels: [] } });

  it("answers a same-origin POST with the session from the Cookie header", async () => {
    const result = await answer(post("/api/trpc/submit", { origin: BASE }, submit));
    expect(result?.status).toBe(200);
    expect(JSON.parse(result!.body)).toMatchObject({ result: { data: { json: { id: "c1" } } } });
  });

  it("leaves a cross-site or Origin-less POST, a batch too long and a body over the cap to the Fetch path, unread", async () => {
    contexts = 0;
    expect(await answer(post("/api/trpc/submit", { origin: "https://evil.example" }, submit))).toBeNull();
    expect(await answer(post("/api/trpc/submit", {}, submit))).toBeNull();
    const long = Array.from({ length: TRPC_MAX_BATCH + 1 }, () => "health.ping").join(",");
    expect(await answer({ method: "GET", url: new URL(`${BASE}/api/trpc/${long}?batch=1`), headers: { host: "127.0.0.1:3000" }, body: null })).toBeNull();
    expect(await answer(post("/api/trpc/submit", { origin: BASE }, "", { complete: false, bytes: TRPC_MAX_BODY_BYTES + 1 }))).toBeNull();
    expect(await answer(post("/api/trpc/submit", { origin: BASE }, submit, { complete: true, bytes: TRPC_MAX_BODY_BYTES + 1 }))).toBeNull();
    // handleTrpcRequest's own refusals (trpcRequestRefusal): a path that does not percent-decode (the batch check
    // threw on it: a 500), a POST that is not JSON.
    expect(await answer({ method: "GET", url: new URL(`${BASE}/api/trpc/annotations.%ZZcase`), headers: { host: "127.0.0.1:3000" }, body: null })).toBeNull();
    expect(await answer({ method: "GET", url: new URL(`${BASE}/api/trpc/%`), headers: { host: "127.0.0.1:3000" }, body: null })).toBeNull();
    expect(await answer(post("/api/trpc/submit", { origin: BASE, "content-type": "multipart/form-data; boundary=x" }, "--x--"))).toBeNull();
    expect(contexts).toBe(0);
    // A batch exactly at the limit is answered.
    const atLimit = Array.from({ length: TRPC_MAX_BATCH }, () => "health.ping").join(",");
    expect((await answer({ method: "GET", url: new URL(`${BASE}/api/trpc/${atLimit}?batch=1`), headers: { host: "127.0.0.1:3000" }, body: null }))?.status).toBe(200);
  });
});
