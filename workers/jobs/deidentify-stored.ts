/**
 * De-identification of stored images at worker start (issue 12, fault 6): images stored before
 * de-identification on import existed lack `attributes.deidentified`; every worker checks for them
 * when it starts (one query) and, when a project that does not keep patient identifiers
 * has any, rewrites them with server/services/deidentify-service.ts — exactly what
 * `npm run deidentify:stored` does by hand: the file is rewritten as a new import would write it,
 * the image row points at the clean file, the original is deleted once unused, and each project is
 * audited as a system action ("images.deidentify" with counts).
 *
 * Idempotent (a de-identified image is never looked at again) and safe with several workers: one
 * holds the session lock LOCK_DEIDENTIFY_STORED while it works, the others leave it to that one.
 * A project whose rewrite fails is logged and the others still go ahead; an image whose file cannot
 * be read or rewritten stays as it was and is tried again at the next start. A message on the
 * `deidentify-stored` queue runs the same pass on demand.
 */
import type PgBoss from "pg-boss";
import { LOCK_DEIDENTIFY_STORED, openLockSession } from "@/server/db/advisory-lock";
import { listProjectsAwaitingDeidentify } from "@/server/db/deidentify-repo";
import { logger } from "@/server/log";
import { createServiceContext } from "@/server/services/context";
import { deidentifyStoredImages, type DeidentifyStoredResult } from "@/server/services/deidentify-service";
import { workerContextFor, type WorkerContext } from "./job-runtime";
import type { JobDefinition } from "./registry";

export const DEIDENTIFY_STORED_JOB = "deidentify-stored";

export type DeidentifyStoredOutcome =
  | { status: "nothing-to-do" }
  /** Another worker holds the lock and is doing it. */
  | { status: "another-worker" }
  /** `failedProjects`: projects whose pass stopped on an unexpected error (logged). */
  | { status: "ran"; results: DeidentifyStoredResult[]; failedProjects: string[] };

/** Rewrites the stored images that lack the de-identification record, once, under the lock. */
export async function deidentifyStoredOnce(worker: WorkerContext): Promise<DeidentifyStoredOutcome> {
  if ((await listProjectsAwaitingDeidentify(worker.db)).length === 0) return { status: "nothing-to-do" };
  const locks = await openLockSession(worker.databaseUrl);
  try {
    if (!(await locks.tryLock(LOCK_DEIDENTIFY_STORED, "stored-images"))) return { status: "another-worker" };
    // Read again under the lock: a worker that held it a moment ago may have done it all.
    const projects = await listProjectsAwaitingDeidentify(worker.db);
    const ctx = createServiceContext(worker.db, null);
    const results: DeidentifyStoredResult[] = [];
    const failedProjects: string[] = [];
    for (const projectId of projects) {
      try {
        results.push(...(await deidentifyStoredImages(ctx, worker.store, { projectIds: [projectId] })));
      } catch (error) {
        failedProjects.push(projectId);
        logger.error("stored images of a project not de-identified", { projectId, error: (error as Error).message });
      }
    }
    const sum = (key: "deidentified" | "failed") => results.reduce((n, r) => n + r[key], 0);
    logger.info("stored images de-identified at start", { projects: projects.length, deidentified: sum("deidentified"), failed: sum("failed"), failedProjects: failedProjects.length });
    return { status: "ran", results, failedProjects };
  } finally {
    await locks.close();
  }
}

/** The start-up pass (run once when the worker registers its jobs) and its on-demand queue. */
export const deidentifyStoredJob: JobDefinition = {
  name: DEIDENTIFY_STORED_JOB,
  async register(boss: PgBoss) {
    const worker = workerContextFor(boss);
    await boss.work(DEIDENTIFY_STORED_JOB, { batchSize: 1, pollingIntervalSeconds: 5 }, async () => {
      await deidentifyStoredOnce(worker);
    });
    // In the background: job handlers start at once; images are rewritten while they run.
    void deidentifyStoredOnce(worker).catch((error: Error) => logger.error("start-up de-identification failed", { error: error.message }));
  },
};
