/**
 * The clinician hot path's statements read what the call asks for, not the installation's history (issue 16,
 * migration 0017_hot_path_indexes), in a database holding a year-like history: 60 finished rounds and a long
 * current one (81,000 queue items), 116,860 leases (3,000 of them open and long expired), 115,000 annotations.
 *  1. The GENERIC plan (what a statement kept prepared per connection, server/db/sql.ts `prepared`, runs once its
 *     plan is cached) of every statement of queue.next, annotations.submit, the case read, the session check and
 *     the front door reads no growing table in full (no Seq Scan on "QueueLease", "Annotation", "QueueItem",
 *     "GoldServing", "Case"). The statements are the repos' own texts, taken from their exported functions (a
 *     stand-in `Sql` records what they would send; the pool's statements through statement-observer.ts).
 *  2. The lease's away-holder release, prepared and run as queue.next runs it (plan_cache_mode auto, past the
 *     5 custom plans), finds the round's open leases through the open-leases index ("QueueLease_open_expiresAt_idx",
 *     completedAt IS NULL), not by probing every item of the round.
 * Runs in a database of its own (created here, migrated by migrate.ts like every database), so the history it
 * writes does not change other test files' plans; dropped at the end.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCaseForMember, latestSubmittedIn, submitLockStatements, writeSubmission } from "./annotations-repo";
import { findAuthSessionWithUser } from "./auth-repo";
import { createDb, type Db } from "./client";
import { activeServeText, insertGoldServing, pickGoldCase } from "./gold-repo";
import { migrateDatabase } from "./migrate";
import { findProjectMembership } from "./projects-repo";
import { finishExhaustedItems, findItemInLatestRound, leaseOpeningStatements, selectLeaseCandidates, takeLease } from "./queue-repo";
import { sqlLiteral, type Sql, type TripStatement } from "./sql";
import { observeStatements } from "./statement-observer";
import { asDatabaseAdmin } from "../testing/database-admin";

/** Tables that grow with the installation's life (every round, lease, answer, gold serving, import); "AuthSession" is pruned (auth-repo.ts). */
const GROWING = ["QueueLease", "Annotation", "QueueItem", "GoldServing", "Case"];

const dbName = `hot_path_indexes_${process.pid}`;
let url: string;
let db: Db;
let client: pg.Client;

/** Creating databases needs the superuser (server/testing/database-admin.ts). */
const admin = asDatabaseAdmin;

/**
 * The history: 60 finished rounds of 1,000 items over 3,000 cases (700 answered by 2 of 30 other clinicians, 300
 * left PENDING when the next round came; every 20th item an open lease that expired long ago), every case annotated
 * by each of the 30, the caller's own older annotations; the current round (61) of 20,000 items, 15,000 answered
 * twice, with 60 live leases of others (40 completed); a live session per clinician; 100 gold cases served in the
 * old rounds. Ids are short text (Prisma's cuids are text too).
 */
const HISTORY = `
  INSERT INTO "User" (id, email, name, role, "updatedAt")
    SELECT 'u' || n, 'u' || n || '@hot.test', 'User ' || n, 'CLINICIAN', now() FROM generate_series(0, 30) n;
  INSERT INTO "Project" (id, name, "labelSchema", "minorityClasses", "selectionParams", "encoderConfig", settings, "updatedAt")
    VALUES ('p', 'History', '{"labels":[{"key":"a","name":"A","shortcut":"1"}],"multiLabel":false}', '{a}', '{"strategy":"rads","budget":5}',
            '{"kind":"builtin","dim":64}', '{"annotationsPerCase":2,"leaseMinutes":30}', now());
  INSERT INTO "ProjectMember" ("projectId", "userId", role) SELECT 'p', 'u' || n, 'CLINICIAN' FROM generate_series(0, 30) n;
  INSERT INTO "Case" (id, "projectId", "externalId", narrative) SELECT 'c' || n, 'p', 'case-' || n, 'Report ' || n FROM generate_series(0, 2999) n;
  INSERT INTO "SelectionRound" (id, "projectId", number, strategy, "createdAt")
    SELECT 'r' || n, 'p', n, 'rads', now() - interval '1 day' * (400 - n * 6) FROM generate_series(1, 60) n;
  INSERT INTO "QueueItem" (id, "roundId", "caseId", rank, status)
    SELECT 'i' || r || '-' || k, 'r' || r, 'c' || ((r * 1000 + k) % 3000), k + 1, CASE WHEN k < 700 THEN 'DONE' ELSE 'PENDING' END::"QueueItemStatus"
    FROM generate_series(1, 60) r, generate_series(0, 999) k;
  INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
    SELECT 'l' || r || '-' || k || '-' || h, 'i' || r || '-' || k, 'u' || (1 + (r + k + h * 7) % 30),
      now() - interval '1 day' * (400 - r * 6), now() - interval '1 day' * (400 - r * 6), now() - interval '1 day' * (400 - r * 6)
    FROM generate_series(1, 60) r, generate_series(0, 699) k, generate_series(0, 1) h;
  INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
    SELECT 'x' || r || '-' || k, 'i' || r || '-' || k, 'u' || (1 + (r + k + 20) % 30), now() - interval '1 day' * (400 - r * 6), now() - interval '1 day' * (400 - r * 6), NULL
    FROM generate_series(1, 60) r, generate_series(0, 999, 20) k;
  INSERT INTO "Annotation" (id, "caseId", "authorId", version, labels, "createdAt")
    SELECT 'a' || c || '-' || u, 'c' || c, 'u' || u, 1, '{a}', now() - interval '1 day' * (400 - (c % 60) * 6)
    FROM generate_series(0, 2999) c, generate_series(1, 30) u;
  INSERT INTO "Annotation" (id, "caseId", "authorId", version, labels, "createdAt")
    SELECT 'm' || c, 'c' || c, 'u0', 1, '{a}', now() - interval '30 days' FROM generate_series(0, 2999, 3) c;
  INSERT INTO "SelectionRound" (id, "projectId", number, strategy, "createdAt") VALUES ('now', 'p', 61, 'rads', now() - interval '1 hour');
  INSERT INTO "Case" (id, "projectId", "externalId", narrative) SELECT 'd' || n, 'p', 'big-' || n, 'Report ' || n FROM generate_series(0, 19999) n;
  INSERT INTO "QueueItem" (id, "roundId", "caseId", rank, status)
    SELECT 'n' || k, 'now', CASE WHEN k < 3000 THEN 'c' || k ELSE 'd' || k END, k + 1, CASE WHEN k < 15000 THEN 'DONE' ELSE 'PENDING' END::"QueueItemStatus" FROM generate_series(0, 19999) k;
  INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
    SELECT 'q' || k || '-' || h, 'n' || k, 'u' || (1 + (k + h * 7) % 30), now(), now(), now() FROM generate_series(100, 14999) k, generate_series(0, 1) h;
  INSERT INTO "Annotation" (id, "caseId", "authorId", version, labels, "createdAt")
    SELECT 'b' || k || '-' || h, 'd' || k, 'u' || (1 + (k + h * 7) % 30), 1, '{a}', now() FROM generate_series(3000, 14999) k, generate_series(0, 1) h;
  INSERT INTO "QueueLease" (id, "queueItemId", "userId", "leasedAt", "expiresAt", "completedAt")
    SELECT 'o' || k, 'n' || (15000 + k), 'u' || (1 + k % 30), now(), now() + interval '20 minutes', CASE WHEN k < 40 THEN now() END FROM generate_series(0, 59) k;
  INSERT INTO "AuthSession" (id, "userId", "createdAt", "lastSeenAt", "expiresAt")
    SELECT 's' || n, 'u' || (n % 31), now() - interval '1 day', now(), now() + interval '8 hours' FROM generate_series(0, 92) n;
  INSERT INTO "GoldCase" ("caseId", "projectId", labels, source) SELECT 'c' || n, 'p', '{a}', 'imported' FROM generate_series(2900, 2999) n;
  INSERT INTO "GoldServing" (id, "projectId", "caseId", "userId", "roundId", position, "servedAt", "expiresAt")
    SELECT 'g' || r || '-' || u, 'p', 'c' || (2900 + (r + u) % 100), 'u' || u, 'r' || r, 3, now() - interval '1 day' * (400 - r * 6), now() - interval '1 day' * (400 - r * 6)
    FROM generate_series(1, 60) r, generate_series(1, 30) u;
  ANALYZE;
`;

beforeAll(async () => {
  const role = new URL(process.env.DATABASE_URL!).username;
  await admin((c) => c.query(`CREATE DATABASE "${dbName}" OWNER "${role}"`));
  const target = new URL(process.env.DATABASE_URL!);
  target.pathname = `/${dbName}`;
  url = target.toString();
  await migrateDatabase(url);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(HISTORY);
  db = createDb(url);
});

afterAll(async () => {
  await client?.end();
  await db?.$disconnect();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
});

interface Statement {
  /** Where it comes from (for the failure message). */
  what: string;
  text: string;
}

/** A stand-in Sql that records the statements a repo function sends (answering each with one empty row). */
function recorder(what: string, into: Statement[]): Sql {
  return {
    query: async <T extends object>(statement: string | { text: string }, _values?: readonly unknown[]) => {
      into.push({ what, text: typeof statement === "string" ? statement : statement.text });
      return [{}] as T[];
    },
  };
}

function texts(what: string, trip: TripStatement[]): Statement[] {
  return trip.map((s, i) => ({ what: `${what}[${i}]`, text: typeof s === "string" ? s : s.statement.text }));
}

/** Every statement of the hot path, by the repos' own texts. */
async function hotPathStatements(): Promise<Statement[]> {
  const out: Statement[] = [];
  const now = new Date();
  const actor = { actorId: "u0", actorRole: "CLINICIAN" };
  for (const withCounts of [false, true]) {
    out.push(
      ...texts(`leaseOpeningStatements(withCounts: ${withCounts})`, leaseOpeningStatements(
        { projectId: "p", userId: "u0", now, idleSince: now, leaseMinutes: 30, expiresAt: now, slots: 2, actor, takeRegular: true, withCounts },
        activeServeText,
      )),
    );
  }
  const query = { roundId: "now", roundCreatedAt: now, userId: "u0", slots: 2, now, exclude: [], limit: 1 };
  for (const lock of [false, true]) await selectLeaseCandidates(recorder(`selectLeaseCandidates(lock: ${lock})`, out), query, lock);
  await takeLease(recorder("takeLease", out), { queueItemId: "n0", userId: "u0", now, expiresAt: now, slots: 2, projectId: "p", actor });
  out.push(...texts("submitLockStatements", submitLockStatements("c0", "p")));
  await writeSubmission(recorder("writeSubmission", out), {
    caseId: "c0", projectId: "p", authorId: "u0", scopeAuthorId: null, queueItemId: "n0", expectedVersion: 0, now, labels: ["a"], spans: [], regions: [],
    uncertain: false, comment: "", timeSpentMs: 1, annotationsPerCase: 2, actor,
  });
  await latestSubmittedIn(recorder("latestSubmittedIn", out), "c0", null);
  await finishExhaustedItems(recorder("finishExhaustedItems(item)", out), { projectId: "p", queueItemId: "n0" });
  await pickGoldCase(recorder("pickGoldCase", out), "p", "now", "u0", "seed");
  await insertGoldServing(recorder("insertGoldServing", out), { projectId: "p", caseId: "c2900", userId: "u0", roundId: "now", position: 0, servedAt: now, expiresAt: now });
  // The statements the repos send on the pool: seen there.
  const pooled: Statement[] = [];
  let current = "";
  observeStatements(db, (args) => {
    const first = args[0] as { text?: unknown; name?: unknown } | string;
    if (typeof first === "object" && typeof first.text === "string" && typeof first.name === "string") pooled.push({ what: current, text: first.text });
  });
  for (const [what, call] of [
    ["findAuthSessionWithUser", () => findAuthSessionWithUser(db, "s0")],
    ["findProjectMembership", () => findProjectMembership(db, "p", "u0")],
    ["findCaseForMember", () => findCaseForMember(db, "c0", "u0")],
    ["findItemInLatestRound", () => findItemInLatestRound(db, "p", "c0")],
  ] as const) {
    current = what;
    await call();
  }
  return [...out, ...pooled];
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** The indexes of `table` the plan reads (an index scan's, or a bitmap scan's under its heap scan; named "<table>_…"). */
function indexesOn(node: PlanNode, table: string, into: string[] = []): string[] {
  if (node["Index Name"]?.startsWith(`${table}_`)) into.push(node["Index Name"]);
  for (const child of node.Plans ?? []) indexesOn(child, table, into);
  return into;
}

function seqScans(node: PlanNode, into: string[] = []): string[] {
  if (node["Node Type"] === "Seq Scan" && node["Relation Name"]) into.push(node["Relation Name"]);
  for (const child of node.Plans ?? []) seqScans(child, into);
  return into;
}

/** The statement's generic plan (the one a prepared statement runs once cached: no parameter value known). */
async function genericPlan(text: string): Promise<PlanNode> {
  const { rows } = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (GENERIC_PLAN, FORMAT JSON) ${text}`);
  return rows[0]!["QUERY PLAN"][0]!.Plan;
}

describe("hot-path statements on a long history", () => {
  it("read no growing table in full in their generic plans", async () => {
    const statements = await hotPathStatements();
    expect(statements.some((s) => s.text.includes(`UPDATE "QueueLease" l SET "expiresAt"`))).toBe(true);
    expect(statements.some((s) => s.text.includes(`FROM "Annotation" fa`))).toBe(true);
    const found: string[] = [];
    for (const s of statements) {
      const plan = await genericPlan(s.text);
      const scans = seqScans(plan).filter((t) => GROWING.includes(t));
      for (const t of scans) found.push(`${s.what}: Seq Scan on "${t}"`);
    }
    expect(found).toEqual([]);
  });

  it("vacuum the queue's churning tables after 1,000 dead rows, whatever their size, with index cleanup (migration 0018)", async () => {
    const { rows } = await client.query<{ relname: string; reloptions: string[] | null }>(
      `SELECT relname, reloptions FROM pg_class WHERE relname IN ('QueueItem', 'QueueLease') AND relkind = 'r' ORDER BY relname`,
    );
    expect(rows.map((r) => r.relname)).toEqual(["QueueItem", "QueueLease"]);
    for (const row of rows) {
      expect(row.reloptions, row.relname).toEqual(
        expect.arrayContaining(["autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=1000", "autovacuum_vacuum_cost_delay=0", "vacuum_index_cleanup=on"]),
      );
    }
  });

  it("release away holders' leases through the open-leases index, as queue.next runs the statement", async () => {
    const now = new Date();
    const trip = leaseOpeningStatements(
      { projectId: "p", userId: "u0", now, idleSince: new Date(now.getTime() - 30 * 60_000), leaseMinutes: 30, expiresAt: new Date(now.getTime() + 30 * 60_000), slots: 2, actor: { actorId: "u0", actorRole: "CLINICIAN" }, takeRegular: true, withCounts: false },
      activeServeText,
    );
    const [release] = trip.map((s) => (typeof s === "string" ? null : s));
    expect(release?.statement.text).toContain(`UPDATE "QueueLease" l SET "expiresAt"`);
    await client.query(`PREPARE lease_release AS ${release!.statement.text}`);
    const args = (values: readonly unknown[]) => values.map(sqlLiteral).join(", ");
    await client.query("BEGIN");
    try {
      // PostgreSQL plans a prepared statement for its values 5 times, then decides between that and the generic plan.
      for (let i = 0; i < 6; i++) await client.query(`EXECUTE lease_release(${args(release!.values)})`);
      const { rows } = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) EXECUTE lease_release(${args(release!.values)})`);
      expect(indexesOn(rows[0]!["QUERY PLAN"][0]!.Plan, "QueueLease")).toContain("QueueLease_open_expiresAt_idx");
    } finally {
      await client.query("ROLLBACK");
    }
  });
});
