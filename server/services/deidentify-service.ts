/**
 * De-identifies DICOM images stored before de-identification on import existed (issue 12, fault 6):
 * in every project that does not keep patient identifiers, each stored DICOM image whose attributes
 * lack `deidentified` is rewritten exactly as a new import would (server/import/deidentify-dicom.ts,
 * the project's secret), stored under its new content key, and the image row is pointed at it; the
 * original blob is deleted once no image of any project uses it. Idempotent; a system action, audited
 * per project with counts ("images.deidentify"). Case ids are left as they are.
 *
 * Run by every worker at start (workers/jobs/deidentify-stored.ts) and by hand:
 *   npm run deidentify:stored
 */
import crypto from "node:crypto";
import { checkDicom, DicomRejection } from "../import/dicom";
import { deidentifyDicom } from "../import/deidentify-dicom";
import { countImagesWithStorageKey, listDicomImagesOfProject, listProjectsForDeidentify, updateDeidentifiedImage } from "../db/deidentify-repo";
import { logger } from "../log";
import { contentKey, type BlobStore } from "../storage/blob-store";
import type { ServiceContext } from "./context";

export interface DeidentifyStoredResult {
  projectId: string;
  /** Images rewritten now. */
  deidentified: number;
  /** Already de-identified (or the project keeps identifiers: then 0 are looked at). */
  skipped: number;
  /** Images whose file could not be rewritten (still stored as they were; listed by id in the log). */
  failed: number;
  keepsIdentifiers: boolean;
}

/**
 * Rewrites the stored DICOM images of every project (or of `projectIds`) that does not keep patient
 * identifiers. A file that cannot be read or rewritten is counted as failed and left as it is.
 */
export async function deidentifyStoredImages(ctx: ServiceContext, blobs: BlobStore, options: { projectIds?: string[] } = {}): Promise<DeidentifyStoredResult[]> {
  const results: DeidentifyStoredResult[] = [];
  for (const project of await listProjectsForDeidentify(ctx.db, options.projectIds)) {
    // The two settings this needs, read as the import reads them (both default to false).
    const settings = (project.settings && typeof project.settings === "object" ? project.settings : {}) as Record<string, unknown>;
    const keepsIdentifiers = settings.allowPatientIdentifiers === true;
    const result: DeidentifyStoredResult = { projectId: project.id, deidentified: 0, skipped: 0, failed: 0, keepsIdentifiers };
    results.push(result);
    if (keepsIdentifiers) continue;
    for (const image of await listDicomImagesOfProject(ctx.db, project.id)) {
      const attributes = (image.attributes && typeof image.attributes === "object" ? image.attributes : {}) as Record<string, unknown>;
      if (attributes.deidentified === true) {
        result.skipped++;
        continue;
      }
      let stored: Uint8Array;
      try {
        stored = new Uint8Array(await blobs.get(image.storageKey));
      } catch {
        result.failed++;
        logger.warn("stored image not de-identified", { projectId: project.id, imageId: image.id, reason: "the stored file could not be read" });
        continue;
      }
      try {
        const clean = deidentifyDicom(stored, { secret: project.deidSecret, keepIntervals: settings.keepDateIntervals === true });
        const info = checkDicom(clean.bytes, false);
        const key = contentKey("images", clean.bytes, ".dcm");
        if (!(await blobs.exists(key))) await blobs.put(key, clean.bytes);
        await updateDeidentifiedImage(ctx.db, image.id, {
          storageKey: key,
          sha256: crypto.createHash("sha256").update(clean.bytes).digest("hex"),
          attributes: { ...info.attributes, deidentified: true, ...(clean.burnedInReview ? { burnedInReview: clean.burnedInReview } : {}) } as never,
        });
        if (key !== image.storageKey && (await countImagesWithStorageKey(ctx.db, image.storageKey)) === 0) await blobs.delete(image.storageKey);
        result.deidentified++;
      } catch (error) {
        if (!(error instanceof DicomRejection)) throw error;
        result.failed++;
        logger.warn("stored image not de-identified", { projectId: project.id, imageId: image.id, reason: error.message });
      }
    }
    if (result.deidentified > 0 || result.failed > 0) {
      await ctx.audit.record(ctx.db, { action: "images.deidentify", targetType: "Project", targetId: project.id, projectId: project.id, details: { deidentified: result.deidentified, failed: result.failed, skipped: result.skipped } });
    }
  }
  return results;
}
