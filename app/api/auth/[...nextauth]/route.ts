import NextAuth from "next-auth";
import { unstable_rethrow } from "next/navigation";
import { BUSY_MESSAGE, createHashGate, type HashGate } from "@/server/auth/hash-gate";
import { authOptions } from "@/server/auth/options";
import { loadServerEnv } from "@/server/env";
import { jsonError, routeFailure } from "@/server/http-guards";

type Handler = (req: Request, ctx: unknown) => Promise<Response>;

/** The largest body a NextAuth request may have: its forms (sign-in, sign-out) are well under 1 KiB. */
const MAX_AUTH_BODY_BYTES = 64 * 1024;

/** The request's body as text, or null once it passes `max` bytes (reading stops there). */
async function textUpTo(body: ReadableStream<Uint8Array>, max: number): Promise<string | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A POST body NextAuth would fail on, as its 4xx answer; null to hand the request on. NextAuth 4
 * (next-auth/next/utils getBody) parses a JSON body with `req.json()` and reads a form as
 * URL-encoded, and nothing else: a JSON body that does not parse threw out of the route — a 500 with
 * an empty body and a stack trace in the log (`{bad` on /api/auth/callback/credentials, no sign-in
 * needed). The same content-type test as NextAuth's; a body of another type is not read by it.
 */
async function malformedBody(request: Request): Promise<Response | null> {
  if (request.method !== "POST" || !request.body) return null;
  const type = request.headers.get("content-type") ?? "";
  const json = type.includes("application/json");
  if (!json && !type.includes("application/x-www-form-urlencoded")) return null;
  const tooLarge = () => jsonError(413, `The request body is larger than ${MAX_AUTH_BODY_BYTES / 1024} KiB.`);
  if (Number(request.headers.get("content-length") ?? "0") > MAX_AUTH_BODY_BYTES) return tooLarge();
  // A copy: NextAuth reads the request's own body afterwards.
  const text = await textUpTo(request.clone().body!, MAX_AUTH_BODY_BYTES);
  if (text === null) return tooLarge();
  if (!json) return null; // URLSearchParams reads any text
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return jsonError(400, "The request body is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return jsonError(400, "The request body must be a JSON object.");
  return null;
}

let gate: HashGate | undefined;
function hashGate(): HashGate {
  const max = loadServerEnv().LOGIN_MAX_CONCURRENT_HASHES;
  // A short queue absorbs a shift's sign-in burst; a flood beyond it is answered 429 at once.
  gate ??= createHashGate({ max, maxWaiting: Math.max(16, max * 8), maxWaitMs: 5000 });
  return gate;
}

const answer = async (request: Request, context: { params: Promise<{ nextauth: string[] }> }) => {
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

const handler = async (request: Request, context: { params: Promise<{ nextauth: string[] }> }) => {
  try {
    return (await malformedBody(request)) ?? (await answer(request, context));
  } catch (error) {
    unstable_rethrow(error); // Next.js's own control flow (dynamic rendering and the like) is not a failure
    // Whatever NextAuth throws: a generic 500 with an error id, the detail in one log line (no stack trace).
    return routeFailure(error, "auth");
  }
};

export { handler as GET, handler as POST };
