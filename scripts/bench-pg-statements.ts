/**
 * npx tsx scripts/bench-pg-statements.ts [--items 6000] [--users 50] [--done 0.3,0.9] [--reps 300] [--autovacuum] [--explain]
 *
 * The PostgreSQL backend's CPU per statement of `annotations.submit` with `advanceInProject` (submit and take the next),
 * issue 16. A benchmark, not a test. One embedded PostgreSQL; a project with `--users` clinicians, a round of `--items`
 * items; the clinicians submit and take the next through the real service (round robin) until the fraction of the
 * round given by each `--done` stage is DONE, so the tables carry the history a round leaves behind (autovacuum off on
 * the queue's tables unless `--autovacuum`: a bench round is shorter than autovacuum's minute). Then every clinician
 * but the first holds a lease and has a live session, and the first's call is measured statement by statement:
 *  - its statements exactly as the service builds them (annotations-repo.ts submitLockStatements and submissionInTrip,
 *    queue-service.ts leaseAfterSubmit), on one connection, as "BEGIN; s1; …; sk; ROLLBACK" for every k (interleaved,
 *    `--reps` times; rolled back, so every rep sees the same data): the backend's on-CPU time (/proc/<pid>/schedstat,
 *    ns, executor start and end included — pg_stat_statements' times leave them out) of prefix k minus prefix k − 1;
 *  - each statement's plan (EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE): plan nodes, relations, indexes, text length, and
 *    its shared buffers hit when run after the statements before it (EXPLAIN (ANALYZE, BUFFERS)).
 * Prints one table per stage (with `--explain`, each statement's EXPLAIN (ANALYZE, BUFFERS) on stderr).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { submissionInTrip, submitLockStatements } from "../server/db/annotations-repo";
import { createDb } from "../server/db/client";
import { insertFixtureCases, insertFixtureProject, insertFixtureUsers, listFixtureCases, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { sqlLiteral, type TripStatement } from "../server/db/sql";
import { prepareDatabase } from "../server/platform/database";
import { submitAnnotation } from "../server/services/annotation-service";
import { createServiceContext } from "../server/services/context";
import { leaseAfterSubmit, leaseNext } from "../server/services/queue-service";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { ZProjectSettings } from "../contracts/project-config";

const { values: args } = parseArgs({
  options: { items: { type: "string", default: "6000" }, users: { type: "string", default: "50" }, done: { type: "string", default: "0.3,0.9" }, reps: { type: "string", default: "300" }, autovacuum: { type: "boolean", default: false }, explain: { type: "boolean", default: false } },
});
const ITEMS = Number(args.items);
const USERS = Number(args.users);
const STAGES = args.done.split(",").map(Number);
const REPS = Number(args.reps);
const DATABASE = "rads_pg_statements";
const say = (line: string) => process.stderr.write(`[pg-statements] ${line}\n`);

function text(s: TripStatement): string {
  if (typeof s === "string") return s;
  return `EXECUTE ${s.statement.sqlName}(${s.values.map(sqlLiteral).join(", ")})`;
}

/** Plan nodes, relations and indexes of an EXPLAIN (FORMAT JSON) plan. */
function planShape(plan: unknown): { nodes: number; relations: Set<string>; indexes: Set<string> } {
  const out = { nodes: 0, relations: new Set<string>(), indexes: new Set<string>() };
  const walk = (node: Record<string, unknown>) => {
    out.nodes++;
    if (typeof node["Relation Name"] === "string") out.relations.add(node["Relation Name"]);
    if (typeof node["Index Name"] === "string") out.indexes.add(node["Index Name"]);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(plan as Record<string, unknown>);
  return out;
}

function onCpuNs(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
}

async function main() {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-pg-statements-"));
  fs.chmodSync(temp, 0o755);
  const database = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: 56500 + (process.pid % 400), database: DATABASE });
  // What the service's environment check asks for (the regions' blob store is never used: no images).
  Object.assign(process.env, { DATABASE_URL: database.url, NEXTAUTH_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"), NEXTAUTH_URL: "http://127.0.0.1:1", STORAGE_DIR: path.join(temp, "storage") });
  const db = createDb(database.url);
  const client = new pg.Client({ connectionString: database.url });
  try {
    say(`seeding ${USERS} clinicians, ${ITEMS} items…`);
    await insertFixtureUsers(db, Array.from({ length: USERS }, (_, n) => ({ email: `u${n}@pg-statements.local`, name: `u${n}`, role: "CLINICIAN" as const, passwordHash: null })));
    const users = (await listUsersByEmailSuffix(db, "@pg-statements.local")).sort((a, b) => Number(a.email.slice(1).split("@")[0]) - Number(b.email.slice(1).split("@")[0]));
    const settings = ZProjectSettings.parse({ annotationsPerCase: 1, leaseMinutes: 30 });
    const project = await insertFixtureProject(db, {
      name: "PG statements",
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
    if (!args.autovacuum) for (const table of ["QueueItem", "QueueLease", "Annotation", "AuditEvent", "AnnotationDraft"]) await client.query(`ALTER TABLE "${table}" SET (autovacuum_enabled = false)`);
    // Live sessions for every clinician (the away-lease release keeps their leases).
    await client.query(
      `INSERT INTO "AuthSession" (id, "userId", "lastSeenAt", "expiresAt") SELECT 'bench-' || u.id, u.id, now() at time zone 'utc', (now() at time zone 'utc') + interval '1 day' FROM unnest($1::text[]) AS u(id)`,
      [users.map((u) => u.id)],
    );
    await client.query("ANALYZE");
    const actorOf = (u: (typeof users)[number]) => ({ id: u.id, role: "CLINICIAN" as const, name: u.email, email: u.email, mustChangePassword: false });
    const content = { labels: ["normal"], spans: [], uncertain: false, comment: "" };
    const next = new Map<string, string | null>();
    for (const u of users) next.set(u.id, (await leaseNext(createServiceContext(db, actorOf(u)), { projectId: project.id }))?.caseId ?? null);
    let done = 0;
    for (const stage of STAGES) {
      const target = Math.floor(stage * ITEMS);
      say(`submitting until ${target} of ${ITEMS} items are done…`);
      for (let i = 0; done < target; i++) {
        const u = users[1 + (i % (USERS - 1))]!; // the first clinician is the one measured
        const caseId = next.get(u.id);
        if (!caseId) throw new Error("the queue ran out");
        const r = await submitAnnotation(createServiceContext(db, actorOf(u)), { caseId, expectedVersion: 0, content, timeSpentMs: 1, advanceInProject: project.id });
        next.set(u.id, r.next?.caseId ?? null);
        done++;
      }
      await client.query(`UPDATE "AuthSession" SET "lastSeenAt" = now() at time zone 'utc'`);
      const me = users[0]!;
      const ctx = createServiceContext(db, actorOf(me));
      const caseId = next.get(me.id)!;
      const item = (await client.query<{ id: string }>(`SELECT i.id FROM "QueueItem" i WHERE i."caseId" = $1`, [caseId])).rows[0]!;
      const now = new Date();
      const lease = leaseAfterSubmit(ctx, { project: { id: project.id }, config: { settings } })!;
      const head = submissionInTrip({
        caseId, projectId: project.id, authorId: me.id, scopeAuthorId: null, queueItemId: item.id, expectedVersion: 0, now, labels: ["normal"], spans: [], regions: [],
        uncertain: false, comment: "", timeSpentMs: 1, annotationsPerCase: 1, actor: { actorId: me.id, actorRole: "CLINICIAN" },
      });
      const leaseStatements = lease.statements(now);
      const leaseNames = leaseStatements.length === 3 ? ["lease: round + lock + release", "lease: serve + candidate", "lease: take"] : leaseStatements.map((_, i) => `lease: statement ${i + 1}`);
      const names = ["case read + item lock", "who may annotate (access)", "submission", "SAVEPOINT", ...leaseNames];
      // As the service sends it for content without spans or regions: the case's narrative and images not read.
      const statements: TripStatement[] = [...submitLockStatements(caseId, me.id, { narrative: false, images: false }), ...head.statements, "SAVEPOINT rads_tail", ...leaseStatements];
      for (const s of statements) if (typeof s !== "string") await client.query(`PREPARE ${s.statement.sqlName} AS ${s.statement.text}`).catch(() => undefined);
      const texts = statements.map(text);
      const prefixNs = new Array<number>(texts.length + 1).fill(0);
      for (let rep = 0; rep < REPS + 20; rep++) {
        for (let k = 0; k <= texts.length; k++) {
          const trip = ["BEGIN", ...texts.slice(0, k), "ROLLBACK"].join("; ");
          const before = onCpuNs(pid);
          await client.query(trip);
          if (rep >= 20) prefixNs[k]! += onCpuNs(pid) - before; // 20 warm-up reps (plan caches)
        }
      }
      console.log(`\n### ${done} of ${ITEMS} items done, ${USERS - 1} others holding a lease; ${REPS} reps (load ${os.loadavg()[0]!.toFixed(1)})\n`);
      console.log("| statement | backend CPU µs | plan nodes | relations | indexes | text chars | shared hit |");
      console.log("|---|---|---|---|---|---|---|");
      let total = 0;
      for (let k = 0; k < texts.length; k++) {
        const us = (prefixNs[k + 1]! - prefixNs[k]!) / REPS / 1000;
        total += us;
        const s = statements[k]!;
        let shape = "– | – | – | – | –";
        if (typeof s !== "string") {
          const [plan] = (await client.query<{ "QUERY PLAN": { Plan: unknown }[] }>(`EXPLAIN (VERBOSE, FORMAT JSON) ${texts[k]}`)).rows[0]!["QUERY PLAN"];
          const p = planShape(plan!.Plan);
          const analyzed = await client.query(["BEGIN", ...texts.slice(0, k), `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${texts[k]}`, "ROLLBACK"].join("; "));
          const results = analyzed as unknown as pg.QueryResult[];
          const explained = results[k + 1]!.rows[0]!["QUERY PLAN"] as { Plan: Record<string, unknown> }[];
          if (args.explain) {
            const plain = (await client.query(["BEGIN", ...texts.slice(0, k), `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${texts[k]}`, "ROLLBACK"].join("; "))) as unknown as pg.QueryResult[];
            say(`${names[k]}:\n${plain[k + 1]!.rows.map((r) => r["QUERY PLAN"]).join("\n")}`);
          }
          shape = `${p.nodes} | ${p.relations.size} | ${p.indexes.size} | ${s.statement.text.length} | ${String(explained[0]!.Plan["Shared Hit Blocks"])}`;
        }
        console.log(`| ${names[k]} | ${us.toFixed(1)} | ${shape} |`);
      }
      const base = prefixNs[0]! / REPS / 1000;
      console.log(`| (BEGIN; ROLLBACK trip) | ${base.toFixed(1)} | | | | | |`);
      console.log(`| **all statements** | **${total.toFixed(1)}** | | | | | |`);
    }
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
