/**
 * Issue 12, faults 1 and 2 on the real database: the lockout cannot be raced (100 parallel wrong
 * passwords), an attacker locks only their own address out, one address cannot spray accounts,
 * distributed guessing meets a capped progressive delay (never a long lock), and old rows are pruned.
 */
import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { consumeThrottle, getThrottle, pruneAuthTables, type ThrottleRule } from "../db/auth-repo";
import { DomainError } from "../errors";
import { authenticateWithPassword, throttleKeys, type ThrottlePolicy } from "../services/auth-service";
import { testDb, uniqueEmail } from "../testing/fixtures";
import { hashPassword } from "./password";

afterAll(async () => {
  await testDb().$disconnect();
});

const PASSWORD = "the-right-password-42";
const policy: ThrottlePolicy = { maxFailures: 5, lockMinutes: 15, maxFailuresPerAddress: 20, maxDelaySeconds: 60 };
/** A documentation-range address of its own for each test, so tests do not share buckets. */
const address = () => `198.51.100.${crypto.randomInt(1, 255)}-${crypto.randomBytes(3).toString("hex")}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createUser(role: "ADMIN" | "CLINICIAN" = "CLINICIAN") {
  const email = uniqueEmail("throttle");
  await testDb().user.create({ data: { email, name: "Throttle Target", role, passwordHash: await hashPassword(PASSWORD) } });
  return email;
}

/** null (checked and wrong), the user (checked and right), or "THROTTLED" (refused before checking). */
async function attempt(email: string, password: string, from: string) {
  try {
    return await authenticateWithPassword(testDb(), email, password, policy, { address: from });
  } catch (error) {
    if (error instanceof DomainError && error.kind === "THROTTLED") return { throttled: error.details?.seconds as number };
    throw error;
  }
}

describe("lockout under parallel attempts (fault 1)", () => {
  it("100 parallel wrong passwords: exactly the limit is checked, the pair is locked, and the right password is refused while locked", async () => {
    const email = await createUser("ADMIN");
    const attacker = address();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => attempt(email, `wrong-${i}`, attacker)));
    const checked = results.filter((r) => r === null).length;
    const refused = results.filter((r) => r !== null && "throttled" in r).length;
    expect(checked).toBe(policy.maxFailures);
    expect(refused).toBe(100 - policy.maxFailures);

    const pair = await getThrottle(testDb(), throttleKeys.pair(email, attacker));
    expect(pair?.failures).toBe(policy.maxFailures);
    expect(pair!.lockedUntil!.getTime() - Date.now()).toBeGreaterThan((policy.lockMinutes - 1) * 60_000);

    // Past the short address and account delays, the right password from the attacker's address is still refused: the pair is locked.
    await sleep(2100);
    const right = await attempt(email, PASSWORD, attacker);
    expect(right).toMatchObject({ throttled: expect.any(Number) });
    expect((right as { throttled: number }).throttled).toBeGreaterThan(60 * (policy.lockMinutes - 1));

    // The real user at their own workstation is not locked out by someone else's guessing (fault 2),
    // only slowed by the account-wide delay of a few seconds.
    await sleep(2100);
    const victim = await attempt(email, PASSWORD, address());
    expect(victim).toMatchObject({ email });
  });
});

describe("sign-in as a weapon (fault 2)", () => {
  it("one client address cannot spray many accounts: past its allowance it is delayed, other addresses are not", async () => {
    const sprayer = address();
    const small: ThrottlePolicy = { ...policy, maxFailuresPerAddress: 3 };
    for (let i = 0; i < 3; i++) expect(await authenticateWithPassword(testDb(), uniqueEmail("spray"), "guess", small, { address: sprayer })).toBeNull();
    await expect(authenticateWithPassword(testDb(), uniqueEmail("spray"), "guess", small, { address: sprayer })).rejects.toMatchObject({ kind: "THROTTLED" });
    expect(await authenticateWithPassword(testDb(), uniqueEmail("spray"), "guess", small, { address: address() })).toBeNull();
  });

  it("guessing from many addresses meets a progressive delay capped at maxDelaySeconds, never a lock", async () => {
    const email = await createUser();
    for (let i = 0; i < policy.maxFailures; i++) expect(await attempt(email, `wrong-${i}`, address())).toBeNull();
    const next = await attempt(email, "another-guess", address());
    expect(next).toMatchObject({ throttled: expect.any(Number) });
    expect((next as { throttled: number }).throttled).toBeLessThanOrEqual(policy.maxDelaySeconds!);
    await sleep(1100);
    expect(await attempt(email, PASSWORD, address())).toMatchObject({ email });
    // A success clears the account's counter.
    expect(await getThrottle(testDb(), throttleKeys.account(email))).toBeNull();
  });

  it("the delay doubles per attempt and stops at the cap; a refused attempt is not counted", async () => {
    const key = `test:${crypto.randomBytes(6).toString("hex")}`;
    const rule: ThrottleRule = { free: 3, baseSeconds: 1, maxSeconds: 8, windowSeconds: 3600 };
    let now = new Date("2026-01-01T00:00:00Z");
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const result = await consumeThrottle(testDb(), key, rule, now);
      expect(result.admitted).toBe(true);
      const row = await getThrottle(testDb(), key);
      const wait = row!.lockedUntil ? (row!.lockedUntil.getTime() - now.getTime()) / 1000 : 0;
      waits.push(wait);
      // Immediately again: refused, and the count does not move.
      if (wait > 0) {
        expect(await consumeThrottle(testDb(), key, rule, now)).toEqual({ admitted: false, retryAt: row!.lockedUntil });
        expect((await getThrottle(testDb(), key))!.failures).toBe(i + 1);
      }
      now = new Date(now.getTime() + wait * 1000);
    }
    expect(waits).toEqual([0, 0, 1, 2, 4, 8, 8, 8]);
  });

  it("prunes throttle rows and ended sessions older than the window, keeps current ones", async () => {
    const now = new Date();
    const old = new Date(now.getTime() - 2 * 3600_000);
    const oldKey = `test-old:${crypto.randomBytes(6).toString("hex")}`;
    const freshKey = `test-fresh:${crypto.randomBytes(6).toString("hex")}`;
    const lockedKey = `test-locked:${crypto.randomBytes(6).toString("hex")}`;
    await testDb().loginThrottle.createMany({
      data: [
        { key: oldKey, failures: 3, windowStartAt: old, updatedAt: old },
        { key: freshKey, failures: 1, windowStartAt: now, updatedAt: now },
        { key: lockedKey, failures: 9, windowStartAt: old, updatedAt: old, lockedUntil: new Date(now.getTime() + 600_000) },
      ],
    });
    const email = await createUser();
    const user = await testDb().user.findUniqueOrThrow({ where: { email } });
    await testDb().authSession.createMany({
      data: [
        { id: `old-${oldKey}`, userId: user.id, expiresAt: old, lastSeenAt: old, createdAt: old },
        { id: `live-${oldKey}`, userId: user.id, expiresAt: new Date(now.getTime() + 3600_000) },
      ],
    });
    const removed = await pruneAuthTables(testDb(), new Date(now.getTime() - 15 * 60_000), now);
    expect(removed.throttles).toBeGreaterThanOrEqual(1);
    expect(await getThrottle(testDb(), oldKey)).toBeNull();
    expect(await getThrottle(testDb(), freshKey)).not.toBeNull();
    expect(await getThrottle(testDb(), lockedKey)).not.toBeNull();
    expect(await testDb().authSession.count({ where: { id: `old-${oldKey}` } })).toBe(0);
    expect(await testDb().authSession.count({ where: { id: `live-${oldKey}` } })).toBe(1);
  });
});
