/**
 * The production web server (issue 16): ONE `node:http` server on PORT/HOST that answers
 * `/api/trpc/*` and the image bytes `/api/images/<id>` itself and hands every other request — pages,
 * NextAuth (`/api/auth`), upload, export, built assets — to Next.js's own request handler
 * (`next({ dev: false })`), as `next start` would.
 *
 * tRPC is answered by the build's compiled handler of app/api/trpc/[trpc]/route.ts
 * (server/api/trpc-http.ts), called straight from here (server/web/trpc-node.ts) instead of through
 * Next's request pipeline (routing, proxy, route-module wrapper) — through the handler's `answerCall`
 * (answerTrpcCall: no Fetch Request/Response objects) when the build has it, else its GET/POST. The compiled copy, not the
 * sources: pages, NextAuth and the other routes run the build's copy of the server code, and one
 * copy per process keeps one set of module state (the database client and its pool, caches).
 * Should the build not expose that handler as expected (another Next.js version), tRPC goes
 * through Next as before and a warning says so. The image bytes likewise: the build's compiled
 * app/api/images/[imageId]/route.ts (server/api/image-http.ts) called from server/web/image-node.ts
 * for a path whose id is letters and digits only (server/api/image-endpoint.ts `imageIdOfPath`; any other
 * image path, e.g. percent-encoded, stays with Next and reaches the same handler there).
 * A request whose path does not percent-decode is answered 400 before any of them (server/web/malformed-path.ts).
 *
 * Started by scripts/web-server.mjs (`npm start`, one process or each process of
 * scripts/lib/web-cluster.mjs); `npm start -- --dev` keeps `next dev`.
 */
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import next from "next";
import { imageIdOfPath } from "@/server/api/image-endpoint";
import type { ImageRouteContext } from "@/server/api/image-http";
import type { TrpcAnswerFn } from "@/server/api/trpc-resolve";
import { isTrpcPath } from "@/server/api/trpc-endpoint";
import { loadServerEnv } from "@/server/env";
import { logger } from "@/server/log";

export interface WebServerOptions {
  /** The app's root (where `.next` was built). */
  dir: string;
  port: number;
  host: string;
}

export interface WebServer {
  server: http.Server;
  /** The port actually listened on (the given one, or the kernel's choice for 0). */
  port: number;
  /** Whether tRPC is answered here (true) or, as a fallback, by Next's pipeline (false). */
  directTrpc: boolean;
  /** Whether tRPC is answered here without Fetch objects (the build's answerCall, server/api/trpc-resolve.ts). */
  plainTrpc: boolean;
  /** Whether the image bytes are answered here (true) or, as a fallback, by Next's pipeline (false). */
  directImages: boolean;
  /** Stops accepting, lets answers in flight finish (at most `graceMs`), closes the rest. */
  close(graceMs?: number): Promise<void>;
}

type Handler = (request: Request) => Promise<Response>;

/** How long an idle kept-alive connection stays open (ms): 65 s, longer than the usual client or proxy keeps one. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** The path of a request target without its query ("/api/trpc/a,b?batch=1" → "/api/trpc/a,b"). */
function pathOf(url: string | undefined): string {
  const target = url ?? "/";
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}

/** An app route's exported method handlers (`routeModule.userland` of the compiled route), or null. */
async function compiledRoute(dir: string, name: string): Promise<Record<string, unknown> | null> {
  const file = path.join(dir, ".next/server/app", name, "route.js");
  try {
    const compiled = createRequire(import.meta.url)(file) as { routeModule?: { ensureUserland?: () => Promise<void>; userland?: Record<string, unknown> } };
    const route = compiled.routeModule;
    if (!route) return null;
    await route.ensureUserland?.();
    return route.userland ?? null;
  } catch (error) {
    logger.warn("could not load a compiled route", { route: name, error: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

/**
 * The tRPC route's own GET/POST handler from the production build in `dir` (Next.js 16's
 * compiled app route: `routeModule.userland`, loaded the way Next loads it, so it is the very
 * module instance Next would run), or null when the build does not have that shape.
 */
export async function compiledTrpcHandler(dir: string): Promise<(Handler & { answerCall: TrpcAnswerFn | null }) | null> {
  const { GET, POST } = (await compiledRoute(dir, "api/trpc/[trpc]")) ?? {};
  if (typeof GET !== "function" || typeof POST !== "function") return null;
  // The route's handler carries answerTrpcCall as `answerCall` (app/api/trpc/[trpc]/route.ts); an older build has none.
  const answerCall = (GET as { answerCall?: unknown }).answerCall;
  const handle: Handler = (request) => (request.method === "POST" ? (POST as Handler) : (GET as Handler))(request);
  return Object.assign(handle, { answerCall: typeof answerCall === "function" ? (answerCall as TrpcAnswerFn) : null });
}

/** The image route's GET (app/api/images/[imageId]/route.ts) from the production build in `dir`, as above, or null. */
export async function compiledImageHandler(dir: string): Promise<((request: Request, context: ImageRouteContext) => Promise<Response>) | null> {
  const { GET } = (await compiledRoute(dir, "api/images/[imageId]")) ?? {};
  return typeof GET === "function" ? (GET as (request: Request, context: ImageRouteContext) => Promise<Response>) : null;
}

/**
 * Prepares Next.js (the production build in `dir`; the environment is validated first, as
 * instrumentation.ts does inside Next) and listens. Resolves once listening.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  loadServerEnv();
  const app = next({ dev: false, dir: options.dir, hostname: options.host, port: options.port });
  const nextHandler = app.getRequestHandler();
  await app.prepare();
  // Loaded once Next.js is prepared: the compiled server code expects the environment Next's
  // server sets up first (globalThis.AsyncLocalStorage and the like).
  const trpc = await compiledTrpcHandler(options.dir);
  if (!trpc) logger.warn("tRPC is served through Next.js's request pipeline: the build's tRPC route has not the expected shape");
  else if (!trpc.answerCall) logger.warn("tRPC calls go through Fetch Request/Response objects: the build's tRPC route has no answerCall (an older build?)");
  const images = await compiledImageHandler(options.dir);
  if (!images) logger.warn("image bytes are served through Next.js's request pipeline: the build's image route has not the expected shape");
  const { serveTrpc } = await import("./trpc-node");
  const { serveImage } = await import("./image-node");
  const { refusedForMalformedPath } = await import("./malformed-path");
  const passToNext = (req: http.IncomingMessage, res: http.ServerResponse) =>
    nextHandler(req, res).catch((error: unknown) => {
      logger.error("next request handler failed", { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("Internal Server Error");
    });
  const trustedProxyHops = loadServerEnv().TRUSTED_PROXY_HOPS;
  const server = http.createServer((req, res) => {
    const pathname = pathOf(req.url);
    // A path that does not percent-decode: 400 here, for every route (tRPC's limit check threw on it, Next answered 500).
    if (refusedForMalformedPath(req, res, pathname)) return;
    const imageId = images ? imageIdOfPath(pathname) : null;
    if (trpc && isTrpcPath(pathname)) void serveTrpc(trpc, req, res, trustedProxyHops, trpc.answerCall ?? undefined);
    else if (images && imageId) void serveImage(images, imageId, req, res);
    else void passToNext(req, res);
  });
  // An idle kept-alive connection stays open longer than clients keep theirs (undici 4 s, browsers minutes; a
  // reverse proxy's upstream pool: make it shorter than this): with node's 5 s default, a request sent on a
  // connection the server was closing at that moment failed with ECONNRESET (seen once in bench:workspace at
  // load ~21, between phases), and a browser does not resend a POST such as a submission. headersTimeout must
  // exceed it (node's rule), or a slow request's headers would be cut by the other timer first.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    directTrpc: trpc !== null,
    plainTrpc: trpc?.answerCall != null,
    directImages: images !== null,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await app.close().catch(() => undefined);
    },
  };
}
