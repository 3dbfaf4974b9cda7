/**
 * The worker runs at a lower CPU priority than the web process (issue 16): on a machine shared
 * with the web server, retraining and selection must not take the CPU that clinicians' requests
 * need. WORKER_NICE (default 19, the lowest; 0–19; 0 leaves the priority alone) is the nice value given to
 * every thread of the worker process at start; threads started later (the ML worker threads of
 * workers/threads/ml-pool.ts, libuv's pool) inherit it from the thread that creates them.
 * Linux keeps a nice value per thread, so each existing thread (/proc/self/task) is set by its id;
 * elsewhere the process's priority is set once.
 *
 * The PostgreSQL backends that serve the worker's connections run the worker's heavy reads (labels,
 * embeddings) and writes: `backendRenicer` gives each of them the same nice value when PostgreSQL
 * runs on this machine and this user may change it (same user, or root); otherwise it does nothing
 * and says so once.
 */
import fs from "node:fs";
import os from "node:os";
import { StartupError } from "../server/startup-error";

export const DEFAULT_WORKER_NICE = 19;

/** WORKER_NICE as a nice value 0–19; throws an error naming the variable for anything else. */
export function parseWorkerNice(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_WORKER_NICE;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 19) {
    throw new StartupError(`WORKER_NICE must be a whole number from 0 (normal priority) to 19 (lowest) (got "${raw}").`, "Unset WORKER_NICE for the default (${DEFAULT_WORKER_NICE}), or set e.g. WORKER_NICE=10.");
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

/**
 * The backend pid and local port of a pg client: `processID` is the backend's pid from the server's
 * BackendKeyData at connect (what `SELECT pg_backend_pid()` answers, without a statement beside the
 * pool's first query); `connection.stream.localPort` names our backend in its process title. Neither
 * is in pg's types.
 */
function backendOf(client: unknown): { pid: number | null; port: number | undefined } {
  const c = client as { processID?: unknown; connection?: { stream?: { localPort?: unknown } } } | null;
  const pid = Number(c?.processID);
  const port = c?.connection?.stream?.localPort;
  return { pid: Number.isInteger(pid) && pid > 0 ? pid : null, port: typeof port === "number" ? port : undefined };
}

export type RenicePlan = { kind: "renice" } | { kind: "skip"; reason: string };

/**
 * Whether backends of the database at `databaseUrl` can be reniced from here: only a database on
 * this machine (loopback address or a Unix socket) — a pid from a remote server, or from another
 * PID namespace, would name some unrelated local process.
 */
export function renicePlan(databaseUrl: string, nice: number): RenicePlan {
  if (nice <= 0) return { kind: "skip", reason: "WORKER_NICE is 0" };
  // A `host` parameter (a Unix socket folder, as libpq writes it) wins over the URL's host part, which may then be empty.
  const hostParam = /[?&]host=([^&]*)/.exec(databaseUrl)?.[1];
  let host: string;
  try {
    host = hostParam !== undefined ? decodeURIComponent(hostParam) : new URL(databaseUrl).hostname;
  } catch {
    return { kind: "skip", reason: "the database URL could not be read" };
  }
  const local = host === "" || host.startsWith("/") || host === "localhost" || host === "[::1]" || host === "::1" || /^127\./.test(host);
  return local ? { kind: "renice" } : { kind: "skip", reason: `the database (${host}) is not on this machine` };
}

export interface RenicerOptions {
  databaseUrl: string;
  nice: number;
  /** One line per outcome kind, the first time it happens. */
  log(message: string, fields: Record<string, unknown>): void;
  /** For tests: the system calls. */
  system?: {
    getPriority(pid: number): number;
    setPriority(pid: number, nice: number): void;
    /** /proc/<pid>/cmdline as text with spaces, or null when unreadable. */
    cmdline(pid: number): string | null;
  };
}

const realSystem = {
  getPriority: (pid: number) => os.getPriority(pid),
  setPriority: (pid: number, nice: number) => os.setPriority(pid, nice),
  cmdline(pid: number): string | null {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
      return null;
    }
  },
};

export type ReniceOutcome = "reniced" | "already" | "skipped";

/**
 * A handler for a pool's "connect" event: gives the new connection's backend process (`processID`,
 * the pid `SELECT pg_backend_pid()` would answer) `nice`, after checking it is a PostgreSQL
 * backend of this very connection (its process title names the connection's local port, or
 * "[local]" on a Unix socket). A database elsewhere, another user's processes, or no /proc: a no-op,
 * logged once. Never throws; a failure stops further attempts.
 */
export function backendRenicer(options: RenicerOptions): (client: unknown) => ReniceOutcome {
  const system = options.system ?? realSystem;
  const plan = renicePlan(options.databaseUrl, options.nice);
  const said = new Set<string>();
  const once = (key: string, message: string, fields: Record<string, unknown>) => {
    if (said.has(key)) return;
    said.add(key);
    options.log(message, fields);
  };
  let disabled = plan.kind === "skip" ? plan.reason : null;
  const skip = (): ReniceOutcome => {
    once("skip", "database backends keep their priority", { reason: disabled });
    return "skipped";
  };
  return (client) => {
    if (disabled) return skip();
    try {
      const { pid, port } = backendOf(client);
      const title = pid === null ? null : system.cmdline(pid);
      const ours = title !== null && /^postgres(:|\s|$)/.test(title) && (port ? title.includes(`(${port})`) : title.includes("[local]"));
      if (pid === null || !ours) {
        disabled = "the backend process is not visible here as ours (another machine or PID namespace?)";
        return skip();
      }
      if (system.getPriority(pid) >= options.nice) return "already";
      system.setPriority(pid, options.nice);
      once("reniced", "database backends of the worker reniced", { nice: options.nice, firstPid: pid });
      return "reniced";
    } catch (error) {
      disabled = `could not renice: ${error instanceof Error ? error.message : String(error)}`;
      return skip();
    }
  };
}
