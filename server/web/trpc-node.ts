/**
 * tRPC on a plain `node:http` server (issue 16): the production web server
 * (server/web/server.ts) answers `/api/trpc/*` here instead of through Next.js's request pipeline
 * (routing, proxy, route-module wrapper), which cost more CPU per call than the call's own work
 * (docs/benchmarks.md, "Where a clinician call's time goes").
 *
 * The request goes to the handler of the Next.js route (server/api/trpc-http.ts: CSRF, batch and
 * body limits, session check, client address, 503 on outage, error formatter), passed in by the
 * server; this module only turns node's request into a Fetch `Request` and the `Response` back
 * into node's answer, adding the security headers Next.js adds to API answers on its path
 * (next.config.ts `SECURITY_HEADERS`, and HSTS when served over https, as proxy.ts decides).
 * Per call it builds ONE Request: a POST's body is read from the socket here under the body cap
 * (server/api/request-limits.ts: declared Content-Length refused unread, bytes counted as read,
 * reading stops once the cap is passed) and handed over as bytes, marked LIMITED_BODY so the
 * handler's limit check does not read and copy it into a second Request (docs/benchmarks.md, "One
 * request object per call"). The Request carries no abort signal: no procedure streams or
 * subscribes, so there is nothing to cancel when a client goes away mid-answer.
 * Answers are not compressed here (as with Next's default in this project, WEB_COMPRESS unset): a
 * reverse proxy compresses if the link needs it.
 *
 * With the route's `answerCall` (server/api/trpc-http.ts `answerTrpcCall`, passed in as `answer`)
 * a call builds no Fetch object at all (issue 16, "tRPC without Fetch objects" in
 * docs/benchmarks.md): node's method, URL, headers and the body read under the cap go in as plain
 * data, tRPC's answer comes back as status, headers and JSON text and is written in one writeHead,
 * with the same headers as the Response path. What `answer` leaves to the Fetch path (null:
 * refusals, unusual shapes, server/api/trpc-resolve.ts) goes on as before, with the body already read.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { once } from "node:events";
import { SECURITY_HEADERS } from "@/next.config";
import { HSTS_VALUE, servedOverHttps } from "@/proxy";
import { DEFAULT_TRPC_LIMITS, markLimitedBody, type LimitedBody } from "@/server/api/request-limits";
import type { TrpcAnswer, TrpcAnswerFn } from "@/server/api/trpc-resolve";
import { crossSiteRefusal, hasSameOrigin, routeFailure } from "@/server/http-guards";

/** The tRPC handler: server/api/trpc-http.ts `handleTrpcRequest` (here: the build's compiled copy). */
export type TrpcHandler = (request: Request) => Promise<Response>;

/** Methods tRPC answers (queries over GET, mutations and batches over POST); HEAD is a GET without body. */
const ALLOW = "GET, HEAD, OPTIONS, POST";

/** node's request headers as Fetch header pairs (HTTP/2 pseudo-headers left out), as node merged repeats. */
function headerPairs(req: IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  for (const name in req.headers) {
    const value = req.headers[name];
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) pairs.push([name, item]);
    else pairs.push([name, value]);
  }
  return pairs;
}

/** The request's URL: its target resolved against the Host header (localhost without one). */
function requestUrl(req: IncomingMessage): string {
  return new URL(req.url ?? "/", `http://${req.headers.host || "localhost"}`).href;
}

/**
 * A request whose target and Host header make no URL (e.g. `Host: [::zz`) cannot become a Fetch Request: it is
 * answered here with 400, the API's security headers and `Connection: close`, instead of failing inside the
 * route (a tRPC call was closed with no answer, an image request left hanging). Used by serveTrpc and
 * server/web/image-node.ts serveImage before anything else. @returns true when it answered
 */
export function refusedForUrl(req: IncomingMessage, res: ServerResponse): boolean {
  if (parsedUrl(req)) return false;
  refuseForUrl(res);
  return true;
}

/** refusedForUrl's answer: 400 with the API's security headers, and the connection closed. */
function refuseForUrl(res: ServerResponse): void {
  const body = "Bad Request: the request's Host header and target make no URL.";
  res.writeHead(400, [...SECURITY_HEADER_LIST, "Content-Type", "text/plain; charset=utf-8", "Content-Length", String(Buffer.byteLength(body)), "Connection", "close"]).end(body);
}

/**
 * node's request as a Fetch Request: the same URL (host from the Host header), headers and method
 * (`method` replaces node's: serveTrpc answers HEAD as GET). A request with a body (the image
 * route's refusals: tRPC's POST reads its body with readLimitedBody) gets it streamed from the
 * socket, read only as fast as the reader takes it; a reader that cancels stops the reading (the
 * refusal then closes the connection). `_res` is not used: the Request has no abort signal (see above).
 */
export function toFetchRequest(req: IncomingMessage, _res?: ServerResponse, method: string = req.method ?? "GET"): Request {
  const init: RequestInit & { duplex?: "half" } = { method, headers: headerPairs(req) };
  if (method !== "GET" && method !== "HEAD") {
    let done = false;
    const detach = () => {
      done = true;
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    };
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const onData = (chunk: Buffer) => {
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if ((controller.desiredSize ?? 0) <= 0) req.pause();
    };
    const onEnd = () => {
      if (done) return;
      detach();
      controller.close();
    };
    const onError = (error: Error) => {
      if (done) return;
      detach();
      controller.error(error);
    };
    // The client went away before the body ended: the reader must not wait for it forever.
    const onClose = () => onError(new Error("the client closed the connection before the request body ended"));
    init.body = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
          req.pause();
          req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
        },
        pull() {
          if (!done) req.resume();
        },
        cancel() {
          detach();
          req.pause();
        },
      },
      { highWaterMark: 4 },
    );
    init.duplex = "half";
  }
  return new Request(requestUrl(req), init);
}

/** A body read under the cap (`body` set when complete), or the client went away before it ended. */
export type BodyRead = (LimitedBody & { body: Buffer | null }) | { aborted: true };

/**
 * Reads node's request body under `maxBytes`: a declared Content-Length above it is refused without
 * reading; otherwise the bytes are counted as they arrive and reading stops (the request is paused,
 * the rest left unread — the answer must then close the connection) as soon as the count passes
 * `maxBytes`. Resolves `{ aborted: true }` when the client closes the connection or the request
 * errors before the body ended, so a caller never waits for a body that will not come.
 */
export function readLimitedBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"] ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve({ complete: false, bytes: 0, body: null });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (read: BodyRead) => {
      req.off("data", onData).off("end", onEnd).off("error", onAborted).off("close", onAborted);
      resolve(read);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) {
        req.pause();
        finish({ complete: false, bytes, body: null });
      } else chunks.push(chunk);
    };
    const onEnd = () => finish({ complete: true, bytes, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes) });
    const onAborted = () => finish({ aborted: true });
    req.on("data", onData).on("end", onEnd).on("error", onAborted).on("close", onAborted);
  });
}

/** next.config.ts's security headers as node's flat header list [name, value, name, value, …], made once. */
const SECURITY_HEADER_LIST: readonly string[] = SECURITY_HEADERS.flatMap(({ key, value }) => [key, value]);

/** The security headers of an API answer from this server: next.config.ts's list, HSTS over https (proxy.ts). */
export function apiSecurityHeaders(request: Request): [string, string][] {
  const headers: [string, string][] = SECURITY_HEADERS.map(({ key, value }) => [key, value]);
  if (servedOverHttps(request)) headers.push(["Strict-Transport-Security", HSTS_VALUE]);
  return headers;
}

/**
 * Writes a Fetch Response as node's answer (HEAD: headers only), with the API's security headers
 * (HSTS when `https`) and `Connection: close` when `close`: all headers in one writeHead.
 */
async function writeResponse(res: ServerResponse, response: Response, https: boolean, close: boolean, head: boolean): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers.push(name, value);
  for (const cookie of response.headers.getSetCookie()) headers.push("set-cookie", cookie);
  headers.push(...SECURITY_HEADER_LIST);
  if (https) headers.push("Strict-Transport-Security", HSTS_VALUE);
  if (close) headers.push("Connection", "close");
  if (!response.body || head) {
    await response.body?.cancel().catch(() => undefined);
    res.writeHead(response.status, headers).end();
    return;
  }
  // tRPC's JSON answers are complete before they are returned: one write with its length.
  if (response.headers.get("content-type")?.startsWith("application/json")) {
    // As text: node then sends the header block and the body in one write of one string.
    const body = await response.text();
    headers.push("Content-Length", String(Buffer.byteLength(body)));
    res.writeHead(response.status, headers).end(body);
    return;
  }
  res.writeHead(response.status, headers);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) break;
    if (!res.write(chunk)) await Promise.race([once(res, "drain"), once(res, "close")]);
  }
  res.end();
}

/**
 * Writes tRPC's answer (`answer`, no Fetch Response) as writeResponse writes the same Response: tRPC's
 * headers, the API's security headers (HSTS when `https`), `Connection: close` when `close`, the
 * length; HEAD: the headers only, without length (as for a Response).
 */
function writeAnswer(res: ServerResponse, answer: TrpcAnswer, https: boolean, close: boolean, head: boolean): void {
  const headers = [...answer.headers, ...SECURITY_HEADER_LIST];
  if (https) headers.push("Strict-Transport-Security", HSTS_VALUE);
  if (close) headers.push("Connection", "close");
  if (head) {
    res.writeHead(answer.status, headers).end();
    return;
  }
  headers.push("Content-Length", String(Buffer.byteLength(answer.body)));
  res.writeHead(answer.status, headers).end(answer.body);
}

/** requestUrl as a URL, or null when the Host header makes no URL. */
function parsedUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? "/", `http://${req.headers.host || "localhost"}`);
  } catch {
    return null;
  }
}

/** Whether the request came over https (proxy.ts servedOverHttps), read from node's headers without a Request. */
function nodeServedOverHttps(req: IncomingMessage): boolean {
  // servedOverHttps reads the request's headers only (NEXTAUTH_URL, TRUSTED_PROXY_HOPS, X-Forwarded-Proto).
  return servedOverHttps({ headers: { get: (name: string) => headerValue(req, name) } } as unknown as Request);
}

/** The security headers of an answer to node's request as node's flat header list: next.config.ts's, HSTS over https. */
export function nodeSecurityHeaderList(req: IncomingMessage): string[] {
  const headers = [...SECURITY_HEADER_LIST];
  if (nodeServedOverHttps(req)) headers.push("Strict-Transport-Security", HSTS_VALUE);
  return headers;
}

/**
 * Answers one `/api/trpc/*` request on node's server with `handle`. OPTIONS → 204 with Allow; a
 * method other than GET/HEAD/POST → 405 with Allow (what the Next.js route answers); a POST from
 * another site (http-guards hasSameOrigin, X-Forwarded-Host counted only with `trustedProxyHops` > 0:
 * TRUSTED_PROXY_HOPS) → 403 before its body is read; a POST's body
 * is read here under the cap (readLimitedBody; the handler refuses what passed it with 413, after its
 * CSRF and batch checks, as on the Next route); a client gone before its body ended gets nothing;
 * anything the handler throws (it should not) → a generic 500 with an error id, the detail only in
 * the log. With `answer` (the route's answerCall), a GET/HEAD or a POST whose body was read is
 * answered by it without Fetch objects, unless it answers null (then by `handle` as above).
 */
/** A request header as one string (node joins repeated ones, except set-cookie), or null when absent. */
function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

export async function serveTrpc(handle: TrpcHandler, req: IncomingMessage, res: ServerResponse, trustedProxyHops: number, answer?: TrpcAnswerFn): Promise<void> {
  // The request's URL, parsed once: refusedForUrl's check, and what `answer` reads.
  const parsed = parsedUrl(req);
  if (!parsed) return refuseForUrl(res);
  const method = req.method ?? "GET";
  let request: Request | null = null;
  let response: Response;
  const url = answer && (method === "GET" || method === "HEAD" || method === "POST") ? parsed : null;
  if (method === "OPTIONS") response = new Response(null, { status: 204, headers: { Allow: ALLOW } });
  else if (method !== "GET" && method !== "HEAD" && method !== "POST") response = new Response(null, { status: 405, headers: { Allow: ALLOW } });
  else {
    try {
      if (method === "POST" && !hasSameOrigin((name) => headerValue(req, name), trustedProxyHops)) {
        // Refused before a byte of the body is read (as the Next route refuses it before reading): another site's
        // POST must not make this process hold up to the cap in memory. The unread body closes the connection.
        response = crossSiteRefusal();
      } else if (method === "POST") {
        const read = await readLimitedBody(req, DEFAULT_TRPC_LIMITS.maxBodyBytes);
        if ("aborted" in read) {
          // The client closed the connection before its body ended: nobody is left to answer.
          res.destroy();
          return;
        }
        if (answer && url) {
          const direct = await answer({ method: "POST", url, headers: req.headers, body: read.body, read });
          if (direct) return finishAnswer(res, direct, req, false);
        }
        const init: RequestInit = { method, headers: headerPairs(req) };
        if (read.body) init.body = new Uint8Array(read.body.buffer as ArrayBuffer, read.body.byteOffset, read.body.byteLength);
        request = markLimitedBody(new Request(requestUrl(req), init), { complete: read.complete, bytes: read.bytes });
        response = await handle(request);
      } else {
        if (answer && url) {
          const direct = await answer({ method: "GET", url, headers: req.headers, body: null });
          if (direct) return finishAnswer(res, direct, req, method === "HEAD");
        }
        request = toFetchRequest(req, res, "GET");
        response = await handle(request);
      }
    } catch (error) {
      response = routeFailure(error, "trpc");
    }
  }
  // A body not read to its end (a refusal before or while reading it) cannot leave the rest on a
  // kept-alive connection, where it would be read as the next request: close after this answer.
  try {
    await writeResponse(res, response, servedOverHttps(request ?? toFetchRequest(req, res, "GET")), !req.complete, method === "HEAD");
  } catch {
    // The client went away mid-answer: nothing left to tell it.
    res.destroy();
  }
}

/** Writes `answer` (serveTrpc's direct path); a client gone mid-answer is dropped. */
function finishAnswer(res: ServerResponse, answer: TrpcAnswer, req: IncomingMessage, head: boolean): void {
  try {
    writeAnswer(res, answer, nodeServedOverHttps(req), !req.complete, head);
  } catch {
    res.destroy();
  }
}
