/**
 * The worker process (`npm run worker`; also started by `npm start`): validates the environment
 * like the web process, connects to the Postgres-backed job queue (pg-boss) and runs the job
 * handlers registered in workers/jobs. Several workers may share one database.
 */
import type pg from "pg";
import PgBoss from "pg-boss";
import { getDb, poolOf } from "../server/db/client";
import { isDatabaseUnavailable } from "../server/db/unavailable";
import { loadServerEnv } from "../server/env";
import { logger } from "../server/log";
import { exitOnStartupError } from "../server/startup-error";
import { registerJobs } from "./jobs/registry";
import { backendRenicer, lowerWorkerPriority, parseWorkerNice } from "./priority";
import { workerLifecycle } from "./shutdown";

/**
 * pg-boss 10 records a job's completion or failure without awaiting it (manager.js: `this.complete(...)`
 * / `this.fail(...)` in its fetch loop), so a database outage at that moment is an unhandled
 * rejection — which would kill the worker, and with it the whole platform under `npm start`.
 * Nothing is lost by carrying on: the JobRun row is the truth (a run left RUNNING with its lock
 * free is recovered, a finished one is skipped when its message comes again). Anything else
 * still stops the process.
 */
function survivingDatabaseOutages(stopping: () => boolean) {
  process.on("unhandledRejection", (reason) => {
    const message = reason instanceof Error ? reason.message : String(reason);
    if (isDatabaseUnavailable(reason)) {
      // While stopping, the database going down with us (Ctrl-C reaches it too) is expected.
      logger[stopping() ? "debug" : "warn"]("job queue write lost to a database outage; the JobRun recovery covers it", { error: message });
      return;
    }
    logger.error("unhandled rejection in the worker", { error: message });
    process.exit(1);
  });
}

async function main() {
  process.env.RADS_PROCESS ??= "worker";
  // Before any thread is started (ML threads inherit it): the web process keeps the CPU first.
  const nice = lowerWorkerPriority(parseWorkerNice(process.env.WORKER_NICE));
  let lifecycle: ReturnType<typeof workerLifecycle> | null = null;
  survivingDatabaseOutages(() => lifecycle?.stopping ?? false);
  const env = loadServerEnv();
  // The database backends serving this worker get its nice value too (workers/priority.ts): the
  // job client's pool from its first connection, pg-boss's pool from its start.
  const renice = backendRenicer({ databaseUrl: env.DATABASE_URL, nice, log: (message, fields) => logger.info(message, fields) });
  const onConnect = (client: pg.PoolClient) => renice(client);
  poolOf(getDb()).on("connect", onConnect);
  const boss = new PgBoss({ connectionString: env.DATABASE_URL, schema: "pgboss", application_name: "rads-worker" });
  // One stop however many signals arrive (Ctrl-C's SIGINT, then scripts/start.ts's SIGTERM), and the
  // database's own shutdown at Ctrl-C is no error (workers/shutdown.ts).
  lifecycle = workerLifecycle({
    stopQueue: () => boss.stop({ graceful: true, timeout: 20_000 }),
    exit: (code) => process.exit(code),
    log: (level, message, fields) => logger[level](message, fields),
  });
  const { onQueueError, stop } = lifecycle;
  boss.on("error", (error) => onQueueError(error));
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  await boss.start();
  (boss.getDb() as unknown as { pool?: pg.Pool }).pool?.on("connect", onConnect);
  const queues = await registerJobs(boss);
  logger.info("worker ready", { queues, nice });
}

main().catch(exitOnStartupError);
