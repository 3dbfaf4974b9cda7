import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { currentUser } from "@/server/auth/session";
import { getDb } from "@/server/db/client";
import { isSameOrigin } from "@/server/http-guards";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "@/server/db/unavailable";

// Mutations must come from our own pages (CSRF): see server/http-guards.ts.
const handler = async (request: Request) => {
  if (request.method === "POST" && !isSameOrigin(request)) {
    return Response.json({ error: { message: "Cross-site request refused." } }, { status: 403 });
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: async () => {
      // Reading the session's user is the first database query of every signed-in request: an
      // outage here must read as one (503), like the same outage inside a procedure.
      const user = await currentUser().catch((error: unknown) => {
        if (isDatabaseUnavailable(error)) throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE, cause: error });
        throw error;
      });
      return { db: getDb(), actor: user ? { id: user.id, role: user.role, name: user.name, email: user.email, mustChangePassword: user.mustChangePassword === true } : null };
    },
  });
};

export { handler as GET, handler as POST };
