/**
 * Shared by the access tests (server/api/permissions.int.test.ts, cross-project-access.int.test.ts):
 * a project holding one of everything a procedure or route can name (case, image, model version,
 * prediction, round, job run), a valid input for every project-scoped procedure, and the service
 * call behind every REST route. With valid inputs only membership and the project role can refuse.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { RoleName } from "@/contracts/roles";
import { TEST_LABEL_SCHEMA, createTestProject } from "./project-fixtures";
import { createTestUser, testDb } from "./fixtures";
import type { Actor } from "../services/context";
import { createServiceContext } from "../services/context";
import { exportLabels } from "../services/export-service";
import { readImageForMember } from "../services/image-service";
import { assertCanImport } from "../services/import-service";
import { DomainError } from "../errors";
import { deidentifyDicom } from "../import/deidentify-dicom";
import { createLocalBlobStore } from "../storage/blob-store";
import type { RoutePath } from "../api/permissions";

export interface AccessIds {
  projectId: string;
  caseId: string;
  modelVersionId: string;
  jobRunId: string;
  imageId: string;
  /** A signed-up user who is not a member (members.add/setRole/remove name them). */
  spareUserId: string;
}

/**
 * A project with the given members (each with a project role) and one of every id-named thing: a
 * DICOM image on the first case, a CANDIDATE model with a prediction, a cold-start round over every
 * case, a finished simulation run. Predictions are shown (settings.showPredictions).
 */
export async function seedAccessProject(members: { userId: string; role: RoleName }[], storageDir: string, label: string): Promise<AccessIds> {
  const db = testDb();
  const { projectId, caseIds } = await createTestProject({ memberIds: [], members, cases: 6, settings: { showPredictions: true } });
  const caseId = caseIds[0]!;
  // Stored as an import stores it in a project that does not keep identifiers: de-identified, with the record
  // (image-service.ts refuses a DICOM image without it).
  const uploaded = new Uint8Array(fs.readFileSync(path.resolve(import.meta.dirname, "../../../shared/data/dicom/CT_small.dcm")));
  const bytes = deidentifyDicom(uploaded, { secret: `access-${label}` }).bytes;
  const key = `images/${label}/${crypto.randomBytes(8).toString("hex")}.dcm`;
  await createLocalBlobStore(storageDir).put(key, bytes);
  const image = await db.caseImage.create({ data: { caseId, storageKey: key, mimeType: "application/dicom", sha256: crypto.createHash("sha256").update(bytes).digest("hex"), attributes: { deidentified: true } } });
  const model = await db.modelVersion.create({ data: { projectId, version: 1, status: "CANDIDATE", encoderVersion: "builtin", metrics: {}, trainingSnapshot: {}, params: {} } });
  await db.prediction.create({ data: { caseId, modelVersionId: model.id, probabilities: [0.05, 0.05, 0.9], predictedLabel: "suspicious", confidence: 0.9 } });
  const round = await db.selectionRound.create({ data: { projectId, number: 1, strategy: "random", coldStart: true } });
  await db.queueItem.createMany({ data: caseIds.map((id, rank) => ({ roundId: round.id, caseId: id, rank })) });
  const job = await db.jobRun.create({ data: { projectId, kind: "simulate", status: "SUCCEEDED", percent: 100, result: {} } });
  const spare = await createTestUser("CLINICIAN");
  return { projectId, caseId, modelVersionId: model.id, jobRunId: job.id, imageId: image.id, spareUserId: spare.id };
}

/** One member of `seedAccessProject`'s project per project role, each with ANOTHER platform role (so only the project role can explain an outcome). */
export async function createMembersWithProjectRoles(roles: readonly RoleName[]): Promise<Map<RoleName, Actor>> {
  const out = new Map<RoleName, Actor>();
  for (const [i, role] of roles.entries()) out.set(role, await createTestUser(roles[(i + 1) % roles.length]!));
  return out;
}

const content = { labels: ["suspicious"], spans: [], uncertain: false, comment: "" };
const labelSchemaWithColours = { ...TEST_LABEL_SCHEMA, labels: TEST_LABEL_SCHEMA.labels.map((l, i) => ({ ...l, color: ["#4e79a7", "#f28e2b", "#e15759"][i]! })) };

/** A valid input naming `ids` for every procedure whose input names a project, case, model version or job run. */
export const PROCEDURE_INPUTS: Record<string, (ids: AccessIds) => unknown> = {
  "queue.project": (b) => ({ projectId: b.projectId }),
  "queue.upcoming": (b) => ({ projectId: b.projectId }),
  "queue.next": (b) => ({ projectId: b.projectId }),
  "queue.skip": (b) => ({ projectId: b.projectId, caseId: b.caseId, reason: "not my project" }),
  "annotations.case": (b) => ({ caseId: b.caseId }),
  "annotations.saveDraft": (b) => ({ caseId: b.caseId, baseVersion: 0, content }),
  "annotations.submit": (b) => ({ caseId: b.caseId, expectedVersion: 1, content, timeSpentMs: 1000 }),
  "jobs.list": (b) => ({ projectId: b.projectId }),
  "jobs.requestTraining": (b) => ({ projectId: b.projectId }),
  "predictions.forCase": (b) => ({ caseId: b.caseId }),
  "imports.listBatches": (b) => ({ projectId: b.projectId }),
  "review.get": (b) => ({ modelVersionId: b.modelVersionId }),
  "review.decide": (b) => ({ modelVersionId: b.modelVersionId, decision: "reject", note: "rejected by the access test" }),
  "selectionStats.get": (b) => ({ projectId: b.projectId }),
  "selectionStats.startSimulation": (b) => ({ projectId: b.projectId, strategies: ["random"], budgets: [5], rounds: 1, seeds: 1, episodes: 10 }),
  "selectionStats.simulation": (b) => ({ projectId: b.projectId, jobRunId: b.jobRunId }),
  "selectionStats.simulations": (b) => ({ projectId: b.projectId }),
  "agreement.get": (b) => ({ projectId: b.projectId }),
  "agreement.adjudicationQueue": (b) => ({ projectId: b.projectId }),
  "agreement.adjudicate": (b) => ({ projectId: b.projectId, caseId: b.caseId, labels: ["suspicious"], reason: "adjudicated by the access test" }),
  "agreement.requestAdjudication": (b) => ({ projectId: b.projectId, caseId: b.caseId }),
  "gold.mark": (b) => ({ projectId: b.projectId, caseIds: [b.caseId] }),
  "gold.unmark": (b) => ({ projectId: b.projectId, caseIds: [b.caseId] }),
  "gold.list": (b) => ({ projectId: b.projectId }),
  "gold.report": (b) => ({ projectId: b.projectId }),
  "members.list": (b) => ({ projectId: b.projectId }),
  "members.add": (b) => ({ projectId: b.projectId, userId: b.spareUserId, role: "CLINICIAN" }),
  "members.setRole": (b) => ({ projectId: b.projectId, userId: b.spareUserId, role: "REVIEWER" }),
  "members.remove": (b) => ({ projectId: b.projectId, userId: b.spareUserId }),
  "projectSettings.selection": (b) => ({ projectId: b.projectId }),
  "projectSettings.updateSelection": (b) => ({
    projectId: b.projectId,
    strategy: "rads",
    budget: 5,
    mcPasses: 10,
    episodes: 300,
    rho: 0.9,
    lambda: 0.01,
    annotationsPerCase: 1,
    leaseMinutes: 30,
    onRoundComplete: true,
    everyNLabels: 20,
    scheduleHours: null,
    reviewTolerance: 0.02,
    fourEyes: false,
    showPredictions: true,
    generateCaseIds: false,
  }),
  "encoder.get": (b) => ({ projectId: b.projectId }),
  "encoder.models": (b) => ({ projectId: b.projectId }),
  "encoder.tryIt": (b) => ({ projectId: b.projectId, encoderConfig: { kind: "builtin", dim: 64 } }),
  "encoder.update": (b) => ({ projectId: b.projectId, encoderConfig: { kind: "builtin", dim: 64 } }),
  "cases.list": (b) => ({ projectId: b.projectId }),
  "cases.count": (b) => ({ projectId: b.projectId }),
  "cases.options": (b) => ({ projectId: b.projectId }),
  "cases.get": (b) => ({ projectId: b.projectId, caseId: b.caseId }),
  "cases.move": (b) => ({ projectId: b.projectId, caseIds: [b.caseId], split: "POOL" }),
  "cases.prioritize": (b) => ({ projectId: b.projectId, caseIds: [b.caseId] }),
  "cases.unprioritize": (b) => ({ projectId: b.projectId, caseIds: [b.caseId] }),
  "projectAdmin.get": (b) => ({ projectId: b.projectId }),
  "projectAdmin.update": (b) => ({ projectId: b.projectId, name: `Access test ${b.projectId}`, description: "", caseContent: "both" }),
  "projectAdmin.labelUsage": (b) => ({ projectId: b.projectId }),
  "projectAdmin.updateLabels": (b) => ({ projectId: b.projectId, labelSchema: labelSchemaWithColours, minorityClasses: ["suspicious"], rho: 0.9 }),
  "projectAdmin.setArchived": (b) => ({ projectId: b.projectId, archived: false }),
  "projectAdmin.exportConfig": (b) => ({ projectId: b.projectId }),
};

/**
 * The service call behind each REST route (server/api/permissions.ts ROUTE_PERMISSIONS), answering
 * "allowed" or the refusal the route turns into its HTTP status (the image route answers 404 for any refusal).
 */
export const ROUTE_CALLS: Record<RoutePath, (actor: Actor, ids: AccessIds, storageDir: string) => Promise<"allowed" | "NOT_FOUND" | "FORBIDDEN" | "CONFLICT">> = {
  "POST /api/projects/[projectId]/import": (actor, ids) => outcome(assertCanImport(createServiceContext(testDb(), actor), ids.projectId)),
  "POST /api/projects/[projectId]/export": (actor, ids) => outcome(exportLabels(createServiceContext(testDb(), actor), { projectId: ids.projectId, format: "jsonl", history: false })),
  "GET /api/images/[imageId]": async (actor, ids, storageDir) => ((await readImageForMember(testDb(), actor, ids.imageId, createLocalBlobStore(storageDir))) ? "allowed" : "NOT_FOUND"),
};

async function outcome(call: Promise<unknown>): Promise<"allowed" | "NOT_FOUND" | "FORBIDDEN" | "CONFLICT"> {
  try {
    await call;
    return "allowed";
  } catch (error) {
    if (error instanceof DomainError && (error.kind === "NOT_FOUND" || error.kind === "FORBIDDEN" || error.kind === "CONFLICT")) return error.kind;
    throw error;
  }
}
