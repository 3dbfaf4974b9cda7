/**
 * Issue 12, fault 5: an admin must not be able to act as another user. A reset used to hand the
 * admin a usable password: the admin signed in as the reviewer and approved a model (four eyes
 * defeated). Now a reset's and a new account's passwords are must-change: signed in with one,
 * nothing but me.get and account.changePassword works. A user changes their own password only
 * with the current one.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { MUST_CHANGE_PASSWORD_MESSAGE } from "../api/trpc";
import { hashPassword } from "../auth/password";
import { createTestUser, testDb, uniqueEmail } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { insertModelFixture } from "../testing/review-fixtures";
import { authenticateWithPassword, type SessionUser } from "./auth-service";
import { createServiceContext } from "./context";
import { stopJobClient } from "./enqueue-job";
import { createUser, resetUserPassword } from "./user-service";

afterAll(async () => {
  await stopJobClient();
  await testDb().$disconnect();
});

const policy = { maxFailures: 5, lockMinutes: 15 };
const callerFor = (user: SessionUser) =>
  createCaller({ db: testDb(), actor: { id: user.id, role: user.role, name: user.name, email: user.email, mustChangePassword: user.mustChangePassword } });

async function refusedWith(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("an admin cannot act as another user (four eyes)", () => {
  it("an admin who resets the reviewer's password and signs in with it cannot approve the model", async () => {
    const admin = await createTestUser("ADMIN");
    const reviewerEmail = uniqueEmail("reviewer");
    const reviewerRow = await testDb().user.create({ data: { email: reviewerEmail, name: "Real Reviewer", role: "REVIEWER", passwordHash: await hashPassword("reviewer's own password") } });
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [reviewerRow.id, scientist.id, admin.id], cases: 4, settings: { fourEyes: true } });
    await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.85], seed: 1, labelCount: 30, rounds: [1] });
    const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.85, 0.9], seed: 2, labelCount: 40, rounds: [1, 2] });

    const { temporaryPassword } = await resetUserPassword(createServiceContext(testDb(), admin), { userId: reviewerRow.id });
    const asReviewer = await authenticateWithPassword(testDb(), reviewerEmail, temporaryPassword, policy, { address: "198.51.100.9", userAgent: "admin's browser" });
    expect(asReviewer).toMatchObject({ id: reviewerRow.id, mustChangePassword: true });
    const caller = callerFor(asReviewer!);
    const refused = await refusedWith(caller.review.decide({ modelVersionId: candidate.id, decision: "approve", note: "Looks fine to me." }));
    expect(refused).toEqual({ code: "FORBIDDEN", message: MUST_CHANGE_PASSWORD_MESSAGE });
    expect((await refusedWith(caller.review.list())).code).toBe("FORBIDDEN");
    expect((await testDb().modelVersion.findUniqueOrThrow({ where: { id: candidate.id } })).status).toBe("CANDIDATE");
    // Who they are is all they may see.
    expect(await caller.me.get()).toMatchObject({ id: reviewerRow.id, mustChangePassword: true });
    // The reset is audited as must-change and ended the reviewer's sessions.
    const reset = await testDb().auditEvent.findFirstOrThrow({ where: { action: "user.reset-password", targetId: reviewerRow.id } });
    expect(reset).toMatchObject({ actorId: admin.id, details: { mustChange: true } });
    expect((await testDb().user.findUniqueOrThrow({ where: { id: reviewerRow.id } })).sessionEpoch).toBe(reviewerRow.sessionEpoch + 1);
  });

  it("a new account's password is must-change, whether generated or typed by the admin", async () => {
    const admin = await createTestUser("ADMIN");
    const ctx = createServiceContext(testDb(), admin);
    const typedEmail = uniqueEmail("typed");
    const generated = await createUser(ctx, { email: uniqueEmail("generated"), name: "Generated", role: "REVIEWER", initialPassword: "" });
    const typed = await createUser(ctx, { email: typedEmail, name: "Typed", role: "REVIEWER", initialPassword: "admin-chose-this-one" });
    expect(generated.user.mustChangePassword).toBe(true);
    expect(typed.user.mustChangePassword).toBe(true);
    const signedIn = await authenticateWithPassword(testDb(), typedEmail, "admin-chose-this-one", policy);
    expect(signedIn?.mustChangePassword).toBe(true);
    expect((await refusedWith(callerFor(signedIn!).review.list())).code).toBe("FORBIDDEN");
  });

  it("a user changes their own password only with the current one; then everything opens", async () => {
    const admin = await createTestUser("ADMIN");
    const email = uniqueEmail("own");
    const { temporaryPassword } = await createUser(createServiceContext(testDb(), admin), { email, name: "Own", role: "REVIEWER", initialPassword: "" });
    const first = await authenticateWithPassword(testDb(), email, temporaryPassword!, policy);
    const caller = callerFor(first!);
    const wrong = await refusedWith(caller.account.changePassword({ currentPassword: "not the password", newPassword: "my own password 1", confirmPassword: "my own password 1" }));
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(await caller.account.changePassword({ currentPassword: temporaryPassword!, newPassword: "my own password 1", confirmPassword: "my own password 1" })).toEqual({ changed: true });
    expect(await authenticateWithPassword(testDb(), email, temporaryPassword!, policy)).toBeNull();
    const again = await authenticateWithPassword(testDb(), email, "my own password 1", policy);
    expect(again?.mustChangePassword).toBe(false);
    expect(await callerFor(again!).review.list()).toBeDefined();
  });
});
