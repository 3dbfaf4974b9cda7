/**
 * The one tRPC request handler of the web process (issue 16): a Fetch `Request` for
 * `/api/trpc/<procedures>` in, its `Response` out. It is the Next.js route's handler
 * (app/api/trpc/[trpc]/route.ts); the production server (scripts/web-server.mjs →
 * server/web/server.ts) calls that same compiled handler straight from its node:http server, outside
 * Next's request pipeline (no routing, proxy or route-module wrapper), while `npm start -- --dev`
 * reaches it through Next — so every check below holds on both paths:
 *  1. a POST must be same-origin (CSRF, server/http-guards.ts `isSameOrigin`): 403 otherwise;
 *  2. batch length and body size are checked before anything is parsed
 *     (server/api/request-limits.ts): 400 / 413;
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
import { TRPC_ENDPOINT } from "./trpc-endpoint";

export { TRPC_ENDPOINT };


/**
 * Answers one tRPC request (GET for queries, POST for mutations and batches). Never throws for a
 * bad request: refusals are 403 (cross-site POST), 400 (batch too long), 413 (body too large);
 * everything else is tRPC's answer, errors shaped by the router's errorFormatter.
 */
export async function handleTrpcRequest(incoming: Request): Promise<Response> {
  if (incoming.method === "POST" && !isSameOrigin(incoming)) {
    return crossSiteRefusal();
  }
  const request = await limitTrpcRequest(incoming, TRPC_ENDPOINT);
  if (request instanceof Response) return request;
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req: request,
    router: appRouter,
    createContext: async () => {
      // Reading the session's user is the first database query of every signed-in request: an
      // outage here must read as one (503), like the same outage inside a procedure.
      const user = await sessionUser(request.headers.get("cookie")).catch((error: unknown) => {
        if (isDatabaseUnavailable(error)) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE, cause: error });
        throw error;
      });
      return {
        db: getDb(),
        actor: user ? { id: user.id, role: user.role, name: user.name, email: user.email, mustChangePassword: user.mustChangePassword === true } : null,
        client: requestClient(request.headers, loadServerEnv().TRUSTED_PROXY_HOPS),
      };
    },
  });
}
