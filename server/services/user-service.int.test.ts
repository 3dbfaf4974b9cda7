import { afterAll, describe, expect, it } from "vitest";
import { hashPassword } from "../auth/password";
import { createTestUser, testDb, uniqueEmail } from "../testing/fixtures";
import { authenticateWithPassword, resolveSessionUser, startSession } from "./auth-service";
import { createServiceContext } from "./context";
import { createUser, setUserActive, setUserRole } from "./user-service";
import { DomainError } from "../errors";
import { createTestProject } from "../testing/project-fixtures";
import { leaseNext } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";

afterAll(async () => {
  await testDb().$disconnect();
});

const policy = { maxFailures: 3, lockMinutes: 15 };

describe("user administration", () => {
  it("creates a user with a hashed password and records who did it", async () => {
    const admin = await createTestUser("ADMIN");
    const ctx = createServiceContext(testDb(), admin);
    const email = uniqueEmail("new");
    const result = await createUser(ctx, { email, name: "New Person", role: "REVIEWER", initialPassword: "" });
    expect(result.temporaryPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const stored = await testDb().user.findUniqueOrThrow({ where: { email } });
    expect(stored.passwordHash).toMatch(/^scrypt\$/);
    expect(stored.passwordHash).not.toContain(result.temporaryPassword!);
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "user.create", targetId: stored.id } });
    expect(audit.actorId).toBe(admin.id);
    expect(ctx.audit.count).toBe(1);
    await expect(createUser(ctx, { email, name: "Again", role: "CLINICIAN", initialPassword: "" })).rejects.toMatchObject({ kind: "CONFLICT" });
  });

  it("ends existing sessions at once on deactivation and role change", async () => {
    const admin = await createTestUser("ADMIN");
    const target = await createTestUser("CLINICIAN");
    const before = await testDb().user.findUniqueOrThrow({ where: { id: target.id } });
    expect(await resolveSessionUser(testDb(), target.id, before.sessionEpoch)).not.toBeNull();
    await setUserRole(createServiceContext(testDb(), admin), { userId: target.id, role: "REVIEWER" });
    expect(await resolveSessionUser(testDb(), target.id, before.sessionEpoch)).toBeNull();
    const afterRole = await testDb().user.findUniqueOrThrow({ where: { id: target.id } });
    await setUserActive(createServiceContext(testDb(), admin), { userId: target.id, active: false });
    expect(await resolveSessionUser(testDb(), target.id, afterRole.sessionEpoch)).toBeNull();
    expect(await resolveSessionUser(testDb(), target.id, afterRole.sessionEpoch + 1)).toBeNull();
  });

  it("revokes the user's open sessions on the server, so a colleague gets a deactivated clinician's held case at the next queue.next", async () => {
    const admin = await createTestUser("ADMIN");
    const alice = await createTestUser("CLINICIAN");
    const bob = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [alice.id, bob.id], cases: 2, settings: { leaseMinutes: 30 } });
    await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    const sid = await startSession(testDb(), alice.id);
    const held = (await leaseNext(createServiceContext(testDb(), alice), { projectId }))!;
    expect(held.caseId).toBe(caseIds[0]);
    await setUserActive(createServiceContext(testDb(), admin), { userId: alice.id, active: false });
    expect((await testDb().authSession.findUniqueOrThrow({ where: { id: sid } })).revokedAt).not.toBeNull();
    // Bob is at work: his next case is the one Alice held (rank 1), released with its audit event.
    await startSession(testDb(), bob.id);
    expect((await leaseNext(createServiceContext(testDb(), bob), { projectId }))!.caseId).toBe(caseIds[0]);
    expect(await testDb().auditEvent.count({ where: { action: "queue.lease-released", projectId } })).toBe(1);
  });

  it("refuses to deactivate yourself", async () => {
    const admin = await createTestUser("ADMIN");
    await expect(setUserActive(createServiceContext(testDb(), admin), { userId: admin.id, active: false })).rejects.toBeInstanceOf(DomainError);
  });
});

describe("password sign-in", () => {
  it("accepts the right password, rejects a wrong one, and locks after repeated failures", async () => {
    const email = uniqueEmail("signin");
    await testDb().user.create({ data: { email, name: "Sign In", role: "CLINICIAN", passwordHash: await hashPassword("correct horse battery") } });
    expect(await authenticateWithPassword(testDb(), email, "correct horse battery", policy)).toMatchObject({ email });
    expect(await authenticateWithPassword(testDb(), email, "wrong", policy)).toBeNull();
    expect(await authenticateWithPassword(testDb(), email, "wrong", policy)).toBeNull();
    expect(await authenticateWithPassword(testDb(), email, "wrong", policy)).toBeNull();
    // Locked now: even the right password is refused until the lock expires.
    await expect(authenticateWithPassword(testDb(), email, "correct horse battery", policy)).rejects.toMatchObject({ kind: "THROTTLED" });
  });

  it("throttles unknown addresses the same way, so the answer reveals nothing", async () => {
    const email = uniqueEmail("nobody");
    for (let i = 0; i < 3; i++) expect(await authenticateWithPassword(testDb(), email, "guess", policy)).toBeNull();
    await expect(authenticateWithPassword(testDb(), email, "guess", policy)).rejects.toMatchObject({ kind: "THROTTLED" });
  });

  it("refuses a deactivated account even with the right password", async () => {
    const email = uniqueEmail("inactive");
    await testDb().user.create({ data: { email, name: "Gone", role: "CLINICIAN", active: false, passwordHash: await hashPassword("correct horse battery") } });
    expect(await authenticateWithPassword(testDb(), email, "correct horse battery", policy)).toBeNull();
  });
});

describe("audit trail", () => {
  it("cannot be edited or deleted by anyone", async () => {
    const admin = await createTestUser("ADMIN");
    const ctx = createServiceContext(testDb(), admin);
    await ctx.audit.record(testDb(), { action: "test.event", targetType: "Test" });
    const event = await testDb().auditEvent.findFirstOrThrow({ where: { action: "test.event", actorId: admin.id } });
    await expect(testDb().auditEvent.update({ where: { id: event.id }, data: { action: "tampered" } })).rejects.toThrow(/append-only/);
    await expect(testDb().auditEvent.delete({ where: { id: event.id } })).rejects.toThrow(/append-only/);
    await expect(testDb().$executeRawUnsafe(`TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only/);
    expect((await testDb().auditEvent.findUniqueOrThrow({ where: { id: event.id } })).action).toBe("test.event");
  });
});
