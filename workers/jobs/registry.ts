/**
 * Job handlers of the worker. Each job is a zod-typed definition with an idempotent handler;
 * the queue retries failed jobs, so a handler must be safe to run twice.
 * The active-learning jobs (embed, train, evaluate, select, simulate) are registered here as
 * they are built (see docs/ARCHITECTURE.md).
 */
import type PgBoss from "pg-boss";
import { simulateJob } from "./simulate";
import { deidentifyStoredJob } from "./deidentify-stored";
import { embedJob } from "./embed";
import { evaluateJob } from "./evaluate";
import { retrainCheckJob } from "./loop-triggers";
import { selectJob } from "./select";
import { trainJob } from "./train";

export interface JobDefinition {
  name: string;
  register(boss: PgBoss): Promise<void>;
}

export const JOBS: JobDefinition[] = [embedJob, trainJob, evaluateJob, selectJob, retrainCheckJob, simulateJob, deidentifyStoredJob];

export async function registerJobs(boss: PgBoss): Promise<string[]> {
  for (const job of JOBS) {
    await boss.createQueue(job.name);
    await job.register(boss);
  }
  return JOBS.map((job) => job.name);
}
