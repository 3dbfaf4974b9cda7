/**
 * THE front door to a project. Every service that acts in a project on behalf of a user starts with
 * `requireProject(ctx, projectId, permission)`:
 *   1. one query finds the project where the caller is a member (membership in the where-clause:
 *      a non-member and a missing project both get NOT_FOUND "No such project.", so a non-member
 *      learns nothing);
 *   2. the member's role in that project (ProjectMember.role) is checked against
 *      contracts/permissions.ts PROJECT_PERMISSIONS (FORBIDDEN naming what was refused);
 *   3. a write on an archived project is refused (CONFLICT: archived projects are read-only);
 *   4. the configuration is parsed once (contracts/project-config.ts parseStoredProjectConfig) — once per process
 *      for a frozen row (annotations-repo.ts projectOfRow's copy of a project version; the config is frozen too);
 *   5. the context is marked, so the API layer can refuse a project procedure whose service never
 *      came through here (server/api/trpc.ts).
 * A caller who must still replace a printed or temporary password (Actor.mustChangePassword) is
 * refused by `requireActor` before any of it (FORBIDDEN MUST_CHANGE_PASSWORD_MESSAGE): the one
 * check behind every project procedure and the REST routes (upload, export, images) alike.
 * The system (worker jobs, the CLI without --as) has no member role: `requireProjectAsSystem`.
 * A service whose own one query already read the caller's membership with the project (the case view,
 * autosave and submit: annotations-repo findCaseForMember) passes that row to `admitToProject`, which runs
 * steps 2–5 — the same door without a second query (issue 16).
 */
import { PROJECT_PERMISSIONS, type ProjectPermission } from "@/contracts/permissions";
import { parseStoredProjectConfig, ProjectConfigError, type ProjectConfig } from "@/contracts/project-config";
import type { RoleName } from "@/contracts/roles";
import { findProjectForSystem, findProjectMembership, listMembershipRoles } from "../db/projects-repo";
import { DomainError } from "../errors";
import { MUST_CHANGE_PASSWORD_MESSAGE } from "../http-guards";
import { logger } from "../log";
import type { Actor, ServiceContext } from "./context";

/** The project row as the front door returns it (JSON columns raw; use `config` for their parsed form). */
export type ProjectRow = NonNullable<Awaited<ReturnType<typeof findProjectForSystem>>>;

export interface ProjectAccess {
  project: ProjectRow;
  config: ProjectConfig;
  /** The caller's role in this project. */
  role: RoleName;
  archived: boolean;
}

export interface ProjectAccessOptions {
  /** The call changes the project's data: refused on an archived project. */
  write?: boolean;
}

/** What each permission lets a member do, for the FORBIDDEN message. */
const DOING: Record<ProjectPermission, string> = {
  "project.view": "see this project",
  "project.configure": "change this project's configuration",
  "members.manage": "manage this project's members",
  "cases.browse": "browse this project's cases",
  "labels.agreement": "see this project's label agreement",
  "labels.adjudicate": "adjudicate this project's labels",
  "labels.gold": "manage this project's gold cases",
  "cases.manage": "change this project's cases",
  "cases.import": "import cases",
  "labels.export": "export labels",
  annotate: "annotate",
  "images.read": "see this project's images",
  "predictions.view": "see predictions",
  "models.list": "see this project's models",
  "models.review": "review models",
  "models.decide": "approve or reject models",
  "selection.view": "see selection statistics",
  "selection.simulate": "run simulations",
  "jobs.view": "see this project's jobs",
  "jobs.train": "start training",
};

export const NO_SUCH_PROJECT = "No such project.";
export const ARCHIVED_READ_ONLY = "This project is archived and read-only.";

/** The permissions each service context was checked for (the API layer compares them with its matrix entry). */
const checked = new WeakMap<ServiceContext, Set<ProjectPermission | "system">>();

function markChecked(ctx: ServiceContext, permission: ProjectPermission | "system"): void {
  const set = checked.get(ctx) ?? new Set();
  set.add(permission);
  checked.set(ctx, set);
}

/**
 * Whether a service call on `ctx` came through the front door for `permission` (requireProject or
 * memberProjectIds); without `permission`, for any permission (or as the system).
 */
export function projectAccessChecked(ctx: ServiceContext, permission?: ProjectPermission): boolean {
  const set = checked.get(ctx);
  if (!set) return false;
  return permission === undefined ? set.size > 0 : set.has(permission);
}

/**
 * The signed-in caller, or UNAUTHORIZED; FORBIDDEN (MUST_CHANGE_PASSWORD_MESSAGE) while the caller
 * must still replace a printed or temporary password (User.mustChangePassword) — tRPC lets such a
 * caller reach only me.get and account.changePassword, which never come here.
 */
export function requireActor(ctx: ServiceContext): Actor {
  if (!ctx.actor) throw new DomainError("UNAUTHORIZED", "Sign in first.");
  if (ctx.actor.mustChangePassword) throw new DomainError("FORBIDDEN", MUST_CHANGE_PASSWORD_MESSAGE);
  return ctx.actor;
}

/** The configuration of each frozen project row (annotations-repo.ts projectOfRow keeps one per project version): parsed once. */
const frozenConfigs = new WeakMap<ProjectRow, ProjectConfig>();

function parseConfig(project: ProjectRow): ProjectConfig {
  try {
    if (!Object.isFrozen(project)) return parseStoredProjectConfig(project);
    let config = frozenConfigs.get(project);
    if (!config) frozenConfigs.set(project, (config = deepFreeze(parseStoredProjectConfig(project))));
    return config;
  } catch (error) {
    if (error instanceof ProjectConfigError) {
      // The detail is for the operator; the caller gets a message without internal field dumps.
      logger.error("stored project configuration is invalid", { projectId: project.id, error: error.message });
      throw new DomainError("CONFLICT", "This project's stored configuration is invalid; ask a data scientist to fix it in the project settings.");
    }
    throw error;
  }
}

/** `value` and everything in it frozen: a configuration shared by every call on its project's row. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * The project `projectId` as the signed-in caller may use it for `permission`.
 * @throws DomainError UNAUTHORIZED (no caller), NOT_FOUND "No such project." (missing or not a member),
 *   FORBIDDEN "Your role in this project may not …" (role lacks the permission), CONFLICT (write on an
 *   archived project, or a stored configuration that does not parse).
 */
export async function requireProject(ctx: ServiceContext, projectId: string, permission: ProjectPermission, opts: ProjectAccessOptions = {}): Promise<ProjectAccess> {
  const actor = requireActor(ctx);
  const found = typeof projectId === "string" && projectId.length > 0 ? await findProjectMembership(ctx.db, projectId, actor.id) : null;
  return admitToProject(ctx, found, permission, opts);
}

/**
 * The checks of requireProject (steps 2–5) on a membership row the caller's own query already read — the
 * caller's membership of a project with its front-door columns, or null — so a service that finds a case
 * together with that membership (annotations-repo findCaseForMember: one statement for case, membership
 * and project, issue 16) goes through the same door without a second query.
 * @throws DomainError as requireProject
 */
export function admitToProject(ctx: ServiceContext, found: { role: RoleName; project: ProjectRow } | null, permission: ProjectPermission, opts: ProjectAccessOptions = {}): ProjectAccess {
  requireActor(ctx);
  if (!found) throw new DomainError("NOT_FOUND", NO_SUCH_PROJECT);
  const allowed: readonly RoleName[] = PROJECT_PERMISSIONS[permission];
  if (!allowed.includes(found.role)) throw new DomainError("FORBIDDEN", `Your role in this project may not ${DOING[permission]}.`);
  const archived = found.project.archivedAt !== null;
  if (opts.write && archived) throw new DomainError("CONFLICT", ARCHIVED_READ_ONLY);
  const config = parseConfig(found.project);
  markChecked(ctx, permission);
  return { project: found.project, config, role: found.role, archived };
}

/**
 * The project for a system action (a worker job, the CLI without --as): no member, no role check.
 * Refused when the context has a signed-in caller — they go through `requireProject`.
 * @throws DomainError NOT_FOUND, CONFLICT (write on an archived project / invalid stored configuration)
 */
export async function requireProjectAsSystem(ctx: ServiceContext, projectId: string, opts: ProjectAccessOptions = {}): Promise<Omit<ProjectAccess, "role"> & { role: null }> {
  if (ctx.actor) throw new Error("requireProjectAsSystem is for system actions; a signed-in caller goes through requireProject");
  const project = await findProjectForSystem(ctx.db, projectId);
  if (!project) throw new DomainError("NOT_FOUND", NO_SUCH_PROJECT);
  const archived = project.archivedAt !== null;
  if (opts.write && archived) throw new DomainError("CONFLICT", ARCHIVED_READ_ONLY);
  const config = parseConfig(project);
  markChecked(ctx, "system");
  return { project, config, role: null, archived };
}

/**
 * The caller's projects in which their role grants `permission` (lists across projects: the models
 * list, the queue overview, …), with that role. Membership and role come from one query.
 * @param opts.includeArchived archived projects too (default false: they are out of every queue)
 */
export async function memberProjectRoles(ctx: ServiceContext, permission: ProjectPermission, opts: { includeArchived?: boolean } = {}): Promise<Map<string, RoleName>> {
  const actor = requireActor(ctx);
  const allowed: readonly RoleName[] = PROJECT_PERMISSIONS[permission];
  const rows = await listMembershipRoles(ctx.db, actor.id);
  markChecked(ctx, permission);
  return new Map(rows.filter((row) => allowed.includes(row.role) && (opts.includeArchived || !row.archived)).map((row) => [row.projectId, row.role]));
}

/** The ids of `memberProjectRoles`. */
export async function memberProjectIds(ctx: ServiceContext, permission: ProjectPermission, opts: { includeArchived?: boolean } = {}): Promise<string[]> {
  return [...(await memberProjectRoles(ctx, permission, opts)).keys()];
}
