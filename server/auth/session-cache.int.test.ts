/**
 * Issue 16: the short session-check cache (server/auth/session-cache.ts) in front of the real
 * server-side check (resolveSession on the test database). Deactivation, an epoch bump and a
 * sign-out in another process end access once the cache's TTL has passed; a sign-out in this
 * process ends it at once; a failed check is never remembered.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { insertUser, updateUserAccess } from "../db/users-repo";
import { endSession, resolveSession, startSession } from "../services/auth-service";
import { testDb, uniqueEmail } from "../testing/fixtures";
import { createSessionCache, parseSessionCheckCacheMs } from "./session-cache";

const IDLE = { idleMinutes: 30 };
const SESSION_CHECK_CACHE_MS = 2_000;
let clock = 0;
let checks = 0;
const cache = () => createSessionCache({ ttlMs: SESSION_CHECK_CACHE_MS, now: () => clock });

async function signedIn() {
  const user = await insertUser(testDb(), { email: uniqueEmail("cache"), name: "Cache Test", role: "CLINICIAN", passwordHash: null });
  const sid = await startSession(testDb(), user.id);
  return { userId: user.id, epoch: 0, sid };
}
const check = (claims: { userId: string; epoch: number; sid: string }) => () => {
  checks++;
  return resolveSession(testDb(), claims, IDLE);
};

beforeEach(() => {
  clock = 1_000_000;
  checks = 0;
});

describe("SESSION_CHECK_CACHE_MS", () => {
  it("is off unless set, and refuses more than 10 s or anything not a whole number of ms", () => {
    expect(parseSessionCheckCacheMs(undefined)).toBe(0);
    expect(parseSessionCheckCacheMs("2000")).toBe(2000);
    for (const bad of ["-1", "10001", "1.5", "2s"]) expect(() => parseSessionCheckCacheMs(bad)).toThrow(/SESSION_CHECK_CACHE_MS/);
  });
  it("with 0, every request checks the database", async () => {
    const c = createSessionCache({ ttlMs: 0, now: () => clock });
    const claims = await signedIn();
    expect(await c.resolve(claims, check(claims))).not.toBeNull();
    await updateUserAccess(testDb(), claims.userId, { active: false });
    expect(await c.resolve(claims, check(claims))).toBeNull();
    expect(checks).toBe(2);
  });
});

describe("session-check cache", () => {
  it("reuses a successful check within the TTL, then checks the database again", async () => {
    const c = cache();
    const claims = await signedIn();
    expect((await c.resolve(claims, check(claims)))?.id).toBe(claims.userId);
    clock += SESSION_CHECK_CACHE_MS - 1;
    expect((await c.resolve(claims, check(claims)))?.id).toBe(claims.userId);
    expect(checks).toBe(1);
    clock += 2;
    expect((await c.resolve(claims, check(claims)))?.id).toBe(claims.userId);
    expect(checks).toBe(2);
  });

  it("deactivation ends access within the TTL", async () => {
    const c = cache();
    const claims = await signedIn();
    expect(await c.resolve(claims, check(claims))).not.toBeNull();
    await updateUserAccess(testDb(), claims.userId, { active: false });
    clock += SESSION_CHECK_CACHE_MS;
    expect(await c.resolve(claims, check(claims))).toBeNull();
    // …and stays ended: a failed check is not remembered, every later request asks the database.
    expect(await c.resolve(claims, check(claims))).toBeNull();
    expect(checks).toBe(3);
  });

  it("a role change (epoch bump) and a sign-out in another process end access within the TTL", async () => {
    const c = cache();
    const a = await signedIn();
    const b = await signedIn();
    expect(await c.resolve(a, check(a))).not.toBeNull();
    expect(await c.resolve(b, check(b))).not.toBeNull();
    await updateUserAccess(testDb(), a.userId, { role: "REVIEWER" });
    expect(await endSession(testDb(), b.sid)).toBe(true);
    clock += SESSION_CHECK_CACHE_MS;
    expect(await c.resolve(a, check(a))).toBeNull();
    expect(await c.resolve(b, check(b))).toBeNull();
  });

  it("a sign-out in this process ends access at once, and claims must match the cached session exactly", async () => {
    const c = cache();
    const claims = await signedIn();
    expect(await c.resolve(claims, check(claims))).not.toBeNull();
    // A token with the same sid but another epoch or user is checked against the database.
    expect(await c.resolve({ ...claims, epoch: 1 }, check({ ...claims, epoch: 1 }))).toBeNull();
    expect(checks).toBe(2);
    expect(await c.resolve(claims, check(claims))).not.toBeNull();
    c.forget(claims.sid);
    expect(await endSession(testDb(), claims.sid)).toBe(true);
    expect(await c.resolve(claims, check(claims))).toBeNull();
  });
});
