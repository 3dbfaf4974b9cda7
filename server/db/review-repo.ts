/**
 * Model versions as the review pages and the approve/reject decision see them. Membership is in
 * every read's where-clause (a non-member finds nothing); status changes are conditional updates
 * under a per-project lock, so two reviewers deciding at once cannot leave two APPROVED models.
 */
import type { ModelStatus, Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

const MODEL_SELECT = {
  id: true,
  projectId: true,
  version: true,
  status: true,
  encoderVersion: true,
  metrics: true,
  trainingSnapshot: true,
  params: true,
  triggeredById: true,
  reviewedById: true,
  reviewNote: true,
  reviewedAt: true,
  createdAt: true,
} as const satisfies Prisma.ModelVersionSelect;

const PROJECT_SELECT = { id: true, name: true, labelSchema: true, minorityClasses: true, selectionParams: true, encoderConfig: true, settings: true } as const;

/** The model version, only in a project `userId` is a member of (then the front door checks the role there). */
export function findModelVersionForMember(db: DbOrTx, userId: string, modelVersionId: string) {
  return db.modelVersion.findFirst({
    where: { id: modelVersionId, project: { members: { some: { userId } } } },
    select: MODEL_SELECT,
  });
}

/** The project's active model: its APPROVED version (the newest one should there ever be two). */
export function findApprovedModel(db: DbOrTx, projectId: string, excludeId?: string) {
  return db.modelVersion.findFirst({
    where: { projectId, status: "APPROVED", ...(excludeId ? { id: { not: excludeId } } : {}) },
    orderBy: { version: "desc" },
    select: MODEL_SELECT,
  });
}

/** Every model version of `projectIds` (the caller's, from the front door), newest first per project, for the list page. */
export function listModelVersionsWithMetrics(db: DbOrTx, projectIds: string[]) {
  return db.modelVersion.findMany({
    where: { projectId: { in: projectIds } },
    orderBy: [{ projectId: "asc" }, { version: "desc" }],
    select: { ...MODEL_SELECT, project: { select: PROJECT_SELECT } },
  });
}

export function findUserNames(db: DbOrTx, ids: string[]) {
  return db.user.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
}

/** Round numbers and ids of a project, for naming the rounds a model's labels came from. */
export function listRoundNumbers(db: DbOrTx, projectId: string) {
  return db.selectionRound.findMany({ where: { projectId }, select: { id: true, number: true }, orderBy: { number: "asc" } });
}

/** Serialises review decisions of one project for the rest of the transaction (727004: model approvals). */
export async function lockProjectModels(tx: Prisma.TransactionClient, projectId: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(727004, hashtext(${projectId}))::text AS locked`;
}

export interface ReviewFields {
  status: ModelStatus;
  reviewedById: string;
  reviewNote: string;
  reviewedAt: Date;
}

/** Moves one model from `from` to the reviewed state; returns false when it was no longer in `from`. */
export async function setModelReview(tx: DbOrTx, modelVersionId: string, from: ModelStatus, fields: ReviewFields): Promise<boolean> {
  const updated = await tx.modelVersion.updateMany({ where: { id: modelVersionId, status: from }, data: fields });
  return updated.count === 1;
}

/** Retires every APPROVED model of the project except `keepId`; returns the retired ids. */
export async function retireApprovedModels(tx: DbOrTx, projectId: string, keepId: string): Promise<{ id: string; version: number }[]> {
  const previous = await tx.modelVersion.findMany({ where: { projectId, status: "APPROVED", id: { not: keepId } }, select: { id: true, version: true } });
  if (previous.length) {
    await tx.modelVersion.updateMany({ where: { id: { in: previous.map((p) => p.id) }, status: "APPROVED" }, data: { status: "RETIRED" } });
  }
  return previous;
}

/**
 * Supersedes the project's CANDIDATEs older than `version` (the model just approved): each becomes
 * SUPERSEDED with `fields` as its review record. Returns them, oldest first.
 */
export async function supersedeOlderCandidates(tx: DbOrTx, projectId: string, version: number, fields: Omit<ReviewFields, "status">): Promise<{ id: string; version: number }[]> {
  const older = await tx.modelVersion.findMany({ where: { projectId, status: "CANDIDATE", version: { lt: version } }, select: { id: true, version: true }, orderBy: { version: "asc" } });
  if (older.length) {
    await tx.modelVersion.updateMany({ where: { id: { in: older.map((o) => o.id) }, status: "CANDIDATE" }, data: { ...fields, status: "SUPERSEDED" } });
  }
  return older;
}

/** The project's newest model approved at some time (APPROVED or RETIRED) with a version above `version`, if any. */
export function findNewerApprovedModel(db: DbOrTx, projectId: string, version: number) {
  return db.modelVersion.findFirst({
    where: { projectId, status: { in: ["APPROVED", "RETIRED"] }, version: { gt: version } },
    orderBy: { version: "desc" },
    select: { id: true, version: true, status: true, reviewedAt: true, reviewedById: true },
  });
}

export interface NewModelVersion {
  projectId: string;
  status: ModelStatus;
  encoderVersion: string;
  metrics: Prisma.InputJsonValue;
  trainingSnapshot: Prisma.InputJsonValue;
  params: Prisma.InputJsonValue;
  triggeredById?: string | null;
  artifactKey?: string | null;
  checksum?: string | null;
}

/**
 * Inserts a model version with the next version number of its project (under the model lock).
 * The train job registers models its own way; this is used by fixtures and test-only seeding.
 */
export async function insertModelVersion(tx: Prisma.TransactionClient, row: NewModelVersion) {
  await lockProjectModels(tx, row.projectId);
  const max = await tx.modelVersion.aggregate({ where: { projectId: row.projectId }, _max: { version: true } });
  return tx.modelVersion.create({
    data: { ...row, version: (max._max.version ?? 0) + 1 },
    select: { id: true, version: true },
  });
}
