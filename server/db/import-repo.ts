/**
 * Data access for imports and exports. The services reach a project through the front door
 * (server/services/project-access.ts) and pass its id here; `findProjectByIdOrName` is for the CLI.
 */
import { ANNOTATION_RECORD_SELECT } from "./annotation-select";
import type { CaseSplit, Prisma } from "./generated/client";
import type { DbOrTx } from "./tx";

const projectFields = { id: true, name: true } as const;

/** CLI: a project by id or by its (unique) name. */
export function findProjectByIdOrName(db: DbOrTx, ref: string) {
  return db.project.findFirst({ where: { OR: [{ id: ref }, { name: ref }] }, select: projectFields });
}

export function findBatchBySha(db: DbOrTx, projectId: string, sha256: string) {
  return db.importBatch.findFirst({ where: { projectId, sha256 }, select: { id: true, createdAt: true, caseCount: true }, orderBy: { createdAt: "asc" } });
}

/** Which of `externalIds` already exist in the project. */
export async function findExistingExternalIds(db: DbOrTx, projectId: string, externalIds: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < externalIds.length; i += 5000) {
    const rows = await db.case.findMany({ where: { projectId, externalId: { in: externalIds.slice(i, i + 5000) } }, select: { externalId: true } });
    found.push(...rows.map((r) => r.externalId));
  }
  return found;
}

/** Images of the project whose content hash is one of `sha256s`, each with its case's external id. */
export async function findImagesBySha(db: DbOrTx, projectId: string, sha256s: string[]): Promise<{ sha256: string; externalId: string }[]> {
  const found: { sha256: string; externalId: string }[] = [];
  for (let i = 0; i < sha256s.length; i += 5000) {
    const rows = await db.caseImage.findMany({ where: { sha256: { in: sha256s.slice(i, i + 5000) }, case: { projectId } }, select: { sha256: true, case: { select: { externalId: true } } } });
    found.push(...rows.map((r) => ({ sha256: r.sha256, externalId: r.case.externalId })));
  }
  return found;
}

/** Serialises imports into one project (lock space 727005), so two identical uploads at once cannot both pass the checks. */
export async function lockProjectImports(tx: Prisma.TransactionClient, projectId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(727005, hashtext(${projectId}))`;
}

export interface NewCase {
  externalId: string;
  narrative: string | null;
  split: CaseSplit;
  metadata: Prisma.InputJsonValue;
  importedLabel: string | null;
  images: { storageKey: string; mimeType: string; sha256: string; frames: number; attributes: Prisma.InputJsonValue }[];
}

export async function insertImportBatch(
  tx: Prisma.TransactionClient,
  batch: { projectId: string; createdById: string | null; source: string; sha256: string },
  cases: NewCase[],
): Promise<{ batchId: string; images: number }> {
  const created = await tx.importBatch.create({ data: { ...batch, caseCount: cases.length }, select: { id: true } });
  const ids = new Map<string, string>();
  const CHUNK = 1000;
  for (let i = 0; i < cases.length; i += CHUNK) {
    const rows = await tx.case.createManyAndReturn({
      data: cases.slice(i, i + CHUNK).map((c) => ({
        projectId: batch.projectId,
        externalId: c.externalId,
        narrative: c.narrative,
        split: c.split,
        metadata: c.metadata,
        importedLabel: c.importedLabel,
        importBatchId: created.id,
      })),
      select: { id: true, externalId: true },
    });
    for (const row of rows) ids.set(row.externalId, row.id);
  }
  const images = cases.flatMap((c) => c.images.map((image, position) => ({ caseId: ids.get(c.externalId)!, position, ...image })));
  for (let i = 0; i < images.length; i += CHUNK) {
    await tx.caseImage.createMany({ data: images.slice(i, i + CHUNK) });
  }
  return { batchId: created.id, images: images.length };
}

/** The project's import batches, newest first (200 at most), with creator names and image counts. */
export async function listBatchesOfProject(db: DbOrTx, projectId: string) {
  const batches = await db.importBatch.findMany({
    where: { projectId },
    orderBy: { createdAt: "desc" },
    take: 200,
    select: { id: true, source: true, sha256: true, caseCount: true, createdAt: true, createdById: true, _count: { select: { cases: true } } },
  });
  const creatorIds = [...new Set(batches.map((b) => b.createdById).filter((id): id is string => id !== null))];
  const creators = await db.user.findMany({ where: { id: { in: creatorIds } }, select: { id: true, name: true } });
  const names = new Map(creators.map((u) => [u.id, u.name]));
  const images = await db.caseImage.groupBy({ by: ["caseId"], where: { case: { importBatchId: { in: batches.map((b) => b.id) } } }, _count: { _all: true } });
  const caseBatch = new Map(
    (await db.case.findMany({ where: { id: { in: images.map((i) => i.caseId) } }, select: { id: true, importBatchId: true } })).map((c) => [c.id, c.importBatchId]),
  );
  const imageCount = new Map<string, number>();
  for (const row of images) {
    const batchId = caseBatch.get(row.caseId);
    if (batchId) imageCount.set(batchId, (imageCount.get(batchId) ?? 0) + row._count._all);
  }
  return batches.map((b) => ({ ...b, createdByName: b.createdById ? (names.get(b.createdById) ?? null) : null, imageCount: imageCount.get(b.id) ?? 0 }));
}

/** Annotations of a project with their case's external id and the author's name, oldest first. */
export function listAnnotationsForExport(db: DbOrTx, projectId: string) {
  return db.annotation.findMany({
    where: { case: { projectId } },
    orderBy: [{ case: { externalId: "asc" } }, { authorId: "asc" }, { version: "asc" }],
    select: {
      ...ANNOTATION_RECORD_SELECT,
      caseId: true,
      // importedLabel and gold: what the training-label rule reads besides the annotations (server/services/training-label.ts).
      // split: a TEST case's imported label stays its final label (export-service.ts).
      case: { select: { externalId: true, narrative: true, importedLabel: true, split: true, gold: { select: { caseId: true } } } },
    },
  });
}
