/**
 * The shared tRPC handler (server/api/trpc-http.ts) called directly, as the production server calls
 * it: a signed-in request is answered from its Cookie header alone, and when the database is away
 * during the session check the answer is 503 with the "database unavailable" message — not a 500
 * that reads like a bug (issue 16: what the Next.js route guaranteed holds on the node:http path).
 * `answerTrpcCall` (the same handler without Fetch objects) gives the very same answers.
 */
import crypto from "node:crypto";
import { EncryptJWT } from "jose";
import { afterAll, describe, expect, it, vi } from "vitest";
import { hashPassword } from "@/server/auth/password";
import { deriveSessionKey, sessionCookieName } from "@/server/auth/session-token";
import { freePort } from "@/server/db/embedded-postgres";
import { DATABASE_UNAVAILABLE_MESSAGE } from "@/server/db/unavailable";
import { startSession } from "@/server/services/auth-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";

// server/auth/session.ts guards against client bundles with "server-only", which throws outside a react-server build.
vi.mock("server-only", () => ({}));

const SECRET = crypto.randomBytes(32).toString("base64url");
process.env.NEXTAUTH_SECRET = SECRET;
delete process.env.NEXTAUTH_URL; // plain http: the cookie is next-auth.session-token
const { answerTrpcCall, handleTrpcRequest } = await import("./trpc-http");
const databaseUrl = process.env.DATABASE_URL!;

afterAll(() => {
  process.env.DATABASE_URL = databaseUrl;
});

/** A session cookie as NextAuth writes it (JWE dir/A256GCM with the derived key) for an open server-side session. */
async function sessionCookie(): Promise<{ cookie: string; email: string }> {
  const user = await createTestUser("CLINICIAN", await hashPassword("trpc-http-test-password"));
  const sid = await startSession(testDb(), user.id);
  const epoch = (await testDb().user.findUniqueOrThrow({ where: { id: user.id }, select: { sessionEpoch: true } })).sessionEpoch;
  const token = await new EncryptJWT({ uid: user.id, epoch, sid })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .setJti(crypto.randomUUID())
    .encrypt(deriveSessionKey(SECRET));
  return { cookie: `${sessionCookieName(false)}=${token}`, email: user.email };
}

const meGet = (cookie: string) => new Request("http://127.0.0.1:3000/api/trpc/me.get", { headers: { cookie, host: "127.0.0.1:3000" } });

describe("handleTrpcRequest (the handler of both the Next route and the production server)", () => {
  it("answers a signed-in call from the Cookie header, and 503 'database unavailable' when the session check cannot reach the database", async () => {
    const { cookie, email } = await sessionCookie();
    const ok = await handleTrpcRequest(meGet(cookie));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { data: { json: { email: string } } } }).result.data.json.email).toBe(email);

    // A session not checked yet (the check just above is cached for SESSION_CHECK_CACHE_MS), so its check reads the database.
    const unchecked = (await sessionCookie()).cookie;
    // Nothing listens on this port: the session check's first query fails to connect.
    process.env.DATABASE_URL = `postgresql://rads_app:x@127.0.0.1:${await freePort()}/rads_test`;
    try {
      const away = await handleTrpcRequest(meGet(unchecked));
      expect(away.status).toBe(503);
      const body = (await away.json()) as { error: { json: { message: string; data: { code: string } } } };
      expect(body.error.json.message).toBe(DATABASE_UNAVAILABLE_MESSAGE);
      expect(body.error.json.data.code).toBe("SERVICE_UNAVAILABLE");
    } finally {
      process.env.DATABASE_URL = databaseUrl;
    }
  });

  it("answerTrpcCall (no Fetch objects) answers as handleTrpcRequest: the signed-in call, and 503 on the session check's outage", async () => {
    const { cookie, email } = await sessionCookie();
    const callWith = (cookie: string) => ({ method: "GET" as const, url: new URL("http://127.0.0.1:3000/api/trpc/me.get"), headers: { cookie, host: "127.0.0.1:3000" }, body: null });
    const call = callWith(cookie);
    // Outside production tRPC adds the error's stack, which differs between the two callers: compared without it.
    const withoutStack = (body: string) => body.replace(/,"stack":"(?:[^"\\]|\\.)*"/, "");
    const viaRequest = async (cookieNow = cookie) => {
      const response = await handleTrpcRequest(meGet(cookieNow));
      return { status: response.status, headers: [...response.headers].flat(), body: withoutStack(await response.text()) };
    };
    const ok = await answerTrpcCall(call);
    expect(ok).not.toBeNull();
    expect(ok!.status).toBe(200);
    expect(((JSON.parse(ok!.body) as { result: { data: { json: { email: string } } } }).result.data.json.email)).toBe(email);
    expect({ ...ok!, headers: [...ok!.headers] }).toEqual(await viaRequest());

    // A session not checked yet (the checks above are cached), so its check reads the database; a failed check is never cached.
    const unchecked = (await sessionCookie()).cookie;
    process.env.DATABASE_URL = `postgresql://rads_app:x@127.0.0.1:${await freePort()}/rads_test`;
    try {
      const away = await answerTrpcCall(callWith(unchecked));
      expect(away!.status).toBe(503);
      const body = JSON.parse(away!.body) as { error: { json: { message: string; data: { code: string } } } };
      expect(body.error.json.message).toBe(DATABASE_UNAVAILABLE_MESSAGE);
      expect(body.error.json.data.code).toBe("SERVICE_UNAVAILABLE");
      expect(away!.body).toContain('"stack":');
      expect({ ...away!, headers: [...away!.headers], body: withoutStack(away!.body) }).toEqual(await viaRequest(unchecked));
    } finally {
      process.env.DATABASE_URL = databaseUrl;
    }
  });
});
