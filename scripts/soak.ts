/**
 * npm run soak -- [--clinicians 50] [--minutes 10 | --seconds N] [--pool 2000] [--think-ms 3000]
 *                 [--train-every 60] [--port N] [--pg-port N] [--json file]   (ports: free ones by default)
 *                 [--web-processes N] [--workers N]   (WEB_PROCESSES / WORKER_PROCESSES of scripts/start.ts)
 *                 [--retrain-after S]   (retraining off for the first S seconds: a same-run baseline; ≥ the run: never)
 *                 [--memory-probe]      (heap, external and array-buffer memory of every platform process, every 5 s)
 *
 * A bounded soak on loopback, not a test (scripts/soak.int.test.ts runs a short one in CI).
 * Starts the real platform — scripts/start.ts on a temporary data folder: embedded PostgreSQL,
 * production build (built if the sources changed), web + worker — adds a project of `--pool` POOL
 * cases (real MTSamples narratives; every 10th case with an image: real chest X-ray JPEGs and
 * DICOM from ../shared/data) in one cold-start round, `--clinicians` clinicians and a data
 * scientist. Then for the given time each clinician, an HTTP client signed in through NextAuth's
 * credentials endpoint (csrf token + cookie), loops: fetch the queue, lease the next case, view it
 * (and download its image bytes), autosave a draft, submit; about one cycle in ten it also edits
 * one of its earlier cases. Between cycles it waits `--think-ms` (±50 %). The data scientist asks
 * for a retraining every `--train-every` seconds while the worker also retrains on its own
 * triggers. Every request has a 30 s timeout; every loop stops at the deadline.
 * With `--retrain-after S` the first S seconds run without retraining (the project's retrain
 * triggers off, the data scientist idle), then the triggers are switched on: every latency and CPU
 * figure is reported per phase, so the cost of retraining is read against a baseline of the same run.
 *
 * Reports: per operation count, rate, p50/p95/p99 latency and errors; then every acknowledged
 * submission is compared with the database — lost (missing) or overwritten (different content)
 * must both be 0 —, no queue item may hold more completed leases or submitting authors than the
 * project's annotationsPerCase (nothing leased twice), and the resident memory (VmRSS) of the web and worker process trees sampled
 * every 5 s. CPU time per process group, sampled from /proc every 2 s (Linux): the web processes,
 * the worker (its ML threads included), PostgreSQL's backends serving each of them (told apart by
 * application_name: scripts/start.ts sets PGAPPNAME per child), the rest of PostgreSQL, this driver
 * itself, and the rest of the machine — all on the same cores. Exit code 1 when there was an error
 * or a lost/overwritten write.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { hashPassword } from "../server/auth/password";
import { createDb, type Db } from "../server/db/client";
import { countJobRunsByStatus, countModelVersions, insertFixtureCases, insertFixtureImages, insertFixtureProject, insertFixtureUsers, listFixtureCases, listSubmittedAnnotations } from "../server/db/fixtures-repo";
import { embeddedDatabaseUrl, freePort } from "../server/db/embedded-postgres";
import { createServiceContext } from "../server/services/context";
import { deidentifyStoredImages } from "../server/services/deidentify-service";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { contentKey, createLocalBlobStore } from "../server/storage/blob-store";
import { loadMtsamplesRows } from "../workers/testing/loop-fixtures";
import { childPids, cpuBetween, cpuSnapshot, findDescendant, processTable, treePids, type CpuSnapshot } from "./lib/proc-cpu";

// The services log JSON lines for a log collector; this report wants stdout to itself.
process.env.LOG_LEVEL ??= "warn";

const { values: args } = parseArgs({
  options: {
    clinicians: { type: "string", default: "50" },
    minutes: { type: "string", default: "10" },
    seconds: { type: "string" },
    pool: { type: "string", default: "2000" },
    "think-ms": { type: "string", default: "3000" },
    "train-every": { type: "string", default: "60" },
    // 0: a free port the system picks, so a soak never collides with a running platform or another test.
    port: { type: "string", default: "0" },
    "pg-port": { type: "string", default: "0" },
    json: { type: "string" },
    // Unset: the start script's defaults.
    "web-processes": { type: "string" },
    workers: { type: "string" },
    "retrain-after": { type: "string", default: "0" },
    "memory-probe": { type: "boolean", default: false },
  },
});
const CLINICIANS = Number(args.clinicians);
const DURATION_MS = args.seconds ? Number(args.seconds) * 1000 : Number(args.minutes) * 60_000;
const POOL = Number(args.pool);
const THINK_MS = Number(args["think-ms"]);
const TRAIN_EVERY_MS = Number(args["train-every"]) * 1000;
const RETRAIN_AFTER_MS = Number(args["retrain-after"]) * 1000;
const PORT = Number(args.port) || (await freePort());
const PG_PORT = Number(args["pg-port"]) || (await freePort());
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = "soak-password-123";
const REQUEST_TIMEOUT_MS = 30_000;
const root = path.resolve(import.meta.dirname, "..");
const SHARED = path.resolve(root, "../shared/data");
const say = (line: string) => process.stderr.write(`[soak] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [name, value] of Object.entries({ CLINICIANS, DURATION_MS, POOL, THINK_MS, TRAIN_EVERY_MS, RETRAIN_AFTER_MS, PORT, PG_PORT })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name.toLowerCase()} must be a non-negative number`);
}

// ---------- measurements ----------
const latencies = new Map<string, number[]>();
/** "baseline" (retraining off) until the switch, then "retraining"; set by main. */
let phase: Phase = "retraining";
type Phase = "baseline" | "retraining";
const phaseLatencies = new Map<Phase, Map<string, number[]>>([
  ["baseline", new Map()],
  ["retraining", new Map()],
]);
const errors = new Map<string, number>();
const errorSamples: string[] = [];
function record(op: string, ms: number) {
  for (const map of [latencies, phaseLatencies.get(phase)!]) {
    const list = map.get(op) ?? [];
    list.push(ms);
    map.set(op, list);
  }
}
function recordError(op: string, detail: string) {
  errors.set(op, (errors.get(op) ?? 0) + 1);
  if (errorSamples.length < 20) errorSamples.push(`${op}: ${detail}`);
}
function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

// ---------- an HTTP client with a cookie jar ----------
class Client {
  private cookies = new Map<string, string>();
  constructor(readonly email: string) {}

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  private keep(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      const eq = pair.indexOf("=");
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }

  async signIn() {
    const started = performance.now();
    const csrf = await fetch(`${BASE}/api/auth/csrf`, { headers: { cookie: this.cookieHeader() }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    this.keep(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    let response: Response;
    // 429 while the sign-in route's password-hashing slots are full (many clients at once): retry shortly.
    for (let attempt = 0; ; attempt++) {
      response = await fetch(`${BASE}/api/auth/callback/credentials`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: this.cookieHeader(), origin: BASE },
        body: new URLSearchParams({ csrfToken, email: this.email, password: PASSWORD, json: "true" }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status !== 429 || attempt >= 60) break;
      await response.arrayBuffer();
      await sleep(200 + Math.random() * 300);
    }
    this.keep(response);
    await response.arrayBuffer();
    if (![...this.cookies.keys()].some((k) => k.includes("session-token"))) throw new Error(`sign-in failed for ${this.email} (${response.status})`);
    record("sign-in", performance.now() - started);
  }

  /** One tRPC call (GET for queries, POST for mutations); records latency, throws on error. */
  async trpc<T>(op: string, kind: "query" | "mutation", procedure: string, input: unknown): Promise<T> {
    const headers = { cookie: this.cookieHeader(), origin: BASE, "content-type": "application/json" };
    const started = performance.now();
    const response =
      kind === "query"
        ? await fetch(`${BASE}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
        : await fetch(`${BASE}/api/trpc/${procedure}`, { method: "POST", headers, body: JSON.stringify({ json: input }), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await response.json()) as { result?: { data?: { json?: T } }; error?: { json?: { message?: string; data?: { code?: string } } } };
    record(op, performance.now() - started);
    if (!response.ok || body.error) throw new Error(`${response.status} ${body.error?.json?.data?.code ?? ""} ${body.error?.json?.message ?? ""}`.trim());
    return body.result!.data!.json as T;
  }

  async bytes(op: string, url: string): Promise<number> {
    const started = performance.now();
    const response = await fetch(`${BASE}${url}`, { headers: { cookie: this.cookieHeader() }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const data = await response.arrayBuffer();
    record(op, performance.now() - started);
    if (!response.ok) throw new Error(`${response.status}`);
    return data.byteLength;
  }
}

// ---------- the platform ----------
function readRssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process ended between listing and reading
  }
}

// ---------- CPU per process group (Linux /proc) ----------
type CpuGroup = "web" | "worker" | "postgres: web backends" | "postgres: worker backends" | "postgres: other (aux, autovacuum, this probe)" | "platform supervisor (scripts/start.ts)" | "soak driver (load generator)" | "rest of the machine (other users)";

/**
 * Samples CPU seconds per process group (scripts/lib/proc-cpu.ts). Each process's time is counted
 * from the first sample that saw it (processes alive at the start from then on); a PostgreSQL backend
 * that exits between two samples loses at most one interval, which the postmaster's reaped-children
 * time (`reaped`) shows.
 */
class CpuSampler {
  private last: CpuSnapshot<CpuGroup> | null = null;
  readonly totals = new Map<Phase, Map<CpuGroup, number>>([
    ["baseline", new Map()],
    ["retraining", new Map()],
  ]);
  readonly nice = new Map<CpuGroup, Set<number>>();
  readonly reaped = new Map<Phase, number>();
  readonly cores = os.cpus().length;

  constructor(
    private readonly pids: { platform: number; web: number; workers: number[]; postmaster: number | null },
    private readonly backendNames: () => Promise<Map<number, string>>,
  ) {}

  private add(p: Phase, group: CpuGroup, seconds: number) {
    const map = this.totals.get(p)!;
    map.set(group, (map.get(group) ?? 0) + seconds);
  }

  async sample(p: Phase) {
    const table = processTable();
    const names = this.pids.postmaster ? await this.backendNames().catch(() => new Map<number, string>()) : new Map<number, string>();
    const groups: [CpuGroup, number[]][] = [
      ["web", treePids(this.pids.web, table)],
      ["worker", this.pids.workers.flatMap((w) => treePids(w, table))],
      ["platform supervisor (scripts/start.ts)", [this.pids.platform]],
    ];
    if (this.pids.postmaster) {
      const byGroup = (pid: number): CpuGroup => {
        const name = names.get(pid) ?? "";
        if (name.startsWith("rads-web")) return "postgres: web backends";
        if (name.startsWith("rads-worker") || name.startsWith("rads-locks")) return "postgres: worker backends";
        return "postgres: other (aux, autovacuum, this probe)";
      };
      groups.push(["postgres: other (aux, autovacuum, this probe)", [this.pids.postmaster]]);
      for (const pid of childPids(this.pids.postmaster, table)) groups.push([byGroup(pid), [pid]]);
    }
    // From here on synchronous: two overlapping samples cannot count the same interval twice.
    const now = cpuSnapshot(groups, { reapedOf: this.pids.postmaster });
    const last = this.last;
    this.last = now;
    for (const { group, nice } of now.processes.values()) {
      if (!this.nice.has(group)) this.nice.set(group, new Set());
      this.nice.get(group)!.add(nice);
    }
    if (!last) return;
    const between = cpuBetween(last, now);
    for (const [group, seconds] of between.groups) this.add(p, group, seconds);
    if (this.pids.postmaster) this.reaped.set(p, (this.reaped.get(p) ?? 0) + between.reapedS);
    this.add(p, "soak driver (load generator)", between.driverS);
    // What neither the platform nor the driver used (other sessions on the box); includes backends that exited between samples.
    this.add(p, "rest of the machine (other users)", between.restS);
  }
}

/** The RSS (MB) of the process tree under `pid`. */
function treeRssMb(pid: number, table: Map<number, { ppid: number }>): number {
  let total = readRssKb(pid);
  for (const [child, info] of table) if (info.ppid === pid) total += treeRssMb(child, table) * 1024;
  return total / 1024;
}

function findChild(parent: number, pattern: RegExp): number | null {
  return findDescendant(parent, pattern, processTable());
}

/** Every probed process's first and last memory sample and its peak (MB), from scripts/lib/memory-probe.mjs's files. */
function readMemoryProbe(dir: string) {
  const mb = (b: number) => Math.round(b / 1e5) / 10;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .map((f) => {
      const samples = fs
        .readFileSync(path.join(dir, f), "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { t: number; role: string; argv: string[]; rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number });
      const first = samples[0]!;
      const last = samples[samples.length - 1]!;
      const shape = (m: typeof first) => ({ rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) });
      return { pid: Number(f.replace(".jsonl", "")), role: first.role, entry: first.argv.join(" "), samples: samples.length, first: shape(first), last: shape(last), peakRss: mb(Math.max(...samples.map((m) => m.rss))), peakHeapUsed: mb(Math.max(...samples.map((m) => m.heapUsed))) };
    })
    .filter((p) => p.role === "web" || p.role === "worker")
    .sort((a, b) => a.role.localeCompare(b.role) || a.pid - b.pid);
}

/** pg-boss jobs created since `since`, per queue (retrain-check, train, select, …). */
async function countBossJobs(databaseUrl: string, since: Date): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; n: number }>("SELECT name, count(*)::int AS n FROM pgboss.job WHERE created_on >= $1 GROUP BY name ORDER BY name", [since]);
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  } catch {
    return {};
  } finally {
    await client.end();
  }
}

async function startPlatform(dataDir: string, memoryProbeDir: string | null): Promise<ChildProcess> {
  // Its own embedded database and URL, whatever the caller's environment says (a test runner
  // exports DATABASE_URL for its own database).
  const { DATABASE_URL: _db, NEXTAUTH_URL: _url, STORAGE_DIR: _storage, ...inherited } = process.env;
  void [_db, _url, _storage];
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env: {
      ...inherited,
      PORT: String(PORT),
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(PG_PORT),
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      ...(args["web-processes"] ? { WEB_PROCESSES: args["web-processes"] } : {}),
      ...(args.workers ? { WORKER_PROCESSES: args.workers } : {}),
      ...(memoryProbeDir ? { RADS_MEMORY_PROBE_DIR: memoryProbeDir, NODE_OPTIONS: `${inherited.NODE_OPTIONS ?? ""} --import ${path.join(root, "scripts/lib/memory-probe.mjs")}`.trim() } : {}),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let ready = false;
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    if (text.includes("[start] ready")) ready = true;
    // Build output and the platform's own lines go to stderr so stdout stays the report.
    process.stderr.write(text);
  });
  for (const deadline = Date.now() + 15 * 60_000; !ready; await sleep(250)) {
    if (child.exitCode !== null) throw new Error(`the platform exited with code ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) throw new Error("the platform was not ready within 15 minutes");
  }
  return child;
}

async function stopPlatform(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  await exited;
  clearTimeout(timer);
}

// ---------- the project ----------
const LABELS = ["minority", "rest"];
const RETRAIN_ON = { onRoundComplete: true, everyNLabels: 200, scheduleHours: null };
const RETRAIN_OFF = { onRoundComplete: false, everyNLabels: null, scheduleHours: null };

/** Switches the project's retrain triggers on (the end of the baseline phase). */
async function switchRetrainingOn(databaseUrl: string, projectId: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`UPDATE "Project" SET settings = jsonb_set(settings::jsonb, '{retrainTriggers}', $1::jsonb) WHERE id = $2`, [JSON.stringify(RETRAIN_ON), projectId]);
  } finally {
    await client.end();
  }
}

async function setUpProject(db: Db, storageDir: string) {
  const passwordHash = await hashPassword(PASSWORD);
  const tag = crypto.randomBytes(3).toString("hex");
  const users = await insertFixtureUsers(db, [
    ...Array.from({ length: CLINICIANS }, (_, i) => ({ email: `soak-${tag}-${i}@soak.local`, name: `Soak clinician ${i}`, role: "CLINICIAN" as const, passwordHash })),
    { email: `soak-${tag}-scientist@soak.local`, name: "Soak scientist", role: "DATA_SCIENTIST" as const, passwordHash },
  ]);
  const clinicians = users.slice(0, CLINICIANS);
  const scientist = users[CLINICIANS]!;
  const project = await insertFixtureProject(db, {
    name: `Soak ${tag}`,
    labelSchema: { labels: [{ key: "minority", name: "Neurology", shortcut: "1" }, { key: "rest", name: "Other", shortcut: "2" }], multiLabel: false },
    minorityClasses: ["minority"],
    selectionParams: { strategy: "rads", budget: 50 },
    encoderConfig: { kind: "builtin", dim: 256 },
    // Three clinicians per case: more leases competing for the same items.
    settings: { annotationsPerCase: 3, leaseMinutes: 30, retrainTriggers: RETRAIN_AFTER_MS > 0 ? RETRAIN_OFF : RETRAIN_ON, showPredictions: false },
    memberIds: [...clinicians, scientist].map((u) => u.id),
  });
  // POOL cases to label, plus a labelled TEST split (a fifth as many) for the trainings' evaluation.
  const rows = loadMtsamplesRows({ count: POOL + Math.ceil(POOL / 5), specialty: "Neurology", seed: 7 });
  const pool = rows.slice(0, POOL);
  const test = rows.slice(POOL);
  await insertFixtureCases(db, [
    ...pool.map((r, i) => ({ projectId: project.id, externalId: `soak-${i}`, narrative: r.narrative, split: "POOL" as const })),
    ...test.map((r, i) => ({ projectId: project.id, externalId: `soak-test-${i}`, narrative: r.narrative, split: "TEST" as const, importedLabel: r.label })),
  ]);
  const cases = await listFixtureCases(db, project.id, "POOL");
  cases.sort((a, b) => Number(a.externalId.slice(5)) - Number(b.externalId.slice(5)));

  // Every 10th case gets an image: real X-ray JPEGs, and DICOM every fourth time.
  const store = createLocalBlobStore(storageDir);
  const jpegDir = path.join(SHARED, "images/covid_chestxray/images");
  const jpegs = fs.readdirSync(jpegDir).filter((f) => f.endsWith(".jpg")).sort();
  const dicoms = ["CT_small.dcm", "MR_small.dcm"].map((f) => path.join(SHARED, "dicom", f));
  let imageCount = 0;
  for (let i = 0; i < cases.length; i += 10) {
    const dicom = (i / 10) % 4 === 3;
    const file = dicom ? dicoms[(i / 40) % 2 | 0]! : path.join(jpegDir, jpegs[(i / 10) % jpegs.length]!);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const key = contentKey("images", bytes, dicom ? ".dcm" : ".jpg");
    if (!(await store.exists(key))) await store.put(key, bytes);
    await insertFixtureImages(db, [{ caseId: cases[i]!.id, storageKey: key, mimeType: dicom ? "application/dicom" : "image/jpeg", sha256: crypto.createHash("sha256").update(bytes).digest("hex"), frames: 1, attributes: {} }]);
    imageCount++;
  }
  // The served bytes carry no patient identifiers (the project keeps none): the DICOM files go through
  // the platform's own de-identification pass now, as `npm run deidentify:stored` would, so the image
  // route serves them instead of refusing them as not yet de-identified.
  await deidentifyStoredImages(createServiceContext(db, null), store, { projectIds: [project.id] });
  await writeSelectionRound(db, {
    projectId: project.id,
    strategy: "random",
    coldStart: true,
    params: { soak: true },
    stats: {},
    items: cases.map((c, rank) => ({ caseId: c.id, rank: rank + 1, features: {} })),
  });
  return { projectId: project.id, clinicians, scientist, imageCount, testCases: test.length };
}

// ---------- the clinicians ----------
interface Ack {
  annotationId: string;
  userId: string;
  caseId: string;
  version: number;
  labels: string[];
  comment: string;
  edit: boolean;
}

interface CaseView {
  case: { id: string; images: { id: string }[] };
  caseVersion: number;
}

async function clinician(client: Client, user: { id: string; email: string }, projectId: string, deadline: number, acks: Ack[], counters: { exhausted: number; bytes: number }) {
  const mine: string[] = [];
  let n = 0;
  // Bounded in count as well as time.
  for (let cycle = 0; cycle < 100_000 && Date.now() < deadline; cycle++) {
    try {
      await client.trpc("queue.project", "query", "queue.project", { projectId });
      const lease = await client.trpc<{ caseId: string } | null>("queue.next", "mutation", "queue.next", { projectId });
      const edit = mine.length > 0 && (lease === null || Math.random() < 0.1);
      if (lease === null) counters.exhausted++;
      const caseId = edit ? mine[Math.floor(Math.random() * mine.length)]! : lease?.caseId;
      if (caseId) {
        const view = await client.trpc<CaseView>(edit ? "annotations.case (edit)" : "annotations.case", "query", "annotations.case", { caseId });
        for (const image of view.case.images) counters.bytes += await client.bytes("image bytes", `/api/images/${image.id}`);
        const labels = [LABELS[Math.random() < 0.2 ? 0 : 1]!];
        const comment = `soak ${user.id} #${n++}`;
        const content = { labels, spans: [], uncertain: false, comment };
        await client.trpc("annotations.saveDraft", "mutation", "annotations.saveDraft", { caseId, baseVersion: view.caseVersion, content });
        const written = await client.trpc<{ annotationId: string; version: number }>(edit ? "annotations.submit (edit)" : "annotations.submit", "mutation", "annotations.submit", {
          caseId,
          expectedVersion: view.caseVersion,
          content,
          timeSpentMs: 1000 + Math.floor(Math.random() * 5000),
        });
        acks.push({ annotationId: written.annotationId, userId: user.id, caseId, version: written.version, labels, comment, edit });
        if (!edit) mine.push(caseId);
      }
    } catch (error) {
      recordError("cycle", (error as Error).message);
    }
    if (THINK_MS > 0) await sleep(Math.min(Math.max(0, deadline - Date.now()), THINK_MS * (0.5 + Math.random())));
  }
}

async function scientistLoop(client: Client, projectId: string, deadline: number, requested: string[], retrainFrom: number) {
  // Idle through the baseline phase.
  await sleep(Math.max(0, Math.min(retrainFrom, deadline) - Date.now()));
  while (Date.now() < deadline) {
    await sleep(Math.min(TRAIN_EVERY_MS, Math.max(0, deadline - Date.now())));
    if (Date.now() >= deadline) break;
    try {
      const job = await client.trpc<{ jobRunId: string; created: boolean }>("jobs.requestTraining", "mutation", "jobs.requestTraining", { projectId });
      if (job.created) requested.push(job.jobRunId);
      await client.trpc("jobs.list", "query", "jobs.list", { projectId, limit: 20 });
    } catch (error) {
      recordError("scientist", (error as Error).message);
    }
  }
}

/**
 * Queue items of the project with more completed leases, or more distinct authors of submitted
 * annotations of their case, than the project's annotationsPerCase (3 here): a case handed out twice.
 */
async function countOverLeasedItems(databaseUrl: string, projectId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "QueueItem" i JOIN "SelectionRound" r ON r.id = i."roundId"
       WHERE r."projectId" = $1 AND (
         (SELECT count(*) FROM "QueueLease" l WHERE l."queueItemId" = i.id AND l."completedAt" IS NOT NULL) > $2
         OR (SELECT count(DISTINCT a."authorId") FROM "Annotation" a WHERE a."caseId" = i."caseId" AND a.kind = 'SUBMITTED') > $2)`,
      [projectId, 3],
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

// ---------- main ----------
async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-soak-"));
  fs.chmodSync(dataDir, 0o755); // the embedded postgres user must reach it when run as root
  let platform: ChildProcess | null = null;
  let db: Db | null = null;
  let probeDir: string | null = null;
  try {
    say(`starting the platform (data in ${dataDir})`);
    probeDir = args["memory-probe"] ? fs.mkdtempSync(path.join(os.tmpdir(), "rads-soak-memory-")) : null;
    platform = await startPlatform(dataDir, probeDir);
    const databaseUrl = embeddedDatabaseUrl(path.join(dataDir, "postgres"), PG_PORT, "rads");
    db = createDb(databaseUrl);
    const setup = await setUpProject(db, path.join(dataDir, "storage"));
    say(`project: ${POOL} pool cases (${setup.imageCount} with an image), ${setup.testCases} TEST cases, ${CLINICIANS} clinicians`);
    // The web process is scripts/web-server.mjs (Next may rename a process "next-server", so that name counts too).
    // With WEB_PROCESSES > 1 the web child is the cluster primary (scripts/lib/web-cluster.mjs): its tree holds them all.
    const webPid = findChild(platform.pid!, /web-server\.mjs|web-cluster\.mjs|next(\/dist\/bin\/next)? start|next-server/);
    const workerPids = [...processTable()].filter(([, info]) => info.ppid === platform!.pid && /workers\/main\.ts/.test(info.cmdline)).map(([pid]) => pid);
    if (!webPid || workerPids.length === 0) {
      const table = processTable();
      const children = [...table].filter(([, info]) => info.ppid === platform!.pid).map(([pid, info]) => `${pid}: ${info.cmdline}`);
      throw new Error(`could not find the web and worker processes among the platform's children:\n${children.join("\n")}`);
    }

    // CPU per process group: PostgreSQL's backends named by application_name (one probe connection, itself "other").
    const postmaster = findChild(platform.pid!, /\/bin\/postgres\b.*-D/);
    const probe = new pg.Client({ connectionString: databaseUrl, application_name: "soak-probe" });
    await probe.connect();
    const cpu = new CpuSampler({ platform: platform.pid!, web: webPid, workers: workerPids, postmaster }, async () => {
      const { rows } = await probe.query<{ pid: number; name: string }>("SELECT pid, application_name AS name FROM pg_stat_activity");
      return new Map(rows.map((r) => [r.pid, r.name]));
    });

    const memory: { t: number; web: number; worker: number }[] = [];
    const sampleMemory = () => {
      const table = processTable();
      memory.push({ t: Date.now(), web: treeRssMb(webPid, table), worker: workerPids.reduce((sum, pid) => sum + treeRssMb(pid, table), 0) });
    };
    sampleMemory();
    const acks: Ack[] = [];
    const counters = { exhausted: 0, bytes: 0 };
    const requested: string[] = [];
    // Everyone signs in before the clock starts (a shift's burst of scrypt hashes is not the steady
    // state measured here; sign-in latency is still reported).
    say(`signing in ${CLINICIANS + 1} users`);
    const clinicianClients = setup.clinicians.map((u) => new Client(u.email));
    const scientistClient = new Client(setup.scientist.email);
    await Promise.all([...clinicianClients, scientistClient].map((c) => c.signIn()));
    const started = Date.now();
    const deadline = started + DURATION_MS;
    const retrainFrom = started + RETRAIN_AFTER_MS;
    phase = RETRAIN_AFTER_MS > 0 ? "baseline" : "retraining";
    const loads: { t: number; phase: Phase; load1: number }[] = [];
    await cpu.sample(phase);
    const sampler = setInterval(sampleMemory, 5000);
    const cpuTimer = setInterval(() => {
      loads.push({ t: Date.now(), phase, load1: os.loadavg()[0]! });
      void cpu.sample(phase).catch(() => undefined);
    }, 2000);
    const switcher =
      RETRAIN_AFTER_MS > 0 && RETRAIN_AFTER_MS < DURATION_MS
        ? setTimeout(() => {
            void (async () => {
              await cpu.sample("baseline");
              phase = "retraining";
              await switchRetrainingOn(databaseUrl, setup.projectId);
              say("retraining switched on");
            })().catch((error: Error) => recordError("switch", error.message));
          }, RETRAIN_AFTER_MS)
        : null;
    say(`running for ${(DURATION_MS / 1000).toFixed(0)} s${RETRAIN_AFTER_MS > 0 ? `, retraining off for the first ${Math.min(RETRAIN_AFTER_MS, DURATION_MS) / 1000} s` : ""}`);
    const results = await Promise.allSettled([
      ...setup.clinicians.map((u, i) => clinician(clinicianClients[i]!, u, setup.projectId, deadline, acks, counters)),
      scientistLoop(scientistClient, setup.projectId, deadline, requested, retrainFrom),
    ]);
    clearInterval(sampler);
    clearInterval(cpuTimer);
    if (switcher) clearTimeout(switcher);
    sampleMemory();
    await cpu.sample(phase);
    await probe.end().catch(() => undefined);
    const elapsedS = (Date.now() - started) / 1000;
    const phaseSeconds: Record<Phase, number> = {
      baseline: Math.min(RETRAIN_AFTER_MS, DURATION_MS, elapsedS * 1000) / 1000,
      retraining: Math.max(0, elapsedS - Math.min(RETRAIN_AFTER_MS, DURATION_MS) / 1000),
    };
    const bossJobs = await countBossJobs(databaseUrl, new Date(started));
    const processMemory = probeDir ? readMemoryProbe(probeDir) : null;
    for (const r of results) if (r.status === "rejected") recordError("client", String(r.reason));

    // Every acknowledged submission against the database.
    const ids = new Set(setup.clinicians.map((u) => u.id));
    const stored = await listSubmittedAnnotations(db, { authorIds: [...ids] });
    const byId = new Map(stored.map((a) => [a.id, a]));
    let lost = 0;
    let overwritten = 0;
    for (const ack of acks) {
      const row = byId.get(ack.annotationId);
      if (!row) lost++;
      else if (row.authorId !== ack.userId || row.caseId !== ack.caseId || row.version !== ack.version || row.comment !== ack.comment || row.labels.join() !== ack.labels.join()) overwritten++;
    }
    const overLeased = await countOverLeasedItems(embeddedDatabaseUrl(path.join(dataDir, "postgres"), PG_PORT, "rads"), setup.projectId);
    const acked = new Set(acks.map((a) => a.annotationId));
    const unacknowledged = stored.filter((a) => !acked.has(a.id)).length;
    const trains = await countJobRunsByStatus(db, setup.projectId, "train", new Date(started));
    const candidates = await countModelVersions(db, setup.projectId);
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);

    const rows = [...latencies.entries()].sort(([a], [b]) => a.localeCompare(b));
    const lines = [
      `Soak: ${CLINICIANS} clinicians × ${(elapsedS / 60).toFixed(1)} min, think time ${THINK_MS} ms ±50 %, ${POOL} pool cases (${setup.imageCount} with an image), annotationsPerCase 3; ${os.cpus().length} CPU cores (${os.cpus()[0]?.model.trim()}), Node ${process.version}`,
      "",
      "| operation | requests | per s | p50 ms | p95 ms | p99 ms | max ms | errors |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...rows.map(([op, list]) => `| ${op} | ${list.length} | ${(list.length / elapsedS).toFixed(2)} | ${quantile(list, 0.5).toFixed(1)} | ${quantile(list, 0.95).toFixed(1)} | ${quantile(list, 0.99).toFixed(1)} | ${Math.max(...list).toFixed(1)} | ${errors.get(op) ?? 0} |`),
      "",
      `- errors: ${errorCount}${errorSamples.length ? ` (${errorSamples.slice(0, 5).join("; ")})` : ""}`,
      `- submissions acknowledged: ${acks.length} (${acks.filter((a) => a.edit).length} edits of an earlier case), ${(acks.length / elapsedS).toFixed(2)} per s; image bytes served: ${(counters.bytes / 1e6).toFixed(1)} MB; empty-queue answers: ${counters.exhausted}`,
      `- lost submissions: ${lost}; silently overwritten: ${overwritten}; stored but unacknowledged: ${unacknowledged}; queue items with more completed leases or submitting authors than annotationsPerCase (leased twice): ${overLeased}`,
      `- processes: ${args["web-processes"] ?? "default"} web (WEB_PROCESSES), ${workerPids.length} worker(s); 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the end`,
      `- trainings during the soak: ${trains.map((t) => `${t.count} ${t.status.toLowerCase()}`).join(", ") || "none"} (${requested.length} requested by the data scientist, the rest by the worker's triggers); model versions: ${candidates}`,
      `- RSS web: ${memory[0]!.web.toFixed(0)} MB at start, max ${Math.max(...memory.map((m) => m.web)).toFixed(0)} MB, ${memory[memory.length - 1]!.web.toFixed(0)} MB at end; worker: ${memory[0]!.worker.toFixed(0)} → max ${Math.max(...memory.map((m) => m.worker)).toFixed(0)} → ${memory[memory.length - 1]!.worker.toFixed(0)} MB (${memory.length} samples, every 5 s)`,
    ];
    const phases = (["baseline", "retraining"] as const).filter((p) => phaseSeconds[p] > 0);
    if (phases.length > 1) {
      const ops = [...new Set(phases.flatMap((p) => [...phaseLatencies.get(p)!.keys()]))].sort();
      const cell = (p: Phase, op: string) => {
        const list = phaseLatencies.get(p)!.get(op) ?? [];
        return list.length ? `${list.length} | ${quantile(list, 0.5).toFixed(0)} | ${quantile(list, 0.95).toFixed(0)}` : "0 | – | –";
      };
      lines.push(
        "",
        `Same run, by phase: retraining off for the first ${phaseSeconds.baseline.toFixed(0)} s, then on for ${phaseSeconds.retraining.toFixed(0)} s`,
        "",
        "| operation | off: n | off: p50 ms | off: p95 ms | on: n | on: p50 ms | on: p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        ...ops.map((op) => `| ${op} | ${cell("baseline", op)} | ${cell("retraining", op)} |`),
      );
    }
    const groups = [...new Set(phases.flatMap((p) => [...cpu.totals.get(p)!.keys()]))];
    const share = (p: Phase, g: CpuGroup) => ((cpu.totals.get(p)!.get(g) ?? 0) / Math.max(1e-9, phaseSeconds[p])).toFixed(2);
    lines.push(
      "",
      `CPU per process group, cores busy on average (CPU seconds ÷ wall seconds; the machine has ${cpu.cores})${phases.length > 1 ? ", per phase" : ""}; 1-minute load average ${phases.map((p) => { const l = loads.filter((x) => x.phase === p).map((x) => x.load1); return l.length ? `${Math.min(...l).toFixed(1)}–${Math.max(...l).toFixed(1)}` : "–"; }).join(" / ")}:`,
      "",
      `| process group | nice | ${phases.map((p) => (p === "baseline" ? "retraining off" : "retraining on")).join(" | ")} |`,
      `|---|---|${phases.map(() => "---:").join("|")}|`,
      ...groups.map((g) => `| ${g} | ${[...(cpu.nice.get(g) ?? [])].sort((a, b) => a - b).join(", ") || "–"} | ${phases.map((p) => share(p, g)).join(" | ")} |`),
      `| (postgres backends that exited: the postmaster's reaped children) | | ${phases.map((p) => ((cpu.reaped.get(p) ?? 0) / Math.max(1e-9, phaseSeconds[p])).toFixed(2)).join(" | ")} |`,
      "",
      `- pg-boss jobs created during the run: ${Object.entries(bossJobs).map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`,
    );
    if (processMemory) {
      lines.push(
        "",
        "Memory per process (MB, process.memoryUsage every 5 s: first → last, peak):",
        "",
        "| process | rss | heapUsed | heapTotal | external | arrayBuffers | peak rss | peak heapUsed |",
        "|---|---|---|---|---|---|---:|---:|",
        ...processMemory.map((m) => `| ${m.role} ${m.pid} | ${m.first.rss} → ${m.last.rss} | ${m.first.heapUsed} → ${m.last.heapUsed} | ${m.first.heapTotal} → ${m.last.heapTotal} | ${m.first.external} → ${m.last.external} | ${m.first.arrayBuffers} → ${m.last.arrayBuffers} | ${m.peakRss} | ${m.peakHeapUsed} |`),
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    if (args.json) {
      const summary = {
        clinicians: CLINICIANS,
        seconds: elapsedS,
        errors: errorCount,
        errorSamples,
        submissions: acks.length,
        edits: acks.filter((a) => a.edit).length,
        lost,
        overwritten,
        unacknowledged,
        overLeased,
        trainings: Object.fromEntries(trains.map((t) => [t.status, t.count])),
        requestedTrainings: requested.length,
        latency: Object.fromEntries(rows.map(([op, list]) => [op, { n: list.length, p50: quantile(list, 0.5), p95: quantile(list, 0.95), p99: quantile(list, 0.99) }])),
        memory,
        phases: Object.fromEntries(
          phases.map((p) => [p, { seconds: phaseSeconds[p], latency: Object.fromEntries([...phaseLatencies.get(p)!].map(([op, list]) => [op, { n: list.length, p50: quantile(list, 0.5), p95: quantile(list, 0.95), p99: quantile(list, 0.99) }])), cpuCores: Object.fromEntries([...cpu.totals.get(p)!].map(([g, v]) => [g, v / Math.max(1e-9, phaseSeconds[p])])) }]),
        ),
        bossJobs,
        processMemory,
      };
      fs.writeFileSync(args.json, JSON.stringify(summary, null, 2));
    }
    if (errorCount > 0 || lost > 0 || overwritten > 0 || overLeased > 0) process.exitCode = 1;
  } finally {
    await db?.$disconnect().catch(() => undefined);
    if (platform) await stopPlatform(platform);
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (probeDir) fs.rmSync(probeDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  say(`failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
