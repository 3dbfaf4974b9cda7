/**
 * Real worker processes for fault tests: `node --import tsx workers/main.ts` against the test
 * database, with its own storage folder, no schedule, and SIGKILL when a test wants a crash.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/** Starts a worker; it is added to `children` so the test's afterAll can stop what is left. */
export function startWorkerProcess(storageDir: string, children: ChildProcess[]): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "workers/main.ts")], {
    cwd: root,
    env: { ...process.env, STORAGE_DIR: storageDir, LOOP_SCHEDULE: "off", LOG_LEVEL: "warn", NODE_ENV: "test", RADS_PROCESS: "worker" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function killProcess(child: ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  await exited(child);
}
