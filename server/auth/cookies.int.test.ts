/**
 * The session cookie NextAuth sets at a real credentials sign-in (NextAuth's own request handler,
 * our options, a real user in the test database): HttpOnly, SameSite=Lax, path /, and — when
 * NEXTAUTH_URL is https — Secure with the __Secure- prefix. The e2e spec checks the same cookie over
 * HTTP on the http:// test server; only this test can see the https variant.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type { NextAuthOptions } from "next-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertUser } from "../db/users-repo";
import { loadServerEnv } from "../env";
import { testDb, uniqueEmail } from "../testing/fixtures";
import { buildAuthOptions } from "./options";
import { hashPassword } from "./password";

interface AuthCookie {
  name: string;
  value: string;
  options: Record<string, unknown>;
}
type AuthHandlerFn = <Body>(params: { req: Record<string, unknown>; options: NextAuthOptions }) => Promise<{ body?: Body; cookies?: AuthCookie[] }>;
// next-auth's package "exports" do not list its core request handler, so this test loads it by path.
const load = createRequire(import.meta.url);
const { AuthHandler } = load(path.join(path.dirname(load.resolve("next-auth")), "core/index.js")) as { AuthHandler: AuthHandlerFn };

const PASSWORD = "a-long-enough-password-42";
let email: string;
const savedUrl = process.env.NEXTAUTH_URL;

beforeAll(async () => {
  email = uniqueEmail("cookie");
  await insertUser(testDb(), { email, name: "Cookie Test", role: "CLINICIAN", passwordHash: await hashPassword(PASSWORD) });
});
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.NEXTAUTH_URL;
  else process.env.NEXTAUTH_URL = savedUrl;
  await testDb().$disconnect();
});

async function signInCookies(url: string) {
  // NextAuth derives its origin (and the cookie policy's context) from NEXTAUTH_URL.
  process.env.NEXTAUTH_URL = url;
  const options = buildAuthOptions(loadServerEnv({ DATABASE_URL: process.env.DATABASE_URL, NEXTAUTH_SECRET: "s".repeat(40), NEXTAUTH_URL: url }));
  const csrf = await AuthHandler<{ csrfToken: string }>({ req: { action: "csrf", method: "GET", headers: {}, cookies: {}, query: {} }, options });
  const csrfCookie = csrf.cookies!.find((c) => c.name.endsWith("next-auth.csrf-token"))!;
  const callback = await AuthHandler({
    req: {
      action: "callback",
      providerId: "credentials",
      method: "POST",
      headers: {},
      query: {},
      cookies: { [csrfCookie.name]: csrfCookie.value },
      body: { csrfToken: csrf.body!.csrfToken, email, password: PASSWORD, json: "true" },
    },
    options,
  });
  return { csrfCookie, cookies: callback.cookies ?? [] };
}

describe("session cookie flags", () => {
  it("https: __Secure- session cookie with Secure, HttpOnly, SameSite=Lax, path /", async () => {
    const { cookies, csrfCookie } = await signInCookies("https://rads.hospital.example");
    const session = cookies.find((c) => c.name.endsWith("next-auth.session-token"));
    expect(session, JSON.stringify(cookies.map((c) => c.name))).toBeDefined();
    expect(session!.name).toBe("__Secure-next-auth.session-token");
    expect(session!.options).toMatchObject({ secure: true, httpOnly: true, sameSite: "lax", path: "/" });
    expect(csrfCookie.name).toBe("__Host-next-auth.csrf-token");
    expect(csrfCookie.options).toMatchObject({ secure: true, httpOnly: true, sameSite: "lax" });
  });

  it("http (local demo): HttpOnly and SameSite=Lax, without Secure (a browser would drop it on http)", async () => {
    const { cookies } = await signInCookies("http://localhost:3000");
    const session = cookies.find((c) => c.name === "next-auth.session-token");
    expect(session).toBeDefined();
    expect(session!.options).toMatchObject({ secure: false, httpOnly: true, sameSite: "lax", path: "/" });
  });

  it("a wrong password sets no session cookie", async () => {
    process.env.NEXTAUTH_URL = "https://rads.hospital.example";
    const options = buildAuthOptions(loadServerEnv({ DATABASE_URL: process.env.DATABASE_URL, NEXTAUTH_SECRET: "s".repeat(40), NEXTAUTH_URL: process.env.NEXTAUTH_URL }));
    const csrf = await AuthHandler<{ csrfToken: string }>({ req: { action: "csrf", method: "GET", headers: {}, cookies: {}, query: {} }, options });
    const csrfCookie = csrf.cookies!.find((c) => c.name.endsWith("next-auth.csrf-token"))!;
    const callback = await AuthHandler({
      req: { action: "callback", providerId: "credentials", method: "POST", headers: {}, query: {}, cookies: { [csrfCookie.name]: csrfCookie.value }, body: { csrfToken: csrf.body!.csrfToken, email, password: "wrong-password-123", json: "true" } },
      options,
    });
    expect((callback.cookies ?? []).some((c) => c.name.endsWith("session-token"))).toBe(false);
  });
});
