/**
 * npx tsx scripts/bench-lease-opening-ab.ts <tree>,<tree>[,…] [--items 6000] [--users 50] [--done 0.3] [--reps 400]
 *
 * The PostgreSQL backend's CPU of the next case's lease opening (queue-repo.ts leaseOpeningStatements, as
 * queue-service.ts leaseAfterSubmit builds it) of one tree against another's, on the SAME database, connection and
 * data, interleaved trip by trip (issue 16: measure each change against the code before it in the same run; on a
 * shared, loaded machine a batch-by-batch comparison drifts with the load). A benchmark, not a test.
 * Each tree is a checkout of this repository (its node_modules linked); only its server/services/queue-service.ts
 * (and what that imports) is loaded, to build the statements — the data is seeded with this tree's services. One
 * embedded PostgreSQL, a project with `--users` clinicians and a round of `--items` items, answered through the real
 * service until `--done` of it is DONE (autovacuum off on the queue's tables, as within a bench round); then every
 * clinician but the first holds a lease and has a live session. Measured: the first clinician's submission's effect
 * (their lease completed, their item DONE: two plain UPDATEs), SAVEPOINT, then each tree's opening statements, rolled
 * back — "BEGIN; prefix; <tree's statements>; ROLLBACK" — against the same trip without them, in rotating order,
 * `--reps` times: the backend's on-CPU time (/proc/<pid>/schedstat, ns) of each trip minus the prefix trip's. Prints
 * each tree's mean per opening and, against the first tree, the median and mean of the per-block differences (blocks
 * of 25 reps) and how many blocks were lower.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createDb } from "../server/db/client";
import { insertFixtureCases, insertFixtureProject, insertFixtureUsers, listFixtureCases, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { sqlLiteral, type TripStatement } from "../server/db/sql";
import { prepareDatabase } from "../server/platform/database";
import { submitAnnotation } from "../server/services/annotation-service";
import { createServiceContext, type ServiceContext } from "../server/services/context";
import { leaseNext } from "../server/services/queue-service";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { ZProjectSettings, type ProjectSettings } from "../contracts/project-config";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { items: { type: "string", default: "6000" }, users: { type: "string", default: "50" }, done: { type: "string", default: "0.3" }, reps: { type: "string", default: "400" } },
});
const TREES = (positionals[0] ?? "").split(",").filter(Boolean).map((t) => path.resolve(t));
const ITEMS = Number(args.items);
const USERS = Number(args.users);
const DONE = Number(args.done);
const REPS = Number(args.reps);
const BLOCK = 25;
const DATABASE = "rads_lease_opening_ab";
const say = (line: string) => process.stderr.write(`[lease-opening-ab] ${line}\n`);

type LeaseAfterSubmit = (ctx: ServiceContext, admitted: { project: { id: string }; config: { settings: ProjectSettings } }) => { statements(now: Date): TripStatement[] } | null;

function text(s: TripStatement): string {
  if (typeof s === "string") return s;
  return `EXECUTE ${s.statement.sqlName}(${s.values.map(sqlLiteral).join(", ")})`;
}

function onCpuNs(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main() {
  if (TREES.length < 2) throw new Error("usage: bench-lease-opening-ab.ts <tree>,<tree>[,…]");
  const builders: LeaseAfterSubmit[] = [];
  for (const tree of TREES) builders.push(((await import(path.join(tree, "server/services/queue-service.ts"))) as { leaseAfterSubmit: LeaseAfterSubmit }).leaseAfterSubmit);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-lease-opening-ab-"));
  fs.chmodSync(temp, 0o755);
  const database = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: 57000 + (process.pid % 400), database: DATABASE });
  Object.assign(process.env, { DATABASE_URL: database.url, NEXTAUTH_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"), NEXTAUTH_URL: "http://127.0.0.1:1", STORAGE_DIR: path.join(temp, "storage") });
  const db = createDb(database.url);
  const client = new pg.Client({ connectionString: database.url });
  try {
    say(`seeding ${USERS} clinicians, ${ITEMS} items…`);
    await insertFixtureUsers(db, Array.from({ length: USERS }, (_, n) => ({ email: `u${n}@lease-opening.local`, name: `u${n}`, role: "CLINICIAN" as const, passwordHash: null })));
    const users = (await listUsersByEmailSuffix(db, "@lease-opening.local")).sort((a, b) => Number(a.email.slice(1).split("@")[0]) - Number(b.email.slice(1).split("@")[0]));
    const settings = ZProjectSettings.parse({ annotationsPerCase: 1, leaseMinutes: 30 });
    const project = await insertFixtureProject(db, {
      name: "Lease opening",
      labelSchema: { labels: [{ key: "normal", name: "Normal", shortcut: "1" }, { key: "abnormal", name: "Abnormal", shortcut: "2" }], multiLabel: false },
      minorityClasses: ["abnormal"],
      selectionParams: { strategy: "rads", budget: ITEMS },
      encoderConfig: { kind: "builtin", dim: 384 },
      settings,
      memberIds: users.map((u) => u.id),
    });
    await insertFixtureCases(db, Array.from({ length: ITEMS }, (_, n) => ({ projectId: project.id, externalId: `c${n}`, narrative: `FINDINGS: case ${n}, lungs clear.`, split: "POOL" as const })));
    const cases = await listFixtureCases(db, project.id);
    await writeSelectionRound(db, { projectId: project.id, strategy: "random", coldStart: false, modelVersionId: null, params: {}, stats: {}, items: cases.map((c, n) => ({ caseId: c.id, rank: n + 1, features: {} })) });
    await client.connect();
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    for (const table of ["QueueItem", "QueueLease", "Annotation", "AuditEvent", "AnnotationDraft"]) await client.query(`ALTER TABLE "${table}" SET (autovacuum_enabled = false)`);
    await client.query(
      `INSERT INTO "AuthSession" (id, "userId", "lastSeenAt", "expiresAt") SELECT 'bench-' || u.id, u.id, now() at time zone 'utc', (now() at time zone 'utc') + interval '1 day' FROM unnest($1::text[]) AS u(id)`,
      [users.map((u) => u.id)],
    );
    await client.query("ANALYZE");
    const actorOf = (u: (typeof users)[number]) => ({ id: u.id, role: "CLINICIAN" as const, name: u.email, email: u.email, mustChangePassword: false });
    const content = { labels: ["normal"], spans: [], uncertain: false, comment: "" };
    const next = new Map<string, string | null>();
    for (const u of users) next.set(u.id, (await leaseNext(createServiceContext(db, actorOf(u)), { projectId: project.id }))?.caseId ?? null);
    const target = Math.floor(DONE * ITEMS);
    say(`submitting until ${target} of ${ITEMS} items are done…`);
    for (let i = 0; i < target; i++) {
      const u = users[1 + (i % (USERS - 1))]!; // the first clinician is the one measured
      const caseId = next.get(u.id);
      if (!caseId) throw new Error("the queue ran out");
      const r = await submitAnnotation(createServiceContext(db, actorOf(u)), { caseId, expectedVersion: 0, content, timeSpentMs: 1, advanceInProject: project.id });
      next.set(u.id, r.next?.caseId ?? null);
    }
    await client.query(`UPDATE "AuthSession" SET "lastSeenAt" = now() at time zone 'utc'`);
    await client.query("ANALYZE");
    const me = users[0]!;
    const ctx = createServiceContext(db, actorOf(me));
    const now = new Date();
    const at = sqlLiteral(now);
    // The submission's effect on what the opening reads: the caller's lease completed and their item DONE.
    const prefix = [
      "BEGIN",
      `UPDATE "QueueLease" SET "completedAt" = ${at}::timestamp WHERE "userId" = ${sqlLiteral(me.id)} AND "completedAt" IS NULL`,
      `UPDATE "QueueItem" SET status = 'DONE' WHERE "caseId" = ${sqlLiteral(next.get(me.id)!)}`,
      "SAVEPOINT rads_tail",
    ];
    const openings = builders.map((build) => build(ctx, { project: { id: project.id }, config: { settings } })!.statements(now));
    for (const statements of openings) for (const s of statements) if (typeof s !== "string") await client.query(`PREPARE ${s.statement.sqlName} AS ${s.statement.text}`).catch(() => undefined);
    const trips = [[...prefix, "ROLLBACK"].join("; "), ...openings.map((statements) => [...prefix, ...statements.map(text), "ROLLBACK"].join("; "))];
    // Each tree's opening takes a lease on the same case (checked once: the last statement answers the lease's expiry).
    for (const [k, statements] of openings.entries()) {
      const results = (await client.query([...prefix, ...statements.map(text), "ROLLBACK"].join("; "))) as unknown as pg.QueryResult[];
      const take = results[prefix.length + statements.length - 1]!.rows[0] as { expiresAt?: unknown } | undefined;
      if (!take?.expiresAt) throw new Error(`${TREES[k]}: the opening took no lease`);
      say(`${TREES[k]}: ${statements.length} statements`);
    }
    const totals = trips.map(() => 0);
    const blocks: number[][] = trips.map(() => []);
    const blockNs = trips.map(() => 0);
    for (let rep = 0; rep < REPS + 20; rep++) {
      for (let j = 0; j < trips.length; j++) {
        const k = (j + rep) % trips.length; // rotating order
        const before = onCpuNs(pid);
        await client.query(trips[k]!);
        const ns = onCpuNs(pid) - before;
        if (rep >= 20) {
          totals[k]! += ns;
          blockNs[k]! += ns;
        }
      }
      if (rep >= 20 && (rep - 19) % BLOCK === 0) {
        for (let k = 0; k < trips.length; k++) {
          blocks[k]!.push(blockNs[k]! / BLOCK / 1000);
          blockNs[k] = 0;
        }
      }
    }
    const opening = (k: number) => (totals[k]! - totals[0]!) / REPS / 1000;
    console.log(`\nlease opening after a submission, ${DONE * 100}% of ${ITEMS} items done, ${USERS - 1} others holding a lease; ${REPS} reps (load ${os.loadavg()[0]!.toFixed(1)})\n`);
    console.log("| tree | statements | backend CPU µs per opening (mean) | Δ to the first: median of blocks, mean, blocks lower |");
    console.log("|---|---|---|---|");
    for (let t = 0; t < TREES.length; t++) {
      const k = t + 1;
      const diffs = blocks[k]!.map((v, b) => v - blocks[1]![b]!);
      const delta = t === 0 ? "–" : `${median(diffs).toFixed(1)}, ${(diffs.reduce((a, b) => a + b, 0) / diffs.length).toFixed(1)}, ${diffs.filter((d) => d < 0).length}/${diffs.length}`;
      console.log(`| ${TREES[t]} | ${openings[t]!.length} | ${opening(k).toFixed(1)} | ${delta} |`);
    }
    console.log(`| (the prefix trip: BEGIN, two UPDATEs, SAVEPOINT, ROLLBACK) | | ${(totals[0]! / REPS / 1000).toFixed(1)} | |`);
  } finally {
    await client.end().catch(() => undefined);
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
