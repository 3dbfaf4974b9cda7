/**
 * A second, empty platform for specs that start from nothing (project-setup.spec.ts): the real
 * `scripts/start.ts` with SEED_DEMO=false on its own embedded database, web port and data folder,
 * web + worker, exactly what `SEED_DEMO=false npm start` gives a new team. The demo platform of
 * playwright.config.ts keeps serving the other specs; this one is started and stopped by the spec.
 *
 * Ports: E2E_EMPTY_PORT (default E2E_PORT + 10, i.e. 3110) and E2E_EMPTY_PG_PORT (default 54351).
 * The data folder goes under E2E_DATA_DIR when scripts/e2e.ts set it (removed with it), else a
 * temporary folder removed by stop().
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

export const EMPTY_PLATFORM_PORT = Number(process.env.E2E_EMPTY_PORT ?? Number(process.env.E2E_PORT ?? 3100) + 10);
export const EMPTY_PLATFORM_URL = `http://localhost:${EMPTY_PLATFORM_PORT}`;
const pgPort = process.env.E2E_EMPTY_PG_PORT ?? "54351";

export interface EmptyPlatform {
  /** The first admin's e-mail and the password `start` printed once. */
  admin: { email: string; password: string };
  /** Everything the platform printed so far (for a failure message). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the platform and resolves once it printed "ready" and the first admin's password.
 * @throws Error with the platform's output when it exits or is not ready within `timeoutMs`
 */
export async function startEmptyPlatform(timeoutMs = 240_000): Promise<EmptyPlatform> {
  const parent = process.env.E2E_DATA_DIR;
  const dataDir = parent ? fs.mkdtempSync(path.join(parent, "empty-")) : fs.mkdtempSync(path.join(os.tmpdir(), "rads-e2e-empty-"));
  fs.chmodSync(dataDir, 0o755); // the embedded postgres user must reach it when run as root
  let log = "";
  const child: ChildProcess = spawn(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/start.ts"], {
    cwd: root,
    env: {
      ...process.env,
      SEED_DEMO: "false",
      PORT: String(EMPTY_PLATFORM_PORT),
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: pgPort,
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (!parent) fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const admin = await new Promise<{ email: string; password: string }>((resolve, reject) => {
    let found: { email: string; password: string } | null = null;
    const timer = setTimeout(() => reject(new Error(`the empty platform was not ready within ${timeoutMs / 1000} s:\n${log.slice(-4000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString("utf8");
      const match = log.match(/first admin: (\S+) · password \(shown once, change it at first sign-in\): (\S+)/);
      if (match) found = { email: match[1]!, password: match[2]! };
      if (found && /\[start\] ready: /.test(log)) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the empty platform exited (${signal ?? `code ${code}`}) before it was ready:\n${log.slice(-4000)}`));
    });
  }).catch(async (error: Error) => {
    await stop();
    throw error;
  });
  return { admin, output: () => log, stop };
}
