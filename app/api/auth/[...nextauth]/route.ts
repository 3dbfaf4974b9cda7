import NextAuth from "next-auth";
import { BUSY_MESSAGE, createHashGate, type HashGate } from "@/server/auth/hash-gate";
import { authOptions } from "@/server/auth/options";
import { loadServerEnv } from "@/server/env";

type Handler = (req: Request, ctx: unknown) => Promise<Response>;

let gate: HashGate | undefined;
function hashGate(): HashGate {
  const max = loadServerEnv().LOGIN_MAX_CONCURRENT_HASHES;
  // A short queue absorbs a shift's sign-in burst; a flood beyond it is answered 429 at once.
  gate ??= createHashGate({ max, maxWaiting: Math.max(16, max * 8), maxWaitMs: 5000 });
  return gate;
}

const handler = async (request: Request, context: { params: Promise<{ nextauth: string[] }> }) => {
  const run = () => (NextAuth(authOptions()) as Handler)(request, context);
  // A credentials sign-in hashes a password: it needs one of the few hashing slots, or gets 429 at once.
  if (request.method !== "POST" || !new URL(request.url).pathname.endsWith("/callback/credentials")) return run();
  const release = await hashGate().enter();
  if (!release) {
    // The JSON NextAuth's client reads ({ url } with ?error=), so the form shows the message too.
    const url = new URL("/signin?error=SignInBusy", request.url).toString();
    return Response.json({ url, error: BUSY_MESSAGE }, { status: 429, headers: { "Retry-After": "1", "Cache-Control": "no-store" } });
  }
  try {
    return await run();
  } finally {
    release();
  }
};

export { handler as GET, handler as POST };
