/**
 * The one image-bytes request handler of the web process (issue 16): `GET /api/images/<imageId>` as a
 * Fetch `Request` in, its `Response` out. It is the Next.js route's handler
 * (app/api/images/[imageId]/route.ts, `npm start -- --dev`); the production server
 * (scripts/web-server.mjs → server/web/server.ts, server/web/image-node.ts) calls the build's compiled
 * copy of that same route straight from its node:http server, outside Next's request pipeline — so every
 * rule below exists once and holds on both paths:
 *  1. the session is checked on every request (server/auth/session.ts: cookie token, open server-side
 *     session, active user, current epoch): no user → 401 "Sign in first.";
 *  2. a user who must still change their password → 403 MUST_CHANGE_PASSWORD_MESSAGE from the project
 *     front door (image-service.ts → project-access.ts requireActor), whether or not the image exists;
 *  3. an id that is not 1–64 letters/digits, a missing image, or one of a project the user is not a
 *     member of (or whose role may not read images) → the same 404 "Not found.", so ids cannot be probed;
 *  4. a served image is audited ("image.read", with client address — peer stamp and TRUSTED_PROXY_HOPS
 *     only — and User-Agent; once per user and image per read-audit window) before its bytes go out;
 *  5. the bytes are the stored ones, already de-identified (at import and by every worker at start), with
 *     their stored type, their length, `Cache-Control: no-store` and `Vary: Cookie`; no file name or other
 *     identifier in any header; no Range support (the viewer reads whole files);
 *  6. failures: a DomainError → its status and message, a database outage (the session read included)
 *     → 503, anything else → 500 with an error id only (server/http-guards.ts routeFailure).
 * Security headers are not added here: Next adds them on its path (next.config.ts, proxy.ts), the node
 * server on its own (server/web/image-node.ts). Nothing here needs Next's request scope unless the
 * session is read the Next way (`currentUser`, next/headers) — which only Next's own call does.
 */
import { requestClient } from "@/server/auth/client-address";
import { currentUser, sessionUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { loadServerEnv } from "@/server/env";
import { routeActor, routeFailure } from "@/server/http-guards";
import type { SessionUser } from "@/server/services/auth-service";
import { readImageForMember } from "@/server/services/image-service";
import { IMAGE_ID } from "./image-endpoint";

/** Clinical images never stay in a browser or shared cache (gone with the session after sign-out). */
const NO_STORE = { "Cache-Control": "no-store" };

/**
 * The second argument of the route's GET: Next passes `{ params }`; the production server's own path
 * (server/web/image-node.ts) adds `session: "cookie-header"`, since outside Next's request scope the
 * session is read from the request's Cookie header (`sessionUser`), not through next/headers.
 */
export interface ImageRouteContext {
  params: Promise<{ imageId: string }>;
  session?: "next" | "cookie-header";
}

/**
 * Answers one image-bytes request (see the module comment for every rule). Never throws: every failure is
 * a response. The 200's body is the stored bytes, `Content-Type` the stored type.
 */
export async function handleImageRequest(request: Request, context: ImageRouteContext): Promise<Response> {
  try {
    const readUser = (): Promise<SessionUser | null> => (context.session === "cookie-header" ? sessionUser(request.headers.get("cookie")) : currentUser());
    const user = await readUser();
    if (!user) return new Response("Sign in first.", { status: 401, headers: NO_STORE });
    const { imageId } = await context.params;
    if (!IMAGE_ID.test(imageId)) return new Response("Not found.", { status: 404, headers: NO_STORE });
    const client = requestClient(request.headers, loadServerEnv().TRUSTED_PROXY_HOPS);
    const image = await readImageForMember(getDb(), routeActor(user), imageId, undefined, client);
    if (!image) return new Response("Not found.", { status: 404, headers: NO_STORE });
    // A view of the (possibly cached) bytes: the Response copies them when it takes them as its body.
    return new Response(new Uint8Array(image.bytes.buffer as ArrayBuffer, image.bytes.byteOffset, image.bytes.byteLength), {
      status: 200,
      headers: { "Content-Type": image.mimeType, "Content-Length": String(image.bytes.byteLength), ...NO_STORE, Vary: "Cookie" },
    });
  } catch (error) {
    return routeFailure(error, "images");
  }
}
