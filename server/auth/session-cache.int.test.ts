/**
 * Issue 16: the short session-check cache (server/auth/session-cache.ts) in front of the real
 * server-side check (resolveSession on the test database), on an injected clock. A change made
 * outside the web processes (here: straight in the database) — deactivation, an epoch bump, a
 * sign-out, the idle timeout — ends access once the cache's TTL has passed; the services that end or
 * narrow a session (sign-out, deactivation, role change, password reset and change) end it at once
 * (their forget across processes: session-cache-cluster.int.test.ts); a failed check is never
 * remembered, nor one that was in flight while something was forgotten.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { insertUser, updateUserAccess } from "../db/users-repo";
import { changeOwnPassword } from "../services/account-service";
import { endSession, resolveSession, startSession } from "../services/auth-service";
import { createServiceContext } from "../services/context";
import { resetUserPassword, setUserActive, setUserRole } from "../services/user-service";
import { createTestUser, testDb, uniqueEmail } from "../testing/fixtures";
import { hashPassword } from "./password";
import { createSessionCache, parseSessionCheckCacheMs, sessionCache, setSessionCache } from "./session-cache";

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
  it("is 2,000 ms unless set, 0 turns it off, and it refuses more than 10 s or anything not a whole number of ms", () => {
    expect(parseSessionCheckCacheMs(undefined)).toBe(2000);
    expect(parseSessionCheckCacheMs("")).toBe(2000);
    expect(parseSessionCheckCacheMs("0")).toBe(0);
    expect(parseSessionCheckCacheMs("500")).toBe(500);
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

describe("session-check cache: what it must not keep", () => {
  it("does not remember a check that was in flight while a session or user was forgotten", async () => {
    const c = cache();
    const claims = await signedIn();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = c.resolve(claims, async () => {
      const user = await check(claims)();
      await gate; // read before the change below committed, answered after it
      return user;
    });
    await updateUserAccess(testDb(), claims.userId, { active: false });
    c.forgetUser(claims.userId);
    release();
    expect(await inFlight).not.toBeNull(); // the request that began before the change
    expect(await c.resolve(claims, check(claims))).toBeNull(); // the next one asks the database
    expect(checks).toBe(2);
  });

  it("keeps the idle timeout: hits do not extend an entry, and the first check after the TTL revokes an idle session", async () => {
    const c = cache();
    const claims = await signedIn();
    const lastSeen = async () => (await testDb().authSession.findUniqueOrThrow({ where: { id: claims.sid } })).lastSeenAt.getTime();
    const minutesAgo = (m: number) => testDb().authSession.update({ where: { id: claims.sid }, data: { lastSeenAt: new Date(Date.now() - m * 60_000) } });
    // A database check moves lastSeenAt on when it is a minute or more old.
    await minutesAgo(2);
    expect(await c.resolve(claims, check(claims))).not.toBeNull();
    expect(Date.now() - (await lastSeen())).toBeLessThan(60_000);
    // Idle past the timeout (as if the clinician left): a hit within the TTL still answers…
    await minutesAgo(IDLE.idleMinutes + 1);
    clock += SESSION_CHECK_CACHE_MS - 1;
    expect(await c.resolve(claims, check(claims))).not.toBeNull();
    expect(checks).toBe(1);
    // …without extending the entry: the TTL counts from the database check, and that check revokes.
    clock += 1;
    expect(await c.resolve(claims, check(claims))).toBeNull();
    expect((await testDb().authSession.findUniqueOrThrow({ where: { id: claims.sid } })).revokedAt).not.toBeNull();
    expect(checks).toBe(2);
  });
});

describe("services that end or narrow a session forget it in this process at once", () => {
  // The process's own cache (the one the services forget in), on this file's clock: only a forget can end a hit.
  beforeEach(() => setSessionCache(cache()));
  const cached = async (claims: { userId: string; epoch: number; sid: string }) => {
    expect(await sessionCache().resolve(claims, check(claims))).not.toBeNull();
    const before = checks;
    expect(await sessionCache().resolve(claims, check(claims))).not.toBeNull();
    expect(checks).toBe(before); // answered from the cache
    return before;
  };

  it("sign-out (endSession) ends that session only", async () => {
    const claims = await signedIn();
    const other = { ...claims, sid: await startSession(testDb(), claims.userId) };
    await cached(claims);
    const before = await cached(other);
    expect(await endSession(testDb(), claims.sid)).toBe(true);
    expect(await sessionCache().resolve(claims, check(claims))).toBeNull();
    expect(await sessionCache().resolve(other, check(other))).not.toBeNull();
    expect(checks).toBe(before + 1);
  });

  it("deactivation, a role change and an admin's password reset end every session of the user", async () => {
    const admin = createServiceContext(testDb(), await createTestUser("ADMIN"));
    const changes = [
      (userId: string) => setUserActive(admin, { userId, active: false }),
      (userId: string) => setUserRole(admin, { userId, role: "REVIEWER" }),
      (userId: string) => resetUserPassword(admin, { userId }),
    ];
    for (const change of changes) {
      const claims = await signedIn();
      const second = { ...claims, sid: await startSession(testDb(), claims.userId) };
      await cached(claims);
      await cached(second);
      await change(claims.userId);
      expect(await sessionCache().resolve(claims, check(claims))).toBeNull();
      expect(await sessionCache().resolve(second, check(second))).toBeNull();
    }
  });

  it("changing one's own password ends every session of the user", async () => {
    const user = await insertUser(testDb(), { email: uniqueEmail("cache"), name: "Cache Test", role: "CLINICIAN", passwordHash: await hashPassword("old-password-1234") });
    const claims = { userId: user.id, epoch: 0, sid: await startSession(testDb(), user.id) };
    await cached(claims);
    const actor = { id: user.id, role: user.role, name: user.name, email: user.email };
    await changeOwnPassword(createServiceContext(testDb(), actor), { currentPassword: "old-password-1234", newPassword: "new-password-1234", confirmPassword: "new-password-1234" });
    expect(await sessionCache().resolve(claims, check(claims))).toBeNull();
  });
});
