/**
 * Data access for de-identification. The project's secret (Project.deidSecret, migration 0009) keys
 * replacement DICOM UIDs and per-patient date offsets on import; only the import and the backfill of
 * stored images read it, and no other select names it, so it never reaches a client or an export.
 */
import type { Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

/** The secret of an existing project; null when there is no such project. */
export async function findProjectDeidSecret(db: DbOrTx, projectId: string): Promise<string | null> {
  const row = await db.project.findUnique({ where: { id: projectId }, select: { deidSecret: true } });
  return row?.deidSecret ?? null;
}

/** The projects (all, or `projectIds`) with what the backfill needs: the secret and the settings (read by the caller). */
export function listProjectsForDeidentify(db: DbOrTx, projectIds?: string[]) {
  return db.project.findMany({ where: projectIds ? { id: { in: projectIds } } : {}, select: { id: true, settings: true, deidSecret: true }, orderBy: { createdAt: "asc" } });
}

/** The DICOM images of a project with their blob key and attributes (the caller skips those already de-identified). */
export function listDicomImagesOfProject(db: DbOrTx, projectId: string) {
  return db.caseImage.findMany({ where: { mimeType: "application/dicom", case: { projectId } }, select: { id: true, storageKey: true, attributes: true }, orderBy: { id: "asc" } });
}

/** Points an image at its de-identified blob. */
export function updateDeidentifiedImage(db: DbOrTx, imageId: string, data: { storageKey: string; sha256: string; attributes: Prisma.InputJsonValue }) {
  return db.caseImage.update({ where: { id: imageId }, data, select: { id: true } });
}

/** How many images (any project) still use a blob: its file may be deleted only at 0. */
export function countImagesWithStorageKey(db: DbOrTx, storageKey: string): Promise<number> {
  return db.caseImage.count({ where: { storageKey } });
}

/**
 * The projects that hold a DICOM image without the de-identification record (`attributes.deidentified`
 * not true) and do not keep patient identifiers (`settings.allowPatientIdentifiers` not true): what the
 * worker's start-up backfill (workers/jobs/deidentify-stored.ts) has to rewrite. Empty when nothing is left.
 */
export async function listProjectsAwaitingDeidentify(db: DbOrTx): Promise<string[]> {
  const rows = await db.$queryRaw<{ projectId: string }[]>`
    SELECT DISTINCT c."projectId"
    FROM "CaseImage" i
    JOIN "Case" c ON c."id" = i."caseId"
    JOIN "Project" p ON p."id" = c."projectId"
    WHERE i."mimeType" = 'application/dicom'
      AND (i."attributes" -> 'deidentified') IS DISTINCT FROM 'true'::jsonb
      AND (p."settings" -> 'allowPatientIdentifiers') IS DISTINCT FROM 'true'::jsonb
    ORDER BY c."projectId"`;
  return rows.map((r) => r.projectId);
}
