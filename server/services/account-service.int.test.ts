/**
 * `SEED_DEMO=false npm start` on an empty platform: one admin with a printed password that must be
 * changed at first sign-in. Runs on a database of its own (created and migrated here, dropped at
 * the end), because the shared test database already has users.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { MUST_CHANGE_PASSWORD_MESSAGE } from "../api/trpc";
import { createDb, type Db } from "../db/client";
import { DomainError } from "../errors";
import { ensureFirstAdmin } from "./account-service";
import { authenticateWithPassword, resolveSessionUser } from "./auth-service";
import type { Actor } from "./context";
import { createMigratedDatabase, type OwnDatabase } from "../testing/database-admin";

let database: OwnDatabase;
let db: Db;

beforeAll(async () => {
  database = await createMigratedDatabase("rads_first_admin");
  db = createDb(database.url);
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

async function errorOf(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected an error");
}

const policy = { maxFailures: 5, lockMinutes: 15 };

describe("the first admin of an empty platform", () => {
  it("is created once (even by concurrent starters), with a printed password and the must-change flag, audited", async () => {
    const results = await Promise.all([ensureFirstAdmin(db, { email: "Root@Hospital.example" }), ensureFirstAdmin(db, { email: "root@hospital.example" })]);
    const created = results.filter((r) => r.created);
    expect(created).toHaveLength(1);
    const first = created[0]!;
    if (!first.created) throw new Error("unreachable");
    expect(first.email).toBe("root@hospital.example");
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const users = await db.user.findMany();
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ email: "root@hospital.example", role: "ADMIN", mustChangePassword: true, active: true });
    expect(users[0]!.passwordHash).not.toContain(first.password);
    expect(await db.auditEvent.count({ where: { action: "user.create-first-admin", targetId: users[0]!.id, actorId: null } })).toBe(1);
    // A later start finds a user and creates nothing (the password is not printed again).
    expect(await ensureFirstAdmin(db)).toEqual({ created: false });
  });

  it("must change the printed password before any other procedure, then signs in with the new one", async () => {
    const stored = await db.user.findFirstOrThrow({ where: { role: "ADMIN" } });
    // The password printed by the start script is not known here: give the account a known one the same way.
    const { hashPassword } = await import("../auth/password");
    await db.user.update({ where: { id: stored.id }, data: { passwordHash: await hashPassword("printed-password-123") } });

    const signedIn = await authenticateWithPassword(db, stored.email, "printed-password-123", policy);
    expect(signedIn).toMatchObject({ id: stored.id, mustChangePassword: true });
    const session = (await resolveSessionUser(db, stored.id, signedIn!.sessionEpoch))!;
    const actor: Actor = { id: session.id, role: session.role, name: session.name, email: session.email, mustChangePassword: session.mustChangePassword };
    const caller = createCaller({ db, actor });

    const refused = await errorOf(caller.users.list());
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toBe(MUST_CHANGE_PASSWORD_MESSAGE);
    expect((await errorOf(caller.projects.listMine())).code).toBe("FORBIDDEN");
    expect(await caller.me.get()).toMatchObject({ id: stored.id, mustChangePassword: true });

    const wrong = await errorOf(caller.account.changePassword({ currentPassword: "not-it", newPassword: "a-new-long-password", confirmPassword: "a-new-long-password" }));
    expect(wrong.code).toBe("BAD_REQUEST");
    expect((wrong.cause as DomainError).details?.field).toBe("currentPassword");
    const mismatch = await errorOf(caller.account.changePassword({ currentPassword: "printed-password-123", newPassword: "a-new-long-password", confirmPassword: "another-long-password" }));
    expect(mismatch.code).toBe("BAD_REQUEST");

    await caller.account.changePassword({ currentPassword: "printed-password-123", newPassword: "a-new-long-password", confirmPassword: "a-new-long-password" });
    const after = await db.user.findUniqueOrThrow({ where: { id: stored.id } });
    expect(after.mustChangePassword).toBe(false);
    expect(after.sessionEpoch).toBe(session.sessionEpoch + 1);
    // Every session ends; the old password no longer works, the new one does.
    expect(await resolveSessionUser(db, stored.id, session.sessionEpoch)).toBeNull();
    expect(await authenticateWithPassword(db, stored.email, "printed-password-123", policy)).toBeNull();
    const again = await authenticateWithPassword(db, stored.email, "a-new-long-password", policy);
    expect(again).toMatchObject({ mustChangePassword: false });
    expect(await db.auditEvent.findFirst({ where: { action: "user.change-password", targetId: stored.id }, select: { actorId: true, details: true } })).toEqual({ actorId: stored.id, details: { wasRequired: true } });

    // Now the platform opens up.
    const freed = createCaller({ db, actor: { ...actor, mustChangePassword: false } });
    expect((await freed.users.list()).map((u) => u.email)).toEqual([stored.email]);
  });
});
