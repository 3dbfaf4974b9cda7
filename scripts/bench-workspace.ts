/**
 * npm run bench:workspace [-- --pool 10000 --clients 50 --submits 40 --browser-cases 40 --rounds 2
 *                            --web-processes 1[,2] --baseline-tree DIR --no-browser --loop ui[,two-calls][,submit] --yardstick-passes 3
 *                            --wait-sample-ms 10]
 *
 * A benchmark, not a test. Builds a throw-away platform: a fresh embedded PostgreSQL in a temp
 * folder with a project of `--pool` POOL cases (raised to what the API phases lease, +300, when that is more;
 * every third queued case has a 512×512 DICOM, a few
 * 128×128 ones for the baseline), one selection round over the first 3,000 of them, 50+1
 * clinicians; then runs the production web server (scripts/web-server.mjs, built if sources changed)
 * and measures on loopback:
 *  1. submit → next case visible in Chromium, driving the real page with the keyboard (in-page
 *     time from the submit to the next case's first render), against the baseline of opening a
 *     case cold by its URL;
 *  2. first render of a 512×512 DICOM after its bytes arrived (resource timing → cornerstone's
 *     render event), against 128×128 images in the same run; the same for real JPEG 2000 files of
 *     ../shared/data/dicom (a 512×512 CT, explicit_VR-UN.dcm, and the 1760×1760 CR RG3_J2KR.dcm),
 *     bytes arrival taken from the decode worker, each case opened on a fresh page (cold worker);
 *     and the frame rate of scrolling a loaded 30-frame stack (examples_ybr_color.dcm, JPEG);
 *  3. the API under load, `--rounds` times interleaved: per server, `health.ping` and then
 *     `--submits` submissions per client with `--clients` clinicians at once and no think time, as the
 *     workspace submits: `queue.next` for the first case, then `annotations.submit` with
 *     `advanceInProject` (submit and take the next: the answer carries the next lease), the calls per
 *     submission printed beside the rate (`--loop two-calls`: `queue.next` + `annotations.submit` for
 *     every submission, the loop before submit-and-next; `--loop ui,two-calls`: both, interleaved, in
 *     the same round; `--loop submit`: `annotations.submit` alone — no `queue.next`, no lease held, each
 *     client submits distinct PENDING cases of the round nobody leased, taking the case's free slot as for a
 *     case opened outside the queue: our part of the submission alone, measured and set against the yardstick
 *     like the other loops); after each round the yardstick — a bare `node:http` + `pg` server
 *     doing one transaction per submission (scripts/lib/submit-yardstick.ts) — replays that
 *     round's submissions of its last loop that completed a lease `--yardstick-passes` times (default 3, so its phase lasts about as long as
 *     ours: one pass at its rate is over in 2–4 s) with the same load generator; our submissions/s over its
 *     transactions/s is the ratio of issue 16, goal 3. Every acknowledged submission is then
 *     compared with the database (lost writes; a case with two of the benchmark's submissions: stored twice),
 *     errors and cases leased twice are counted; every case `annotations.submit alone` submitted must be DONE.
 * Servers: this tree's build once per count in `--web-processes` (e.g. `1,2`: 1 and 2 web
 * processes behind one port, scripts/lib/web-cluster.mjs), and with `--baseline-tree DIR` the
 * build of another checkout (e.g. the commit before a change: `git archive <commit> | tar -x -C
 * DIR`, node_modules hard-linked in with `cp -al`, `next build` there) as "before", in the same run.
 * `--tree DIR` measures another checkout as "ours" (its own .next: a build of this tree by someone
 * else cannot replace it mid-run). `--no-browser` skips 1–2. Every phase prints the 1-minute load average beside it.
 * Prints a markdown table; then, per API phase, where the machine's CPU went per request (Linux /proc read at
 * the phase's start and end, scripts/lib/proc-cpu.ts): the server's process(es), the PostgreSQL backends serving
 * it (each server's connections carry their own application_name: PGAPPNAME rads-web-<port>, the yardstick's
 * rads-yardstick), this process — the load generator —, PostgreSQL's other processes, backends that ended in the
 * phase, and the rest of the machine; and in the medians, per server, the CPU per submission and the rate the
 * machine's cores would allow at that cost (cores ÷ the server's, its PostgreSQL's and the load generator's CPU).
 * Last, where each phase's requests waited (scripts/lib/pg-waits.ts; `--wait-sample-ms 0`: not sampled): its
 * server's backends every 10 ms by state and wait event (CPU, Lock:*, LWLock:*, IO:*, idle in transaction, idle),
 * connections busy, HTTP requests in flight, the main thread's and the backends' time on a CPU and waiting for one;
 * then per server the wait events with the statements behind them and the holders of any lock waited for.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Page } from "@playwright/test";
import pg from "pg";
import { hashPassword } from "../server/auth/password";
import { createDb, type Db, type Prisma } from "../server/db/client";
import { insertFixtureCases, insertFixtureImages, insertFixtureProject, insertFixtureUsers, listFixtureCases, listSubmittedAnnotations, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { prepareDatabase } from "../server/platform/database";
import { createServiceContext } from "../server/services/context";
import { deidentifyStoredImages } from "../server/services/deidentify-service";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { contentKey, createLocalBlobStore } from "../server/storage/blob-store";
import { writeDicom } from "../prisma/demo/dicom-writer";
import { ApiClient, quantile } from "./lib/api-client";
import { byColumn, mergeWaits, PhaseWaitSampler, share, WAIT_COLUMNS, type PhaseWaits } from "./lib/pg-waits";
import { childPids, cpuBetween, cpuSnapshot, processTable, treePids, type CpuSnapshot } from "./lib/proc-cpu";
import { ensureWebBuild } from "./lib/web-build";

const { values: args } = parseArgs({
  options: {
    pool: { type: "string", default: "10000" },
    clients: { type: "string", default: "50" },
    submits: { type: "string", default: "40" },
    "browser-cases": { type: "string", default: "40" },
    port: { type: "string", default: "3350" },
    rounds: { type: "string", default: "2" },
    "no-browser": { type: "boolean", default: false },
    "web-processes": { type: "string", default: "1" },
    "baseline-tree": { type: "string" },
    // A checkout to measure as "ours" instead of this one (its own .next, safe from other builds of this tree).
    tree: { type: "string" },
    "baseline-web-processes": { type: "string", default: "1" },
    // "ui": submit and take the next, as the workspace does; "two-calls": queue.next, then annotations.submit; "submit":
    // annotations.submit alone on distinct unleased cases; several comma-separated: each in its own phase.
    loop: { type: "string", default: "ui" },
    // Where the phases wait: pg_stat_activity of the phase's server sampled every N ms (scripts/lib/pg-waits.ts); 0: off.
    "wait-sample-ms": { type: "string", default: "10" },
    // How many times the yardstick replays the last phase's submissions (each pass the next version): a longer, steadier phase.
    "yardstick-passes": { type: "string", default: "3" },
  },
});
const CLIENTS = Number(args.clients);
const SUBMITS = Number(args.submits);
const BROWSER_CASES = Number(args["browser-cases"]);
const PORT = Number(args.port);
const ROUNDS = Number(args.rounds);
const YARDSTICK_PASSES = Number(args["yardstick-passes"]);
if (!Number.isInteger(YARDSTICK_PASSES) || YARDSTICK_PASSES < 1) throw new Error("--yardstick-passes takes a whole number ≥ 1");
const WAIT_SAMPLE_MS = Number(args["wait-sample-ms"]);
if (!Number.isFinite(WAIT_SAMPLE_MS) || WAIT_SAMPLE_MS < 0) throw new Error("--wait-sample-ms takes a number of milliseconds ≥ 0 (0: no wait sampling)");
type Loop = "ui" | "two-calls" | "submit";
/** The submission loops to measure, each in its own phase per server and round (e.g. "ui,submit": both, interleaved). */
const LOOPS = args.loop.split(",") as Loop[];
if (LOOPS.length === 0 || LOOPS.some((l) => l !== "ui" && l !== "two-calls" && l !== "submit")) throw new Error("--loop takes ui (submit and take the next, as the workspace), two-calls (queue.next, then annotations.submit), submit (annotations.submit alone, no lease) or several: ui,submit");
const LOOP_NAMES: Record<Loop, string> = { ui: "submit and take the next", "two-calls": "queue.next + annotations.submit", submit: "annotations.submit alone" };
/** A server's name in the table, with the loop when more than one is measured. */
const withLoop = (server: string, loop: Loop) => (LOOPS.length > 1 ? `${server} (${LOOP_NAMES[loop]})` : server);
/** One server of this tree per count, e.g. "1,2": the same build with 1 and with 2 web processes behind its port. */
const WEB_PROCESSES = args["web-processes"].split(",").map(Number);
if (WEB_PROCESSES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--web-processes takes counts ≥ 1, e.g. 1 or 1,2");
/** Cases leased by the API phases: one phase per server and round. */
const API_LEASES = CLIENTS * SUBMITS * ROUNDS * LOOPS.length * (WEB_PROCESSES.length + (args["baseline-tree"] ? 1 : 0));
/** `--pool`, raised when the API phases would lease more cases than it holds (the round, +200, and 100 spare for the browser runs). */
const POOL = Math.max(Number(args.pool), API_LEASES + 200 + 100);
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = "bench-password-123";
const root = path.resolve(import.meta.dirname, "..");
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(1) : "–");

/** A 512×512 (or any size) 16-bit slice: soft gradient, a few discs and noise; no real patient. */
function syntheticDicom(size: number, seed: number): Uint8Array {
  const pixels = new Uint16Array(size * size);
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const discs = Array.from({ length: 6 }, () => ({ x: rand() * size, y: rand() * size, r: size * (0.05 + rand() * 0.15), v: 600 + rand() * 2400 }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 200 + (x + y) * (800 / size) + rand() * 60;
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) v = d.v + rand() * 40;
      pixels[y * size + x] = Math.min(4095, Math.round(v));
    }
  }
  return writeDicom({
    sopInstanceUid: `2.25.${BigInt("0x" + crypto.createHash("sha256").update(`bench/${size}/${seed}`).digest("hex").slice(0, 30))}`,
    studyInstanceUid: `2.25.${1000 + seed}`,
    seriesInstanceUid: `2.25.${2000 + seed}`,
    patientName: "BENCH^SYNTHETIC",
    patientId: "BENCH",
    modality: "CT",
    bodyPartExamined: "CHEST",
    studyDate: "20240101",
    seriesDescription: "Benchmark slice",
    rows: size,
    columns: size,
    bitsStored: 12,
    windowCenter: 1500,
    windowWidth: 3000,
    pixelData: pixels,
  });
}

interface BenchData {
  projectId: string;
  clinicians: { id: string; email: string }[];
  browserUser: string;
  dicom512Cases: string[];
  dicom128Cases: string[];
  coldOpenCases: string[];
  j2k512Cases: string[];
  crCases: string[];
  stackCase: string;
}

/** Real files of ../shared/data/dicom for the decode measurements (path relative to the repo). */
const REAL_DICOM = path.resolve(root, "../shared/data/dicom");

async function seed(db: Db, databaseUrl: string, storageDir: string): Promise<BenchData> {
  const blobs = createLocalBlobStore(storageDir);
  const passwordHash = await hashPassword(PASSWORD);
  const users = Array.from({ length: CLIENTS + 1 }, (_, i) => ({ email: `bench-clinician-${i}@bench.local`, name: `Bench Clinician ${i}`, role: "CLINICIAN" as const, passwordHash }));
  await insertFixtureUsers(db, users);
  const clinicians = await listUsersByEmailSuffix(db, "@bench.local");
  const project = await insertFixtureProject(db, {
    name: "Benchmark project",
    labelSchema: { labels: [{ key: "normal", name: "Normal", shortcut: "1" }, { key: "abnormal", name: "Abnormal", shortcut: "2" }], multiLabel: false },
    minorityClasses: ["abnormal"],
    selectionParams: { strategy: "rads", budget: 3000 },
    encoderConfig: { kind: "builtin", dim: 384 },
    settings: { annotationsPerCase: 1, leaseMinutes: 30 },
    memberIds: clinicians.map((u) => u.id),
  });
  const words = ["lungs", "clear", "nodule", "effusion", "stable", "opacity", "granuloma", "pneumothorax", "atelectasis", "unremarkable", "follow-up", "recommended"];
  await insertFixtureCases(
    db,
    Array.from({ length: POOL }, (_, i) => {
      const text = Array.from({ length: 80 }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(" ");
      return { projectId: project.id, externalId: `bench-${i}`, narrative: `EXAM: CT CHEST\n\nFINDINGS: ${text}.\n\nIMPRESSION: case ${i}.`, split: "POOL" as const };
    }),
  );
  const cases = await listFixtureCases(db, project.id);
  cases.sort((a, b) => Number(a.externalId.slice(6)) - Number(b.externalId.slice(6)));
  const queued = cases.slice(0, Math.min(Math.max(3000, API_LEASES + 200), cases.length - 100));

  // 20 distinct 512×512 files (10 MB) shared by every third queued case; 10 of 128×128 for the baseline.
  const images512 = await Promise.all(Array.from({ length: 20 }, async (_, i) => storeImage(blobs, syntheticDicom(512, i))));
  const images128 = await Promise.all(Array.from({ length: 10 }, async (_, i) => storeImage(blobs, syntheticDicom(128, 100 + i))));
  const withImage = queued.filter((_, i) => i % 3 === 1);
  // One row per distinct file now (de-identified below, one file at a time); the other rows after that pass, with
  // its result for their file (the same bytes give the same de-identified bytes), so the set-up does not
  // de-identify the same 20 files thousands of times.
  const firstOfEach = withImage.slice(0, images512.length);
  await insertFixtureImages(db, firstOfEach.map((c, i) => ({ caseId: c.id, ...images512[i]!, frames: 1, attributes: { modality: "CT", bodyPart: "CHEST", studyDate: "2024-01-01", seriesDescription: "Benchmark slice", rows: 512, columns: 512 } })));
  // Outside the round: cases opened directly (cold) for the DICOM-render and cold-open baselines.
  const spare = cases.slice(queued.length, queued.length + 60);
  const dicom512Cases = spare.slice(0, 15).map((c) => c.id);
  const dicom128Cases = spare.slice(15, 25).map((c) => c.id);
  await insertFixtureImages(db, [
      ...spare.slice(0, 15).map((c, i) => ({ caseId: c.id, ...images512[i % images512.length]!, frames: 1, attributes: { modality: "CT", rows: 512, columns: 512 } })),
      ...spare.slice(15, 25).map((c, i) => ({ caseId: c.id, ...images128[i]!, frames: 1, attributes: { modality: "CT", rows: 128, columns: 128 } })),
  ]);
  // Real JPEG 2000 and a 30-frame JPEG stack, one image row (one URL) per case so no case hits another's cache.
  const real = async (file: string) => storeImage(blobs, new Uint8Array(fs.readFileSync(path.join(REAL_DICOM, file))));
  const [j2k512, cr, stack] = [await real("explicit_VR-UN.dcm"), await real("RG3_J2KR.dcm"), await real("examples_ybr_color.dcm")];
  const more = cases.slice(queued.length + 60, queued.length + 60 + 25);
  await insertFixtureImages(db, [
    // As the importer stores them (the viewer reads the transfer syntax to decide on a JPEG 2000 preview).
    ...more.slice(0, 12).map((c) => ({ caseId: c.id, ...j2k512, frames: 1, attributes: { modality: "CT", rows: 512, columns: 512, transferSyntax: "1.2.840.10008.1.2.4.90" } })),
    ...more.slice(12, 24).map((c) => ({ caseId: c.id, ...cr, frames: 1, attributes: { modality: "CR", rows: 1760, columns: 1760, transferSyntax: "1.2.840.10008.1.2.4.90" } })),
    { caseId: more[24]!.id, ...stack, frames: 30, attributes: { modality: "US", rows: 240, columns: 320 } },
  ]);
  // The project keeps no patient identifiers, so the image route serves only de-identified DICOM: the files
  // go through the platform's own pass now, as `npm run deidentify:stored` would (pixel data untouched).
  await deidentifyStoredImages(createServiceContext(db, null), blobs, { projectIds: [project.id] });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ caseId: string; storageKey: string; mimeType: string; sha256: string; attributes: Record<string, unknown> }>(
      `SELECT "caseId", "storageKey", "mimeType", sha256, attributes FROM "CaseImage" WHERE "caseId" = ANY($1)`,
      [firstOfEach.map((c) => c.id)],
    );
    const clean = firstOfEach.map((c) => rows.find((r) => r.caseId === c.id));
    if (clean.some((r) => r?.attributes.deidentified !== true)) throw new Error("seeding: a benchmark image was not de-identified");
    await insertFixtureImages(db, withImage.slice(firstOfEach.length).map((c, i) => {
      const { storageKey, mimeType, sha256, attributes } = clean[(firstOfEach.length + i) % images512.length]!;
      return { caseId: c.id, storageKey, mimeType, sha256, frames: 1, attributes: attributes as Prisma.InputJsonValue };
    }));
  } finally {
    await client.end();
  }
  await writeSelectionRound(db, {
    projectId: project.id,
    strategy: "random",
    coldStart: false,
    modelVersionId: null,
    params: { benchmark: true },
    stats: {},
    items: queued.map((c, i) => ({ caseId: c.id, rank: i + 1, features: {} })),
  });
  return { projectId: project.id, clinicians: clinicians.slice(1), browserUser: clinicians[0]!.email, dicom512Cases, dicom128Cases, coldOpenCases: spare.slice(25, 60).map((c) => c.id), j2k512Cases: more.slice(0, 12).map((c) => c.id), crCases: more.slice(12, 24).map((c) => c.id), stackCase: more[24]!.id };
}

async function storeImage(blobs: ReturnType<typeof createLocalBlobStore>, bytes: Uint8Array) {
  const key = contentKey("images", bytes, ".dcm");
  await blobs.put(key, bytes);
  return { storageKey: key, mimeType: "application/dicom", sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
}

// ---------- API load: our web server against the yardstick (scripts/lib/submit-yardstick.ts) ----------

interface Ack {
  annotationId: string;
  caseId: string;
  authorId: string;
  version: number;
  comment: string;
}

interface Server {
  /** "ours" (this tree) or "before" (--baseline-tree). */
  name: string;
  base: string;
  clients: { user: { id: string; email: string }; client: ApiClient }[];
}

const loadNow = () => os.loadavg()[0]!;

/** An error's message with its cause's code (fetch's "fetch failed" says nothing else: ECONNRESET, ECONNREFUSED…). */
const describeError = (error: unknown) => {
  const cause = (error as Error).cause as { code?: string } | undefined;
  return `${(error as Error).message}${cause?.code ? ` (${cause.code})` : ""}`;
};

// ---------- CPU per request: where the machine's CPU goes in each API phase (Linux /proc, scripts/lib/proc-cpu.ts) ----------

/** A measured server's processes and the application_name its PostgreSQL connections carry. */
interface ServerProcesses {
  /** The server's name in the tables ("ours", "before", "yardstick", …). */
  name: string;
  /** The server's process: a web server, a cluster primary (its workers are its children) or the yardstick. */
  pid: number;
  /** application_name of its pool (PGAPPNAME for a web server; the yardstick sets "rads-yardstick"). */
  appName: string;
}

/** CPU seconds of one phase, split by where they went; `n` requests (pings, submissions or transactions). */
interface PhaseCpu {
  n: number;
  wallS: number;
  /** The phase's server process(es) and the PostgreSQL backends serving them. */
  serverS: number;
  serverPgS: number;
  /** This process: the load generator (process.cpuUsage()). */
  driverS: number;
  /** PostgreSQL's other processes: the postmaster, background writer, WAL writer, checkpointer, autovacuum, this
   * benchmark's own connections, the idle servers' backends. */
  pgOtherS: number;
  /** Backends that ended during the phase: their CPU time during it (the postmaster's reaped children, less what they had
   * used before), missed in the columns above. */
  endedS: number;
  /** Everything else that was busy: idle servers' processes, other sessions on the machine, the kernel. */
  restS: number;
  busyS: number;
  totalS: number;
}

/**
 * Snapshots CPU time per process group at a phase's start and end (not on a timer): every server's
 * process tree (`server:<name>`), the PostgreSQL backends serving it (`pg:<name>`, told apart by
 * application_name from pg_stat_activity), PostgreSQL's other processes (`pg:other`), this process and
 * the machine. Null where /proc or the postmaster cannot be found (not Linux, a remote database).
 */
class PhaseCpuProbe {
  private constructor(
    private readonly client: pg.Client,
    private readonly postmaster: number,
    private readonly servers: ServerProcesses[],
  ) {}

  static async open(databaseUrl: string, servers: ServerProcesses[]): Promise<PhaseCpuProbe | null> {
    if (!fs.existsSync("/proc/stat")) return null;
    const client = new pg.Client({ connectionString: databaseUrl, application_name: "rads-bench-probe" });
    await client.connect();
    // The postmaster is the parent of this probe's own backend.
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const postmaster = processTable().get(rows[0]!.pid)?.ppid;
    if (!postmaster) {
      await client.end();
      return null;
    }
    return new PhaseCpuProbe(client, postmaster, servers);
  }

  async snapshot(): Promise<CpuSnapshot<string>> {
    const table = processTable();
    const { rows } = await this.client.query<{ pid: number; name: string }>("SELECT pid, application_name AS name FROM pg_stat_activity");
    const names = new Map(rows.map((r) => [r.pid, r.name]));
    const byApp = new Map(this.servers.map((s) => [s.appName, s.name]));
    const groups: [string, number[]][] = this.servers.map((s) => [`server:${s.name}`, treePids(s.pid, table)]);
    groups.push(["pg:other", [this.postmaster]]);
    for (const pid of childPids(this.postmaster, table)) {
      const server = byApp.get(names.get(pid) ?? "");
      groups.push([server === undefined ? "pg:other" : `pg:${server}`, [pid]]);
    }
    return cpuSnapshot(groups, { reapedOf: this.postmaster });
  }

  /** Runs `phase` between two snapshots; its result with the CPU of `server`'s phase, per `count(result)` requests. */
  async measure<T>(server: string, phase: () => Promise<T>, count: (result: T) => number): Promise<T & { cpu: PhaseCpu }> {
    const before = await this.snapshot();
    const t0 = performance.now();
    const result = await phase();
    const wallS = (performance.now() - t0) / 1000;
    const between = cpuBetween(before, await this.snapshot());
    let pgOtherS = 0;
    for (const [group, seconds] of between.groups) if (group.startsWith("pg:") && group !== `pg:${server}`) pgOtherS += seconds;
    const serverS = between.groups.get(`server:${server}`) ?? 0;
    const serverPgS = between.groups.get(`pg:${server}`) ?? 0;
    const idleServersS = [...between.groups].filter(([g]) => g.startsWith("server:") && g !== `server:${server}`).reduce((a, [, v]) => a + v, 0);
    return {
      ...result,
      cpu: { n: count(result), wallS, serverS, serverPgS, driverS: between.driverS, pgOtherS, endedS: between.endedS, restS: Math.max(0, between.restS + idleServersS - between.endedS), busyS: between.busyS, totalS: between.totalS },
    };
  }

  async close() {
    await this.client.end().catch(() => undefined);
  }
}

/** The phases' probes: CPU per process group, the wait sampler, and each server's processes (by its name in the tables). */
interface Probes {
  cpu: PhaseCpuProbe | null;
  waits: PhaseWaitSampler | null;
  servers: Map<string, ServerProcesses>;
}

/** HTTP requests the load generator has sent and not yet had answered (read by the wait sampler). */
let inFlight = 0;
async function inFlightWhile<T>(request: () => Promise<T>): Promise<T> {
  inFlight++;
  try {
    return await request();
  } finally {
    inFlight--;
  }
}

/**
 * Runs `load()` as a phase of `server`: its wall seconds (the load alone, not the snapshots around it) and,
 * with a probe, its CPU (`count()`: its requests, asked afterwards); with the wait sampler, where its backends waited.
 */
async function withCpu(probes: Probes, server: string, load: () => Promise<unknown>, count: () => number): Promise<{ wallS: number; cpu: PhaseCpu | null; waits: PhaseWaits | null }> {
  const processes = probes.servers.get(server);
  let waits: PhaseWaits | null = null;
  const sampled = probes.waits && processes
    ? async () => {
        const pids = fs.existsSync("/proc/self/task") ? treePids(processes.pid, processTable()) : [];
        waits = (await probes.waits!.measure(processes.appName, pids, () => inFlight, load)).waits;
      }
    : load;
  if (!probes.cpu) {
    const t0 = performance.now();
    await sampled();
    return { wallS: (performance.now() - t0) / 1000, cpu: null, waits };
  }
  const { cpu } = await probes.cpu.measure(server, sampled, count);
  return { wallS: cpu.wallS, cpu, waits };
}

/** `CLIENTS` pings each `SUBMITS` times at once; a failed ping is counted (and said), not fatal, as a failed submission. */
async function pingPhase(server: Server, probes: Probes) {
  const ms: number[] = [];
  let errors = 0;
  const load0 = loadNow();
  const { wallS, cpu, waits } = await withCpu(
    probes,
    server.name,
    () =>
      Promise.all(
        server.clients.map(async ({ client }) => {
          for (let i = 0; i < SUBMITS; i++) {
            const t0 = performance.now();
            try {
              await inFlightWhile(() => client.call("query", "health.ping", undefined));
              ms.push(performance.now() - t0);
            } catch (error) {
              errors++;
              say(`${server.name} health.ping error: ${describeError(error)}`);
            }
          }
        }),
      ),
    () => ms.length,
  );
  return { ms, errors, rate: ms.length / wallS, load: (load0 + loadNow()) / 2, cpu, waits };
}

/**
 * Each client submits `perClient` cases back-to-back (what a clinician does without think time), as the workspace
 * does (app/(app)/queue/[projectId]/workspace.tsx): `queue.next` for the first case, then `annotations.submit` with
 * `advanceInProject`, whose answer carries the next lease — one call per submission after the first. With
 * `--loop two-calls`, `queue.next` before every submission instead (the loop before submit-and-next). With `--loop
 * submit`, `annotations.submit` alone: no `queue.next`, no lease held — client k submits `own[k]`, distinct PENDING
 * cases of the round nobody has leased, and the submission takes a free slot in the case (what the server does for a
 * case opened outside the queue). Counts the calls, so the table can say how many a submission took.
 */
async function submitPhase(server: Server, data: BenchData, perClient: number, loop: Loop, probes: Probes, own: string[][] = []) {
  const submitMs: number[] = [];
  const nextMs: number[] = [];
  const acks: Ack[] = [];
  let errors = 0;
  let calls = 0;
  const load0 = loadNow();
  const lease = async (client: ApiClient) => {
    const t0 = performance.now();
    calls++;
    const leased = await inFlightWhile(() => client.call<{ caseId: string } | null>("mutation", "queue.next", { projectId: data.projectId }));
    nextMs.push(performance.now() - t0);
    return leased;
  };
  const load = () => Promise.all(
    server.clients.map(async ({ user, client }, k) => {
      let next: { caseId: string } | null = null;
      for (let i = 0; i < perClient; i++) {
        try {
          const leased: { caseId: string } | null = loop === "submit" ? (own[k]?.[i] ? { caseId: own[k]![i]! } : null) : (next ?? (await lease(client)));
          next = null;
          if (!leased) throw new Error("queue ran dry");
          const comment = `bench ${user.id} ${i} ${crypto.randomBytes(4).toString("hex")}`;
          const t0 = performance.now();
          calls++;
          const result: { annotationId: string; version: number; next: { caseId: string } | null } = await inFlightWhile(() => client.call("mutation", "annotations.submit", {
            caseId: leased.caseId,
            expectedVersion: 0,
            content: { labels: [i % 2 ? "normal" : "abnormal"], spans: [], uncertain: false, comment },
            timeSpentMs: 1000,
            ...(loop === "ui" && i + 1 < perClient ? { advanceInProject: data.projectId } : {}),
          }));
          submitMs.push(performance.now() - t0);
          acks.push({ annotationId: result.annotationId, caseId: leased.caseId, authorId: user.id, version: result.version, comment });
          if (loop === "ui" && i + 1 < perClient) {
            if (!result.next) throw new Error("queue ran dry");
            next = result.next;
          }
        } catch (error) {
          errors++;
          next = null;
          say(`${server.name} error: ${describeError(error)}`);
        }
      }
    }),
  );
  const { wallS, cpu, waits } = await withCpu(probes, server.name, load, () => acks.length);
  return { submitMs, nextMs, acks, errors, calls, rate: acks.length / wallS, load: (load0 + loadNow()) / 2, cpu, waits };
}

/**
 * Cases for an `annotations.submit alone` phase: `perClient` per client, distinct, PENDING items of the project's
 * latest round that nobody ever leased, from the round's end (the queue serves it from the start, by rank).
 */
async function unleasedCases(pool: pg.Pool, data: BenchData, clients: number, perClient: number): Promise<string[][]> {
  const { rows } = await pool.query<{ caseId: string }>(
    `SELECT i."caseId" FROM "QueueItem" i
      WHERE i."roundId" = (SELECT id FROM "SelectionRound" WHERE "projectId" = $1 ORDER BY number DESC LIMIT 1)
        AND i.status = 'PENDING' AND NOT EXISTS (SELECT 1 FROM "QueueLease" l WHERE l."queueItemId" = i.id)
      ORDER BY i.rank DESC LIMIT $2`,
    [data.projectId, clients * perClient],
  );
  if (rows.length < clients * perClient) throw new Error(`annotations.submit alone: ${rows.length} unleased PENDING cases left, ${clients * perClient} needed (raise --pool)`);
  return Array.from({ length: clients }, (_, k) => rows.slice(k * perClient, (k + 1) * perClient).map((r) => r.caseId));
}

/**
 * The yardstick with the same load generator: each client sends its acknowledged submissions of
 * the phase before again, YARDSTICK_PASSES times (each pass the next version of the same case and author, the
 * same lease and audit rows), one transaction per request, back-to-back, with the same cookie header and a body
 * of the same shape.
 */
async function yardstickPhase(yardBase: string, servers: Server, data: BenchData, acks: Ack[], pool: pg.Pool, probes: Probes) {
  const items = await pool.query<{ id: string; caseId: string }>(`SELECT id, "caseId" FROM "QueueItem" WHERE "caseId" = ANY($1)`, [acks.map((a) => a.caseId)]);
  const itemOf = new Map(items.rows.map((r) => [r.caseId, r.id]));
  const byAuthor = new Map<string, Ack[]>();
  for (const a of acks) byAuthor.set(a.authorId, [...(byAuthor.get(a.authorId) ?? []), a]);
  const ms: number[] = [];
  let errors = 0;
  const load0 = loadNow();
  const load = () => Promise.all(
    servers.clients.map(async ({ user, client }) => {
      for (let pass = 1; pass <= YARDSTICK_PASSES; pass++) for (const a of byAuthor.get(user.id) ?? []) {
        const t0 = performance.now();
        const response = await inFlightWhile(async () => {
          const answer = await fetch(`${yardBase}/submit`, {
            method: "POST",
            headers: { cookie: client.cookieHeader(), origin: yardBase, "content-type": "application/json" },
            body: JSON.stringify({ caseId: a.caseId, authorId: a.authorId, projectId: data.projectId, queueItemId: itemOf.get(a.caseId), version: a.version + pass, labels: ["normal"], comment: `yard ${a.comment}`, timeSpentMs: 1000 }),
          });
          await answer.text();
          return answer;
        });
        if (response.ok) ms.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const { wallS, cpu, waits } = await withCpu(probes, "yardstick", load, () => ms.length);
  return { ms, errors, rate: ms.length / wallS, load: (load0 + loadNow()) / 2, cpu, waits };
}

async function signInAll(name: string, base: string, data: BenchData): Promise<Server> {
  const clients = data.clinicians.map((u) => ({ user: u, client: new ApiClient(u.email, { base, password: PASSWORD }) }));
  for (let i = 0; i < clients.length; i += 10) await Promise.all(clients.slice(i, i + 10).map((c) => c.client.signIn()));
  // Warm-up: every route loaded, the pools filled.
  await Promise.all(clients.map(async ({ client }) => { for (let i = 0; i < 3; i++) await client.call("query", "health.ping", undefined); }));
  return { name, base, clients };
}

type Phase = { server: string; kind: "ping" | "submit" | "yardstick"; loop?: Loop; round: number; rate: number; p50: number; p95: number; nextP50?: number; nextP95?: number; callsPerSubmission?: number; load: number; errors: number; cpu: PhaseCpu | null; waits: PhaseWaits | null };

async function apiLoad(data: BenchData, db: Db, servers: Server[], yardBase: string, databaseUrl: string, probes: Probes) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const phases: Phase[] = [];
  const acks: Ack[] = [];
  /** The cases submitted by `annotations.submit alone`: each must end DONE (its one slot taken). */
  const aloneCases: string[] = [];
  let errors = 0;
  let duplicateCases = 0;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const server of servers) {
        const ping = await pingPhase(server, probes);
        errors += ping.errors;
        phases.push({ server: server.name, kind: "ping", round, rate: ping.rate, p50: quantile(ping.ms, 0.5), p95: quantile(ping.ms, 0.95), load: ping.load, errors: ping.errors, cpu: ping.cpu, waits: ping.waits });
        // What the yardstick replays: the round's last phase whose submissions completed a lease (the yardstick
        // completes the lease); the last phase when every loop is `annotations.submit alone`.
        let last: Ack[] = [];
        let lastLeased = false;
        // Round by round the loops take turns first, so neither always meets the machine's state after the other.
        for (const loop of round % 2 === 1 ? LOOPS : [...LOOPS].reverse()) {
          const own = loop === "submit" ? await unleasedCases(pool, data, server.clients.length, SUBMITS) : [];
          aloneCases.push(...own.flat());
          const sub = await submitPhase(server, data, SUBMITS, loop, probes, own);
          errors += sub.errors;
          acks.push(...sub.acks);
          if (loop !== "submit" || !lastLeased) [last, lastLeased] = [sub.acks, loop !== "submit"];
          duplicateCases += sub.acks.length - new Set(sub.acks.map((a) => a.caseId)).size;
          phases.push({ server: withLoop(server.name, loop), kind: "submit", loop, round, rate: sub.rate, p50: quantile(sub.submitMs, 0.5), p95: quantile(sub.submitMs, 0.95), nextP50: quantile(sub.nextMs, 0.5), nextP95: quantile(sub.nextMs, 0.95), callsPerSubmission: sub.calls / Math.max(1, sub.acks.length), load: sub.load, errors: sub.errors, cpu: sub.cpu, waits: sub.waits });
          say(`round ${round} ${withLoop(server.name, loop)}: ping ${ping.rate.toFixed(0)}/s, ${sub.rate.toFixed(1)} submissions/s (load ${sub.load.toFixed(1)})`);
        }
        if (server === servers[servers.length - 1]) {
          const yard = await yardstickPhase(yardBase, server, data, last, pool, probes);
          errors += yard.errors;
          phases.push({ server: "yardstick", kind: "yardstick", round, rate: yard.rate, p50: quantile(yard.ms, 0.5), p95: quantile(yard.ms, 0.95), load: yard.load, errors: yard.errors, cpu: yard.cpu, waits: yard.waits });
          say(`round ${round} yardstick: ${yard.rate.toFixed(1)} transactions/s`);
        }
      }
    }
  } finally {
    await pool.end();
  }
  // Lost writes: every acknowledged submission must be in the database exactly as sent.
  const rows = await listSubmittedAnnotations(db, { projectId: data.projectId });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const lost = acks.filter((a) => {
    const row = byId.get(a.annotationId);
    return !row || row.caseId !== a.caseId || row.authorId !== a.authorId || row.version !== a.version || row.comment !== a.comment;
  }).length;
  duplicateCases = Math.max(duplicateCases, acks.length - new Set(acks.map((a) => a.caseId)).size);
  // Stored twice: every case got one submission of this benchmark (one slot per case), so more rows than cases is a repeat.
  const benchRows = rows.filter((r) => r.comment.startsWith("bench "));
  const storedTwice = benchRows.length - new Set(benchRows.map((r) => r.caseId)).size;
  // The free slot taken: each case submitted by `annotations.submit alone` leaves the queue (DONE, one annotation per case).
  const check = new pg.Client({ connectionString: databaseUrl });
  await check.connect();
  let aloneNotDone = 0;
  try {
    if (aloneCases.length > 0) {
      const { rows: left } = await check.query<{ n: string }>(`SELECT count(*) AS n FROM "QueueItem" WHERE "caseId" = ANY($1) AND status <> 'DONE'`, [aloneCases]);
      aloneNotDone = Number(left[0]!.n);
    }
  } finally {
    await check.end();
  }
  return { phases, errors, lost, acks: acks.length, rowsInDb: benchRows.length, storedTwice, duplicateCases, aloneCases: aloneCases.length, aloneNotDone };
}

/**
 * Where the phases' requests waited (scripts/lib/pg-waits.ts): per phase, the share of the server's backend samples
 * in each state and wait event, its connections busy, the requests in flight and the threads' CPU and run-queue time;
 * then per server (and loop), over its rounds, the wait events and the statements behind them.
 */
function printWaits(phases: Phase[], named: { name: string }[]) {
  const kindName = (p: Phase) => (p.kind === "submit" ? LOOP_NAMES[p.loop!] : p.kind === "ping" ? "health.ping" : "bare submit transaction");
  console.log(`\nWhere the requests wait: pg_stat_activity of the phase's server (its application_name) every ${WAIT_SAMPLE_MS} ms (scripts/lib/pg-waits.ts), % of its backend samples — CPU: active with no wait event (on a core or runnable, waiting for one); Lock / LWLock / IO: waiting on one; idle in transaction: inside a transaction waiting for the next statement from node (ClientRead); idle: free in the pool. Busy: backends not idle, mean and % of samples with every connection busy. In flight: HTTP requests sent by the load generator and not yet answered. Cores from /proc/<pid>/task/<tid>/schedstat over the phase: on a CPU / runnable but waiting for a CPU — the server's main thread(s) (the event loop), all its threads, and its backends; and per interval between two samples whether the main thread was on a CPU or runnable ≥ 90 % of it (saturated), < 50 % (mostly idle), and mostly idle while every pool connection was busy (node waiting for the pool).\n`);
  console.log(`| round | server | phase | samples | connections | busy (all busy %) | in flight | ${WAIT_COLUMNS.map((c) => `${c} %`).join(" | ")} | main thread cores run / wait | main thread saturated / idle / idle with the pool full, % of intervals | server threads run / wait | its backends run / wait |`);
  console.log(`|---|---|---|---:|---:|---:|---:|${WAIT_COLUMNS.map(() => "---:").join("|")}|---:|---:|---:|---:|`);
  const pc = (x: number | null) => (x === null ? "–" : (100 * x).toFixed(0));
  const cores = (w: PhaseWaits, run: number, wait: number) => (w.sched ? `${run.toFixed(2)} / ${wait.toFixed(2)}` : "–");
  for (const p of phases) {
    const w = p.waits;
    if (!w) continue;
    const cols = byColumn(w);
    console.log(`| ${p.round} | ${p.server} | ${kindName(p)} | ${w.samples} | ${w.connections.toFixed(1)} | ${w.busyMean.toFixed(1)} (${(100 * w.allBusyShare).toFixed(0)}) | ${w.inFlightMean.toFixed(1)} | ${WAIT_COLUMNS.map((c) => share(w, cols.get(c)!)).join(" | ")} | ${cores(w, w.sched?.mainRun ?? 0, w.sched?.mainWait ?? 0)} | ${pc(w.mainSaturatedShare)} / ${pc(w.mainIdleShare)} / ${pc(w.mainIdlePoolFullShare)} | ${cores(w, w.sched?.serverRun ?? 0, w.sched?.serverWait ?? 0)} | ${cores(w, w.sched?.pgRun ?? 0, w.sched?.pgWait ?? 0)} |`);
  }
  const pct = (part: number, total: number) => `${((100 * part) / Math.max(1, total)).toFixed(1)} %`;
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  for (const server of [...named.map((n) => n.name), "yardstick"]) {
    const own = phases.filter((p) => p.server === server && p.kind !== "ping" && p.waits);
    const list = own.map((p) => p.waits!);
    if (list.length === 0) continue;
    const m = mergeWaits(list);
    console.log(`\n${server}, all rounds (${m.total} backend samples): ${top(m.byCategory, 12).map(([k, v]) => `${k} ${pct(v, m.total)}`).join(", ")}`);
    // Little's law: a state's mean backends ÷ the phase's requests per second = the time each request spent in it.
    const msPer = (p: Phase, column: (typeof WAIT_COLUMNS)[number]) => {
      const w = p.waits!;
      const total = [...w.byCategory.values()].reduce((a, b) => a + b, 0);
      return ((byColumn(w).get(column)! / Math.max(1, total)) * w.connections * 1000) / p.rate;
    };
    const busyColumns = WAIT_COLUMNS.filter((c) => c !== "idle");
    console.log(`- backend time per ${own[0]!.kind === "yardstick" ? "transaction" : "submission"} (mean backends in the state ÷ the rate; median of rounds): ${busyColumns.map((c) => `${c} ${quantile(own.map((p) => msPer(p, c)), 0.5).toFixed(2)} ms`).join(", ")}; in PostgreSQL's hands in all ${quantile(own.map((p) => busyColumns.reduce((a, c) => a + msPer(p, c), 0)), 0.5).toFixed(2)} ms of a ${quantile(own.map((p) => p.p50), 0.5).toFixed(1)} ms p50`);
    console.log("- statements of the busy backends (state or wait | the statement it runs, or for idle in transaction the last one sent):");
    for (const [k, v] of top(m.byStatement, 12)) console.log(`  - ${pct(v, m.total)} ${k}`);
    if (m.lockHolders.size > 0) {
      console.log("- lock waits: waiting statement ⟵ the holder (its state: its statement), samples:");
      for (const [k, v] of top(m.lockHolders, 8)) console.log(`  - ${v} ${k}`);
    }
    const shown = top(m.byStatement, 12).map(([k]) => k).join(" ");
    const legend = [...m.legend].filter(([name]) => shown.includes(name));
    if (legend.length > 0) {
      console.log("- EXECUTE names above (from the PREPAREs sampled):");
      for (const [name, text] of legend) console.log(`  - ${name}: ${text}`);
    }
  }
}

// ---------- browser ----------

async function signInPage(page: Page, email: string) {
  await page.goto(`${BASE}/signin`);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("current-user").waitFor();
}

async function browserRuns(data: BenchData) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await signInPage(page, data.browserUser);
    await page.goto(`${BASE}/queue/${data.projectId}`);
    await page.getByTestId("case-view").waitFor();
    const caseId = () => page.locator(".workspace").getAttribute("data-case-id");
    const wallMs: number[] = [];
    for (let i = 0; i < BROWSER_CASES; i++) {
      const before = await caseId();
      // Let the prefetch of the next case finish, as it would while a clinician reads the case.
      await page.waitForTimeout(1500);
      await page.keyboard.press("1");
      const t0 = performance.now();
      await page.keyboard.press("Control+Enter");
      await page.waitForFunction((prev) => {
        const el = document.querySelector(".workspace");
        return !!el && el.getAttribute("data-case-id") !== prev && el.getAttribute("data-case-id") !== "";
      }, before, { polling: "raf" });
      wallMs.push(performance.now() - t0);
    }
    const inPage = (await page.evaluate(() => window.__radsCaseTimings ?? [])).map((t) => t.ms);

    // Baseline: the same case view opened cold by URL (no prefetch), Playwright-measured the same way.
    const coldMs: number[] = [];
    for (const id of data.coldOpenCases.slice(0, 20)) {
      const t0 = performance.now();
      await page.goto(`${BASE}/queue/${data.projectId}?case=${id}`);
      await page.waitForFunction((want) => document.querySelector(".workspace")?.getAttribute("data-case-id") === want, id, { polling: "raf" });
      coldMs.push(performance.now() - t0);
    }

    const renderOf = async (ids: string[]) => {
      const out: number[] = [];
      for (const id of ids) {
        await page.goto(`${BASE}/queue/${data.projectId}?case=${id}`);
        await page.waitForFunction(() => (window.__radsImageTimings ?? []).length > 0, undefined, { timeout: 20_000 });
        // Bytes arrival: the decode worker's fetch (DICOM), else the page's resource timing.
        const ms = await page.evaluate(() => {
          const [timing] = window.__radsImageTimings ?? [];
          const url = timing!.imageId.replace(/^[a-z]+:/, "").replace(/\?frame=\d+$/, "");
          const bytesAt = window.__radsDicomBytesAt?.[url] ?? timing!.bytesAt;
          return bytesAt == null ? null : timing!.renderedAt - bytesAt;
        });
        if (ms !== null) out.push(ms);
      }
      return out;
    };
    const render512 = await renderOf(data.dicom512Cases);
    const render128 = await renderOf(data.dicom128Cases);

    // Real JPEG 2000: bytes arrival as the decode worker saw it → the viewer's first render event (for an
    // image ≥ 2× the viewport, a reduced-resolution preview), and → its full-resolution render.
    const renderRealOf = async (ids: string[]) => {
      const out: number[] = [];
      const full: number[] = [];
      for (const id of ids) {
        const fresh = await context.newPage();
        await fresh.goto(`${BASE}/queue/${data.projectId}?case=${id}`);
        await fresh.waitForFunction(() => (window.__radsImageTimings ?? []).some((t) => !t.preview), undefined, { timeout: 30_000 });
        const ms = await fresh.evaluate(() => {
          const timings = window.__radsImageTimings ?? [];
          const [timing] = timings;
          const url = timing!.imageId.replace(/^[a-z]+:/, "").replace(/\?frame=\d+$/, "");
          const bytesAt = window.__radsDicomBytesAt?.[url];
          return bytesAt === undefined ? null : { first: timing!.renderedAt - bytesAt, full: timings.find((t) => !t.preview)!.renderedAt - bytesAt };
        });
        if (ms !== null) {
          out.push(ms.first);
          full.push(ms.full);
        }
        await fresh.close();
      }
      return Object.assign(out, { full });
    };
    const renderJ2k512 = await renderRealOf(data.j2k512Cases);
    const renderCr = await renderRealOf(data.crCases);

    // A loaded 30-frame stack: every frame decoded and cached, then shown one after another.
    await page.goto(`${BASE}/queue/${data.projectId}?case=${data.stackCase}`);
    await page.waitForFunction(() => (window.__radsImageTimings ?? []).length > 0, undefined, { timeout: 30_000 });
    const stackFps = await page.evaluate(async () => {
      type El = { element: HTMLElement };
      type Cs = { getEnabledElements(): El[]; loadAndCacheImage(id: string): Promise<unknown>; displayImage(el: HTMLElement, img: unknown): void };
      const cs = (window as unknown as { cornerstone: Cs }).cornerstone;
      const [timing] = window.__radsImageTimings ?? [];
      const url = timing!.imageId.replace(/^[a-z]+:/, "").replace(/\?frame=\d+$/, "");
      const ids = Array.from({ length: 30 }, (_, i) => `dicom:${url}?frame=${i}`);
      const images = await Promise.all(ids.map((id) => cs.loadAndCacheImage(id)));
      const { element } = cs.getEnabledElements().find((e) => e.element.isConnected)!;
      const t0 = performance.now();
      for (const image of images) {
        await new Promise<void>((resolve) => {
          element.addEventListener("cornerstoneimagerendered", () => resolve(), { once: true });
          cs.displayImage(element, image);
        });
      }
      return (images.length / (performance.now() - t0)) * 1000;
    });
    return { wallMs, inPage, coldMs, render512, render128, renderJ2k512, renderCr, stackFps };
  } finally {
    await browser.close();
  }
}

/**
 * Starts the production web server of `tree` (this repository, --tree or --baseline-tree) on `port`,
 * `processes` of them behind it (the tree's scripts/lib/web-cluster.mjs): its scripts/web-server.mjs
 * (tRPC on node:http, the rest through Next.js), or `next start` for a checkout from before that entry existed.
 */
function startWeb(tree: string, port: number, processes: number, env: NodeJS.ProcessEnv): ChildProcess {
  const cluster = path.join(tree, "scripts/lib/web-cluster.mjs");
  let argv: string[];
  if (fs.existsSync(path.join(tree, "scripts/web-server.mjs"))) {
    const serverArgs = ["--port", String(port), "--host", "127.0.0.1"];
    argv = processes > 1 ? [cluster, String(processes), ...serverArgs] : [path.join(tree, "scripts/web-server.mjs"), ...serverArgs];
  } else {
    const nextArgs = ["start", "-p", String(port), "-H", "127.0.0.1"];
    argv = processes > 1 ? [cluster, String(processes), ...nextArgs] : ["--import", path.join(root, "scripts/peer-address.mjs"), path.join(tree, "node_modules/next/dist/bin/next"), ...nextArgs];
  }
  return spawn(process.execPath, argv, { cwd: tree, env, stdio: ["ignore", "ignore", "inherit"] });
}

async function waitUp(url: string) {
  for (let i = 0; ; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (i > 480) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-"));
  fs.chmodSync(temp, 0o755);
  const storageDir = path.join(temp, "storage");
  const children: ChildProcess[] = [];
  let probe: PhaseCpuProbe | null = null;
  let waitSampler: PhaseWaitSampler | null = null;
  const database = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: 54400 + (process.pid % 500), database: "rads_bench" });
  const db = createDb(database.url);
  try {
    say(`seeding ${POOL} cases, ${CLIENTS + 1} clinicians…`);
    const seedStarted = performance.now();
    const data = await seed(db, database.url, storageDir);
    say(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64url"),
      NEXTAUTH_URL: BASE,
      STORAGE_DIR: storageDir,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      LOGIN_MAX_FAILURES: "1000",
    };
    const tree = args.tree ? path.resolve(args.tree) : root;
    await ensureWebBuild(tree, env, say);
    const ours = WEB_PROCESSES.map((n, i) => ({ name: WEB_PROCESSES.length > 1 || n > 1 ? `ours, ${n} web process${n > 1 ? "es" : ""}` : "ours", base: `http://127.0.0.1:${PORT + 30 * i}` }));
    // Each server's PostgreSQL connections carry its own application_name (pg reads PGAPPNAME), so the CPU table
    // tells the backends serving it from the others'.
    const processes: ServerProcesses[] = [];
    WEB_PROCESSES.forEach((n, i) => {
      const appName = `rads-web-${PORT + 30 * i}`;
      const child = startWeb(tree, PORT + 30 * i, n, { ...env, NEXTAUTH_URL: ours[i]!.base, PGAPPNAME: appName });
      children.push(child);
      processes.push({ name: ours[i]!.name, pid: child.pid!, appName });
    });
    const yardPort = PORT + 10;
    const yardChild = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/lib/submit-yardstick.ts")], { cwd: root, env: { ...env, YARDSTICK_PORT: String(yardPort) }, stdio: ["ignore", "ignore", "inherit"] });
    children.push(yardChild);
    processes.push({ name: "yardstick", pid: yardChild.pid!, appName: "rads-yardstick" });
    const baselineTree = args["baseline-tree"] ? path.resolve(args["baseline-tree"]) : null;
    const baselineBase = `http://127.0.0.1:${PORT + 20}`;
    if (baselineTree) {
      if (!fs.existsSync(path.join(baselineTree, ".next", "BUILD_ID"))) throw new Error(`--baseline-tree ${baselineTree} has no production build (run next build there)`);
      const appName = `rads-web-${PORT + 20}`;
      const child = startWeb(baselineTree, PORT + 20, Number(args["baseline-web-processes"]), { ...env, NEXTAUTH_URL: baselineBase, PGAPPNAME: appName });
      children.push(child);
      processes.push({ name: "before", pid: child.pid!, appName });
    }
    for (const o of ours) await waitUp(`${o.base}/api/trpc/health.ping`);
    await waitUp(`http://127.0.0.1:${yardPort}/`);
    if (baselineTree) await waitUp(`${baselineBase}/api/trpc/health.ping`);

    let browser: Awaited<ReturnType<typeof browserRuns>> | null = null;
    if (!args["no-browser"]) {
      say("browser runs…");
      browser = await browserRuns(data);
    }
    const servers = [...(baselineTree ? [await signInAll("before", baselineBase, data)] : [])];
    for (const o of ours) servers.push(await signInAll(o.name, o.base, data));
    say(`API load: ${ROUNDS} rounds × ${CLIENTS} clinicians × ${SUBMITS} submissions per server…`);
    probe = await PhaseCpuProbe.open(database.url, processes);
    if (!probe) say("no CPU table: /proc or the PostgreSQL postmaster not found");
    waitSampler = WAIT_SAMPLE_MS > 0 ? await PhaseWaitSampler.open(database.url, WAIT_SAMPLE_MS) : null;
    const api = await apiLoad(data, db, servers, `http://127.0.0.1:${yardPort}`, database.url, { cpu: probe, waits: waitSampler, servers: new Map(processes.map((p) => [p.name, p])) });

    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    console.log(`\nWorkspace benchmark — pool ${POOL} cases, round of ${API_LEASES + 200 > 3000 ? API_LEASES + 200 : 3000}, ${os.cpus().length} cores (${cpu}), Node ${process.version}, loopback, production build.\n`);
    if (browser) {
      console.log("| measurement | n | median ms | p95 ms | p99 ms | notes |");
      console.log("|---|---|---|---|---|---|");
      console.log(`| submit → next case visible, in-page (Ctrl+Enter → next case rendered) | ${browser.inPage.length} | ${fmt(quantile(browser.inPage, 0.5))} | ${fmt(quantile(browser.inPage, 0.95))} | ${fmt(quantile(browser.inPage, 0.99))} | next case prefetched (data + image bytes) |`);
      console.log(`| submit → next case visible, Playwright wall time | ${browser.wallMs.length} | ${fmt(quantile(browser.wallMs, 0.5))} | ${fmt(quantile(browser.wallMs, 0.95))} | ${fmt(quantile(browser.wallMs, 0.99))} | includes Playwright's key dispatch and polling |`);
      console.log(`| baseline: open a case cold by URL, Playwright wall time | ${browser.coldMs.length} | ${fmt(quantile(browser.coldMs, 0.5))} | ${fmt(quantile(browser.coldMs, 0.95))} | ${fmt(quantile(browser.coldMs, 0.99))} | full page load, no prefetch |`);
      console.log(`| first render of a 512×512 DICOM after its bytes arrived | ${browser.render512.length} | ${fmt(quantile(browser.render512, 0.5))} | ${fmt(quantile(browser.render512, 0.95))} | ${fmt(quantile(browser.render512, 0.99))} | parse + decode (worker) + draw |`);
      console.log(`| first render of a 512×512 JPEG 2000 CT (explicit_VR-UN.dcm) after its bytes arrived | ${browser.renderJ2k512.length} | ${fmt(quantile(browser.renderJ2k512, 0.5))} | ${fmt(quantile(browser.renderJ2k512, 0.95))} | ${fmt(quantile(browser.renderJ2k512, 0.99))} | target p95 ≤ 150; decode worker (cold page: worker start + OpenJPEG compile) + draw |`);
      console.log(`| first render of the 1760×1760 CR JPEG 2000 (RG3_J2KR.dcm) after its bytes arrived | ${browser.renderCr.length} | ${fmt(quantile(browser.renderCr, 0.5))} | ${fmt(quantile(browser.renderCr, 0.95))} | ${fmt(quantile(browser.renderCr, 0.99))} | target p95 ≤ 800; a half-resolution preview (the viewport shows < half the image's pixels) |`);
      console.log(`| … its full-resolution render after its bytes arrived | ${browser.renderCr.full.length} | ${fmt(quantile(browser.renderCr.full, 0.5))} | ${fmt(quantile(browser.renderCr.full, 0.95))} | ${fmt(quantile(browser.renderCr.full, 0.99))} | replaces the preview |`);
      console.log(`| scrolling a loaded 30-frame stack (examples_ybr_color.dcm) | 30 | — | — | — | ${browser.stackFps.toFixed(1)} frames/s (target ≥ 20) |`);
      console.log(`| baseline: same for a 128×128 DICOM | ${browser.render128.length} | ${fmt(quantile(browser.render128, 0.5))} | ${fmt(quantile(browser.render128, 0.95))} | ${fmt(quantile(browser.render128, 0.99))} | |`);
      console.log("");
    }
    console.log(`API under load: ${CLIENTS} clients at once, no think time; each round: health.ping ×${SUBMITS} per client, then ×${SUBMITS} per client ${LOOPS.map((l) => (l === "ui" ? "queue.next once and annotations.submit with advanceInProject (submit and take the next, as the workspace does)" : l === "submit" ? "annotations.submit alone (distinct unleased cases of the round, no queue.next, a free slot taken)" : "queue.next + annotations.submit")).join("; then ")}, per server; then the yardstick (scripts/lib/submit-yardstick.ts) replays that round's submissions as one bare transaction each. Load = 1-minute load average during the phase.\n`);
    console.log("| round | server | phase | rate /s | p50 ms | p95 ms | queue.next p50 / p95 ms | calls / submission | load avg | errors |");
    console.log("|---|---|---|---|---|---|---|---|---|---|");
    for (const p of api.phases) {
      const rate = p.kind === "submit" ? `${p.rate.toFixed(1)} submissions` : p.kind === "ping" ? `${p.rate.toFixed(0)} pings` : `${p.rate.toFixed(1)} transactions`;
      const next = p.nextP50 === undefined ? "" : `${fmt(p.nextP50)} / ${fmt(p.nextP95!)}`;
      const phase = p.kind === "submit" ? LOOP_NAMES[p.loop!] : p.kind === "ping" ? "health.ping" : "bare submit transaction";
      const calls = p.kind === "submit" ? p.callsPerSubmission!.toFixed(2) : p.kind === "ping" ? "–" : "1.00";
      console.log(`| ${p.round} | ${p.server} | ${phase} | ${rate} | ${fmt(p.p50)} | ${fmt(p.p95)} | ${next} | ${calls} | ${p.load.toFixed(1)} | ${p.errors} |`);
    }
    const cores = os.cpus().length;
    const perRequest = (c: PhaseCpu, seconds: number) => (seconds * 1000) / Math.max(1, c.n);
    if (api.phases.some((p) => p.cpu)) {
      console.log(`\nWhere the machine's CPU goes, per request (CPU ms ÷ the phase's pings, submissions or yardstick transactions; /proc read at each phase's start and end, scripts/lib/proc-cpu.ts). Server: the phase's web process(es), or the yardstick process; its PostgreSQL: the backends with its application_name (rads-web-<port>, rads-yardstick); load generator: this process (undici fetch), also the share of its one core; other PostgreSQL: the postmaster, its background processes, the idle servers' backends and this benchmark's own connections; ended backends: backends that exited during the phase (e.g. an idle server's pool closing idle connections), their CPU time during it (the postmaster's reaped children less what they had used at the start) — missed in the columns before; rest: everything else busy (the idle servers, other sessions on the machine, the kernel). Machine: busy cores on average, of ${cores}.\n`);
      console.log("| round | server | phase | requests | wall s | server ms | its PostgreSQL ms | load generator ms (core share) | other PostgreSQL ms | ended backends ms | rest ms | machine busy cores | load avg |");
      console.log("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
      for (const p of api.phases) {
        const c = p.cpu;
        if (!c) continue;
        const phase = p.kind === "submit" ? LOOP_NAMES[p.loop!] : p.kind === "ping" ? "health.ping" : "bare submit transaction";
        const ms = (seconds: number) => perRequest(c, seconds).toFixed(2);
        console.log(`| ${p.round} | ${p.server} | ${phase} | ${c.n} | ${c.wallS.toFixed(1)} | ${ms(c.serverS)} | ${ms(c.serverPgS)} | ${ms(c.driverS)} (${(c.driverS / c.wallS).toFixed(2)}) | ${ms(c.pgOtherS)} | ${ms(c.endedS)} | ${ms(c.restS)} | ${(c.busyS / c.wallS).toFixed(2)} | ${p.load.toFixed(1)} |`);
      }
    }
    const med = (xs: number[]) => quantile(xs, 0.5);
    /** "CPU per submission: …" of `phases` (medians over rounds), or "" without CPU figures. */
    const cpuLine = (phases: Phase[], what: string, server: string) => {
      const cs = phases.map((p) => p.cpu).filter((c): c is PhaseCpu => c !== null);
      if (cs.length === 0) return "";
      const m = (seconds: (c: PhaseCpu) => number) => med(cs.map((c) => perRequest(c, seconds(c))));
      const [x, y, z] = [m((c) => c.serverS), m((c) => c.serverPgS), m((c) => c.driverS)];
      const w = m((c) => c.pgOtherS + c.endedS + c.restS);
      return `CPU per ${what}: ${server} ${x.toFixed(2)}, its PostgreSQL ${y.toFixed(2)}, load generator ${z.toFixed(2)} (${med(cs.map((c) => c.driverS / c.wallS)).toFixed(2)} of its core), rest ${w.toFixed(2)} ms (machine ${cores} cores → at most ${((cores * 1000) / (x + y + z)).toFixed(0)}/s)`;
    };
    const of = (server: string, kind: Phase["kind"]) => api.phases.filter((p) => p.server === server && p.kind === kind);
    const yard = of("yardstick", "yardstick");
    console.log(`\nMedians over ${ROUNDS} rounds:`);
    const named = servers.flatMap((s) => LOOPS.map((loop) => ({ server: s.name, name: withLoop(s.name, loop) })));
    for (const { server: base, name: server } of named) {
      const sub = of(server, "submit");
      const ping = of(base, "ping");
      console.log(`- ${server}: ${med(sub.map((p) => p.rate)).toFixed(1)} submissions/s (${med(sub.map((p) => p.callsPerSubmission!)).toFixed(2)} calls each), submit p95 ${fmt(med(sub.map((p) => p.p95)))} ms, queue.next p95 ${fmt(med(sub.map((p) => p.nextP95!)))} ms, health.ping ${med(ping.map((p) => p.rate)).toFixed(0)} req/s (p95 ${fmt(med(ping.map((p) => p.p95)))} ms)`);
    }
    console.log(`- yardstick: ${med(yard.map((p) => p.rate)).toFixed(1)} transactions/s (p95 ${fmt(med(yard.map((p) => p.p95)))} ms)`);
    for (const { name: server } of named) {
      // Each round's submissions/s over the same round's yardstick.
      const ratios = of(server, "submit").map((p, i) => p.rate / yard[i]!.rate);
      console.log(`- ${server} ÷ yardstick: ${med(ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}; goal ≥ 0.5)`);
    }
    for (const { name: server } of named) {
      const line = cpuLine(of(server, "submit"), "submission", "web");
      if (line) console.log(`- ${server}: ${line}`);
    }
    const yardLine = cpuLine(yard, "transaction", "yardstick");
    if (yardLine) console.log(`- yardstick: ${yardLine}`);
    console.log(`- errors ${api.errors}, lost writes ${api.lost} of ${api.acks} acknowledged (${api.rowsInDb} rows in DB, ${api.storedTwice} stored twice), cases leased twice ${api.duplicateCases}${api.aloneCases > 0 ? `, annotations.submit alone: ${api.aloneNotDone} of ${api.aloneCases} cases not DONE after their submission` : ""}`);
    if (api.phases.some((p) => p.waits)) printWaits(api.phases, named);
    if (api.errors > 0 || api.lost > 0 || api.duplicateCases > 0 || api.storedTwice > 0 || api.aloneNotDone > 0) process.exitCode = 1;
  } finally {
    await probe?.close();
    await waitSampler?.close();
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((r) => child.once("exit", r)))));
    await db.$disconnect();
    await database.embedded?.stop();
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
