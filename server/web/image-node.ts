/**
 * Image bytes on a plain `node:http` server (issue 16): the production web server (server/web/server.ts)
 * answers `GET /api/images/<id>` here instead of through Next.js's request pipeline (routing, proxy,
 * route-module wrapper), which cost several ms of CPU per call (docs/benchmarks.md, "Image bytes
 * outside Next's pipeline").
 *
 * The request goes to the image route's own handler (server/api/image-http.ts: session from the Cookie
 * header, must-change-password refusal, membership, read audit, 404/403/401, 503 on outage), passed in by
 * the server as the build's compiled copy; this module only turns node's request into a Fetch `Request`,
 * answers HEAD (a GET without its body, as Next does for a route with GET only), OPTIONS and other
 * methods as Next does, and writes the answer with the security headers Next adds on its path
 * (next.config.ts `SECURITY_HEADERS`, HSTS over https: server/web/trpc-node.ts `apiSecurityHeaders`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ImageRouteContext } from "@/server/api/image-http";
import { routeFailure } from "@/server/http-guards";
import { apiSecurityHeaders, refusedForUrl, toFetchRequest } from "./trpc-node";

/** The image route's GET: app/api/images/[imageId]/route.ts (here: the build's compiled copy). */
export type ImageHandler = (request: Request, context: ImageRouteContext) => Promise<Response>;

/** The methods the image route answers (HEAD and OPTIONS as Next derives them from GET). */
const ALLOW = "GET, HEAD, OPTIONS";

/**
 * Answers one `/api/images/<imageId>` request (`imageId` already matched by image-endpoint.ts
 * `imageIdOfPath`) on node's server with `handle`. GET and HEAD → the handler's answer (HEAD without
 * body); OPTIONS → 204 with Allow; any other method → 405 with Allow; anything the handler throws (it
 * should not) → a generic 500 with an error id, the detail in the log only.
 */
export async function serveImage(handle: ImageHandler, imageId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (refusedForUrl(req, res)) return;
  const method = req.method ?? "GET";
  const request = toFetchRequest(req, res);
  let response: Response;
  if (method === "OPTIONS") response = new Response(null, { status: 204, headers: { Allow: ALLOW } });
  else if (method !== "GET" && method !== "HEAD") response = new Response(null, { status: 405, headers: { Allow: ALLOW } });
  else {
    try {
      response = await handle(request, { params: Promise.resolve({ imageId }), session: "cookie-header" });
    } catch (error) {
      response = routeFailure(error, "images");
    }
  }
  // A request body (there should be none) not read to its end cannot stay on a kept-alive connection.
  if (!req.complete) res.setHeader("Connection", "close");
  try {
    // Every answer of the handler is complete when returned (bytes from the cache or the store): one write with its length.
    const body = response.body ? Buffer.from(await response.arrayBuffer()) : null;
    res.statusCode = response.status;
    for (const [name, value] of response.headers) res.setHeader(name, value);
    for (const [name, value] of apiSecurityHeaders(request)) res.setHeader(name, value);
    if (body) res.setHeader("Content-Length", body.byteLength);
    res.end(method === "HEAD" ? undefined : body ?? undefined);
  } catch {
    // The client went away mid-answer: nothing left to tell it.
    res.destroy();
  }
}
