/**
 * Issue 16: with the session-check cache on, a sign-out, deactivation, role change or password reset
 * made in one web process of a cluster ends access at once in the other — two real processes
 * (server/testing/session-cluster-primary.mjs: a Node cluster primary with the production relay,
 * scripts/lib/session-relay.mjs, and two stand-ins that check sessions through their own cache and
 * change users through the production services). Their caches' clocks are frozen, so a cached
 * session never expires there: only the relayed forget can end it. Also the relay's message handler
 * in this process (handleSessionCacheMessage).
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSession } from "../services/auth-service";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "../services/context";
import { createSessionCache, handleSessionCacheMessage, SESSION_FORGET_MESSAGE, SESSION_FORGOTTEN_MESSAGE, setSessionCache, type SessionClaims } from "./session-cache";

let primary: ChildProcess;
let nextReq = 1;
const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

function ask<T>(worker: 0 | 1, command: Record<string, unknown>): Promise<T> {
  const reqId = nextReq++;
  return new Promise<T>((resolve, reject) => {
    waiting.set(reqId, { resolve: resolve as (value: unknown) => void, reject });
    primary.send({ worker, reqId, ...command });
  });
}
const check = (worker: 0 | 1, claims: SessionClaims) => ask<{ userId: string | null; checks: number }>(worker, { cmd: "check", claims });

beforeAll(async () => {
  primary = fork(path.join(import.meta.dirname, "../testing/session-cluster-primary.mjs"), [], { env: { ...process.env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise<void>((resolve, reject) => {
    primary.on("message", (message: { ready?: boolean; reqId?: number; result?: unknown; error?: string }) => {
      if (message.ready) return resolve();
      const w = message.reqId === undefined ? undefined : waiting.get(message.reqId);
      if (!w) return;
      waiting.delete(message.reqId!);
      if (message.error) w.reject(new Error(message.error));
      else w.resolve(message.result);
    });
    primary.once("exit", (code) => reject(new Error(`the cluster primary exited (${code})`)));
  });
});

afterAll(async () => {
  if (primary?.connected) {
    const exited = new Promise((resolve) => primary.once("exit", resolve));
    primary.send({ stop: true });
    await exited;
  }
  await testDb().$disconnect();
});

async function signedInClinician(): Promise<SessionClaims> {
  const user = await createTestUser("CLINICIAN");
  return { userId: user.id, epoch: 0, sid: await startSession(testDb(), user.id) };
}

/** The session is cached in worker 1: a second check there does not ask the database. */
async function cachedInSecond(claims: SessionClaims) {
  const first = await check(1, claims);
  expect(first.userId).toBe(claims.userId);
  const again = await check(1, claims);
  expect(again).toEqual({ userId: claims.userId, checks: first.checks });
  return again.checks;
}

describe("session-check cache across two web processes", () => {
  let admin: Actor;
  beforeAll(async () => {
    admin = await createTestUser("ADMIN");
  });

  it("a deactivation in one process ends access in the other at once", async () => {
    const claims = await signedInClinician();
    const checks = await cachedInSecond(claims);
    await ask(0, { cmd: "deactivate", admin, userId: claims.userId });
    expect(await check(1, claims)).toEqual({ userId: null, checks: checks + 1 });
  });

  it("a role change in one process ends access in the other at once", async () => {
    const claims = await signedInClinician();
    const checks = await cachedInSecond(claims);
    await ask(0, { cmd: "set-role", admin, userId: claims.userId, role: "REVIEWER" });
    expect(await check(1, claims)).toEqual({ userId: null, checks: checks + 1 });
  });

  it("an admin's password reset in one process ends access in the other at once", async () => {
    const claims = await signedInClinician();
    const checks = await cachedInSecond(claims);
    await ask(0, { cmd: "reset-password", admin, userId: claims.userId });
    expect(await check(1, claims)).toEqual({ userId: null, checks: checks + 1 });
  });

  it("a sign-out in one process ends that session in the other at once, and only that session", async () => {
    const claims = await signedInClinician();
    const other = { ...claims, sid: await startSession(testDb(), claims.userId) };
    await cachedInSecond(claims);
    const checks = await cachedInSecond(other);
    expect(await ask(0, { cmd: "sign-out", sid: claims.sid })).toEqual({ revoked: true });
    expect(await check(1, claims)).toEqual({ userId: null, checks: checks + 1 });
    // The user's other session is still open and still answered from the cache.
    expect(await check(1, other)).toEqual({ userId: claims.userId, checks: checks + 1 });
  });

  it("a change in the process that holds the session ends it there at once too", async () => {
    const claims = await signedInClinician();
    const checks = await cachedInSecond(claims);
    await ask(1, { cmd: "deactivate", admin, userId: claims.userId });
    expect(await check(1, claims)).toEqual({ userId: null, checks: checks + 1 });
  });
});

describe("the relayed forget's handler", () => {
  it("drops the session or every session of the user from this process's cache and acknowledges", async () => {
    const cache = createSessionCache({ ttlMs: 10_000, now: () => 0 });
    setSessionCache(cache);
    const user = { id: "u1", role: "CLINICIAN" as const, name: "A", email: "a@test.local", sessionEpoch: 0, mustChangePassword: false };
    let asked = 0;
    const ask = async () => {
      asked++;
      return user;
    };
    for (const sid of ["s1", "s2", "s3"]) await cache.resolve({ userId: "u1", epoch: 0, sid }, ask);
    await cache.resolve({ userId: "u2", epoch: 0, sid: "s4" }, async () => ({ ...user, id: "u2" }));
    const replies: object[] = [];
    handleSessionCacheMessage({ type: SESSION_FORGET_MESSAGE, id: 7, sid: "s1" }, (reply) => replies.push(reply));
    expect(replies).toEqual([{ type: SESSION_FORGOTTEN_MESSAGE, id: 7 }]);
    asked = 0;
    await cache.resolve({ userId: "u1", epoch: 0, sid: "s1" }, ask);
    await cache.resolve({ userId: "u1", epoch: 0, sid: "s2" }, ask);
    expect(asked).toBe(1); // s1 asked again, s2 still cached
    handleSessionCacheMessage({ type: SESSION_FORGET_MESSAGE, id: 8, userId: "u1" }, (reply) => replies.push(reply));
    asked = 0;
    for (const sid of ["s1", "s2", "s3"]) await cache.resolve({ userId: "u1", epoch: 0, sid }, ask);
    expect(asked).toBe(3);
    let otherAsked = 0;
    await cache.resolve({ userId: "u2", epoch: 0, sid: "s4" }, async () => {
      otherAsked++;
      return null;
    });
    expect(otherAsked).toBe(0); // another user's session stays cached
    // Messages that are not the cache's are ignored.
    handleSessionCacheMessage({ type: "something-else", sid: "s4" }, (reply) => replies.push(reply));
    handleSessionCacheMessage(null, (reply) => replies.push(reply));
    expect(replies).toHaveLength(2);
  });
});
