/**
 * Issue 12, faults 3 and 4 through NextAuth's own request handler with our options and a real user:
 * sign-out revokes the session on the server (the copied cookie's claims stop resolving), the idle
 * timeout ends a session on the server, and a sign-in's callbackUrl never leaves our origin.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type { NextAuthOptions } from "next-auth";
import { decode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertUser, updateUserAccess } from "../db/users-repo";
import { loadServerEnv } from "../env";
import { endSession, resolveSession, startSession } from "../services/auth-service";
import { testDb, uniqueEmail } from "../testing/fixtures";
import { buildAuthOptions } from "./options";
import { hashPassword } from "./password";

interface AuthCookie {
  name: string;
  value: string;
}
type AuthHandlerFn = <Body>(params: { req: Record<string, unknown>; options: NextAuthOptions }) => Promise<{ body?: Body; cookies?: AuthCookie[]; redirect?: string }>;
const load = createRequire(import.meta.url);
const { AuthHandler } = load(path.join(path.dirname(load.resolve("next-auth")), "core/index.js")) as { AuthHandler: AuthHandlerFn };

const ORIGIN = "http://rads.hospital.example:3000";
const SECRET = "t".repeat(40);
const PASSWORD = "a-long-enough-password-42";
const IDLE = { idleMinutes: 30 };
let email: string;
let userId: string;
const savedUrl = process.env.NEXTAUTH_URL;
let options: NextAuthOptions;

beforeAll(async () => {
  email = uniqueEmail("session");
  userId = (await insertUser(testDb(), { email, name: "Session Test", role: "CLINICIAN", passwordHash: await hashPassword(PASSWORD) })).id;
  process.env.NEXTAUTH_URL = ORIGIN;
  options = buildAuthOptions(loadServerEnv({ DATABASE_URL: process.env.DATABASE_URL, NEXTAUTH_SECRET: SECRET, NEXTAUTH_URL: ORIGIN }));
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.NEXTAUTH_URL;
  else process.env.NEXTAUTH_URL = savedUrl;
  await testDb().$disconnect();
});

async function csrf() {
  const response = await AuthHandler<{ csrfToken: string }>({ req: { action: "csrf", method: "GET", headers: {}, cookies: {}, query: {} }, options });
  const cookie = response.cookies!.find((c) => c.name.endsWith("next-auth.csrf-token"))!;
  return { token: response.body!.csrfToken, cookie };
}

async function signIn(callbackUrl?: string) {
  const { token, cookie } = await csrf();
  const response = await AuthHandler({
    req: {
      action: "callback",
      providerId: "credentials",
      method: "POST",
      headers: { "x-rads-peer-address": "192.0.2.10" },
      query: {},
      cookies: { [cookie.name]: cookie.value },
      body: { csrfToken: token, email, password: PASSWORD, json: "true", ...(callbackUrl === undefined ? {} : { callbackUrl }) },
    },
    options,
  });
  const session = (response.cookies ?? []).find((c) => c.name.endsWith("next-auth.session-token"));
  return { session, redirect: response.redirect };
}

async function claimsOf(cookieValue: string) {
  const token = (await decode({ token: cookieValue, secret: SECRET })) as { uid: string; epoch: number; sid: string };
  return { userId: token.uid, epoch: token.epoch, sid: token.sid };
}

describe("sign-out ends the session on the server (fault 4)", () => {
  it("a cookie copied before sign-out no longer resolves to a user afterwards", async () => {
    const { session } = await signIn();
    expect(session).toBeDefined();
    const copied = session!.value;
    const claims = await claimsOf(copied);
    expect(claims.sid).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(await resolveSession(testDb(), claims, IDLE)).toMatchObject({ id: userId });

    const { token, cookie } = await csrf();
    await AuthHandler({
      req: { action: "signout", method: "POST", headers: {}, query: {}, cookies: { [cookie.name]: cookie.value, [session!.name]: copied }, body: { csrfToken: token } },
      options,
    });
    // The same cookie value, decoded exactly as the server would on the next request: refused.
    expect(await resolveSession(testDb(), await claimsOf(copied), IDLE)).toBeNull();
    expect(await testDb().auditEvent.count({ where: { action: "auth.sign-out", targetId: userId } })).toBeGreaterThanOrEqual(1);
    // Another session of the same user (another workstation) is untouched.
    const other = await signIn();
    expect(await resolveSession(testDb(), await claimsOf(other.session!.value), IDLE)).toMatchObject({ id: userId });
  });

  it("an idle session ends on the server; activity keeps it open; a token without a session id is refused", async () => {
    const t0 = new Date();
    const sid = await startSession(testDb(), userId, t0);
    const claims = { userId, epoch: 0, sid };
    const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
    expect(await resolveSession(testDb(), claims, IDLE, at(20))).not.toBeNull();
    // 20 minutes of activity moved lastSeenAt: 45 minutes after the start is only 25 idle.
    expect(await resolveSession(testDb(), claims, IDLE, at(45))).not.toBeNull();
    expect(await resolveSession(testDb(), claims, IDLE, at(45 + 31))).toBeNull();
    // Once idle it stays ended, even if a request comes "earlier" again.
    expect(await resolveSession(testDb(), claims, IDLE, at(46))).toBeNull();
    expect((await testDb().authSession.findUniqueOrThrow({ where: { id: sid } })).revokedAt).not.toBeNull();

    expect(await resolveSession(testDb(), { userId, epoch: 0, sid: "no-such-session" }, IDLE)).toBeNull();
    // A session id belongs to one user only.
    const other = await insertUser(testDb(), { email: uniqueEmail("other"), name: "Other", role: "CLINICIAN", passwordHash: null });
    const live = await startSession(testDb(), userId);
    expect(await resolveSession(testDb(), { userId: other.id, epoch: 0, sid: live }, IDLE)).toBeNull();
    // A role change (epoch bump) still ends it.
    await updateUserAccess(testDb(), userId, { role: "REVIEWER" });
    expect(await resolveSession(testDb(), { userId, epoch: 0, sid: live }, IDLE)).toBeNull();
    expect(await endSession(testDb(), live)).toBe(true);
    expect(await endSession(testDb(), live)).toBe(false);
  });
});

describe("no open redirect after sign-in (fault 3)", () => {
  const payloads = [
    "/%5Cevil.example/phish",
    "/%09/evil.example/phish",
    "/\\evil.example/phish",
    "/\t/evil.example/phish",
    "//evil.example/phish",
    "///evil.example/phish",
    "/.//evil.example/phish",
    "https://evil.example/phish",
    "http://rads.hospital.example:3000@evil.example/",
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
  ];
  for (const payload of payloads) {
    it(`stays on our origin for callbackUrl ${JSON.stringify(payload)}`, async () => {
      const { redirect } = await signIn(payload);
      expect(redirect).toBeDefined();
      const target = new URL(redirect!);
      expect(target.origin).toBe(ORIGIN);
      // And a browser resolving it again (as the sign-in form does) stays here too.
      expect(new URL(redirect!, ORIGIN).origin).toBe(ORIGIN);
      expect(target.pathname.startsWith("//")).toBe(false);
    });
  }

  it("keeps a same-origin path with its query", async () => {
    const { redirect } = await signIn("/queue/abc?case=1");
    expect(redirect).toBe(`${ORIGIN}/queue/abc?case=1`);
  });
});
