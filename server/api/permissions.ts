/**
 * THE permission matrix: who may call each tRPC procedure. A procedure is built from its entry
 * here (server/api/trpc.ts `procedure(path)`), and a table-driven test calls every procedure of
 * the router as every role and anonymously against this table, so a procedure added without an
 * entry, or enforcing something else than its entry, fails the test suite.
 */
import type { RoleName } from "@/contracts/roles";

export type Access = "public" | "signed-in" | readonly RoleName[];

export const PERMISSIONS = {
  "health.ping": "public",
  "me.get": "signed-in",
  "projects.listMine": "signed-in",
  "models.listMine": ["REVIEWER", "DATA_SCIENTIST", "ADMIN"],
  "queue.summary": ["CLINICIAN", "ADMIN"],
  "queue.mine": ["CLINICIAN", "ADMIN"],
  "queue.project": ["CLINICIAN", "ADMIN"],
  "queue.upcoming": ["CLINICIAN", "ADMIN"],
  "queue.next": ["CLINICIAN", "ADMIN"],
  "queue.skip": ["CLINICIAN", "ADMIN"],
  "annotations.case": ["CLINICIAN", "ADMIN"],
  "annotations.saveDraft": ["CLINICIAN", "ADMIN"],
  "annotations.submit": ["CLINICIAN", "ADMIN"],
  "users.list": ["ADMIN"],
  "users.create": ["ADMIN"],
  "users.setRole": ["ADMIN"],
  "users.setActive": ["ADMIN"],
  "users.resetPassword": ["ADMIN"],
  "audit.list": ["ADMIN"],
  // The loop: a project's background jobs, the retrain button, a case's prediction (members only; shown only if the project allows).
  "jobs.list": ["DATA_SCIENTIST", "REVIEWER", "ADMIN"],
  "jobs.requestTraining": ["DATA_SCIENTIST", "ADMIN"],
  "predictions.forCase": "signed-in",
  // Import batches of a project (uploads and exports are route handlers that call the same services).
  "imports.listBatches": ["DATA_SCIENTIST", "ADMIN"],
  // Model review (REVIEWER decides; ADMIN may view) and selection statistics (DATA_SCIENTIST, ADMIN).
  "review.list": ["REVIEWER", "DATA_SCIENTIST", "ADMIN"],
  "review.get": ["REVIEWER", "ADMIN"],
  "review.decide": ["REVIEWER"],
  "selectionStats.projects": ["DATA_SCIENTIST", "ADMIN"],
  "selectionStats.get": ["DATA_SCIENTIST", "ADMIN"],
  "selectionStats.startSimulation": ["DATA_SCIENTIST", "ADMIN"],
  "selectionStats.simulation": ["DATA_SCIENTIST", "ADMIN"],
  "selectionStats.simulations": ["DATA_SCIENTIST", "ADMIN"],
} as const satisfies Record<string, Access>;

export type ProcedurePath = keyof typeof PERMISSIONS;

export function isAllowed(access: Access, role: RoleName | null): boolean {
  if (access === "public") return true;
  if (role === null) return false;
  if (access === "signed-in") return true;
  return access.includes(role);
}
