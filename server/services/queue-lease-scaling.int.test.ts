/**
 * The lease's statements cost the same whatever the number of clinicians at work (issue 16): the best-ranked items
 * of a round are the ones other clinicians hold leases on, and the opening statements of queue.next
 * (queue-repo.ts leaseOpeningStatements) once visited every one of them — the candidate probed each leased item's
 * leases, the away-holder release probed two sessions and an item per open lease. Measured here as counts, never
 * times: the statements are prepared and run as queue.next runs them (past PostgreSQL's 5 custom plans), and their
 * EXPLAIN (ANALYZE) plans say how often each per-item / per-lease probe ran, with 4 and with 40 others holding
 * leases. With them, what the shortcut must not change: slots (annotationsPerCase = 2) counted from completed,
 * open and expired leases as before, an away holder's lease released and audited among 40 live ones, a lease
 * the release takes from the caller themself not resumed, and the release (in the statement that takes the
 * (round, user) advisory lock) locking no lease before it holds that lock.
 * Runs in a database of its own (created here, migrated as every database is): other test files' open leases and
 * signed-out holders would be counted with ours. Dropped at the end.
 */
import crypto from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db/client";
import { activeServeText } from "../db/gold-repo";
import { migrateDatabase } from "../db/migrate";
import { leaseOpeningStatements } from "../db/queue-repo";
import { sqlLiteral, type Execution } from "../db/sql";
import { insertUser } from "../db/users-repo";
import { TEST_LABEL_SCHEMA } from "../testing/project-fixtures";
import { endSession, startSession } from "./auth-service";
import { createServiceContext, type Actor } from "./context";
import { leaseNext } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";
import { asDatabaseAdmin } from "../testing/database-admin";

const dbName = `queue_lease_scaling_${process.pid}`;
let db: Db;
let client: pg.Client;

/** Creating databases needs the superuser (server/testing/database-admin.ts). */
const admin = asDatabaseAdmin;

beforeAll(async () => {
  const role = new URL(process.env.DATABASE_URL!).username;
  await admin((c) => c.query(`CREATE DATABASE "${dbName}" OWNER "${role}"`));
  const target = new URL(process.env.DATABASE_URL!);
  target.pathname = `/${dbName}`;
  await migrateDatabase(target.toString());
  client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  db = createDb(target.toString());
});
afterAll(async () => {
  await client?.end();
  await db?.$disconnect();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
});

const ctxOf = (actor: Actor) => createServiceContext(db, actor);

async function clinicians(n: number): Promise<Actor[]> {
  const users = [];
  for (let i = 0; i < n; i++) {
    const u = await insertUser(db, { email: `c-${crypto.randomBytes(5).toString("hex")}@scaling.test`, name: `Clinician ${i}`, role: "CLINICIAN", passwordHash: null });
    users.push({ id: u.id, role: u.role, name: u.name, email: u.email });
  }
  return users;
}

/** A project of `cases` cases with the clinicians as members and one round of them all, ranked in case order. */
async function projectWithRound(members: Actor[], cases: number, annotationsPerCase: number) {
  const project = await db.project.create({
    data: {
      name: `Scaling ${crypto.randomBytes(5).toString("hex")}`,
      labelSchema: TEST_LABEL_SCHEMA,
      minorityClasses: ["suspicious"],
      selectionParams: { strategy: "rads", budget: 5 },
      encoderConfig: { kind: "builtin", dim: 64 },
      settings: { annotationsPerCase, leaseMinutes: 30 },
      members: { create: members.map((m) => ({ userId: m.id })) },
    },
    select: { id: true },
  });
  await db.case.createMany({ data: Array.from({ length: cases }, (_, i) => ({ projectId: project.id, externalId: `case-${String(i).padStart(4, "0")}`, narrative: `Report ${i}.` })) });
  const caseIds = (await db.case.findMany({ where: { projectId: project.id }, orderBy: { externalId: "asc" }, select: { id: true } })).map((c) => c.id);
  await writeSelectionRound(db, { projectId: project.id, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
  return { projectId: project.id, caseIds };
}

/** A round of `holders` + 20 items; `holders` clinicians with a live session each lease one (the best-ranked ones), the caller holds none. */
async function roundWithHolders(holders: number, slots = 1) {
  const users = await clinicians(holders + 1);
  const { projectId, caseIds } = await projectWithRound(users, holders + 20, slots);
  const sessions = await Promise.all(users.map((u) => startSession(db, u.id)));
  const caller = users.pop()!;
  const leases = [];
  for (const holder of users) leases.push((await leaseNext(ctxOf(holder), { projectId }))!);
  return { projectId, caseIds, holders: users, sessions, caller, leases };
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode, into: PlanNode[] = []): PlanNode[] {
  into.push(node);
  for (const child of node.Plans ?? []) nodes(child, into);
  return into;
}

/** How often the plan's scans matching `which` ran, summed over their nodes (a never-executed node ran 0 times). */
const loopsOf = (plan: PlanNode, which: (n: PlanNode) => boolean) => nodes(plan).filter(which).reduce((sum, n) => sum + (n["Actual Loops"] ?? 0), 0);

/**
 * The caller's opening statements at `now`, PREPAREd and EXECUTEd as queue.next sends them, 6 times (rolled back) so
 * that PostgreSQL settles on its cached plan; then once more under EXPLAIN (ANALYZE): the release's plan (with the
 * round and the lock), the candidate's (the locked subtree of the serve-or-candidate statement), and whether the
 * release ran on its generic plan (not re-planned per call).
 */
async function openingPlans(q: { projectId: string; caller: Actor; slots: number }) {
  const now = new Date();
  const trip = leaseOpeningStatements(
    { projectId: q.projectId, userId: q.caller.id, now, idleSince: new Date(now.getTime() - 30 * 60_000), leaseMinutes: 30, expiresAt: new Date(now.getTime() + 30 * 60_000), slots: q.slots, actor: { actorId: q.caller.id, actorRole: "CLINICIAN" }, takeRegular: true, withCounts: false },
    activeServeText,
  ) as Execution[];
  const [release, candidate] = trip;
  const names = ["release", "candidate"];
  await client.query("DEALLOCATE ALL");
  for (const [i, s] of [release, candidate].entries()) await client.query(`PREPARE scaling_${names[i]} AS ${s!.statement.text}`);
  const run = (name: string, s: Execution) => `EXECUTE scaling_${name}(${s.values.map(sqlLiteral).join(", ")})`;
  const explain = async (name: string, s: Execution) => {
    const { rows } = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${run(name, s)}`);
    return rows[0]!["QUERY PLAN"][0]!.Plan;
  };
  await client.query("BEGIN");
  try {
    for (let i = 0; i < 6; i++) {
      await client.query("SAVEPOINT warm");
      for (const [k, s] of [release, candidate].entries()) await client.query(run(names[k]!, s!));
      await client.query("ROLLBACK TO SAVEPOINT warm");
    }
    const releasePlan = await explain("release", release!);
    const servePlan = await explain("candidate", candidate!);
    const candidatePlan = nodes(servePlan).find((n) => n["Node Type"] === "LockRows");
    if (!candidatePlan) throw new Error("no locked candidate in the serve-or-candidate statement's plan");
    const { rows } = await client.query<{ generic: string }>(`SELECT generic_plans::text AS generic FROM pg_prepared_statements WHERE name = 'scaling_release'`);
    return { releasePlan, candidatePlan, releaseGenericPlans: Number(rows[0]!.generic) };
  } finally {
    await client.query("ROLLBACK");
    await client.query("DEALLOCATE ALL");
  }
}

/** The candidate's probes per item reached: the item's leases (the count and the caller's completed lease, one probe) and the caller's annotation. */
const perItemProbes = (plan: PlanNode) => loopsOf(plan, (n) => (n["Relation Name"] === "QueueLease" && n["Index Name"] !== "QueueLease_open_expiresAt_idx") || n["Relation Name"] === "Annotation");
/** The release's probes per open lease: the holder's sessions and the lease's item. */
const perLeaseProbes = (plan: PlanNode) => loopsOf(plan, (n) => (n["Relation Name"] === "AuthSession" && n["Node Type"] !== "Seq Scan" && n["Index Name"] !== "AuthSession_expiresAt_idx") || n["Relation Name"] === "QueueItem");

describe("the lease's statements with the clinicians at work", () => {
  it("probe the free item and no open lease, whether 4 or 40 others hold leases on the best-ranked items", async () => {
    const few = await roundWithHolders(4);
    const many = await roundWithHolders(40);
    const a = await openingPlans({ projectId: few.projectId, caller: few.caller, slots: 1 });
    const b = await openingPlans({ projectId: many.projectId, caller: many.caller, slots: 1 });
    // One item reached (the first free one), two probes on it: its leases (the others' live ones counted and the caller's
    // completed one, in one probe) and the caller's annotation.
    expect(perItemProbes(a.candidatePlan)).toBe(2);
    expect(perItemProbes(b.candidatePlan)).toBe(2);
    // Nobody is away: no session or item is probed for any of the open leases.
    expect(perLeaseProbes(a.releasePlan)).toBe(0);
    expect(perLeaseProbes(b.releasePlan)).toBe(0);
    // The release keeps its generic plan instead of being planned anew on every call.
    expect(b.releaseGenericPlans).toBeGreaterThan(0);
    // And the caller is given the first item nobody holds.
    const lease = await leaseNext(ctxOf(many.caller), { projectId: many.projectId });
    expect(lease?.rank).toBe(41);
    // Now the caller holds a lease: the opening resumes it and never runs the candidate (nothing locked, no probe).
    const resumed = await openingPlans({ projectId: many.projectId, caller: many.caller, slots: 1 });
    expect(loopsOf(resumed.candidatePlan, (n) => n["Relation Name"] === "QueueItem")).toBe(0);
    expect(perItemProbes(resumed.candidatePlan)).toBe(0);
  });

  it("still releases the lease of an away holder among 40 live ones, audited, and gives its case to the caller", async () => {
    const { projectId, holders, sessions, caller, leases } = await roundWithHolders(40);
    await endSession(db, sessions[6]!); // the 7th holder signs out
    const lease = await leaseNext(ctxOf(caller), { projectId });
    expect(lease?.rank).toBe(7);
    const released = await db.auditEvent.findMany({ where: { projectId, action: "queue.lease-released" }, select: { targetId: true, details: true } });
    expect(released).toEqual([{ targetId: leases[6]!.queueItemId, details: expect.objectContaining({ holderId: holders[6]!.id }) }]);
    const open = await db.queueLease.count({ where: { queueItem: { roundId: (await db.queueItem.findUniqueOrThrow({ where: { id: leases[0]!.queueItemId } })).roundId }, completedAt: null, expiresAt: { gt: new Date() } } });
    expect(open).toBe(40); // 39 live holders and the caller
  });

  it("takes the (round, user) lock before it locks any lease to release: a call waiting on it holds no away holder's lease", async () => {
    const { projectId, sessions, caller, leases } = await roundWithHolders(4);
    await endSession(db, sessions[1]!); // the 2nd holder signs out: their lease is the one to release
    const roundId = (await db.queueItem.findUniqueOrThrow({ where: { id: leases[1]!.queueItemId } })).roundId;
    const target = new URL(process.env.DATABASE_URL!);
    target.pathname = `/${dbName}`;
    const other = new pg.Client({ connectionString: target.toString() });
    await other.connect();
    try {
      // Another call of the caller in this round holds the lock (as a second tab would).
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(727004, hashtext($1 || ':' || $2))", [roundId, caller.id]);
      const pending = leaseNext(ctxOf(caller), { projectId });
      for (let i = 0; i < 200; i++) {
        const { rows } = await other.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'`);
        if (rows[0].n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const { rows: waiting } = await other.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'`);
      expect(waiting[0].n).toBe(1);
      // While it waits, the away holder's lease is not locked: another transaction locks it without waiting.
      await other.query("BEGIN");
      const { rows: locked } = await other.query(`SELECT id FROM "QueueLease" WHERE id = (SELECT id FROM "QueueLease" WHERE "queueItemId" = $1) FOR UPDATE NOWAIT`, [leases[1]!.queueItemId]);
      expect(locked).toHaveLength(1);
      await other.query("ROLLBACK");
      await client.query("ROLLBACK");
      // Once the lock is free, the call goes on: the away lease is released and its case given to the caller.
      expect((await pending)?.rank).toBe(2);
    } finally {
      await client.query("ROLLBACK").catch(() => undefined);
      await other.end();
    }
  });

  it("does not resume a lease of the caller that the opening releases (the caller idle past the lease time)", async () => {
    const [caller] = await clinicians(1);
    const { projectId } = await projectWithRound([caller!], 3, 1);
    const sid = await startSession(db, caller!.id);
    const first = (await leaseNext(ctxOf(caller!), { projectId }))!;
    // Their session was last seen 40 minutes ago (lease time 30): by the release's rule they are away.
    await db.authSession.update({ where: { id: sid }, data: { lastSeenAt: new Date(Date.now() - 40 * 60_000) } });
    const again = (await leaseNext(ctxOf(caller!), { projectId }))!;
    expect(again).toMatchObject({ queueItemId: first.queueItemId, resumed: false });
    const released = await db.auditEvent.findMany({ where: { projectId, action: "queue.lease-released" }, select: { targetId: true, details: true } });
    expect(released).toEqual([{ targetId: first.queueItemId, details: expect.objectContaining({ holderId: caller!.id }) }]);
  });

  it("counts slots (annotationsPerCase = 2) from open, completed and expired leases as before", async () => {
    const users = await clinicians(5);
    const [a, b, c, d, caller] = users as [Actor, Actor, Actor, Actor, Actor];
    const { projectId, caseIds } = await projectWithRound(users, 4, 2);
    const items = await db.queueItem.findMany({ where: { caseId: { in: caseIds } }, orderBy: { rank: "asc" }, select: { id: true } });
    const now = Date.now();
    const lease = (item: number, user: Actor, expiresIn: number, completed = false) => ({ queueItemId: items[item]!.id, userId: user.id, leasedAt: new Date(now - 60_000), expiresAt: new Date(now + expiresIn), completedAt: completed ? new Date(now - 30_000) : null });
    await db.queueLease.createMany({
      data: [
        lease(0, a, 20 * 60_000), // rank 1: two open leases of others: full
        lease(0, b, 20 * 60_000),
        lease(1, c, 20 * 60_000), // rank 2: one open and one completed lease of others: full
        lease(1, d, -60_000, true),
        lease(2, a, 20 * 60_000), // rank 3: one open lease and one expired: a slot is free
        lease(2, b, -60_000),
      ],
    });
    expect((await leaseNext(ctxOf(caller), { projectId }))?.rank).toBe(3);
    // With b's lease of rank 1 expired, rank 1 has a free slot again: the next clinician is given it.
    await db.queueLease.updateMany({ where: { queueItemId: items[0]!.id, userId: b.id }, data: { expiresAt: new Date(now - 1000) } });
    expect((await leaseNext(ctxOf(d), { projectId }))?.rank).toBe(1);
  });
});
