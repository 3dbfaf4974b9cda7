/**
 * The worker runs at a lower CPU priority than the web process (issue 16): on a machine shared
 * with the web server, retraining and selection must not take the CPU that clinicians' requests
 * need. WORKER_NICE (default 10, 0–19; 0 leaves the priority alone) is the nice value given to
 * every thread of the worker process at start; threads started later (the ML worker threads of
 * workers/threads/ml-pool.ts, libuv's pool) inherit it from the thread that creates them.
 * Linux keeps a nice value per thread, so each existing thread (/proc/self/task) is set by its id;
 * elsewhere the process's priority is set once.
 */
import fs from "node:fs";
import os from "node:os";
import { StartupError } from "../server/startup-error";

export const DEFAULT_WORKER_NICE = 10;

/** WORKER_NICE as a nice value 0–19; throws an error naming the variable for anything else. */
export function parseWorkerNice(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_WORKER_NICE;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 19) {
    throw new StartupError(`WORKER_NICE must be a whole number from 0 (normal priority) to 19 (lowest) (got "${raw}").`, "Unset WORKER_NICE for the default (10), or set e.g. WORKER_NICE=10.");
  }
  return value;
}

/**
 * Lowers the calling process's threads to `nice` (never raises: a value below the current one is
 * left alone, since that needs privileges). Returns the nice value the main thread now has.
 */
export function lowerWorkerPriority(nice: number): number {
  if (nice <= 0 || os.getPriority() >= nice) return os.getPriority();
  let tids: number[] = [];
  try {
    tids = fs.readdirSync("/proc/self/task").map(Number).filter(Number.isInteger);
  } catch {
    // not Linux: the process-wide priority below is all there is
  }
  if (tids.length === 0) {
    os.setPriority(nice);
  } else {
    for (const tid of tids) {
      try {
        os.setPriority(tid, nice);
      } catch {
        // a thread that ended meanwhile
      }
    }
  }
  return os.getPriority();
}
