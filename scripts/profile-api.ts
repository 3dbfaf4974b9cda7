/**
 * npm run profile:api [-- --clients 20 --requests 10 --out <folder> --cache-on-first]
 *
 * Where a clinician call's time goes (issue 16). A benchmark, not a test. Builds a throw-away
 * platform (embedded PostgreSQL with pg_stat_statements, a project of 3,000 queued cases,
 * `--clients` clinicians) and runs the production web server (scripts/web-server.mjs on the existing
 * build, under `node --cpu-prof`), then on loopback, each phase in its own time window:
 *   - `health.ping` (no database work of its own) and `queue.next` + `annotations.submit`,
 *     one client at a time (service time) and `--clients` at once; then `annotations.submit` with
 *     `advanceInProject` (submit and take the next, the workspace's one call per case) at `--clients` at once;
 *   - `health.ping` at `--clients` at once beside a CPU-bound stand-in for training (two threads
 *     spinning in a child process) at nice 0 and at WORKER_NICE's default (workers/priority.ts),
 *     against no load, interleaved, so the worker's priority is judged against a same-run baseline;
 *   - `health.ping` and `queue.next` + `annotations.submit` at `--clients` at once against a second
 *     web server of the same build with SESSION_CHECK_CACHE_MS=2000 (server/auth/session-cache.ts),
 *     interleaved with the first (cache off), same sessions; both servers run under --cpu-prof.
 *     The first server has served every earlier phase and the second only a warm-up, which costs
 *     the second more CPU per request (an A/A run: 0.55–1.15 vs 0.32–0.40 ms per ping); with
 *     `--cache-on-first` the first server has SESSION_CHECK_CACHE_MS=2000 (so every phase above runs
 *     with the cache, the production default) and the second none: compare like positions across runs.
 * For each phase: latency median/p95, statements and database time per request (pg_stat_statements),
 * and the web process's CPU per request split by where the sampled code lives (cpu profile).
 * Prints markdown; the .cpuprofile is kept in `--out` (default a temp folder) for a closer look.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { hashPassword } from "../server/auth/password";
import { createDb } from "../server/db/client";
import { insertFixtureCases, insertFixtureProject, insertFixtureUsers, listFixtureCases, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { prepareDatabase } from "../server/platform/database";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { DEFAULT_WORKER_NICE } from "../workers/priority";
import { ApiClient as Client, quantile } from "./lib/api-client";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "20" },
    requests: { type: "string", default: "10" },
    port: { type: "string", default: String(3400 + (process.pid % 300)) },
    out: { type: "string" },
    // On-CPU sampling with Linux perf instead of V8's wall-clock sampler for the main server: see PERF below.
    perf: { type: "boolean", default: false },
    // The first (profiled, warmed by every phase) server with the session-check cache and the second without.
    "cache-on-first": { type: "boolean", default: false },
  },
});
const CLIENTS = Number(args.clients);
const REQUESTS = Number(args.requests);
const PORT = Number(args.port);
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = "profile-password-123";
const root = path.resolve(import.meta.dirname, "..");
const say = (line: string) => process.stderr.write(`[profile] ${line}\n`);
const nowUs = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, the clock of V8's profile timestamps

const BASE_CACHED = `http://127.0.0.1:${PORT + 1}`;
const CACHE_ON_FIRST = args["cache-on-first"];
/** The session-check cache of the server at `base`, as the phases' names say it. */
const cacheLabel = (base: string) => ((base === BASE) === CACHE_ON_FIRST ? "SESSION_CHECK_CACHE_MS=2000" : "session cache off") + (base === BASE ? "" : ", second server");

/**
 * CPU seconds (user + system) so far of the PostgreSQL backends serving database `database` (Linux /proc: a
 * backend's title is "postgres: <user> <database> …"); backends that ended between two reads are not counted.
 */
function backendCpuSeconds(database: string): number {
  let ticks = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmdline.startsWith("postgres: ") || !cmdline.split(" ").includes(database)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between listing and reading
    }
  }
  return ticks / 100; // USER_HZ, 100 on Linux
}

/** CPU seconds (user + system) so far of one process (Linux /proc), its threads included. */
function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

interface Phase {
  name: string;
  /** false: the phase ran against the second server (SESSION_CHECK_CACHE_MS=2000 unless --cache-on-first), whose profile is cached/. */
  profiled: boolean;
  requests: number;
  ms: number[];
  fromUs: number;
  toUs: number;
  statements: number;
  dbMs: number;
  /** Planning time summed over the phase's statements (pg_stat_statements.track_planning). */
  planMs: number;
  /** CPU seconds of the database's backends during the phase (/proc). */
  pgCpuS: number;
  /** CPU seconds of the web process that served the phase (/proc: on-CPU time, unlike the profile's samples). */
  webCpuS: number;
  top: { query: string; calls: number; ms: number; planMs: number }[];
}

async function main() {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-profile-"));
  fs.chmodSync(temp, 0o755);
  const profDir = args.out ? path.resolve(args.out) : path.join(temp, "prof");
  fs.mkdirSync(profDir, { recursive: true });
  const pgOptions = { dataDir: path.join(temp, "pg"), embeddedPort: 55000 + (process.pid % 500), database: "rads_profile" };
  let database = await prepareDatabase(pgOptions);
  // pg_stat_statements must be preloaded: set it, restart once, create the extension.
  {
    const admin = new pg.Client({ connectionString: database.embedded!.adminUrl });
    await admin.connect();
    await admin.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    // Planning time too: a statement sent as text is parsed and planned again on every call.
    await admin.query("ALTER SYSTEM SET pg_stat_statements.track_planning = on");
    await admin.end();
    await database.embedded!.stop();
    database = await prepareDatabase(pgOptions);
  }
  const admin = new pg.Client({ connectionString: database.embedded!.adminUrl });
  await admin.connect();
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const db = createDb(database.url);
  let web: ChildProcess | null = null;
  let webCached: ChildProcess | null = null;
  const burners: ChildProcess[] = [];
  try {
    say("seeding…");
    const passwordHash = await hashPassword(PASSWORD);
    await insertFixtureUsers(db, Array.from({ length: CLIENTS }, (_, i) => ({ email: `profile-${i}@profile.local`, name: `Profile ${i}`, role: "CLINICIAN" as const, passwordHash })));
    const users = await listUsersByEmailSuffix(db, "@profile.local");
    const project = await insertFixtureProject(db, {
      name: "Profile project",
      labelSchema: { labels: [{ key: "normal", name: "Normal", shortcut: "1" }, { key: "abnormal", name: "Abnormal", shortcut: "2" }], multiLabel: false },
      minorityClasses: ["abnormal"],
      selectionParams: { strategy: "rads", budget: 3000 },
      encoderConfig: { kind: "builtin", dim: 384 },
      settings: { annotationsPerCase: 1, leaseMinutes: 30 },
      memberIds: users.map((u) => u.id),
    });
    await insertFixtureCases(db, Array.from({ length: 6000 }, (_, i) => ({ projectId: project.id, externalId: `p-${i}`, narrative: `FINDINGS: case ${i}, lungs clear.\n\nIMPRESSION: unremarkable.`, split: "POOL" as const })));
    const cases = await listFixtureCases(db, project.id);
    await writeSelectionRound(db, { projectId: project.id, strategy: "random", coldStart: false, modelVersionId: null, params: { profile: true }, stats: {}, items: cases.map((c, i) => ({ caseId: c.id, rank: i + 1, features: {} })) });

    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64url"), NEXTAUTH_URL: BASE, STORAGE_DIR: path.join(temp, "storage"), NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", LOGIN_MAX_FAILURES: "1000" };
    if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) throw new Error("no production build: run `npm run build` first");
    // The production entry (scripts/web-server.mjs: tRPC on node:http, the rest through Next.js), as `npm start` runs it.
    const webServer = (port: number, dir: string, flags = ["--cpu-prof", `--cpu-prof-dir=${dir}`]) => [...flags, path.join(root, "scripts/web-server.mjs"), "--port", String(port), "--host", "127.0.0.1"];
    // --perf: the main server writes a symbol map for its JavaScript (/tmp/perf-<pid>.map, which perf reads) instead of a .cpuprofile.
    web = spawn(process.execPath, webServer(PORT, profDir, args.perf ? ["--perf-basic-prof-only-functions"] : undefined), { cwd: root, env: { ...env, SESSION_CHECK_CACHE_MS: CACHE_ON_FIRST ? "2000" : "0" }, stdio: ["ignore", "ignore", "inherit"] });
    fs.mkdirSync(path.join(profDir, "cached"), { recursive: true });
    webCached = spawn(process.execPath, webServer(PORT + 1, path.join(profDir, "cached")), { cwd: root, env: { ...env, NEXTAUTH_URL: BASE_CACHED, SESSION_CHECK_CACHE_MS: CACHE_ON_FIRST ? "0" : "2000" }, stdio: ["ignore", "ignore", "inherit"] });
    for (let i = 0; ; i++) {
      const up = (base: string) => fetch(`${base}/api/trpc/health.ping`).then((r) => r.ok, () => false);
      if ((await up(BASE)) && (await up(BASE_CACHED))) break;
      if (i > 480) throw new Error("web server did not start");
      await new Promise((r) => setTimeout(r, 250));
    }
    const clients = users.map((u) => new Client(u.email, { base: BASE, password: PASSWORD }));
    for (const c of clients) await c.signIn();
    // Warm-up of both servers: every route loaded, connection pools filled.
    for (const base of [BASE_CACHED, BASE]) {
      for (const c of clients) c.base = base;
      await Promise.all(clients.map(async (c) => { for (let i = 0; i < 3; i++) await c.call("query", "health.ping", undefined); }));
    }
    let caseCounter = 0;
    const submitOnce = async (c: Client, ms: number[]) => {
      let t0 = performance.now();
      const lease = await c.call<{ caseId: string } | null>("mutation", "queue.next", { projectId: project.id });
      ms.push(performance.now() - t0);
      if (!lease) throw new Error("queue ran dry");
      t0 = performance.now();
      await c.call("mutation", "annotations.submit", { caseId: lease.caseId, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: `p${caseCounter++}` }, timeSpentMs: 1000 });
      ms.push(performance.now() - t0);
    };
    // Submit and take the next, as the workspace does: annotations.submit with advanceInProject carries the next lease
    // (each client's first case is leased before the phase, outside its window).
    const nextOf = new Map<Client, string>();
    const leaseFirst = () =>
      Promise.all(clients.map(async (c) => {
        const lease = await c.call<{ caseId: string } | null>("mutation", "queue.next", { projectId: project.id });
        if (lease) nextOf.set(c, lease.caseId);
      }));
    const submitAndNextOnce = async (c: Client, ms: number[]) => {
      const caseId = nextOf.get(c);
      if (!caseId) throw new Error("queue ran dry");
      const t0 = performance.now();
      const result = await c.call<{ next: { caseId: string } | null }>("mutation", "annotations.submit", { caseId, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: `p${caseCounter++}` }, timeSpentMs: 1000, advanceInProject: project.id });
      ms.push(performance.now() - t0);
      if (result.next) nextOf.set(c, result.next.caseId);
      else nextOf.delete(c);
    };
    const pingOnce = async (c: Client, ms: number[]) => {
      const t0 = performance.now();
      await c.call("query", "health.ping", undefined);
      ms.push(performance.now() - t0);
    };

    const phases: Phase[] = [];
    const phase = async (name: string, concurrency: number, perClient: number, once: (c: Client, ms: number[]) => Promise<void>, requestsPerOnce = 1, base = BASE, perfRecord = false) => {
      for (const c of clients) c.base = base;
      await admin.query("SELECT pg_stat_statements_reset()");
      const recorder = perfRecord && args.perf ? await startPerf(path.join(profDir, "perf.data"), [web!.pid!, ...backendPids(pgOptions.database)]) : null;
      const ms: number[] = [];
      const pgCpuFrom = backendCpuSeconds(pgOptions.database);
      const server = (base === BASE ? web : webCached)!.pid!;
      const webCpuFrom = processCpuSeconds(server);
      const fromUs = nowUs();
      await Promise.all(clients.slice(0, concurrency).map(async (c) => { for (let i = 0; i < perClient; i++) await once(c, ms); }));
      const toUs = nowUs();
      if (recorder) await recorder.stop();
      const pgCpuS = backendCpuSeconds(pgOptions.database) - pgCpuFrom;
      const webCpuS = processCpuSeconds(server) - webCpuFrom;
      const stats = await admin.query<{ query: string; calls: string; ms: string; plan_ms: string }>(
        "SELECT query, calls::text, total_exec_time::text AS ms, total_plan_time::text AS plan_ms FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat_statements%' ORDER BY calls DESC",
      );
      const requests = concurrency * perClient * requestsPerOnce;
      const statements = stats.rows.reduce((s, r) => s + Number(r.calls), 0);
      const dbMs = stats.rows.reduce((s, r) => s + Number(r.ms), 0);
      const planMs = stats.rows.reduce((s, r) => s + Number(r.plan_ms), 0);
      phases.push({ name, profiled: base === BASE, requests, ms, fromUs, toUs, statements, dbMs, planMs, pgCpuS, webCpuS, top: stats.rows.slice(0, 16).map((r) => ({ query: r.query.replace(/\s+/g, " ").slice(0, 90), calls: Number(r.calls), ms: Number(r.ms), planMs: Number(r.plan_ms) })) });
      say(`${name}: ${requests} requests, median ${quantile(ms, 0.5).toFixed(1)} ms`);
    };

    say("phases…");
    await phase("health.ping, 1 client", 1, REQUESTS * 5, pingOnce);
    await phase(`health.ping, ${CLIENTS} clients`, CLIENTS, REQUESTS, pingOnce);
    await phase("queue.next + annotations.submit, 1 client", 1, REQUESTS * 2, submitOnce, 2);
    await phase(`queue.next + annotations.submit, ${CLIENTS} clients`, CLIENTS, REQUESTS, submitOnce, 2);
    await leaseFirst();
    await phase(`submit and take the next (one call per submission), ${CLIENTS} clients`, CLIENTS, REQUESTS, submitAndNextOnce, 1, BASE, true);
    // The same call from one client while the other clients each hold a lease in the round: each statement's cost with no
    // CPU contention, but with the round's open leases a crowd leaves (what a statement pays per clinician at work).
    await phase(`submit and take the next, 1 client, ${CLIENTS - 1} others holding a lease`, 1, REQUESTS * 5, submitAndNextOnce, 1);

    // Worker priority: a CPU-bound stand-in for training (2 spinning threads, like ML_THREADS=2) at nice 0 / WORKER_NICE.
    const burner = (nice: number) =>
      spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `
        import { lowerWorkerPriority } from ${JSON.stringify(path.join(root, "workers/priority.ts"))};
        import { Worker } from "node:worker_threads";
        lowerWorkerPriority(${nice});
        for (let i = 0; i < 2; i++) new Worker("for (;;) { Math.sqrt(Math.random()); }", { eval: true });
      `], { stdio: "ignore" });
    for (let round = 0; round < 2; round++) {
      await phase(`health.ping, ${CLIENTS} clients, no worker load (round ${round + 1})`, CLIENTS, REQUESTS, pingOnce);
      for (const nice of [0, DEFAULT_WORKER_NICE]) {
        const child = burner(nice);
        burners.push(child);
        await new Promise((r) => setTimeout(r, 1500));
        await phase(`health.ping, ${CLIENTS} clients, 2 training threads at nice ${nice} (round ${round + 1})`, CLIENTS, REQUESTS, pingOnce);
        child.kill("SIGKILL");
        await new Promise((r) => setTimeout(r, 500));
      }
    }

    // The session-check cache (SESSION_CHECK_CACHE_MS=2000) against the same build without it, interleaved.
    for (let round = 0; round < 2; round++) {
      await phase(`health.ping, ${CLIENTS} clients, ${cacheLabel(BASE)} (round ${round + 1})`, CLIENTS, REQUESTS, pingOnce);
      await phase(`health.ping, ${CLIENTS} clients, ${cacheLabel(BASE_CACHED)} (round ${round + 1})`, CLIENTS, REQUESTS, pingOnce, 1, BASE_CACHED);
    }
    await phase(`queue.next + annotations.submit, ${CLIENTS} clients, ${cacheLabel(BASE)}`, CLIENTS, REQUESTS, submitOnce, 2);
    await phase(`queue.next + annotations.submit, ${CLIENTS} clients, ${cacheLabel(BASE_CACHED)}`, CLIENTS, REQUESTS, submitOnce, 2, BASE_CACHED);

    for (const child of [web, webCached]) {
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
    }
    web = webCached = null;
    // The main thread's profile: CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile with thread 0 (the web
    // server's tsx loader runs in a thread of its own, which writes a profile too).
    const latest = (dir: string) => fs.readdirSync(dir).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
    const file = latest(profDir);
    const cachedFile = latest(path.join(profDir, "cached"));
    const profile = file ? (JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile) : null;
    const cachedProfile = cachedFile ? (JSON.parse(fs.readFileSync(cachedFile, "utf8")) as CpuProfile) : null;
    if (!profile || !cachedProfile) say("a .cpuprofile is missing (a web process did not exit cleanly)");

    const load = os.loadavg().map((l) => l.toFixed(1)).join(", ");
    console.log(`\nClinician-call profile — ${os.cpus().length} cores, Node ${process.version}, load average ${load} (1/5/15 min) at the end, production build, loopback, ${CLIENTS} clients.\n`);
    console.log("| phase | requests | median ms | p95 ms | statements / request | DB exec ms / request | DB planning ms / request | PostgreSQL backends' CPU ms / request | web process CPU ms / request (/proc) | web CPU ms / request (profile samples) | of which: Next.js server | tRPC, NextAuth, ours (route bundle or sources) | Prisma (incl. its query-compiler wasm) + pg | Node internals | GC |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const p of phases) {
      const source = p.profiled ? profile : cachedProfile;
      const cpu = source ? cpuByCategory(source, p.fromUs, p.toUs) : null;
      const per = (v: number | undefined) => (cpu ? ((v ?? 0) / 1000 / p.requests).toFixed(2) : "–");
      const busy = cpu ? Object.entries(cpu).filter(([k]) => k !== "idle").reduce((s, [, v]) => s + v, 0) : 0;
      console.log(`| ${p.name} | ${p.requests} | ${quantile(p.ms, 0.5).toFixed(1)} | ${quantile(p.ms, 0.95).toFixed(1)} | ${(p.statements / p.requests).toFixed(1)} | ${(p.dbMs / p.requests).toFixed(2)} | ${(p.planMs / p.requests).toFixed(2)} | ${p.pgCpuS < 0 ? "– (a backend ended mid-phase)" : ((p.pgCpuS * 1000) / p.requests).toFixed(2)} | ${((p.webCpuS * 1000) / p.requests).toFixed(2)} | ${per(busy)} | ${per(cpu?.next)} | ${per(cpu?.bundle)} | ${per(cpu?.db)} | ${per(cpu?.node)} | ${per(cpu?.gc)} |`);
    }
    for (const p of phases.slice(0, 6)) {
      console.log(`\nStatements of "${p.name}" (calls in the phase, mean execution ms + mean planning ms per call):`);
      for (const t of p.top) console.log(`- ${t.calls} × ${(t.ms / Math.max(1, t.calls)).toFixed(3)} + ${(t.planMs / Math.max(1, t.calls)).toFixed(3)} ms \`${t.query}\``);
    }
    if (profile) {
      const [a, b] = [phases[1]!, phases[3]!];
      for (const p of [a, b]) {
        console.log(`\nTop self time in "${p.name}" (ms per request):`);
        for (const [fn, us] of topFunctions(profile, p.fromUs, p.toUs, 15)) console.log(`- ${(us / 1000 / p.requests).toFixed(3)} ${fn}`);
      }
      console.log(`\nProfile: ${file}`);
      // Each phase's window (CLOCK_MONOTONIC µs, the profile's clock), for a closer look at one phase.
      fs.writeFileSync(path.join(profDir, "phases.json"), JSON.stringify(phases.map((p) => ({ name: p.name, profiled: p.profiled, requests: p.requests, fromUs: p.fromUs, toUs: p.toUs })), null, 1));
    }
    if (args.perf) printPerfReport(path.join(profDir, "perf.data"), phases.find((p) => p.name.startsWith("submit and take the next (one call"))!.requests);
  } finally {
    for (const b of burners) b.kill("SIGKILL");
    web?.kill("SIGKILL");
    webCached?.kill("SIGKILL");
    await admin.end().catch(() => undefined);
    await db.$disconnect();
    await database.embedded?.stop();
    if (!args.out) fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** The pids of the PostgreSQL backends serving database `database` (as backendCpuSeconds finds them). */
function backendPids(database: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.startsWith("postgres: ") && cmdline.split(" ").includes(database)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

/**
 * PERF (--perf): Linux perf samples on-CPU time only (999 Hz per CPU, call graphs), so a process preempted inside a
 * syscall is not charged for the time it waits — V8's sampler charges it (its "writev" self time). Records the main web
 * process and the PostgreSQL backends of the profile's database during the submit-and-take-the-next phase.
 */
async function startPerf(file: string, pids: number[]): Promise<{ stop(): Promise<void> }> {
  const child = spawn("perf", ["record", "-F", "999", "-g", "-o", file, "-p", pids.join(",")], { stdio: ["ignore", "ignore", "inherit"] });
  await new Promise((r) => setTimeout(r, 500)); // perf attaches
  return {
    async stop() {
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** perf's samples by process and by symbol (self time, ms of CPU per request: perf's 999 Hz ≈ 1 ms per sample). */
function printPerfReport(file: string, requests: number) {
  const run = (extra: string[]) => spawnSync("perf", ["report", "-i", file, "--stdio", "--no-children", "-g", "none", "-F", "sample,comm,dso,sym", ...extra], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout;
  const lines = run(["--sort", "comm,dso,sym"]).split("\n").filter((l) => /^\s+\d+/.test(l)).sort((a, b) => Number(b.trim().split(/\s+/)[0]) - Number(a.trim().split(/\s+/)[0]));
  const byComm = new Map<string, number>();
  for (const l of lines) {
    const [samples, comm] = l.trim().split(/\s+/);
    byComm.set(comm!, (byComm.get(comm!) ?? 0) + Number(samples));
  }
  console.log(`\nperf (on-CPU, 999 Hz) during "submit and take the next", ${requests} requests — CPU ms per request by process:`);
  for (const [comm, n] of [...byComm].sort((a, b) => b[1] - a[1])) console.log(`- ${comm}: ${((n * 1000) / 999 / requests).toFixed(3)}`);
  console.log("\nTop symbols (self), CPU ms per request:");
  for (const l of lines.slice(0, 80)) {
    const [samples, ...rest] = l.trim().split(/\s+/);
    console.log(`- ${((Number(samples) * 1000) / 999 / requests).toFixed(3)} ${rest.join(" ").slice(0, 160)}`);
  }
}

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function categoryOf(frame: CpuNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (functionName === "(idle)") return "idle";
  if (functionName === "(garbage collector)") return "gc";
  // The only WebAssembly in the web process is Prisma's query compiler.
  if (url.startsWith("wasm:") || /@prisma|node_modules\/pg|prisma_client|query_compiler|adapter-pg|pg-pool|pg-protocol/.test(url)) return "db";
  if (url.includes("/.next/server/")) return "bundle";
  if (url.includes("node_modules/next/")) return "next";
  // The production entry runs tRPC from the sources (scripts/web-server.mjs, loaded through tsx) instead of Next's route bundle.
  if (/node_modules\/(@trpc|superjson|zod|jose|next-auth)\//.test(url)) return "bundle";
  if (url.startsWith(`file://${root}/`) && !url.includes("/node_modules/")) return "bundle";
  if (url.startsWith("node:") || url === "") return "node";
  return "other";
}

/** Sampled microseconds per category between two CLOCK_MONOTONIC times (µs). */
function* samplesIn(profile: CpuProfile, fromUs: number, toUs: number) {
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t >= fromUs && t < toUs) yield { node: profile.samples[i]!, dt };
  }
}

function cpuByCategory(profile: CpuProfile, fromUs: number, toUs: number): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out: Record<string, number> = {};
  for (const { node, dt } of samplesIn(profile, fromUs, toUs)) {
    const c = categoryOf(byId.get(node)!.callFrame);
    out[c] = (out[c] ?? 0) + dt;
  }
  return out;
}

function topFunctions(profile: CpuProfile, fromUs: number, toUs: number, n: number): [string, number][] {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const out = new Map<string, number>();
  for (const { node, dt } of samplesIn(profile, fromUs, toUs)) {
    const f = byId.get(node)!.callFrame;
    if (f.functionName === "(idle)") continue;
    const key = `${f.functionName || "(anonymous)"} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    out.set(key, (out.get(key) ?? 0) + dt);
  }
  return [...out].sort((a, b) => b[1] - a[1]).slice(0, n);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
