/**
 * The project's de-identification secret (Project.deidSecret, migration 0009): keys replacement
 * DICOM UIDs and per-patient date offsets on import. Only the import service reads it; no select
 * elsewhere names it, so it never reaches a client or an export.
 */
import type { DbOrTx } from "./tx";

/** The secret of an existing project; null when there is no such project. */
export async function findProjectDeidSecret(db: DbOrTx, projectId: string): Promise<string | null> {
  const row = await db.project.findUnique({ where: { id: projectId }, select: { deidSecret: true } });
  return row?.deidSecret ?? null;
}
