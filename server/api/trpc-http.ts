/**
 * The one tRPC request handler of the web process (issue 16): a Fetch `Request` for
 * `/api/trpc/<procedures>` in, its `Response` out. It is the Next.js route's handler
 * (app/api/trpc/[trpc]/route.ts); the production server (scripts/web-server.mjs →
 * server/web/server.ts) calls that same compiled handler straight from its node:http server, outside
 * Next's request pipeline (no routing, proxy or route-module wrapper), while `npm start -- --dev`
 * reaches it through Next — so every check below holds on both paths:
 *  1. a POST must be same-origin (CSRF, server/http-guards.ts `isSameOrigin`): 403 otherwise;
 *  2. a path that does not percent-decode (400) and a POST that is not JSON (415) are refused
 *     (server/api/trpc-resolve.ts `trpcRequestRefusal`), then batch length and body size are checked
 *     before anything is parsed (server/api/request-limits.ts): 400 / 413;
 *  3. the session is checked on every request from the request's own Cookie header
 *     (server/auth/session.ts `sessionUser`: cookie token, open server-side session, active user,
 *     current epoch); a database outage there is a 503 like the same outage inside a procedure;
 *  4. the client's address comes from the peer stamp and TRUSTED_PROXY_HOPS only
 *     (server/auth/client-address.ts);
 *  5. errors go through the router's errorFormatter (server/api/trpc.ts): clients never read
 *     internal error text.
 * Security headers are not added here: Next adds them on its path (next.config.ts), the node server
 * on its own (server/web/trpc-node.ts). Nothing here may need Next's request scope (next/headers):
 * the production server calls it outside that scope.
 *
 * `answerTrpcCall` is the same handler for the production server without Fetch objects (issue 16):
 * node's request as plain data in, the answer as status, headers and JSON text out
 * (server/api/trpc-resolve.ts), the same checks and context; what it does not reproduce itself it
 * leaves (answers null) to `handleTrpcRequest` before anything ran.
 */
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { limitTrpcRequest } from "@/server/api/request-limits";
import { requestClient } from "@/server/auth/client-address";
import { sessionUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/server/db/unavailable";
import { loadServerEnv } from "@/server/env";
import { crossSiteRefusal, isSameOrigin } from "@/server/http-guards";
import type { TrpcContext } from "./trpc";
import { TRPC_ENDPOINT } from "./trpc-endpoint";
import { createTrpcAnswer, trpcRefusalResponse, trpcRequestRefusal, withJsonContentType, type TrpcAnswerFn } from "./trpc-resolve";

export { TRPC_ENDPOINT };


/**
 * The context of one request (both paths): the session's user from the Cookie header
 * (server/auth/session.ts `sessionUser`), the database, the client from the peer stamp and
 * TRUSTED_PROXY_HOPS. Reading the session's user is the first database query of every signed-in
 * request: an outage there reads as one (TRPCError SERVICE_UNAVAILABLE → 503), like the same outage
 * inside a procedure.
 */
async function requestContext(cookie: string | null, headers: Parameters<typeof requestClient>[0]): Promise<TrpcContext> {
  const user = await sessionUser(cookie).catch((error: unknown) => {
    if (isDatabaseUnavailable(error)) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE, cause: error });
    throw error;
  });
  return {
    db: getDb(),
    actor: user ? { id: user.id, role: user.role, name: user.name, email: user.email, mustChangePassword: user.mustChangePassword === true } : null,
    client: requestClient(headers, loadServerEnv().TRUSTED_PROXY_HOPS),
  };
}

/**
 * Answers one tRPC request (GET for queries, POST for mutations and batches). Never throws for a
 * bad request: refusals are 403 (cross-site POST), 400 (a path that does not percent-decode, batch too
 * long), 415 (a POST that is not JSON), 413 (body too large); everything else is tRPC's answer, errors
 * shaped by the router's errorFormatter, always with `Content-Type: application/json` (withJsonContentType).
 */
export async function handleTrpcRequest(incoming: Request): Promise<Response> {
  if (incoming.method === "POST" && !isSameOrigin(incoming)) {
    return crossSiteRefusal();
  }
  const refusal = trpcRequestRefusal(incoming.method, new URL(incoming.url).pathname, incoming.headers.get("content-type"));
  if (refusal) return trpcRefusalResponse(refusal);
  const request = await limitTrpcRequest(incoming, TRPC_ENDPOINT);
  if (request instanceof Response) return request;
  const response = await fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req: request,
    router: appRouter,
    createContext: () => requestContext(request.headers.get("cookie"), request.headers),
  });
  return withJsonContentType(response);
}

/**
 * The production server's call of this handler without Fetch objects (server/web/trpc-node.ts):
 * node's request (method, URL, headers, the body read under the cap) → tRPC's answer (status,
 * headers, JSON text), identical to handleTrpcRequest's, or null when handleTrpcRequest must answer
 * (refusals and the unusual shapes listed in server/api/trpc-resolve.ts), decided before anything ran.
 */
export const answerTrpcCall: TrpcAnswerFn = createTrpcAnswer({
  router: appRouter,
  endpoint: TRPC_ENDPOINT,
  createContext: (header, headers) => requestContext(header("cookie"), headers),
});
