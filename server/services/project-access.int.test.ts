import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_PERMISSIONS, PROJECT_PERMISSION_NAMES } from "@/contracts/permissions";
import { ROLES } from "@/contracts/roles";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { DomainError } from "../errors";
import { createServiceContext } from "./context";
import { projectAccessChecked, requireProject, requireProjectAsSystem } from "./project-access";

afterAll(async () => {
  await testDb().$disconnect();
});

async function refusal(promise: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return { kind: error.kind, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("requireProject (the project front door)", () => {
  it("gives a member the project, its parsed configuration and their project role, and marks the context", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1, settings: { retrainEveryNLabels: 7 } });
    const ctx = createServiceContext(testDb(), scientist);
    expect(projectAccessChecked(ctx)).toBe(false);
    const access = await requireProject(ctx, projectId, "project.configure", { write: true });
    expect(projectAccessChecked(ctx)).toBe(true);
    expect(access.project.id).toBe(projectId);
    // The trigger of migration 0004 gave the member their platform role.
    expect(access.role).toBe("DATA_SCIENTIST");
    expect(access.archived).toBe(false);
    expect(access.config.labelSchema.labels.map((l) => l.key)).toEqual(["normal", "benign", "suspicious"]);
    expect(access.config.labelSchema.labels[0]!.color).toMatch(/^#[0-9a-f]{6}$/);
    expect(access.config.settings.retrainTriggers).toEqual({ onRoundComplete: true, everyNLabels: 7, scheduleHours: null });
    expect(access.config.selectionParams).toMatchObject({ strategy: "rads", budget: 5, mcPasses: 10 });
  });

  it("answers a non-member and a missing project the same: NOT_FOUND", async () => {
    const member = await createTestUser("DATA_SCIENTIST");
    const outsider = await createTestUser("ADMIN");
    const { projectId } = await createTestProject({ memberIds: [member.id], cases: 1 });
    const asOutsider = createServiceContext(testDb(), outsider);
    const notMember = await refusal(requireProject(asOutsider, projectId, "project.view"));
    const missing = await refusal(requireProject(asOutsider, "no-such-project-id", "project.view"));
    expect(notMember).toEqual({ kind: "NOT_FOUND", message: "No such project." });
    expect(missing).toEqual(notMember);
    expect(projectAccessChecked(asOutsider)).toBe(false);
    expect(await refusal(requireProject(createServiceContext(testDb(), null), projectId, "project.view"))).toMatchObject({ kind: "UNAUTHORIZED" });
  });

  it("checks the role the member has IN THE PROJECT, not the platform role", async () => {
    // A platform data scientist who is a clinician in this project.
    const user = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [], members: [{ userId: user.id, role: "CLINICIAN" }], cases: 1 });
    const ctx = createServiceContext(testDb(), user);
    expect((await requireProject(ctx, projectId, "annotate")).role).toBe("CLINICIAN");
    expect(await refusal(requireProject(ctx, projectId, "cases.import"))).toEqual({ kind: "FORBIDDEN", message: "Your role in this project may not import cases." });
  });

  it("follows the permission matrix for every role and permission", async () => {
    const users = await Promise.all(ROLES.map((role) => createTestUser(role)));
    const { projectId } = await createTestProject({ memberIds: users.map((u) => u.id), cases: 1 });
    for (const user of users) {
      for (const permission of PROJECT_PERMISSION_NAMES) {
        const allowed = (PROJECT_PERMISSIONS[permission] as readonly string[]).includes(user.role);
        const outcome = await requireProject(createServiceContext(testDb(), user), projectId, permission).then(
          () => "allowed",
          (error: unknown) => (error instanceof DomainError ? error.kind : "other"),
        );
        expect(outcome, `${user.role} ${permission}`).toBe(allowed ? "allowed" : "FORBIDDEN");
      }
    }
  });

  it("lets members read an archived project and refuses every write", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    await testDb().project.update({ where: { id: projectId }, data: { archivedAt: new Date() } });
    const ctx = createServiceContext(testDb(), scientist);
    expect(await requireProject(ctx, projectId, "cases.browse")).toMatchObject({ archived: true });
    expect(await refusal(requireProject(ctx, projectId, "cases.import", { write: true }))).toEqual({ kind: "CONFLICT", message: "This project is archived and read-only." });
    const system = createServiceContext(testDb(), null);
    expect(await requireProjectAsSystem(system, projectId)).toMatchObject({ archived: true, role: null });
    expect(await refusal(requireProjectAsSystem(system, projectId, { write: true }))).toMatchObject({ kind: "CONFLICT" });
  });

  it("refuses a stored configuration that is not one, without leaking its fields to the caller", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1, selectionParams: { budget: -3 } });
    const refused = await refusal(requireProject(createServiceContext(testDb(), scientist), projectId, "project.view"));
    expect(refused.kind).toBe("CONFLICT");
    expect(refused.message).not.toContain("budget");
  });
});
