/**
 * A benchmark, not a test (issue 16 goals 2–3): submit and take the next (annotations.submit with advanceInProject, the
 * workspace's call) at service level — no HTTP, no web process — on a fresh embedded PostgreSQL in a temporary folder:
 * `clients` clinicians each lease a case and then submit and take the next `submits` times, all at once, no think time.
 * Prints one JSON line per run: submissions, submissions/s and p95 ms (both move with the machine's load), and — load
 * independent — per submission the transactions PostgreSQL committed (pg_stat_database xact_commit: read-only
 * autocommit statements count too), the WAL writes and fsyncs (pg_stat_io, object 'wal': each fsync is a commit's
 * flush, several concurrent commits may share one) and the PostgreSQL processes' CPU ms (/proc: the postmaster's
 * children, and what it reaped).
 *   npx tsx scripts/bench-submit-commits.ts [clients=50] [submits=40]
 * To compare two commits, run it in a checkout of each (git worktree add; node_modules hard-linked in), alternating.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { prepareDatabase } from "../server/platform/database";
import { createDb } from "../server/db/client";
import { createTestUser } from "../server/testing/fixtures";
import { createTestProject } from "../server/testing/project-fixtures";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { createServiceContext } from "../server/services/context";
import { leaseNext } from "../server/services/queue-service";
import { submitAnnotation } from "../server/services/annotation-service";

const [clients, submits] = [Number(process.argv[2] ?? 50), Number(process.argv[3] ?? 40)];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-commits-"));
fs.chmodSync(dir, 0o755);
const prepared = await prepareDatabase({ dataDir: path.join(dir, "pg"), embeddedPort: 56000 + (process.pid % 1000), database: "rads_bench" });
process.env.DATABASE_URL = prepared.url;
const pmPid = Number(fs.readFileSync(path.join(dir, "pg", "postmaster.pid"), "utf8").split("\n")[0]);
const tick = 100;
function pgCpuMs(): number {
  let total = 0;
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(f[1]);
      const pid = Number(p);
      if (pid === pmPid) total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (ppid === pmPid) total += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return (total * 1000) / tick;
}
const users = await Promise.all(Array.from({ length: clients }, () => createTestUser("CLINICIAN")));
const { projectId, caseIds } = await createTestProject({ memberIds: users.map((u) => u.id), cases: clients * (submits + 1) });
const { testDb } = await import("../server/testing/fixtures");
await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
const admin = new pg.Client({ connectionString: prepared.embedded!.adminUrl });
await admin.connect();
const stats = async () => {
  const [d] = (await admin.query(`SELECT xact_commit::int AS commits FROM pg_stat_database WHERE datname = 'rads_bench'`)).rows;
  const [w] = (await admin.query(`SELECT coalesce(sum(writes),0)::int AS writes, coalesce(sum(fsyncs),0)::int AS fsyncs FROM pg_stat_io WHERE object = 'wal'`)).rows;
  return { commits: d.commits as number, walWrites: w.writes as number, walFsyncs: w.fsyncs as number };
};
const db = createDb(prepared.url);
const content = { labels: ["benign"], spans: [], uncertain: false, comment: "" };
const firsts = await Promise.all(users.map((u) => leaseNext(createServiceContext(db, u), { projectId })));
await db.$disconnect();
await new Promise((r) => setTimeout(r, 1500));
const db2 = createDb(prepared.url);
await Promise.all(users.map((u) => leaseNext(createServiceContext(db2, u), { projectId }))); // warm the pool's connections (resumes)
await admin.query("SELECT pg_stat_force_next_flush()");
await new Promise((r) => setTimeout(r, 1200));
const s0 = await stats();
const c0 = pgCpuMs();
const t0 = performance.now();
const lat: number[] = [];
await Promise.all(
  users.map(async (u, i) => {
    let next = firsts[i]!;
    for (let k = 0; k < submits && next; k++) {
      const t = performance.now();
      next = (await submitAnnotation(createServiceContext(db2, u), { caseId: next.caseId, expectedVersion: 0, content, timeSpentMs: 1, advanceInProject: projectId })).next!;
      lat.push(performance.now() - t);
    }
  }),
);
const wall = (performance.now() - t0) / 1000;
const c1 = pgCpuMs();
await db2.$disconnect();
await new Promise((r) => setTimeout(r, 1500));
const s1 = await stats();
lat.sort((a, b) => a - b);
const n = lat.length;
console.log(JSON.stringify({ submissions: n, perSecond: +(n / wall).toFixed(1), p95ms: +lat[Math.floor(n * 0.95)]!.toFixed(1), commitsPer: +((s1.commits - s0.commits) / n).toFixed(2), walFsyncsPer: +((s1.walFsyncs - s0.walFsyncs) / n).toFixed(2), walWritesPer: +((s1.walWrites - s0.walWrites) / n).toFixed(2), pgCpuMsPer: +((c1 - c0) / n).toFixed(2), load: os.loadavg()[0]!.toFixed(1) }));
await admin.end();
await testDb().$disconnect();
await prepared.embedded?.stop();
fs.rmSync(dir, { recursive: true, force: true });
