import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { limitTrpcRequest } from "@/server/api/request-limits";
import { requestClient } from "@/server/auth/client-address";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { loadServerEnv } from "@/server/env";
import { isSameOrigin } from "@/server/http-guards";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/server/db/unavailable";

const ENDPOINT = "/api/trpc";

// Mutations must come from our own pages (CSRF): see server/http-guards.ts.
const handler = async (incoming: Request) => {
  if (incoming.method === "POST" && !isSameOrigin(incoming)) {
    return Response.json({ error: { message: "Cross-site request refused." } }, { status: 403 });
  }
  // Batch length and body size are checked before anything is parsed (issue 12, fault 8).
  const request = await limitTrpcRequest(incoming, ENDPOINT);
  if (request instanceof Response) return request;
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req: request,
    router: appRouter,
    createContext: async () => {
      // Reading the session's user is the first database query of every signed-in request: an
      // outage here must read as one (503), like the same outage inside a procedure.
      const user = await currentUser().catch((error: unknown) => {
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
};

export { handler as GET, handler as POST };
