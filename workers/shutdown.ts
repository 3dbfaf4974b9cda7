/**
 * The worker's orderly stop and how loud a job-queue error is around it.
 *
 * Ctrl-C on `npm start` sends SIGINT to the whole process group: the worker, the web process and the
 * embedded PostgreSQL (a child of scripts/start.ts) get it at the same moment. PostgreSQL's fast
 * shutdown ends every session with SQLSTATE 57P01 ("terminating connection due to administrator
 * command"), which pg-boss reports through its "error" event from each of its loops — three
 * error-level lines on every clean stop, read by operators as a fault. And the worker got SIGINT from
 * the terminal and then SIGTERM from scripts/start.ts, so it logged "worker stopping" twice.
 *
 * So: an administrator's shutdown of the database is expected (info, said once); a database that is
 * away while the worker is stopping is expected too (debug); a database away otherwise is an outage
 * the queue rides out (warn, as the worker's unhandled-rejection guard says); anything else is an error.
 */
import { isDatabaseUnavailable } from "../server/db/unavailable";

export type QueueErrorLevel = "debug" | "info" | "warn" | "error";

/** SQLSTATE admin_shutdown: the server was told to stop (smart or fast shutdown, or pg_terminate_backend). */
export const ADMIN_SHUTDOWN = "57P01";

/** Whether `error` (or anything in its cause chain) is PostgreSQL's admin_shutdown. */
export function isAdminShutdown(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let value = error; value && typeof value === "object" && !seen.has(value); value = (value as { cause?: unknown }).cause) {
    seen.add(value);
    if ((value as { code?: unknown }).code === ADMIN_SHUTDOWN) return true;
  }
  return false;
}

/** The log level of a job-queue error, given whether the worker is stopping. */
export function queueErrorLevel(error: unknown, stopping: boolean): QueueErrorLevel {
  if (!isDatabaseUnavailable(error)) return "error";
  if (stopping) return "debug";
  return isAdminShutdown(error) ? "info" : "warn";
}

export interface QueueErrorLog {
  (level: QueueErrorLevel, message: string, fields: Record<string, unknown>): void;
}

/**
 * The worker's stop sequence, run once however many signals arrive: `stopQueue` (pg-boss's stop),
 * then `exit`. `onQueueError` is the pg-boss "error" listener: it logs at queueErrorLevel, and the
 * database's own shutdown notice once (each pg-boss loop reports it).
 */
/** Whether this process's worker has begun its stop (for failures elsewhere in it: the start-up recovery's). */
let processStopping = false;
export function workerStopping(): boolean {
  return processStopping;
}

export function workerLifecycle(options: { stopQueue: () => Promise<void>; exit: (code: number) => void; log: QueueErrorLog }) {
  let stopping = false;
  let stopped: Promise<void> | null = null;
  let shutdownSaid = false;
  return {
    get stopping() {
      return stopping;
    },
    onQueueError(error: Error) {
      const level = queueErrorLevel(error, stopping);
      if (level === "info") {
        if (shutdownSaid) return;
        shutdownSaid = true;
        options.log("info", "the database is shutting down; the job queue waits for it", { error: error.message });
        return;
      }
      options.log(level, "job queue error", { error: error.message });
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        stopping = true;
        processStopping = true;
        options.log("info", "worker stopping", {});
        await options.stopQueue().catch((error: unknown) => options.log("debug", "job queue stop failed", { error: error instanceof Error ? error.message : String(error) }));
        options.log("info", "worker stopped", {});
        options.exit(0);
      })();
      return stopped;
    },
  };
}
