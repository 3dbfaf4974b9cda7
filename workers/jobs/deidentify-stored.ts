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
 * `deidentify-stored` queue runs the same pass on demand: turning a project's "Keep patient identifiers" off
 * queues one with a JobRun (server/services/project-settings-service.ts), which this job claims and finishes
 * (job-runtime.ts executeJobRun). That run waits for the lock rather than leaving the work to its holder,
 * which may have listed the projects before the setting changed; until the pass reaches an image,
 * image-service.ts refuses to serve it.
 */
import type PgBoss from "pg-boss";
import { z } from "zod";
import { LOCK_DEIDENTIFY_STORED, openLockSession } from "@/server/db/advisory-lock";
import { listProjectsAwaitingDeidentify } from "@/server/db/deidentify-repo";
import { logger } from "@/server/log";
import { createServiceContext } from "@/server/services/context";
import { deidentifyStoredImages, type DeidentifyStoredResult } from "@/server/services/deidentify-service";
import { executeJobRun, workerContextFor, type JobSpec, type WorkerContext } from "./job-runtime";
import type { JobDefinition } from "./registry";

export const DEIDENTIFY_STORED_JOB = "deidentify-stored";
const LOCK_WAIT_POLL_MS = 500;

export type DeidentifyStoredOutcome =
  | { status: "nothing-to-do" }
  /** Another worker holds the lock and is doing it. */
  | { status: "another-worker" }
  /** `failedProjects`: projects whose pass stopped on an unexpected error (logged). */
  | { status: "ran"; results: DeidentifyStoredResult[]; failedProjects: string[] };

/**
 * Rewrites the stored images that lack the de-identification record, once, under the lock. While another worker
 * holds the lock: leaves the work to it, or with `waitForLock` waits for it and then looks again.
 */
export async function deidentifyStoredOnce(worker: WorkerContext, options: { waitForLock?: boolean } = {}): Promise<DeidentifyStoredOutcome> {
  if ((await listProjectsAwaitingDeidentify(worker.db)).length === 0) return { status: "nothing-to-do" };
  const locks = await openLockSession(worker.databaseUrl);
  try {
    while (!(await locks.tryLock(LOCK_DEIDENTIFY_STORED, "stored-images"))) {
      if (!options.waitForLock) return { status: "another-worker" };
      await new Promise((resolve) => setTimeout(resolve, LOCK_WAIT_POLL_MS));
    }
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

/** The on-demand pass of a JobRun (queued by a project that stopped keeping identifiers): its result is the outcome's counts. */
export const deidentifyStoredSpec: JobSpec<Record<string, unknown>> = {
  name: DEIDENTIFY_STORED_JOB,
  payload: z.object({}).passthrough(),
  retryLimit: 2,
  retryDelaySeconds: 10,
  expireInSeconds: 60 * 60,
  async run({ worker }) {
    const outcome = await deidentifyStoredOnce(worker, { waitForLock: true });
    if (outcome.status !== "ran") return { status: outcome.status };
    if (outcome.failedProjects.length) throw new Error(`${outcome.failedProjects.length} project(s) not de-identified; see the worker log`);
    const sum = (key: "deidentified" | "failed") => outcome.results.reduce((n, r) => n + r[key], 0);
    return { status: outcome.status, deidentified: sum("deidentified"), failed: sum("failed") };
  },
};

const ZMessage = z.object({ jobRunId: z.string().min(1) }).passthrough();

/** The start-up pass (run once when the worker registers its jobs) and its on-demand queue. */
export const deidentifyStoredJob: JobDefinition = {
  name: DEIDENTIFY_STORED_JOB,
  async register(boss: PgBoss) {
    const worker = workerContextFor(boss);
    const options = { name: DEIDENTIFY_STORED_JOB, retryLimit: deidentifyStoredSpec.retryLimit, retryDelay: deidentifyStoredSpec.retryDelaySeconds, expireInSeconds: deidentifyStoredSpec.expireInSeconds };
    // The web process may have created the queue with defaults first: apply ours either way.
    await boss.createQueue(DEIDENTIFY_STORED_JOB, options);
    await boss.updateQueue(DEIDENTIFY_STORED_JOB, options);
    await boss.work<Record<string, unknown>>(DEIDENTIFY_STORED_JOB, { batchSize: 1, pollingIntervalSeconds: 2, includeMetadata: true }, async (jobs) => {
      for (const job of jobs) {
        const message = ZMessage.safeParse(job.data);
        if (!message.success) {
          await deidentifyStoredOnce(worker, { waitForLock: true });
          continue;
        }
        const outcome = await executeJobRun(deidentifyStoredSpec, worker, message.data.jobRunId, job.retryCount >= job.retryLimit);
        // Throwing hands the message back to pg-boss for its retry.
        if (outcome.status === "failed" && !outcome.final) throw new Error(outcome.error);
      }
    });
    // In the background: job handlers start at once; images are rewritten while they run.
    void deidentifyStoredOnce(worker).catch((error: Error) => logger.error("start-up de-identification failed", { error: error.message }));
  },
};
