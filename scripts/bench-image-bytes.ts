/**
 * The clinician's image bytes (`GET /api/images/<id>`) on the production web server, answered on its own
 * node:http path (server/web/image-node.ts) beside the same route through Next.js's request pipeline, in
 * the same run on the same server (issue 16). A benchmark, not a test.
 *
 *   npx tsx scripts/bench-image-bytes.ts [--clients 20] [--calls 10] [--rounds 5] [--images 500] [--profile]
 *
 * Setup: an embedded PostgreSQL, `--clients` clinicians who are members of one project of `--images`
 * cases, each with a real chest X-ray JPEG from ../shared/data (20 distinct files, so the bytes come from
 * the web process's byte cache after their first read, as in the soak's prefetching); the production
 * web server (scripts/web-server.mjs, built first if the sources changed) on a free port.
 * The two paths: `/api/images/<id>` (the fast path) and `/api/images/%<hex><rest of id>` — the same id with
 * its first character percent-encoded, which the fast path leaves to Next.js (image-endpoint.ts
 * `imageIdOfPath`), whose route decodes it and runs the same handler. Which path answered is checked on
 * the first call of each (Next's answers carry proxy.ts's nonce CSP, the fast path's the static one).
 * Each round: both paths one after the other (order alternating), each phase one client alone
 * (`--calls` × 2 calls) then `--clients` at once (`--calls` calls each); every call a first read of its
 * (user, image) pair, so each writes its audit event, as in the soak. Reported per path and phase: the
 * median over rounds of p50 / p95 wall ms, requests/s, and the web process's CPU ms per call
 * (/proc/<pid>/stat utime+stime, all threads), with the 1-minute load average before and after.
 * `--profile`: a second run of the fast path alone (20 clients, `--calls` × `--rounds` each) on a web server
 * under `node --cpu-prof`, and where its main thread's CPU went per call: by where the code lives and the
 * functions with the most self time (the .cpuprofile is kept; its path is printed).
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { hashPassword } from "../server/auth/password";
import { createDb } from "../server/db/client";
import { freePort } from "../server/db/embedded-postgres";
import { insertFixtureCases, insertFixtureImages, insertFixtureProject, insertFixtureUsers, listFixtureCases, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { prepareDatabase } from "../server/platform/database";
import { contentKey, createLocalBlobStore } from "../server/storage/blob-store";
import { ApiClient, quantile } from "./lib/api-client";
import { ensureWebBuild } from "./lib/web-build";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "20" },
    calls: { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
    images: { type: "string", default: "500" },
    profile: { type: "boolean", default: false },
  },
});
const CLIENTS = Number(args.clients);
const CALLS = Number(args.calls);
const ROUNDS = Number(args.rounds);
const IMAGES = Number(args.images);
for (const [name, value] of Object.entries({ clients: CLIENTS, calls: CALLS, rounds: ROUNDS, images: IMAGES })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
}
// Every call is a first read of its (user, image) pair: the first client, the busiest, reads each image at most
// once (3 × calls per path and round, and 22 warm-up reads per path).
// With --profile, the profiled run's calls and its warm-up besides.
const perClient = ROUNDS * 2 * CALLS * 3 + 2 * 22 + (args.profile ? ROUNDS * CALLS + 22 : 0);
if (perClient > IMAGES) throw new Error(`--images must be at least ${perClient} here (each call reads an image its user has not read)`);

const root = path.resolve(import.meta.dirname, "..");
const SHARED = path.resolve(root, "../shared/data");
const PASSWORD = "bench-image-password-123";
const say = (s: string) => process.stderr.write(`[bench-image-bytes ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const CLOCK_TICK_MS = 1000 / 100; // USER_HZ: /proc's utime/stime are in 1/100 s on Linux

function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS; // utime, stime (fields 14 and 15 of stat)
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Where the code of a profiled function lives. */
function area(url: string): string {
  if (url === "") return "V8 / native (GC, program)";
  if (url.includes("/node_modules/next/")) return "Next.js server";
  if (url.includes("/.next/server/")) return "compiled app (our handler, session, Next route code)";
  if (/\/node_modules\/(@prisma|\.prisma|pg|pg-[a-z]+)\//.test(url) || url.includes("/server/db/generated/")) return "Prisma + pg";
  if (url.includes("undici")) return "Fetch (undici)";
  if (url.startsWith("node:")) return "Node internals (http, streams, fs, crypto)";
  if (url.includes("/server/web/") || url.includes("/server/api/")) return "node:http glue (image-node.ts, trpc-node.ts)";
  return "other";
}

/** Microseconds on CLOCK_MONOTONIC, the clock of V8's profile timestamps. */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Self time per area and the top functions of a .cpuprofile within [fromUs, toUs] (the measured phase), in ms per call. */
function summarizeProfile(file: string, calls: number, fromUs: number, toUs: number): void {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= fromUs && at <= toUs) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") continue;
    areas.set(area(frame.url), (areas.get(area(frame.url)) ?? 0) + ms);
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const total = [...areas.values()].reduce((a, b) => a + b, 0);
  console.log(`
Fast path under --cpu-prof: main thread ${(total / calls).toFixed(2)} ms per call (${calls} calls; ${file})
`);
  console.log("| where | ms per call |\n|---|---|");
  for (const [name, ms] of [...areas].sort((a, b) => b[1] - a[1])) console.log(`| ${name} | ${(ms / calls).toFixed(3)} |`);
  console.log("\n| function (self time) | ms per call |\n|---|---|");
  for (const [name, ms] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`| \`${name}\` | ${(ms / calls).toFixed(3)} |`);
}

interface Sample {
  p50: number;
  p95: number;
  perSecond: number;
  cpuPerCall: number;
}

async function main() {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-image-"));
  fs.chmodSync(temp, 0o755);
  const database = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: await freePort(), database: "rads_bench_image" });
  const db = createDb(database.url);
  let web: ChildProcess | null = null;
  try {
    say("seeding…");
    const passwordHash = await hashPassword(PASSWORD);
    await insertFixtureUsers(db, Array.from({ length: CLIENTS }, (_, i) => ({ email: `image-${i}@bench-image.local`, name: `Reader ${i}`, role: "CLINICIAN" as const, passwordHash })));
    const users = await listUsersByEmailSuffix(db, "@bench-image.local");
    const project = await insertFixtureProject(db, {
      name: "Image bytes bench",
      labelSchema: { labels: [{ key: "normal", name: "Normal", shortcut: "1" }, { key: "abnormal", name: "Abnormal", shortcut: "2" }], multiLabel: false },
      minorityClasses: ["abnormal"],
      selectionParams: { strategy: "rads", budget: IMAGES },
      encoderConfig: { kind: "builtin", dim: 384 },
      settings: { annotationsPerCase: 1, leaseMinutes: 30 },
      memberIds: users.map((u) => u.id),
    });
    await insertFixtureCases(db, Array.from({ length: IMAGES }, (_, i) => ({ projectId: project.id, externalId: `i-${i}`, narrative: `FINDINGS: case ${i}.`, split: "POOL" as const })));
    const cases = await listFixtureCases(db, project.id);
    const storageDir = path.join(temp, "storage");
    const store = createLocalBlobStore(storageDir);
    const jpegDir = path.join(SHARED, "images/covid_chestxray/images");
    const jpegs = fs.readdirSync(jpegDir).filter((f) => f.endsWith(".jpg")).sort().slice(0, 20);
    const rows = [];
    let totalBytes = 0;
    for (const [i, c] of cases.entries()) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(jpegDir, jpegs[i % jpegs.length]!)));
      totalBytes += bytes.byteLength;
      const key = contentKey("images", bytes, ".jpg");
      if (!(await store.exists(key))) await store.put(key, bytes);
      rows.push({ caseId: c.id, storageKey: key, mimeType: "image/jpeg", sha256: crypto.createHash("sha256").update(bytes).digest("hex"), frames: 1, attributes: {} });
    }
    await insertFixtureImages(db, rows);
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    const imageIds = (await sql.query<{ id: string }>(`SELECT id FROM "CaseImage" ORDER BY id`)).rows.map((r) => r.id);
    await sql.end();
    say(`${imageIds.length} images, ${(totalBytes / imageIds.length / 1024).toFixed(0)} KiB on average (${jpegs.length} distinct files)`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64url"), NEXTAUTH_URL: base, STORAGE_DIR: storageDir, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", LOGIN_MAX_FAILURES: "1000" };
    await ensureWebBuild(root, env, say);
    const startWeb = async (nodeArgs: string[]) => {
      web = spawn(process.execPath, [...nodeArgs, path.join(root, "scripts/web-server.mjs"), "--port", String(port), "--host", "127.0.0.1"], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
      for (let i = 0; ; i++) {
        if (await fetch(`${base}/api/trpc/health.ping`).then((r) => r.ok, () => false)) break;
        if (i > 480) throw new Error("the web server did not start");
        await new Promise((r) => setTimeout(r, 250));
      }
      return web;
    };
    const stopWeb = async () => {
      const running = web;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    };
    await startWeb([]);
    const clients = users.map((u) => new ApiClient(u.email, { base, password: PASSWORD }));
    for (const c of clients) await c.signIn();

    const fastUrl = (id: string) => `${base}/api/images/${id}`;
    const nextUrl = (id: string) => `${base}/api/images/%${id.charCodeAt(0).toString(16).padStart(2, "0")}${id.slice(1)}`;
    const paths = { "node:http (fast path)": fastUrl, "through Next.js": nextUrl } as const;
    // Each client walks its own sequence of images; the offset keeps clients on different images at once.
    const cursor = clients.map((_, i) => i * 7);
    const nextImage = (client: number) => imageIds[cursor[client]!++ % imageIds.length]!;
    const get = async (client: number, url: (id: string) => string, ms: number[]) => {
      const t0 = performance.now();
      const response = await fetch(url(nextImage(client)), { headers: { cookie: clients[client]!.cookieHeader() } });
      const body = await response.arrayBuffer();
      ms.push(performance.now() - t0);
      if (response.status !== 200 || body.byteLength === 0) throw new Error(`image read answered ${response.status}`);
      return response;
    };
    // Which path answered: Next's answers carry proxy.ts's per-request nonce in their CSP.
    for (const [name, url] of Object.entries(paths)) {
      const csp = (await get(0, url, [])).headers.get("content-security-policy") ?? "";
      const viaNext = csp.includes("'nonce-");
      if (viaNext !== (url === nextUrl)) throw new Error(`${name}: answered by the wrong path (is the build current?)`);
      // Warm-up: the route loaded, the pools filled, the byte cache holding every file.
      await Promise.all(clients.map((_, c) => get(c, url, [])));
      for (let i = 0; i < jpegs.length; i++) await get(0, url, []);
    }

    let pid = web!.pid!;
    const results = new Map<string, Sample[]>();
    const phase = async (name: string, url: (id: string) => string, concurrency: number, calls: number) => {
      const ms: number[] = [];
      const cpu0 = cpuMs(pid);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async (_, c) => {
        for (let i = 0; i < calls; i++) await get(c, url, ms);
      }));
      const wall = performance.now() - t0;
      const sample = { p50: quantile(ms, 0.5), p95: quantile(ms, 0.95), perSecond: (ms.length / wall) * 1000, cpuPerCall: (cpuMs(pid) - cpu0) / ms.length };
      results.set(name, [...(results.get(name) ?? []), sample]);
    };
    const loadBefore = os.loadavg()[0]!;
    for (let round = 0; round < ROUNDS; round++) {
      const order = Object.entries(paths);
      if (round % 2 === 1) order.reverse();
      for (const [name, url] of order) {
        await phase(`${name}, 1 client`, url, 1, CALLS * 2);
        await phase(`${name}, ${CLIENTS} clients`, url, CLIENTS, CALLS);
      }
      say(`round ${round + 1} of ${ROUNDS} done (load ${os.loadavg()[0]!.toFixed(1)})`);
    }
    const loadAfter = os.loadavg()[0]!;
    let profiled: { file: string; calls: number; fromUs: number; toUs: number } | null = null;
    if (args.profile) {
      await stopWeb();
      const profDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-image-profile-"));
      pid = (await startWeb(["--cpu-prof", `--cpu-prof-dir=${profDir}`])).pid!;
      await Promise.all(clients.map((_, c) => get(c, fastUrl, [])));
      for (let i = 0; i < jpegs.length; i++) await get(0, fastUrl, []);
      results.delete("profiled");
      const fromUs = nowUs();
      await phase("profiled", fastUrl, CLIENTS, CALLS * ROUNDS);
      const toUs = nowUs();
      await stopWeb();
      const file = fs.readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
      if (!file) throw new Error(`no .cpuprofile in ${profDir}`);
      profiled = { file: path.join(profDir, file), calls: CLIENTS * CALLS * ROUNDS, fromUs, toUs };
    }
    const median = (values: number[]) => quantile(values, 0.5);
    const span = (values: number[], digits: number) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
    console.log(`\nImage bytes, ${ROUNDS} rounds (median over rounds, range in brackets); ${os.availableParallelism()} CPUs, 1-min load ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after\n`);
    console.log("| path, concurrency | p50 ms | p95 ms | requests/s | web CPU ms per call |");
    console.log("|---|---|---|---|---|");
    for (const [name, samples] of results) {
      if (name === "profiled") continue;
      const col = (pick: (s: Sample) => number, digits: number) => `${median(samples.map(pick)).toFixed(digits)} (${span(samples.map(pick), digits)})`;
      console.log(`| ${name} | ${col((s) => s.p50, 1)} | ${col((s) => s.p95, 1)} | ${col((s) => s.perSecond, 0)} | ${col((s) => s.cpuPerCall, 2)} |`);
    }
    if (profiled) summarizeProfile(profiled.file, profiled.calls, profiled.fromUs, profiled.toUs);
  } finally {
    const running = web as ChildProcess | null;
    if (running && running.exitCode === null) {
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    }
    await db.$disconnect();
    await database.embedded?.stop();
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
