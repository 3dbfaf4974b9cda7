/**
 * Members of a project and their project roles (ProjectMember.role), for callers with the project
 * permission "members.manage" (contracts/permissions.ts), and "who to ask" for a user in no project.
 *
 * Rules: anyone can be CLINICIAN, DATA_SCIENTIST or REVIEWER in a project; ADMIN only a platform
 * admin. The last active member who can manage members cannot be removed or lose that role (the
 * project would be left with nobody to add people). Every change is audited in its own transaction
 * with before/after ("project.member.add" / ".set-role" / ".remove"); changes of one project are
 * serialised by an advisory lock, so two managers demoting each other cannot both pass the guard.
 */
import { can, PROJECT_PERMISSIONS } from "@/contracts/permissions";
import type { AddMemberInput, JoinAsAdminInput, MembersListInput, RemoveMemberInput, SetMemberRoleInput } from "@/contracts/members";
import { ROLE_LABELS, type RoleName } from "@/contracts/roles";
import type { Role } from "../db/client";
import {
  countActiveMembersWithRole,
  deleteProjectMember,
  findProjectForMembership,
  findProjectMember,
  hasAnyMembership,
  insertProjectMember,
  listActiveNonMembers,
  listAllProjectsWithManagers,
  listPeopleWhoCanAddMembers,
  listProjectMembers,
  lockProjectMembership,
  updateProjectMemberRole,
} from "../db/members-repo";
import type { DbOrTx } from "../db/tx";
import { findUserById } from "../db/users-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { requireActor, requireProject } from "./project-access";

/** Project roles that may manage members (from the permission matrix, not a copy). */
const MANAGER_ROLES: readonly RoleName[] = PROJECT_PERMISSIONS["members.manage"];
const canManage = (role: RoleName) => MANAGER_ROLES.includes(role);

/** ADMIN in a project is for platform admins only; the message names the field "role". */
export function assertRoleAllowedFor(platformRole: RoleName, projectRole: RoleName, field = "role"): void {
  if (projectRole === "ADMIN" && platformRole !== "ADMIN") {
    throw new DomainError("BAD_INPUT", "Only platform admins can have the Admin role in a project; choose Clinician, Data scientist or Reviewer.", { field });
  }
}

/** The members of a project and the active users who could be added. */
export async function listMembers(ctx: ServiceContext, input: MembersListInput) {
  const { project, archived } = await requireProject(ctx, input.projectId, "members.manage");
  const [members, candidates] = await Promise.all([listProjectMembers(ctx.db, project.id), listActiveNonMembers(ctx.db, project.id)]);
  return {
    projectId: project.id,
    projectName: project.name,
    archived,
    managerRoles: MANAGER_ROLES,
    members: members.map((m) => ({
      userId: m.user.id,
      name: m.user.name,
      email: m.user.email,
      role: m.role as RoleName,
      platformRole: m.user.role as RoleName,
      active: m.user.active,
      since: m.createdAt.toISOString(),
    })),
    candidates: candidates.map((u) => ({ id: u.id, name: u.name, email: u.email, platformRole: u.role as RoleName })),
  };
}

/** Refuses when `userId` is the project's last active member who can manage members. */
async function assertNotLastManager(tx: DbOrTx, projectId: string, member: { role: Role; user: { active: boolean; name: string } }, change: string, field?: string) {
  if (!member.user.active || !canManage(member.role as RoleName)) return;
  if ((await countActiveMembersWithRole(tx, projectId, MANAGER_ROLES as Role[])) <= 1) {
    throw new DomainError(
      "CONFLICT",
      `Cannot ${change} ${member.user.name}: they are the last member who can manage this project's members. Give someone else the ${MANAGER_ROLES.map((r) => ROLE_LABELS[r]).join(" or ")} role first.`,
      field ? { field } : undefined,
    );
  }
}

/** Adds an active user to the project with a project role. Errors: BAD_INPUT (no such active user, ADMIN for a non-admin), CONFLICT (already a member). */
export async function addMember(ctx: ServiceContext, input: AddMemberInput) {
  const { project } = await requireProject(ctx, input.projectId, "members.manage", { write: true });
  const user = await findUserById(ctx.db, input.userId);
  if (!user || !user.active) throw new DomainError("BAD_INPUT", "Choose an active user.", { field: "userId" });
  assertRoleAllowedFor(user.role, input.role);
  return ctx.db.$transaction(async (tx) => {
    await lockProjectMembership(tx, project.id);
    if (await findProjectMember(tx, project.id, user.id)) throw new DomainError("CONFLICT", `${user.name} is already a member of this project.`, { field: "userId" });
    await insertProjectMember(tx, project.id, user.id, input.role);
    await ctx.audit.record(tx, { action: "project.member.add", targetType: "User", targetId: user.id, projectId: project.id, details: { before: null, after: { role: input.role } } });
    return { userId: user.id, role: input.role };
  });
}

/** Changes a member's project role. Errors: NOT_FOUND (not a member), BAD_INPUT (ADMIN for a non-admin), CONFLICT (last manager). */
export async function setMemberRole(ctx: ServiceContext, input: SetMemberRoleInput) {
  const { project } = await requireProject(ctx, input.projectId, "members.manage", { write: true });
  return ctx.db.$transaction(async (tx) => {
    await lockProjectMembership(tx, project.id);
    const member = await findProjectMember(tx, project.id, input.userId);
    if (!member) throw new DomainError("NOT_FOUND", "No such member.");
    assertRoleAllowedFor(member.user.role, input.role);
    if (member.role !== input.role) {
      if (!canManage(input.role)) await assertNotLastManager(tx, project.id, member, "change the role of", "role");
      await updateProjectMemberRole(tx, project.id, input.userId, input.role);
    }
    await ctx.audit.record(tx, {
      action: "project.member.set-role",
      targetType: "User",
      targetId: input.userId,
      projectId: project.id,
      details: { before: { role: member.role }, after: { role: input.role } },
    });
    return { userId: input.userId, role: input.role };
  });
}

/** Removes a member (their annotations and history stay). Errors: NOT_FOUND (not a member), CONFLICT (last manager). */
export async function removeMember(ctx: ServiceContext, input: RemoveMemberInput) {
  const { project } = await requireProject(ctx, input.projectId, "members.manage", { write: true });
  return ctx.db.$transaction(async (tx) => {
    await lockProjectMembership(tx, project.id);
    const member = await findProjectMember(tx, project.id, input.userId);
    if (!member) throw new DomainError("NOT_FOUND", "No such member.");
    await assertNotLastManager(tx, project.id, member, "remove");
    await deleteProjectMember(tx, project.id, input.userId);
    await ctx.audit.record(tx, { action: "project.member.remove", targetType: "User", targetId: input.userId, projectId: project.id, details: { before: { role: member.role }, after: null } });
    return { userId: input.userId, removed: true as const };
  });
}

/**
 * For the overview page: whether the caller is in any project, and if not, who can add them —
 * the active people who actually can: platform admins and members who manage members
 * ("members.manage") of a project that is not archived — with name, e-mail, platform role and the
 * projects they manage — and whether the caller may create a project themselves (platform
 * permission "projects.create").
 */
export async function whoToAsk(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  const canCreateProjects = can(actor.role, "projects.create");
  if (await hasAnyMembership(ctx.db, actor.id)) return { inAnyProject: true, canCreateProjects, contacts: [] };
  const people = await listPeopleWhoCanAddMembers(ctx.db, MANAGER_ROLES as Role[]);
  return {
    inAnyProject: false,
    canCreateProjects,
    contacts: people
      .filter((p) => p.id !== actor.id)
      .map((p) => ({ name: p.name, email: p.email, role: p.role as RoleName, manages: p.memberships.map((m) => m.project.name) })),
  };
}

function requireAdministrator(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  if (!can(actor.role, "projects.administer")) throw new DomainError("FORBIDDEN", "Only platform admins see every project.");
  return actor;
}

/**
 * Every project of the platform for a platform admin ("projects.administer"): name, description,
 * case content, archived, case and member counts, who manages its members (active members with a
 * "members.manage" role: name, e-mail, role) and the caller's own role there (null: not a member —
 * `joinProjectAsAdmin` lets them in).
 */
export async function listAllProjects(ctx: ServiceContext) {
  const actor = requireAdministrator(ctx);
  const rows = await listAllProjectsWithManagers(ctx.db, MANAGER_ROLES as Role[], actor.id);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    description: row.description,
    caseContent: row.caseContent,
    archived: row.archivedAt !== null,
    cases: row._count.cases,
    members: row._count.members,
    yourRole: (row.members.find((m) => m.userId === actor.id)?.role ?? null) as RoleName | null,
    managers: row.members.filter((m) => canManage(m.role as RoleName)).map((m) => ({ name: m.user.name, email: m.user.email, role: m.role as RoleName })),
  }));
}

/**
 * A platform admin joins a project as its Admin ("projects.administer"), audited as
 * "project.member.add" with `via: "admin-join"`; from then on the front door treats them as any
 * member with that role. Allowed on an archived project too (the way in to unarchive it).
 * Errors: NOT_FOUND (no such project), CONFLICT (already a member).
 */
export async function joinProjectAsAdmin(ctx: ServiceContext, input: JoinAsAdminInput) {
  const actor = requireAdministrator(ctx);
  const project = await findProjectForMembership(ctx.db, input.projectId);
  if (!project) throw new DomainError("NOT_FOUND", "No such project.");
  return ctx.db.$transaction(async (tx) => {
    await lockProjectMembership(tx, project.id);
    const existing = await findProjectMember(tx, project.id, actor.id);
    if (existing) throw new DomainError("CONFLICT", `You are already a member of "${project.name}" (${ROLE_LABELS[existing.role as RoleName]}).`);
    await insertProjectMember(tx, project.id, actor.id, "ADMIN");
    await ctx.audit.record(tx, { action: "project.member.add", targetType: "User", targetId: actor.id, projectId: project.id, details: { before: null, after: { role: "ADMIN" }, via: "admin-join" } });
    return { projectId: project.id, role: "ADMIN" as const };
  });
}
