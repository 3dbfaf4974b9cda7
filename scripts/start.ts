/**
 * `npm start`: the whole platform from a fresh clone. Starts the embedded PostgreSQL unless
 * DATABASE_URL is set, applies migrations, seeds the demo project on first run, builds the web
 * app when its sources changed, then runs the web server and the worker until Ctrl-C, when it
 * stops all of them (no orphaned postgres). Every known failure is one clear line and exit 1.
 *   npm start               production build + server (scripts/web-server.mjs: tRPC answered on
 *                           node:http, everything else by Next.js's request handler)
 *   npm start -- --dev      Next.js dev server (hot reload; tRPC through app/api/trpc/[trpc]/route.ts)
 *   WEB_PROCESSES=n npm start   n web processes behind the one port (a Node cluster,
 *                               scripts/lib/web-cluster.mjs; default DEFAULT_WEB_PROCESSES; --dev: 1)
 *   WORKER_PROCESSES=n npm start  n job workers against the one database (default 1): pg-boss hands
 *                               each job to one of them
 *   SEED_DEMO=false npm start   an empty platform: no demo project; on a database without any user,
 *                               one admin (FIRST_ADMIN_EMAIL, default admin@rads.local) whose generated
 *                               password is printed once and must be changed at first sign-in.
 * The demo is the default on the embedded database. SEED_DEMO=true on DATABASE_URL is refused (its
 * accounts' password is published) unless SEED_DEMO_ON_EXTERNAL_DATABASE=true marks a throwaway database.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { isPortFree } from "../server/db/embedded-postgres";
import { createDb } from "../server/db/client";
import { countRounds } from "../server/db/loop-repo";
import { findProjectByName } from "../server/db/projects-repo";
import { loadServerEnv } from "../server/env";
import { hashPassword } from "../server/auth/password";
import { requireAuthSecret } from "../server/auth/secret";
import { prepareDatabase } from "../server/platform/database";
import { seedPlan } from "../server/platform/seed-policy";
import { createLocalBlobStore } from "../server/storage/blob-store";
import { exitOnStartupError, StartupError } from "../server/startup-error";
import { DEMO_PROJECT_NAME, seedDemo } from "../prisma/seed";
import { DEMO_SEED } from "../prisma/demo/narratives";
import { createColdStartRound } from "../server/services/selection-rounds";
import { ensureFirstAdmin, type FirstAdminResult } from "../server/services/account-service";
import { ZEmail } from "../contracts/users";
import { ensureWebBuild } from "./lib/web-build";

const DEMO_PASSWORD = "demo-password";
const root = path.resolve(import.meta.dirname, "..");
const dev = process.argv.includes("--dev");
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const dataDir = path.resolve(root, process.env.DATA_DIR ?? ".data");
const embeddedPort = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

/**
 * Web processes behind the port when WEB_PROCESSES is unset. The web process is CPU-bound (each
 * request's HTTP, session and ORM work runs on its one JavaScript thread), so a second process
 * lets a second core serve requests (docs/benchmarks.md, "Scale out").
 */
const DEFAULT_WEB_PROCESSES = 2;

/** A process count from the environment (1–64); unset or empty: `fallback`. */
function parseProcessCount(name: "WEB_PROCESSES" | "WORKER_PROCESSES", raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new StartupError(`${name} must be a whole number from 1 to 64 (got "${raw}").`, `Set ${name} to a number of processes, or leave it unset (default ${fallback}).`);
  }
  return value;
}
const parseWebProcesses = (raw: string | undefined) => parseProcessCount("WEB_PROCESSES", raw, DEFAULT_WEB_PROCESSES);
const parseWorkerProcesses = (raw: string | undefined) => parseProcessCount("WORKER_PROCESSES", raw, 1);

/** The embedded demo gets a random secret kept beside its data, so sessions survive restarts. */
function localAuthSecret(): string {
  const file = path.join(dataDir, "auth-secret");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(32).toString("base64url"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}

async function main() {
  // A bad count is one clear line before anything starts.
  if (!dev) parseWebProcesses(process.env.WEB_PROCESSES);
  parseWorkerProcesses(process.env.WORKER_PROCESSES);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StartupError(`PORT must be a port number (got ${process.env.PORT}).`, "Set PORT to a free port, e.g. PORT=3000.");
  if (!(await isPortFree(port))) {
    throw new StartupError(`Port ${port} is already in use — is the platform already running?`, `Stop the other process or choose another port: PORT=3001 npm start.`);
  }
  const external = process.env.DATABASE_URL;
  // Only the embedded database gets a generated secret; anything else must bring its own, in --dev
  // too (NextAuth would otherwise derive one from public configuration: issue 12, fault 9).
  if (external) requireAuthSecret(process.env.NEXTAUTH_SECRET);
  // The demo's published password never lands on a real database by accident (server/platform/seed-policy.ts).
  const shouldSeed = seedPlan({ seedDemo: process.env.SEED_DEMO, external: Boolean(external), allowOnExternal: process.env.SEED_DEMO_ON_EXTERNAL_DATABASE }) === "demo";
  say(external ? "using the database in DATABASE_URL" : `starting the embedded PostgreSQL (data in ${path.relative(root, dataDir) || dataDir})`);
  const database = await prepareDatabase({ databaseUrl: external, dataDir: path.join(dataDir, "postgres"), embeddedPort });
  const shutdownDb = async () => database.embedded?.stop();

  try {
    if (database.migrationsApplied.length) say(`applied migrations: ${database.migrationsApplied.join(", ")}`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? `http://localhost:${port}`,
      NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? (external ? undefined : localAuthSecret()),
      STORAGE_DIR: path.resolve(root, process.env.STORAGE_DIR ?? path.join(path.relative(root, dataDir), "storage")),
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_ENV: dev ? "development" : "production",
    };
    loadServerEnv(env);

    const adminEmail = ZEmail.safeParse(process.env.FIRST_ADMIN_EMAIL ?? "admin@rads.local");
    if (!adminEmail.success) throw new StartupError(`FIRST_ADMIN_EMAIL is not an e-mail address (got "${process.env.FIRST_ADMIN_EMAIL}").`, "Set FIRST_ADMIN_EMAIL to the first admin's address, or leave it unset.");
    let firstAdmin: FirstAdminResult = { created: false };
    const db = createDb(database.url);
    try {
      if (!shouldSeed) {
        firstAdmin = await ensureFirstAdmin(db, { email: adminEmail.data });
        if (firstAdmin.created) say(`created the first admin ${firstAdmin.email} (the password is printed once the platform is ready)`);
      }
      if (shouldSeed) {
        const seeded = await seedDemo(db, createLocalBlobStore(env.STORAGE_DIR!), { demoPassword: DEMO_PASSWORD, hashPassword });
        if (seeded.created) say("seeded the demo project");
        // Clinicians should find a queue on first sign-in: without a model the first round is a cold start.
        const demo = await findProjectByName(db, DEMO_PROJECT_NAME);
        const hasRound = demo ? (await countRounds(db, demo.id)) > 0 : true;
        const round = demo && !hasRound ? await createColdStartRound(db, demo.id, { seed: DEMO_SEED }) : null;
        if (round?.created) say(`queued a cold-start round of ${round.itemCount} demo cases`);
      }
    } finally {
      await db.$disconnect();
    }

    if (!dev) await ensureWebBuild(root, env, say);
    await runProcesses(env, shutdownDb, { demo: shouldSeed, firstAdmin });
  } catch (error) {
    await shutdownDb();
    throw error;
  }
}

async function runProcesses(env: NodeJS.ProcessEnv, shutdownDb: () => Promise<void>, accounts: { demo: boolean; firstAdmin: FirstAdminResult }) {
  const webProcesses = dev ? 1 : parseWebProcesses(process.env.WEB_PROCESSES);
  // Production: scripts/web-server.mjs (tRPC on node:http, everything else through Next.js), one
  // process, or several behind the one port (a cluster primary that forks them). --dev: `next dev`.
  const serverArgs = ["--port", String(port), "--host", host];
  const webArgv = dev
    ? ["--import", path.join(root, "scripts/peer-address.mjs"), path.join(root, "node_modules/next/dist/bin/next"), "dev", "-p", String(port), "-H", host]
    : webProcesses > 1
      ? [path.join(root, "scripts/lib/web-cluster.mjs"), String(webProcesses), ...serverArgs]
      : [path.join(root, "scripts/web-server.mjs"), ...serverArgs];
  if (webProcesses > 1) say(`${webProcesses} web processes on port ${port}`);
  // PGAPPNAME names each process's database connections (pg reads it when a pool sets no
  // application_name), so pg_stat_activity tells the backends serving the web from those serving the worker.
  const spawnWorker = () => spawn(process.execPath, ["--import", "tsx", path.join(root, "workers/main.ts")], { cwd: root, env: { PGAPPNAME: "rads-worker", ...env, RADS_PROCESS: "worker" }, stdio: "inherit" });
  const workerProcesses = parseWorkerProcesses(process.env.WORKER_PROCESSES);
  const firstWorkerAt = Date.now();
  const children: { name: string; child: ChildProcess }[] = [
    { name: "web", child: spawn(process.execPath, webArgv, { cwd: root, env: { PGAPPNAME: "rads-web", ...env, RADS_PROCESS: "web" }, stdio: "inherit" }) },
    { name: "worker", child: spawnWorker() },
  ];

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    await shutdownDb();
    say("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  const watch = ({ name, child }: { name: string; child: ChildProcess }) => {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      process.stderr.write(`[start] the ${name} process exited (${signal ?? `code ${code}`}); stopping the platform.\n`);
      void stopAll(code || 1);
    });
  };
  children.forEach(watch);

  const url = `http://localhost:${port}`;
  await waitForWeb(`http://127.0.0.1:${port}/api/trpc/health.ping`);
  // More workers only once the first has set up the job queues: pg-boss's queue and schedule
  // creation from two workers starting at once on a fresh database can deadlock (measured: one
  // worker died with "deadlock detected" at start). The web's start takes longer than that setup.
  if (workerProcesses > 1) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstWorkerAt + 15_000 - Date.now())));
    for (let i = 1; i < workerProcesses && !stopping; i++) {
      const extra = { name: `worker ${i + 1}`, child: spawnWorker() };
      children.push(extra);
      watch(extra);
    }
    say(`${workerProcesses} workers`);
  }
  say(`ready: ${url}`);
  if (accounts.demo) {
    say(`demo sign-ins (password "${DEMO_PASSWORD}"): admin@demo.local · clinician@demo.local · clinician2@demo.local · scientist@demo.local · reviewer@demo.local`);
  } else if (accounts.firstAdmin.created) {
    // Printed once: only its scrypt hash is stored, and the admin must choose a new one at first sign-in.
    say(`first admin: ${accounts.firstAdmin.email} · password (shown once, change it at first sign-in): ${accounts.firstAdmin.password}`);
  } else {
    say("no demo (SEED_DEMO=false): sign in with an existing account");
  }
  say("press Ctrl-C to stop");
}

async function waitForWeb(url: string) {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new StartupError("The web server did not become ready within 150 s.", "Look at the output above for the web process's error.");
}

main().catch(exitOnStartupError);
