/**
 * npx tsx scripts/bench-submit-ab.ts <tree>,<tree>[,…] [--rounds 20] [--calls 300]
 *
 * The CPU of `annotations.submit` with `advanceInProject` (submit and take the next) at the service level, one tree
 * against another in the same run (issue 16: "each change's effect in CPU per call, measured against the code before
 * it in the same run"). A benchmark, not a test. Each tree is a checkout of this repository with its node_modules and
 * generated Prisma client (e.g. a `git worktree` with `cp -al node_modules`); no build is needed. One embedded
 * PostgreSQL; per tree one child process (scripts/lib/submit-ab-child.ts, run with the tree's own sources) with its
 * own clinician and project of queued cases. Each round every tree runs `--calls` calls, one tree at a time (the
 * order reversed every other round); measured per call: the child's process CPU and the CPU of the database's
 * backends (/proc, per backend alive at both reads: an idle connection closed meanwhile is left out; PostgreSQL's
 * tick is 10 ms). Prints each tree's medians and, for each tree after the first, the median of its per-round
 * differences to the first. Without HTTP, tRPC, the session check and Next's patched globals.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { createDb } from "../server/db/client";
import { insertFixtureCases, insertFixtureProject, insertFixtureUsers, listFixtureCases, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { prepareDatabase } from "../server/platform/database";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { CLK_TCK, parseProcStat } from "./lib/proc-cpu";

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: "string", default: "20" }, calls: { type: "string", default: "300" } } });
const TREES = (positionals[0] ?? "").split(",").filter(Boolean).map((t) => path.resolve(t));
const ROUNDS = Number(args.rounds);
const CALLS = Number(args.calls);
const DATABASE = "rads_submit_ab";
const say = (line: string) => process.stderr.write(`[submit-ab] ${line}\n`);

/** CPU ticks of each backend of DATABASE (its title is "postgres: <user> <database> …"). */
function backendTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmdline.startsWith("postgres: ") || !cmdline.split(" ").includes(DATABASE)) continue;
      const stat = parseProcStat(fs.readFileSync(`/proc/${entry}/stat`, "utf8"));
      if (stat) out.set(stat.pid, Math.round(stat.ownS * CLK_TCK));
    } catch {
      // the backend ended between listing and reading
    }
  }
  return out;
}

function backendMsSince(before: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, now] of backendTicks()) ticks += now - (before.get(pid) ?? 0);
  return (ticks * 1000) / CLK_TCK;
}

interface Child {
  tag: string;
  tree: string;
  child: ChildProcessByStdio<Writable, Readable, null>;
  lines: AsyncIterator<string>;
  cpu: number[];
  pg: number[];
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: readonly number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;

async function main() {
  if (TREES.length < 2) throw new Error("usage: bench-submit-ab.ts <tree>,<tree>[,…] [--rounds N] [--calls N]");
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-submit-ab-"));
  fs.chmodSync(temp, 0o755);
  const database = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: 56000 + (process.pid % 500), database: DATABASE });
  const db = createDb(database.url);
  try {
    const children: Child[] = [];
    for (const [i, tree] of TREES.entries()) {
      const tag = `t${i}`;
      say(`seeding ${tag} (${tree})…`);
      await insertFixtureUsers(db, [{ email: `${tag}@submit-ab.local`, name: tag, role: "CLINICIAN" as const, passwordHash: null }]);
      const user = (await listUsersByEmailSuffix(db, "@submit-ab.local")).find((u) => u.email === `${tag}@submit-ab.local`)!;
      const project = await insertFixtureProject(db, {
        name: `Submit A/B ${tag}`,
        labelSchema: { labels: [{ key: "normal", name: "Normal", shortcut: "1" }, { key: "abnormal", name: "Abnormal", shortcut: "2" }], multiLabel: false },
        minorityClasses: ["abnormal"],
        selectionParams: { strategy: "rads", budget: 3000 },
        encoderConfig: { kind: "builtin", dim: 384 },
        settings: { annotationsPerCase: 1, leaseMinutes: 30 },
        memberIds: [user.id],
      });
      const count = (ROUNDS + 1) * CALLS + 50;
      await insertFixtureCases(db, Array.from({ length: count }, (_, n) => ({ projectId: project.id, externalId: `${tag}-${n}`, narrative: `FINDINGS: case ${n}, lungs clear.`, split: "POOL" as const })));
      const cases = await listFixtureCases(db, project.id);
      await writeSelectionRound(db, { projectId: project.id, strategy: "random", coldStart: false, modelVersionId: null, params: {}, stats: {}, items: cases.map((c, n) => ({ caseId: c.id, rank: n + 1, features: {} })) });
      const child = spawn(path.join(tree, "node_modules/.bin/tsx"), [path.join(import.meta.dirname, "lib/submit-ab-child.ts")], {
        cwd: tree,
        env: {
          ...process.env,
          DATABASE_URL: database.url,
          PROJECT_ID: project.id,
          USER_ID: user.id,
          NODE_ENV: "production",
          LOG_LEVEL: "error",
          NEXTAUTH_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
          NEXTAUTH_URL: "http://127.0.0.1:1",
          STORAGE_DIR: path.join(temp, "storage"),
        },
        stdio: ["pipe", "pipe", "inherit"],
      });
      const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      if ((await lines.next()).value !== "ready") throw new Error(`${tree}: the child did not start`);
      children.push({ tag, tree, child, lines, cpu: [] as number[], pg: [] as number[] });
    }
    const run = async (c: Child, n: number) => {
      c.child.stdin.write(`${n}\n`);
      return JSON.parse((await c.lines.next()).value as string) as { cpuMs: number; wallMs: number };
    };
    for (const c of children) await run(c, Math.min(30, CALLS)); // warm-up (JIT, prepared statements)
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of round % 2 === 0 ? children : [...children].reverse()) {
        const before = backendTicks();
        const { cpuMs } = await run(c, CALLS);
        c.cpu.push(cpuMs / CALLS);
        c.pg.push(backendMsSince(before) / CALLS);
      }
      say(`round ${round + 1}/${ROUNDS} (load ${os.loadavg()[0]!.toFixed(1)})`);
    }
    const first = children[0]!;
    console.log(`submit and take the next, ${ROUNDS} rounds × ${CALLS} calls per tree, load average ${os.loadavg().map((l) => l.toFixed(1)).join(", ")} at the end\n`);
    console.log("| tree | process CPU ms / call (median) | PostgreSQL backends' CPU ms / call (median) | Δ process to the first (median, mean, rounds lower) | Δ PostgreSQL to the first |");
    console.log("|---|---|---|---|---|");
    for (const c of children) {
      const dCpu = c.cpu.map((x, i) => x - first.cpu[i]!);
      const dPg = c.pg.map((x, i) => x - first.pg[i]!);
      const delta = (d: number[]) => (c === first ? "–" : `${median(d).toFixed(3)}, ${mean(d).toFixed(3)}, ${d.filter((x) => x < 0).length}/${d.length}`);
      console.log(`| ${c.tree} | ${median(c.cpu).toFixed(3)} | ${median(c.pg).toFixed(3)} | ${delta(dCpu)} | ${delta(dPg)} |`);
    }
    for (const c of children) c.child.stdin.write("0\n");
  } finally {
    await db.$disconnect();
    await database.embedded?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
