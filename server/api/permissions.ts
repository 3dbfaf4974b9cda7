/**
 * THE tRPC permission matrix: who may call each procedure. A procedure is built from its entry
 * here (server/api/trpc.ts `procedure(path)`), and a table-driven test calls every procedure of
 * the router as every role and anonymously against this table, so a procedure added without an
 * entry, or enforcing something else than its entry, fails the test suite.
 *
 * An entry is one of:
 * - "public", "signed-in", or a list of PLATFORM roles (User.role): checked before the input is read;
 * - `{ project: permission }`: a procedure acting in ONE project. The caller must be signed in;
 *   the service's front door (server/services/project-access.ts `requireProject`) checks
 *   membership and the caller's role IN THAT PROJECT against contracts/permissions.ts, so a
 *   non-member gets NOT_FOUND whatever their role. The factory refuses a call whose service never
 *   checked that permission;
 * - `{ memberOf: permission }`: a list across the caller's projects, filtered to those where their
 *   project role grants the permission (`memberProjectIds`); also verified by the factory.
 */
import type { ProjectPermission } from "@/contracts/permissions";
import type { RoleName } from "@/contracts/roles";

export type Access = "public" | "signed-in" | readonly RoleName[] | { project: ProjectPermission } | { memberOf: ProjectPermission };

export const PERMISSIONS = {
  "health.ping": "public",
  "me.get": "signed-in",
  "projects.listMine": { memberOf: "project.view" },
  "models.listMine": { memberOf: "models.list" },
  "queue.summary": { memberOf: "annotate" },
  "queue.mine": { memberOf: "annotate" },
  "queue.project": { project: "annotate" },
  "queue.upcoming": { project: "annotate" },
  "queue.next": { project: "annotate" },
  "queue.skip": { project: "annotate" },
  "annotations.case": { project: "annotate" },
  "annotations.saveDraft": { project: "annotate" },
  "annotations.submit": { project: "annotate" },
  "users.list": ["ADMIN"],
  "users.create": ["ADMIN"],
  "users.setRole": ["ADMIN"],
  "users.setActive": ["ADMIN"],
  "users.resetPassword": ["ADMIN"],
  // One's own account (allowed while a printed password must still be changed, see trpc.ts).
  "account.changePassword": "signed-in",
  // Members of a project and their project roles; who a user in no project can ask.
  "members.list": { project: "members.manage" },
  "members.add": { project: "members.manage" },
  "members.setRole": { project: "members.manage" },
  "members.remove": { project: "members.manage" },
  "members.whoToAsk": "signed-in",
  // Platform admins (PLATFORM_PERMISSIONS "projects.administer"): every project, and joining one as its Admin.
  "members.allProjects": ["ADMIN"],
  "members.joinAsAdmin": ["ADMIN"],
  // Project settings: selection and loop, encoder (MODELS_DIR listing, try-it, save + re-embed).
  "projectSettings.selection": { project: "project.configure" },
  "projectSettings.updateSelection": { project: "project.configure" },
  "encoder.get": { project: "project.configure" },
  "encoder.models": { project: "project.configure" },
  "encoder.tryIt": { project: "project.configure" },
  "encoder.update": { project: "project.configure" },
  "audit.list": ["ADMIN"],
  // The loop: a project's background jobs, the retrain button, a case's prediction (shown only if the project allows).
  "jobs.list": { project: "jobs.view" },
  "jobs.requestTraining": { project: "jobs.train" },
  "predictions.forCase": { project: "predictions.view" },
  // Import batches of a project (uploads and exports are route handlers that call the same front door).
  "imports.listBatches": { project: "cases.import" },
  // Model review (REVIEWER decides; ADMIN may view) and selection statistics (DATA_SCIENTIST, ADMIN).
  "review.list": { memberOf: "models.list" },
  "review.get": { project: "models.review" },
  "review.decide": { project: "models.decide" },
  "selectionStats.projects": { memberOf: "selection.view" },
  "selectionStats.get": { project: "selection.view" },
  "selectionStats.startSimulation": { project: "selection.simulate" },
  "selectionStats.simulation": { project: "selection.view" },
  "selectionStats.simulations": { project: "selection.view" },
  // Label quality (issue 14): inter-annotator agreement for DATA_SCIENTIST/REVIEWER/ADMIN.
  "agreement.get": { project: "labels.agreement" },
  "agreement.adjudicationQueue": { project: "labels.adjudicate" },
  "agreement.adjudicate": { project: "labels.adjudicate" },
  "agreement.requestAdjudication": { project: "labels.adjudicate" },
  // Gold cases (issue 14): marking and the per-annotator gold accuracy, for DATA_SCIENTIST/ADMIN.
  "gold.mark": { project: "labels.gold" },
  "gold.unmark": { project: "labels.gold" },
  "gold.list": { project: "labels.gold" },
  "gold.report": { project: "labels.gold" },
  // The case browser: every case for DATA_SCIENTIST/REVIEWER/ADMIN; cases.get also lets a member open a case they annotated (checked in the service).
  "cases.list": { project: "cases.browse" },
  "cases.count": { project: "cases.browse" },
  "cases.options": { project: "cases.browse" },
  "cases.get": { project: "project.view" },
  "cases.move": { project: "cases.manage" },
  "cases.prioritize": { project: "cases.manage" },
  "cases.unprioritize": { project: "cases.manage" },
  // Creating projects (platform role, PLATFORM_PERMISSIONS "projects.create") and configuring one (role in the project).
  "projectAdmin.create": ["DATA_SCIENTIST", "ADMIN"],
  "projectAdmin.get": { project: "project.view" },
  "projectAdmin.update": { project: "project.configure" },
  "projectAdmin.labelUsage": { project: "project.configure" },
  "projectAdmin.updateLabels": { project: "project.configure" },
  "projectAdmin.setArchived": { project: "project.configure" },
  "projectAdmin.exportConfig": { project: "project.view" },
} as const satisfies Record<string, Access>;

export type ProcedurePath = keyof typeof PERMISSIONS;

/** Whether the platform-level gate lets `role` (null: anonymous) through; project entries only need a caller. */
export function isAllowed(access: Access, role: RoleName | null): boolean {
  if (access === "public") return true;
  if (role === null) return false;
  if (access === "signed-in") return true;
  if ("project" in access || "memberOf" in access) return true;
  return access.includes(role);
}

/** The project permission a project-scoped entry stands for (null for platform entries). */
export function projectPermissionOf(access: Access): ProjectPermission | null {
  if (typeof access === "object" && "project" in access) return access.project;
  if (typeof access === "object" && "memberOf" in access) return access.memberOf;
  return null;
}

/**
 * The REST routes outside tRPC (files up and down) and the project permission each one's service
 * checks through the same front door. Every route under app/api except auth and trpc must be listed
 * (server/api/permissions.int.test.ts scans the folder and calls each as every project role).
 */
export const ROUTE_PERMISSIONS = {
  "POST /api/projects/[projectId]/import": "cases.import",
  "POST /api/projects/[projectId]/export": "labels.export",
  "GET /api/images/[imageId]": "images.read",
} as const satisfies Record<string, ProjectPermission>;

export type RoutePath = keyof typeof ROUTE_PERMISSIONS;
