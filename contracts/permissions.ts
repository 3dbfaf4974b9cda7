/**
 * Who may do what — THE role tables. Inside a project the member's role there
 * (`ProjectMember.role`) is checked against PROJECT_PERMISSIONS by the front door
 * (server/services/project-access.ts `requireProject`); the platform role (`User.role`) is checked
 * against PLATFORM_PERMISSIONS for what lives outside any project. The tRPC matrix
 * (server/api/permissions.ts), the REST routes, page gates and the navigation all name a
 * permission from here instead of repeating role lists.
 */
import { ROLES, type RoleName } from "./roles";

const EVERY_MEMBER = ROLES;

/** What a member may do in a project, by their role in that project. */
export const PROJECT_PERMISSIONS = {
  /** See the project, its overview and counts. */
  "project.view": EVERY_MEMBER,
  /** Edit name, label schema, minority classes, selection/loop settings, encoder; archive. */
  "project.configure": ["DATA_SCIENTIST", "ADMIN"],
  /** Add and remove members, set their project role. */
  "members.manage": ["DATA_SCIENTIST", "ADMIN"],
  /** The case browser: every case read-only with images, history and predictions. */
  "cases.browse": ["DATA_SCIENTIST", "REVIEWER", "ADMIN"],
  /** Bulk actions on cases (split, priority into the next round). */
  "cases.manage": ["DATA_SCIENTIST", "ADMIN"],
  /** Upload cases (CSV/JSONL/DICOM/zip). */
  "cases.import": ["DATA_SCIENTIST", "ADMIN"],
  /** Download the labels with provenance. */
  "labels.export": ["DATA_SCIENTIST", "REVIEWER", "ADMIN"],
  /** The queue: lease, draft, submit, skip. */
  annotate: ["CLINICIAN", "ADMIN"],
  /** Image bytes of the project's cases (the case view and the case browser). */
  "images.read": EVERY_MEMBER,
  /** The active model's prediction for a case (shown only when settings.showPredictions). */
  "predictions.view": EVERY_MEMBER,
  /** List model versions with their metrics. */
  "models.list": ["REVIEWER", "DATA_SCIENTIST", "ADMIN"],
  /** Open a candidate beside the active model. */
  "models.review": ["REVIEWER", "ADMIN"],
  /** Approve or reject a candidate. */
  "models.decide": ["REVIEWER"],
  /** Selection statistics and what-if simulations. */
  "selection.view": ["DATA_SCIENTIST", "ADMIN"],
  "selection.simulate": ["DATA_SCIENTIST", "ADMIN"],
  /** Label quality: inter-annotator agreement (issue 14). */
  "labels.agreement": ["DATA_SCIENTIST", "REVIEWER", "ADMIN"],
  /** Adjudication: see the queue, send a case to it, record the final label with a reason. */
  "labels.adjudicate": ["REVIEWER", "ADMIN"],
  /** Gold cases: mark cases with a known answer, see each annotator's accuracy on them (issue 14). */
  "labels.gold": ["DATA_SCIENTIST", "ADMIN"],
  /** The project's background jobs and their progress. */
  "jobs.view": ["DATA_SCIENTIST", "REVIEWER", "ADMIN"],
  /** "Retrain now". */
  "jobs.train": ["DATA_SCIENTIST", "ADMIN"],
} as const satisfies Record<string, readonly RoleName[]>;

export type ProjectPermission = keyof typeof PROJECT_PERMISSIONS;
export const PROJECT_PERMISSION_NAMES = Object.keys(PROJECT_PERMISSIONS) as ProjectPermission[];

/** What a user may do outside any project, by their platform role (User.role). */
export const PLATFORM_PERMISSIONS = {
  "projects.create": ["DATA_SCIENTIST", "ADMIN"],
  /**
   * See every project of the platform (name, state, who manages it) and join one as its Admin, so
   * an admin can help a team; inside the project the project role then decides, as for anyone.
   */
  "projects.administer": ["ADMIN"],
  "users.manage": ["ADMIN"],
  "audit.view": ["ADMIN"],
} as const satisfies Record<string, readonly RoleName[]>;

export type PlatformPermission = keyof typeof PLATFORM_PERMISSIONS;

/** Whether `role` grants `permission` (a project permission for a project role, a platform one for a platform role). */
export function can(role: RoleName | null | undefined, permission: ProjectPermission | PlatformPermission): boolean {
  if (!role) return false;
  const roles: readonly RoleName[] = permission in PROJECT_PERMISSIONS ? PROJECT_PERMISSIONS[permission as ProjectPermission] : PLATFORM_PERMISSIONS[permission as PlatformPermission];
  return roles.includes(role);
}

/** Whether any of `roles` (e.g. the platform role plus every project role of a user) grants `permission`. */
export function canAny(roles: readonly RoleName[], permission: ProjectPermission | PlatformPermission): boolean {
  return roles.some((role) => can(role, permission));
}

/** The roles that hold `permission`. */
export function rolesFor(permission: ProjectPermission | PlatformPermission): readonly RoleName[] {
  return permission in PROJECT_PERMISSIONS ? PROJECT_PERMISSIONS[permission as ProjectPermission] : PLATFORM_PERMISSIONS[permission as PlatformPermission];
}
