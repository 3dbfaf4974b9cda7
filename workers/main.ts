/**
 * The worker process (`npm run worker`; also started by `npm start`): validates the environment
 * like the web process, connects to the Postgres-backed job queue (pg-boss) and runs the job
 * handlers registered in workers/jobs. Several workers may share one database.
 */
import PgBoss from "pg-boss";
import { loadServerEnv } from "../server/env";
import { logger } from "../server/log";
import { exitOnStartupError } from "../server/startup-error";
import { registerJobs } from "./jobs/registry";

async function main() {
  process.env.RADS_PROCESS ??= "worker";
  const env = loadServerEnv();
  const boss = new PgBoss({ connectionString: env.DATABASE_URL, schema: "pgboss", application_name: "rads-worker" });
  boss.on("error", (error) => logger.error("job queue error", { error: error.message }));
  await boss.start();
  const queues = await registerJobs(boss);
  logger.info("worker ready", { queues });

  const stop = async () => {
    logger.info("worker stopping");
    await boss.stop({ graceful: true, timeout: 20_000 }).catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch(exitOnStartupError);
