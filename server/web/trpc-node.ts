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
 * Answers are not compressed here (as with Next's default in this project, WEB_COMPRESS unset): a
 * reverse proxy compresses if the link needs it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { once } from "node:events";
import { SECURITY_HEADERS } from "@/next.config";
import { HSTS_VALUE, servedOverHttps } from "@/proxy";
import { routeFailure } from "@/server/http-guards";

/** The tRPC handler: server/api/trpc-http.ts `handleTrpcRequest` (here: the build's compiled copy). */
export type TrpcHandler = (request: Request) => Promise<Response>;

/** Methods tRPC answers (queries over GET, mutations and batches over POST); HEAD is a GET without body. */
const ALLOW = "GET, HEAD, OPTIONS, POST";

/**
 * node's request as a Fetch Request: the same URL (host from the Host header), headers and method;
 * a POST's body streamed from the socket (request-limits.ts reads it under its cap and cancels it
 * when the cap is passed — then reading simply stops; the refusal closes the connection); the
 * signal aborts when the client goes away before the answer is written.
 */
export function toFetchRequest(req: IncomingMessage, res: ServerResponse): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  const url = new URL(req.url ?? "/", `http://${req.headers.host || "localhost"}`);
  const aborted = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) aborted.abort();
  });
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, signal: aborted.signal };
  if (req.method !== "GET" && req.method !== "HEAD") {
    let done = false;
    const detach = () => {
      done = true;
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    };
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const onData = (chunk: Buffer) => {
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      // Backpressure: read from the socket only as fast as the reader (request-limits.ts) takes it.
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
          // Stop reading; what is left of the body goes with the connection (serveTrpc closes it).
          detach();
          req.pause();
        },
      },
      { highWaterMark: 4 },
    );
    init.duplex = "half";
  }
  return new Request(url, init);
}

/** The security headers of an API answer from this server: next.config.ts's list, HSTS over https (proxy.ts). */
export function apiSecurityHeaders(request: Request): [string, string][] {
  const headers: [string, string][] = SECURITY_HEADERS.map(({ key, value }) => [key, value]);
  if (servedOverHttps(request)) headers.push(["Strict-Transport-Security", HSTS_VALUE]);
  return headers;
}

/** Writes a Fetch Response as node's answer (HEAD: headers only), with the API's security headers. */
async function writeResponse(res: ServerResponse, response: Response, request: Request, head: boolean): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  for (const [name, value] of apiSecurityHeaders(request)) res.setHeader(name, value);
  if (!response.body || head) {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  // tRPC's JSON answers are complete before they are returned: one write with its length.
  if (response.headers.get("content-type")?.startsWith("application/json")) {
    const body = Buffer.from(await response.arrayBuffer());
    res.setHeader("Content-Length", body.byteLength);
    res.end(body);
    return;
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (res.destroyed) break;
    if (!res.write(chunk)) await Promise.race([once(res, "drain"), once(res, "close")]);
  }
  res.end();
}

/**
 * Answers one `/api/trpc/*` request on node's server with `handle`. OPTIONS → 204 with Allow; a
 * method other than GET/HEAD/POST → 405 with Allow (what the Next.js route answers); anything the
 * handler throws (it should not) → a generic 500 with an error id, the detail only in the log.
 */
export async function serveTrpc(handle: TrpcHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = toFetchRequest(req, res);
  const method = req.method ?? "GET";
  let response: Response;
  if (method === "OPTIONS") response = new Response(null, { status: 204, headers: { Allow: ALLOW } });
  else if (method !== "GET" && method !== "HEAD" && method !== "POST") response = new Response(null, { status: 405, headers: { Allow: ALLOW } });
  else {
    try {
      response = await handle(method === "HEAD" ? new Request(request.url, { method: "GET", headers: request.headers, signal: request.signal }) : request);
    } catch (error) {
      response = routeFailure(error, "trpc");
    }
  }
  // A body not read to its end (a refusal before or while reading it) cannot leave the rest on a
  // kept-alive connection, where it would be read as the next request: close after this answer.
  if (!req.complete) res.setHeader("Connection", "close");
  try {
    await writeResponse(res, response, request, method === "HEAD");
  } catch {
    // The client went away mid-answer: nothing left to tell it.
    res.destroy();
  }
}
