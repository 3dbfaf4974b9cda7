import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb, uniqueEmail, refusal } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createServiceContext } from "./context";
import { addMember, joinProjectAsAdmin, listAllProjects, listMembers, removeMember, setMemberRole, whoToAsk } from "./member-service";
import { createUser } from "./user-service";

const db = testDb();

afterAll(async () => {
  await db.$disconnect();
});

const memberAudits = (projectId: string, userId: string) =>
  db.auditEvent.findMany({ where: { projectId, targetId: userId, action: { startsWith: "project.member." } }, orderBy: { id: "asc" }, select: { action: true, actorId: true, details: true } });

describe("project members", () => {
  it("adds, re-roles and removes a member, each audited with before/after", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const person = await createTestUser("CLINICIAN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    const ctx = createServiceContext(db, scientist);

    const before = await listMembers(ctx, { projectId });
    expect(before.members.map((m) => m.userId)).toEqual([scientist.id]);
    expect(before.candidates.some((c) => c.id === person.id)).toBe(true);

    await addMember(ctx, { projectId, userId: person.id, role: "REVIEWER" });
    const afterAdd = await listMembers(ctx, { projectId });
    expect(afterAdd.members.find((m) => m.userId === person.id)).toMatchObject({ role: "REVIEWER", platformRole: "CLINICIAN", active: true });
    expect(afterAdd.candidates.some((c) => c.id === person.id)).toBe(false);
    expect(await refusal(addMember(ctx, { projectId, userId: person.id, role: "CLINICIAN" }))).toMatchObject({ kind: "CONFLICT", field: "userId" });

    await setMemberRole(ctx, { projectId, userId: person.id, role: "CLINICIAN" });
    expect((await db.projectMember.findUniqueOrThrow({ where: { projectId_userId: { projectId, userId: person.id } } })).role).toBe("CLINICIAN");

    await removeMember(ctx, { projectId, userId: person.id });
    expect(await db.projectMember.findUnique({ where: { projectId_userId: { projectId, userId: person.id } } })).toBeNull();

    expect(await memberAudits(projectId, person.id)).toEqual([
      { action: "project.member.add", actorId: scientist.id, details: { before: null, after: { role: "REVIEWER" } } },
      { action: "project.member.set-role", actorId: scientist.id, details: { before: { role: "REVIEWER" }, after: { role: "CLINICIAN" } } },
      { action: "project.member.remove", actorId: scientist.id, details: { before: { role: "CLINICIAN" }, after: null } },
    ]);
  });

  it("gives the Admin project role only to platform admins, and only active users join", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const clinician = await createTestUser("CLINICIAN");
    const admin = await createTestUser("ADMIN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    const ctx = createServiceContext(db, scientist);
    expect(await refusal(addMember(ctx, { projectId, userId: clinician.id, role: "ADMIN" }))).toMatchObject({ kind: "BAD_INPUT", field: "role" });
    await addMember(ctx, { projectId, userId: admin.id, role: "ADMIN" });
    await db.user.update({ where: { id: clinician.id }, data: { active: false } });
    expect(await refusal(addMember(ctx, { projectId, userId: clinician.id, role: "CLINICIAN" }))).toMatchObject({ kind: "BAD_INPUT", field: "userId" });
    expect(await refusal(addMember(ctx, { projectId, userId: "no-such-user", role: "CLINICIAN" }))).toMatchObject({ kind: "BAD_INPUT", field: "userId" });
  });

  it("never removes or demotes the last member who can manage members", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const clinician = await createTestUser("CLINICIAN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id, clinician.id], cases: 1 });
    const ctx = createServiceContext(db, scientist);

    const demote = await refusal(setMemberRole(ctx, { projectId, userId: scientist.id, role: "REVIEWER" }));
    expect(demote.kind).toBe("CONFLICT");
    expect(demote.message).toContain("last member who can manage");
    expect((await refusal(removeMember(ctx, { projectId, userId: scientist.id }))).kind).toBe("CONFLICT");
    expect((await db.projectMember.findUniqueOrThrow({ where: { projectId_userId: { projectId, userId: scientist.id } } })).role).toBe("DATA_SCIENTIST");

    // A second manager makes it possible; the first can then step down.
    await setMemberRole(ctx, { projectId, userId: clinician.id, role: "DATA_SCIENTIST" });
    await setMemberRole(ctx, { projectId, userId: scientist.id, role: "REVIEWER" });
    const colleague = createServiceContext(db, clinician);
    await removeMember(colleague, { projectId, userId: scientist.id });
    // The colleague is now the only one who can manage members.
    expect((await refusal(removeMember(colleague, { projectId, userId: clinician.id }))).kind).toBe("CONFLICT");
  });

  it("refuses non-members (NOT_FOUND, also a platform admin) and members without members.manage (FORBIDDEN)", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const clinician = await createTestUser("CLINICIAN");
    const outsider = await createTestUser("ADMIN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id, clinician.id], cases: 1 });
    const asOutsider = createServiceContext(db, outsider);
    expect(await refusal(listMembers(asOutsider, { projectId }))).toMatchObject({ kind: "NOT_FOUND", message: "No such project." });
    expect(await refusal(addMember(asOutsider, { projectId, userId: outsider.id, role: "ADMIN" }))).toMatchObject({ kind: "NOT_FOUND" });
    expect(await refusal(removeMember(asOutsider, { projectId, userId: clinician.id }))).toMatchObject({ kind: "NOT_FOUND" });
    expect((await refusal(addMember(createServiceContext(db, clinician), { projectId, userId: outsider.id, role: "REVIEWER" }))).kind).toBe("FORBIDDEN");
    expect(await db.projectMember.count({ where: { projectId } })).toBe(2);
  });

  it("shows a user without a project who to ask: only people who can add them (admins, managers of a live project), with their e-mail", async () => {
    const newcomer = await createTestUser("CLINICIAN");
    const manager = await createTestUser("DATA_SCIENTIST");
    const idle = await createTestUser("DATA_SCIENTIST");
    const archivedOnly = await createTestUser("DATA_SCIENTIST");
    const admin = await createTestUser("ADMIN");
    const gone = await createTestUser("ADMIN");
    await db.user.update({ where: { id: gone.id }, data: { active: false } });
    const { projectId } = await createTestProject({ memberIds: [manager.id], cases: 1 });
    const archived = await createTestProject({ memberIds: [archivedOnly.id], cases: 1 });
    await db.project.update({ where: { id: archived.projectId }, data: { archivedAt: new Date() } });
    const projectName = (await db.project.findUniqueOrThrow({ where: { id: projectId } })).name;

    const answer = await whoToAsk(createServiceContext(db, newcomer));
    expect(answer).toMatchObject({ inAnyProject: false, canCreateProjects: false });
    expect(answer.contacts).toContainEqual({ name: manager.name, email: manager.email, role: "DATA_SCIENTIST", manages: [projectName] });
    expect(answer.contacts).toContainEqual(expect.objectContaining({ name: admin.name, email: admin.email, role: "ADMIN" }));
    const emails = answer.contacts.map((c) => c.email);
    // A data scientist in no project (or only in an archived one) cannot add anybody; a deactivated admin neither.
    expect(emails).not.toContain(idle.email);
    expect(emails).not.toContain(archivedOnly.email);
    expect(emails).not.toContain(gone.email);
    expect(answer.contacts.every((c) => c.role === "ADMIN" || c.manages.length > 0)).toBe(true);

    await createTestProject({ memberIds: [newcomer.id], cases: 1 });
    expect(await whoToAsk(createServiceContext(db, newcomer))).toEqual({ inAnyProject: true, canCreateProjects: false, contacts: [] });
    expect((await whoToAsk(createServiceContext(db, manager))).canCreateProjects).toBe(true);
  });
});

describe("platform admins and every project", () => {
  it("an admin sees every project with who manages it, joins one as Admin (audited), and then manages its members; others may not", async () => {
    const admin = await createTestUser("ADMIN");
    const manager = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [manager.id], cases: 1 });
    const ctx = createServiceContext(db, admin);
    // Not a member: the front door still says NOT_FOUND…
    expect((await refusal(listMembers(ctx, { projectId }))).kind).toBe("NOT_FOUND");
    // …but the admin's overview lists the project, who manages it and that they are not in it.
    const all = await listAllProjects(ctx);
    expect(all.find((p) => p.id === projectId)).toMatchObject({ yourRole: null, archived: false, members: 1, managers: [{ name: manager.name, email: manager.email, role: "DATA_SCIENTIST" }] });
    expect(all).toHaveLength(await db.project.count());

    await joinProjectAsAdmin(ctx, { projectId });
    expect((await listAllProjects(ctx)).find((p) => p.id === projectId)?.yourRole).toBe("ADMIN");
    expect((await listMembers(ctx, { projectId })).members.find((m) => m.userId === admin.id)?.role).toBe("ADMIN");
    expect(await memberAudits(projectId, admin.id)).toEqual([{ action: "project.member.add", actorId: admin.id, details: { before: null, after: { role: "ADMIN" }, via: "admin-join" } }]);
    expect(await refusal(joinProjectAsAdmin(ctx, { projectId }))).toMatchObject({ kind: "CONFLICT" });
    expect(await refusal(joinProjectAsAdmin(ctx, { projectId: "no-such-project" }))).toMatchObject({ kind: "NOT_FOUND" });

    for (const role of ["DATA_SCIENTIST", "REVIEWER", "CLINICIAN"] as const) {
      const other = createServiceContext(db, await createTestUser(role));
      expect((await refusal(listAllProjects(other))).kind).toBe("FORBIDDEN");
      expect((await refusal(joinProjectAsAdmin(other, { projectId }))).kind).toBe("FORBIDDEN");
    }
  });
});

describe("creating a user with project memberships in one step", () => {
  it("creates the user and the memberships together, audited", async () => {
    const admin = await createTestUser("ADMIN");
    const a = await createTestProject({ memberIds: [admin.id], cases: 1 });
    const b = await createTestProject({ memberIds: [admin.id], cases: 1 });
    const ctx = createServiceContext(db, admin);
    const email = uniqueEmail("joined");
    const { user } = await createUser(ctx, {
      email,
      name: "Joined Person",
      role: "CLINICIAN",
      initialPassword: "",
      projects: [
        { projectId: a.projectId, role: "CLINICIAN" },
        { projectId: b.projectId, role: "REVIEWER" },
      ],
    });
    const memberships = await db.projectMember.findMany({ where: { userId: user.id }, select: { projectId: true, role: true } });
    expect(memberships.sort((x, y) => x.projectId.localeCompare(y.projectId))).toEqual(
      [
        { projectId: a.projectId, role: "CLINICIAN" },
        { projectId: b.projectId, role: "REVIEWER" },
      ].sort((x, y) => x.projectId.localeCompare(y.projectId)),
    );
    expect(await memberAudits(b.projectId, user.id)).toEqual([{ action: "project.member.add", actorId: admin.id, details: { before: null, after: { role: "REVIEWER" } } }]);
    expect(ctx.audit.count).toBe(3);
  });

  it("creates nothing when one of the projects is not the admin's (NOT_FOUND) or the role is not allowed", async () => {
    const admin = await createTestUser("ADMIN");
    const other = await createTestUser("DATA_SCIENTIST");
    const mine = await createTestProject({ memberIds: [admin.id], cases: 1 });
    const foreign = await createTestProject({ memberIds: [other.id], cases: 1 });
    const ctx = createServiceContext(db, admin);
    const email = uniqueEmail("nothing");
    const projects = [
      { projectId: mine.projectId, role: "CLINICIAN" as const },
      { projectId: foreign.projectId, role: "CLINICIAN" as const },
    ];
    expect((await refusal(createUser(ctx, { email, name: "Nobody", role: "CLINICIAN", initialPassword: "", projects }))).kind).toBe("NOT_FOUND");
    expect(await refusal(createUser(ctx, { email, name: "Nobody", role: "CLINICIAN", initialPassword: "", projects: [{ projectId: mine.projectId, role: "ADMIN" }] }))).toMatchObject({ kind: "BAD_INPUT", field: "projects" });
    expect(await db.user.findUnique({ where: { email } })).toBeNull();
    expect(ctx.audit.count).toBe(0);
  });
});
