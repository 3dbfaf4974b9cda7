/**
 * The clinician hot path in raw SQL (issue 16): how many round trips to PostgreSQL the session check,
 * the front door, queue.next and annotations.submit take (counted on the pool itself), that the
 * one-statement session check still refuses every session it must, that the front door sees a removed
 * membership and a settings change at the very next call, and that the raw writes leave the same rows
 * and audit events as before (UTC times, counted on the recorder).
 *
 * The counts are of the steady state: the statements kept prepared per connection (server/db/sql.ts `prepared`)
 * cost a connection one PREPARE trip of its own the first time it needs them — counted apart here (`prepares`),
 * not as round trips of the call, and the last test checks it happens once per connection and never again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db/client";
import { observeStatements } from "../db/statement-observer";
import { updateUserAccess } from "../db/users-repo";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { submitAnnotation } from "./annotation-service";
import { resolveSession, startSession } from "./auth-service";
import { createServiceContext, type Actor } from "./context";
import { projectAccessChecked, requireProject } from "./project-access";
import { leaseNext } from "./queue-service";
import { writeSelectionRound } from "./selection-rounds";

let db: Db;
let trips = 0;
let prepares = 0;
let commits = 0;
let tailRollbacks = 0;
let statements = 0;

/**
 * Counts every statement (round trip) sent through the pool of `target`; a connection's one-time PREPARE trip apart.
 * Also the COMMITs among them (a trip whose statements include COMMIT: each is one WAL flush) and the trips that roll
 * a transaction's tail back to its savepoint (sql.ts transactionWithTail), and the statements (several in a simple-protocol
 * trip, "BEGIN; EXECUTE …; COMMIT": split where a statement keyword follows a ";" — the tests' values hold none).
 */
function countRoundTrips(target: Db): void {
  observeStatements(target, (args) => {
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: unknown } | undefined)?.text;
    if (typeof text === "string" && text.startsWith("PREPARE ")) prepares += 1;
    else {
      trips += 1;
      statements += typeof text === "string" ? text.split(/;\s*(?=BEGIN|EXECUTE|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|SELECT|WITH|INSERT|UPDATE|DELETE)/).length : 1;
    }
    if (typeof text === "string" && text.split(";").some((statement) => statement.trim().toUpperCase() === "COMMIT")) commits += 1;
    if (typeof text === "string" && text.startsWith("ROLLBACK TO SAVEPOINT")) tailRollbacks += 1;
  });
}

async function measured<T>(work: () => Promise<T>): Promise<{ result: T; trips: number; prepares: number; commits: number; tailRollbacks: number; statements: number }> {
  const before = { trips, prepares, commits, tailRollbacks, statements };
  const result = await work();
  return {
    result,
    trips: trips - before.trips,
    prepares: prepares - before.prepares,
    commits: commits - before.commits,
    tailRollbacks: tailRollbacks - before.tailRollbacks,
    statements: statements - before.statements,
  };
}

beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!);
  countRoundTrips(db);
});
afterAll(async () => {
  await db.$disconnect();
  await testDb().$disconnect();
});

async function projectWithRound(clinicians: number, cases: number, settings: Record<string, unknown> = {}) {
  const users = await Promise.all(Array.from({ length: clinicians }, () => createTestUser("CLINICIAN")));
  const { projectId, caseIds } = await createTestProject({ memberIds: users.map((u) => u.id), cases, settings });
  await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
  return { users, projectId, caseIds };
}

const IDLE = { idleMinutes: 30 };

describe("the session check is one statement", () => {
  it("resolves a live session with one round trip and carries the user's fields", async () => {
    const user = await createTestUser("CLINICIAN");
    await testDb().user.update({ where: { id: user.id }, data: { mustChangePassword: true } });
    const sid = await startSession(testDb(), user.id);
    const { result, trips: n } = await measured(() => resolveSession(db, { userId: user.id, epoch: 0, sid }, IDLE));
    expect(result).toEqual({ id: user.id, role: "CLINICIAN", name: user.name, email: user.email, sessionEpoch: 0, mustChangePassword: true });
    expect(n).toBe(1);
  });

  it("refuses a deactivated user, a bumped epoch, an idle session, a signed-out session and someone else's session", async () => {
    const user = await createTestUser("CLINICIAN");
    const other = await createTestUser("CLINICIAN");
    const sid = await startSession(testDb(), user.id);
    expect(await resolveSession(db, { userId: user.id, epoch: 0, sid }, IDLE)).not.toBeNull();
    expect(await resolveSession(db, { userId: other.id, epoch: 0, sid }, IDLE)).toBeNull();

    // Deactivated alone (epoch unchanged), then active again; then an epoch bump alone.
    await testDb().user.update({ where: { id: user.id }, data: { active: false } });
    expect(await resolveSession(db, { userId: user.id, epoch: 0, sid }, IDLE)).toBeNull();
    await testDb().user.update({ where: { id: user.id }, data: { active: true } });
    expect(await resolveSession(db, { userId: user.id, epoch: 0, sid }, IDLE)).not.toBeNull();
    await updateUserAccess(testDb(), user.id, { role: "CLINICIAN" });
    const row = await testDb().user.findUniqueOrThrow({ where: { id: user.id }, select: { sessionEpoch: true } });
    expect(row.sessionEpoch).toBe(1);
    expect(await resolveSession(db, { userId: user.id, epoch: 0, sid }, IDLE)).toBeNull();
    expect(await resolveSession(db, { userId: user.id, epoch: 1, sid }, IDLE)).not.toBeNull();

    // Idle: lastSeenAt 31 minutes ago (UTC, as Prisma writes it) → refused and revoked.
    await testDb().authSession.update({ where: { id: sid }, data: { lastSeenAt: new Date(Date.now() - 31 * 60_000) } });
    expect(await resolveSession(db, { userId: user.id, epoch: row.sessionEpoch, sid }, IDLE)).toBeNull();
    expect((await testDb().authSession.findUniqueOrThrow({ where: { id: sid } })).revokedAt).not.toBeNull();

    // Signed out (revoked) and expired sessions.
    const second = await startSession(testDb(), user.id);
    await testDb().authSession.update({ where: { id: second }, data: { revokedAt: new Date() } });
    expect(await resolveSession(db, { userId: user.id, epoch: row.sessionEpoch, sid: second }, IDLE)).toBeNull();
    const third = await startSession(testDb(), user.id);
    await testDb().authSession.update({ where: { id: third }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await resolveSession(db, { userId: user.id, epoch: row.sessionEpoch, sid: third }, IDLE)).toBeNull();
  });
});

describe("the front door is one statement and never stale", () => {
  it("finds membership and project in one round trip; a removed member is refused at the next call; a settings change is seen at once", async () => {
    const a = await createTestUser("CLINICIAN");
    const { projectId } = await createTestProject({ memberIds: [a.id], settings: { leaseMinutes: 30 } });
    const ctx = () => createServiceContext(db, a);
    const { result, trips: n } = await measured(() => requireProject(ctx(), projectId, "annotate"));
    expect(n).toBe(1);
    expect(result.config.settings.leaseMinutes).toBe(30);
    expect(result.role).toBe("CLINICIAN");

    await testDb().project.update({ where: { id: projectId }, data: { settings: { annotationsPerCase: 1, leaseMinutes: 7 } } });
    expect((await requireProject(ctx(), projectId, "annotate")).config.settings.leaseMinutes).toBe(7);

    await testDb().projectMember.delete({ where: { projectId_userId: { projectId, userId: a.id } } });
    expect(await refusal(requireProject(ctx(), projectId, "annotate"))).toMatchObject({ kind: "NOT_FOUND", message: "No such project." });
  });
});

describe("queue.next and annotations.submit in raw SQL", () => {
  it("lease in 2 round trips and submit in 2; the same rows and audit events, in UTC, counted on the recorder", async () => {
    // annotationsPerCase 2: the submission completes the lease but not the item (no retrain check is requested).
    const { users, projectId, caseIds } = await projectWithRound(2, 3, { annotationsPerCase: 2 });
    const [a] = users as [Actor];
    const leaseCtx = createServiceContext(db, a);
    const { result: lease, trips: leaseTrips } = await measured(() => leaseNext(leaseCtx, { projectId }));
    expect(lease).toMatchObject({ caseId: caseIds[0], rank: 1, resumed: false });
    // front door 1; BEGIN, the round and lock, the away release, the active serve, the locked candidate, takeLease and COMMIT 1
    expect(leaseTrips).toBe(2);
    expect(leaseCtx.audit.count).toBe(1);
    const leaseRow = await testDb().queueLease.findFirstOrThrow({ where: { userId: a.id } });
    expect(Math.abs(leaseRow.leasedAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(leaseRow.expiresAt.getTime() - leaseRow.leasedAt.getTime()).toBe(30 * 60_000);
    expect(leaseRow.id).toMatch(/^c[0-9a-z]{24}$/);
    const leaseEvent = await testDb().auditEvent.findFirstOrThrow({ where: { actorId: a.id, action: "queue.next" }, orderBy: { id: "desc" } });
    expect(leaseEvent).toMatchObject({ actorRole: "CLINICIAN", targetType: "QueueItem", targetId: leaseRow.queueItemId, projectId, details: { outcome: "leased", rank: 1 } });
    expect(Math.abs(leaseEvent.at.getTime() - Date.now())).toBeLessThan(60_000);

    await testDb().annotationDraft.create({ data: { caseId: caseIds[0]!, authorId: a.id, baseVersion: 0, content: { labels: [] } } });
    const submitCtx = createServiceContext(db, a);
    const { result: written, trips: submitTrips, statements: submitStatements } = await measured(() =>
      submitAnnotation(submitCtx, { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: true, comment: "ok" }, timeSpentMs: 1234 }),
    );
    // BEGIN + the case with membership and project, locked, then its item locked (one statement) + who may annotate it,
    // read under those locks (one statement) 1; the submission's statement + COMMIT 1
    expect(submitTrips).toBe(2);
    expect(submitStatements).toBe(5); // was 4: the access statement rides in BEGIN's trip (no round trip more)
    expect(written).toMatchObject({ version: 1, caseVersion: 1, next: null });
    expect(submitCtx.audit.count).toBe(1);
    const annotation = await testDb().annotation.findUniqueOrThrow({ where: { id: written.annotationId } });
    expect(annotation).toMatchObject({ caseId: caseIds[0], authorId: a.id, version: 1, kind: "SUBMITTED", labels: ["normal"], spans: [], regions: [], uncertain: true, comment: "ok", skipReason: null, timeSpentMs: 1234 });
    expect(Math.abs(annotation.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await testDb().annotationDraft.count({ where: { caseId: caseIds[0], authorId: a.id } })).toBe(0);
    expect((await testDb().queueLease.findUniqueOrThrow({ where: { id: leaseRow.id } })).completedAt).not.toBeNull();
    expect((await testDb().queueItem.findUniqueOrThrow({ where: { id: leaseRow.queueItemId } })).status).toBe("PENDING"); // 1 of 2
    const submitEvent = await testDb().auditEvent.findFirstOrThrow({ where: { actorId: a.id, action: "annotation.submit" }, orderBy: { id: "desc" } });
    expect(submitEvent).toMatchObject({ actorRole: "CLINICIAN", targetType: "Case", targetId: caseIds[0], projectId, details: { version: 1, caseVersion: 1, annotationId: written.annotationId } });
  });

  it("a conflicting submission writes nothing — its draft stays — and answers with both versions; a case done by another is refused", async () => {
    const { users, projectId, caseIds } = await projectWithRound(2, 1);
    const [a, b] = users as [Actor, Actor];
    await leaseNext(createServiceContext(db, a), { projectId });
    await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 5 });
    await testDb().annotationDraft.create({ data: { caseId: caseIds[0]!, authorId: b.id, baseVersion: 0, content: { labels: ["normal"] } } });
    const events = await testDb().auditEvent.count({ where: { actorId: b.id } });
    const refused = await submitAnnotation(createServiceContext(db, b), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 5 }).catch((e: unknown) => e);
    // b never held the case and its one slot is a's (the item is DONE): refused before the version is even compared.
    expect(refused).toMatchObject({ kind: "BAD_INPUT", message: "This case is not in your queue." });
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0], authorId: b.id } })).toBe(0);
    expect(await testDb().annotationDraft.count({ where: { caseId: caseIds[0], authorId: b.id } })).toBe(1);
    // The same clinician in a second tab, still on version 0: the conflict says the saved version is their own.
    const ownTab = await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 5 }).catch((e: unknown) => e);
    expect(ownTab).toMatchObject({ kind: "CONFLICT", details: { conflict: { currentVersion: 1, theirs: { version: 1, authorName: a.name, byYou: true, labels: ["benign"] } } } });
    expect(await testDb().auditEvent.count({ where: { actorId: b.id } })).toBe(events);
    expect((await testDb().queueItem.findFirstOrThrow({ where: { caseId: caseIds[0] } })).status).toBe("DONE");
  });
  it("a resumed lease and an empty queue keep their answers: the own open lease again (no event), then null with the 'empty' event", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 1);
    const [a] = users as [Actor];
    const first = await leaseNext(createServiceContext(db, a), { projectId });
    const againCtx = createServiceContext(db, a);
    const { result: again, trips: resumeTrips } = await measured(() => leaseNext(againCtx, { projectId }));
    expect(again).toMatchObject({ queueItemId: first!.queueItemId, caseId: caseIds[0], resumed: true, expiresAt: first!.expiresAt });
    expect(resumeTrips).toBe(2); // front door; BEGIN, the opening statements and COMMIT
    expect(againCtx.audit.count).toBe(0);
    await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1 });
    const emptyCtx = createServiceContext(db, a);
    expect(await leaseNext(emptyCtx, { projectId })).toBeNull();
    expect(emptyCtx.audit.count).toBe(1);
    const event = await testDb().auditEvent.findFirstOrThrow({ where: { actorId: a.id, action: "queue.next" }, orderBy: { id: "desc" } });
    expect(event).toMatchObject({ targetType: "Project", targetId: projectId, details: { outcome: "empty", round: 1 } });
    expect(await testDb().queueLease.count({ where: { userId: a.id } })).toBe(1);
  });
});

describe("submit and take the next (annotations.submit with advanceInProject, the workspace's loop)", () => {
  it("advancing in a project where the caller may not take cases is refused before anything is written", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 2);
    const [a] = users as [Actor];
    const elsewhere = await createTestProject({ memberIds: [], cases: 1 });
    await leaseNext(createServiceContext(db, a), { projectId });
    await expect(
      submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: elsewhere.projectId }),
    ).rejects.toMatchObject({ kind: "NOT_FOUND" });
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0]! } })).toBe(0);
    // Nothing held: the same submission in its own project goes through at once.
    const done = await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId });
    expect(done).toMatchObject({ version: 1, next: { caseId: caseIds[1] } });
  });

  it("writes the version and completes the lease as a plain submit, then leases the next case in the same call and the same transaction: 2 round trips, 1 COMMIT", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 3);
    const [a] = users as [Actor];
    const { result: first, statements: leaseStatements } = await measured(() => leaseNext(createServiceContext(db, a), { projectId }));
    expect(first).toMatchObject({ caseId: caseIds[0], rank: 1 });
    // queue.next: the front door, then BEGIN, the lease's opening statements (queue-repo.ts, their own count) and COMMIT
    const opening = leaseStatements - 3;
    expect(opening).toBeGreaterThan(0);
    const ctx = createServiceContext(db, a);
    const { result, trips: n, commits: c, statements: st } = await measured(() =>
      submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId }),
    );
    // BEGIN + the case with membership and project, locked, then its item (one statement) 1; the submission's statement, the next
    // case's lease (its opening statements behind a savepoint) and the COMMIT 1: the lease's own BEGIN…COMMIT trip is
    // gone (was 5 trips, 2 COMMITs), the case read rides with BEGIN and the submission's statement with the COMMIT
    // (each was a trip of its own)
    expect(n).toBe(2);
    expect(c).toBe(1);
    // BEGIN, case and item, who may annotate it; the submission's statement, SAVEPOINT, the opening statements, COMMIT (no
    // RELEASE SAVEPOINT: the COMMIT commits the savepoint's work)
    expect(st).toBe(3 + 2 + opening + 1);
    expect(result).toMatchObject({ version: 1, caseVersion: 1, next: { caseId: caseIds[1], rank: 2, resumed: false } });
    expect(ctx.audit.count).toBe(2); // annotation.submit and queue.next
    const leases = await testDb().queueLease.findMany({ where: { userId: a.id }, include: { queueItem: { select: { caseId: true, status: true } } }, orderBy: { leasedAt: "asc" } });
    expect(leases.map((l) => [l.queueItem.caseId, l.queueItem.status, l.completedAt !== null])).toEqual([
      [caseIds[0], "DONE", true],
      [caseIds[1], "PENDING", false],
    ]);
    expect(leases[1]!.expiresAt.toISOString()).toBe(result.next!.expiresAt);
    const events = await testDb().auditEvent.findMany({ where: { actorId: a.id, action: { in: ["annotation.submit", "queue.next"] } }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.action, e.targetId])).toEqual([
      ["queue.next", leases[0]!.queueItemId],
      ["annotation.submit", caseIds[0]],
      ["queue.next", leases[1]!.queueItemId],
    ]);
    // The last case: submit and take the next answers next: null (the queue is empty for them).
    await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[1]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId }).then((r) =>
      expect(r.next).toMatchObject({ caseId: caseIds[2] }),
    );
    // An empty queue needs JavaScript (busy or empty?): the submission and the opening commit together, then the lease's
    // own transaction answers null with the 'empty' event, as before.
    const lastCtx = createServiceContext(db, a);
    const { result: last, commits: lastCommits, tailRollbacks: lastRollbacks } = await measured(() =>
      submitAnnotation(lastCtx, { caseId: caseIds[2]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId }),
    );
    expect(last).toMatchObject({ version: 1, next: null });
    expect([lastCommits, lastRollbacks]).toEqual([2, 0]);
    expect(lastCtx.audit.count).toBe(2); // annotation.submit and queue.next (empty)
    expect(await testDb().auditEvent.findFirstOrThrow({ where: { actorId: a.id, action: "queue.next" }, orderBy: { id: "desc" } })).toMatchObject({ targetType: "Project", details: { outcome: "empty" } });
    expect(await testDb().annotation.count({ where: { caseId: caseIds[2], authorId: a.id, kind: "SUBMITTED" } })).toBe(1);
  });

  it("a lease that fails inside the submission's transaction is rolled back alone: the submission is committed and the next case still comes, leased on its own", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 3);
    const [a] = users as [Actor];
    await leaseNext(createServiceContext(db, a), { projectId });
    // Test-only fault, in the database (no code path of ours can reach it): the first queue.next audit event of this
    // clinician written after it is refused, once — the one the lease's takeLease statement appends in the submission's
    // transaction. The sequence is not transactional, so the retry on its own goes through.
    const tag = a.id.replace(/[^a-z0-9]/g, "");
    await testDb().$executeRawUnsafe(`CREATE SEQUENCE fault_${tag}`);
    await testDb().$executeRawUnsafe(
      `CREATE FUNCTION fault_${tag}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF nextval('fault_${tag}') = 1 THEN RAISE EXCEPTION 'injected lease fault'; END IF; RETURN NEW; END $$`,
    );
    await testDb().$executeRawUnsafe(
      `CREATE TRIGGER fault_${tag} BEFORE INSERT ON "AuditEvent" FOR EACH ROW WHEN (NEW.action = 'queue.next' AND NEW."actorId" = '${a.id}') EXECUTE FUNCTION fault_${tag}()`,
    );
    try {
      const ctx = createServiceContext(db, a);
      const { result, trips: n, commits: c, tailRollbacks: r } = await measured(() =>
        submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId }),
      );
      expect(result).toMatchObject({ version: 1, caseVersion: 1, next: { caseId: caseIds[1], rank: 2, resumed: false } });
      // the 2 trips of the combined call, the tail rolled back to its savepoint with the submission's answer read again and
      // its COMMIT 1, the lease on its own 1; the combined call's COMMIT never ran (PostgreSQL skips the rest of a trip after
      // an error): 2 COMMITs ran of the 3 sent
      expect([n, c - r, r]).toEqual([4, 2, 1]);
      const [fired] = await testDb().$queryRawUnsafe<{ n: bigint }[]>(`SELECT last_value AS n FROM fault_${tag}`);
      expect(Number(fired!.n)).toBe(2); // refused once inside, accepted once on its own
      expect(ctx.audit.count).toBe(2);
      expect(await testDb().annotation.count({ where: { caseId: caseIds[0], authorId: a.id, kind: "SUBMITTED" } })).toBe(1);
      const leases = await testDb().queueLease.findMany({ where: { userId: a.id }, include: { queueItem: { select: { caseId: true, status: true } } }, orderBy: { leasedAt: "asc" } });
      expect(leases.map((l) => [l.queueItem.caseId, l.queueItem.status, l.completedAt !== null])).toEqual([
        [caseIds[0], "DONE", true],
        [caseIds[1], "PENDING", false],
      ]);
      const events = await testDb().auditEvent.findMany({ where: { actorId: a.id, action: { in: ["annotation.submit", "queue.next"] } }, orderBy: { id: "asc" } });
      expect(events.map((e) => e.action)).toEqual(["queue.next", "annotation.submit", "queue.next"]);
    } finally {
      await testDb().$executeRawUnsafe(`DROP TRIGGER fault_${tag} ON "AuditEvent"`);
      await testDb().$executeRawUnsafe(`DROP FUNCTION fault_${tag}()`);
      await testDb().$executeRawUnsafe(`DROP SEQUENCE fault_${tag}`);
    }
  });

  it("a submission whose own statement fails in the commit trip commits nothing — no annotation, no lease, no event — and throws", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 3);
    const [a] = users as [Actor];
    await leaseNext(createServiceContext(db, a), { projectId });
    // Test-only fault in the database: this clinician's annotation insert is refused (the submission's statement, sent
    // with the lease behind its savepoint and the COMMIT in one trip).
    const tag = `a${a.id.replace(/[^a-z0-9]/g, "")}`;
    await testDb().$executeRawUnsafe(`CREATE FUNCTION fault_${tag}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected submission fault'; END $$`);
    await testDb().$executeRawUnsafe(`CREATE TRIGGER fault_${tag} BEFORE INSERT ON "Annotation" FOR EACH ROW WHEN (NEW."authorId" = '${a.id}') EXECUTE FUNCTION fault_${tag}()`);
    try {
      const leasesBefore = await testDb().queueLease.count({ where: { userId: a.id } });
      const eventsBefore = await testDb().auditEvent.count({ where: { actorId: a.id } });
      const ctx = createServiceContext(db, a);
      const { result: refused, commits: c, tailRollbacks: r } = await measured(() =>
        submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId }).catch((e: unknown) => e),
      );
      expect(refused).toMatchObject({ message: "injected submission fault" });
      // the COMMIT sent with the submission never ran; the rollback to the tail's savepoint found none (the head failed); ROLLBACK
      expect([c, r]).toEqual([2, 1]);
      expect(ctx.audit.count).toBe(0);
      expect(await testDb().annotation.count({ where: { authorId: a.id } })).toBe(0);
      expect(await testDb().queueLease.count({ where: { userId: a.id } })).toBe(leasesBefore);
      expect(await testDb().queueLease.count({ where: { userId: a.id, completedAt: { not: null } } })).toBe(0);
      expect(await testDb().auditEvent.count({ where: { actorId: a.id } })).toBe(eventsBefore);
    } finally {
      await testDb().$executeRawUnsafe(`DROP TRIGGER fault_${tag} ON "Annotation"`);
      await testDb().$executeRawUnsafe(`DROP FUNCTION fault_${tag}()`);
    }
  });

  it("with gold mixing the lease needs JavaScript: the submission commits alone and the next case is leased after it, as before", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 3, { goldRate: 0.2 });
    const [a] = users as [Actor];
    await leaseNext(createServiceContext(db, a), { projectId });
    const { result, commits: c, tailRollbacks: r } = await measured(() =>
      submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId }),
    );
    // no gold case exists: the next is the round's second item
    expect(result).toMatchObject({ version: 1, next: { caseId: caseIds[1], resumed: false } });
    expect([c, r]).toEqual([2, 0]);
  });

  it("30 clinicians submitting and taking the next in parallel on one round: every case answered once, nothing leased twice, no lease rolled back", async () => {
    const { users, projectId, caseIds } = await projectWithRound(30, 90);
    const before = tailRollbacks;
    const content = { labels: ["benign"], spans: [], uncertain: false, comment: "" };
    const served = await Promise.all(
      users.map(async (u) => {
        const mine: string[] = [];
        let next = await leaseNext(createServiceContext(db, u), { projectId });
        while (next) {
          mine.push(next.caseId);
          next = (await submitAnnotation(createServiceContext(db, u), { caseId: next.caseId, expectedVersion: 0, content, timeSpentMs: 1, advanceInProject: projectId })).next;
        }
        return mine;
      }),
    );
    const all = served.flat();
    expect(all.length).toBe(caseIds.length);
    expect(new Set(all)).toEqual(new Set(caseIds));
    expect(tailRollbacks - before).toBe(0); // no lease failed inside a submission (a deadlock there would show here)
    const leases = await testDb().queueLease.groupBy({ by: ["queueItemId"], where: { queueItem: { caseId: { in: caseIds } } }, _count: { _all: true } });
    expect(leases.length).toBe(caseIds.length);
    expect(leases.every((l) => l._count._all === 1)).toBe(true);
    expect(await testDb().annotation.count({ where: { caseId: { in: caseIds }, kind: "SUBMITTED" } })).toBe(caseIds.length);
    expect(await testDb().queueItem.count({ where: { caseId: { in: caseIds }, status: { not: "DONE" } } })).toBe(0);
  });

  it("a conflicting submit and take the next answers CONFLICT as a plain submit does and leases nothing", async () => {
    const { users, projectId, caseIds } = await projectWithRound(2, 2);
    const [a, b] = users as [Actor, Actor];
    await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 5 });
    // a's second tab, still on version 0 (a case the caller submitted before may be edited from the history).
    const leasesBefore = await testDb().queueLease.count({ where: { userId: a.id } });
    const refused = await submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 5, advanceInProject: projectId }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: "CONFLICT", details: { conflict: { currentVersion: 1, theirs: { version: 1, authorName: a.name, byYou: true, labels: ["benign"] }, yours: { labels: ["normal"] } } } });
    expect(await testDb().queueLease.count({ where: { userId: a.id } })).toBe(leasesBefore);
    expect(await testDb().annotation.count({ where: { authorId: a.id } })).toBe(1);
    expect(await testDb().queueLease.count({ where: { userId: b.id } })).toBe(0);
  });
});

describe("a submission reads the case with its lock: refused calls lock nothing and roll back", () => {
  const content = { labels: ["benign"], spans: [], uncertain: false, comment: "" };

  /** Runs `work` while another transaction holds the row lock of case `caseId`; returns what `work` settled to, then releases the lock. */
  async function whileCaseLocked<T>(caseId: string, work: () => Promise<T>): Promise<T | unknown> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = testDb().$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "Case" WHERE id = ${caseId} FOR UPDATE`;
        locked();
        await held;
      },
      { timeout: 60_000 },
    );
    await isLocked;
    try {
      return await work().catch((e: unknown) => e);
    } finally {
      release();
      await holder;
    }
  }

  /** The case's row lock is free: another transaction takes it at once (NOWAIT fails with 55P03 while anyone holds it). */
  async function caseLockIsFree(caseId: string): Promise<boolean> {
    return testDb()
      .$transaction((tx) => tx.$queryRaw`SELECT id FROM "Case" WHERE id = ${caseId} FOR UPDATE NOWAIT`)
      .then(() => true, () => false);
  }

  it("a non-member answers NOT_FOUND without locking or waiting on the case — even while a member's transaction holds its lock — in BEGIN's trip and a ROLLBACK", async () => {
    const { projectId, caseIds } = await projectWithRound(1, 1);
    const stranger = await createTestUser("CLINICIAN");
    const ctx = createServiceContext(db, stranger);
    // Were the stranger's statement to lock the case, it would wait here until the holder lets go (after `work` settles): the test would hang.
    const measuredRefusal = await whileCaseLocked(caseIds[0]!, () => measured(() => submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content, timeSpentMs: 1, advanceInProject: projectId })));
    expect(measuredRefusal).toMatchObject({ kind: "NOT_FOUND", message: "No such case." });
    const { trips: n } = await measured(() => submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content, timeSpentMs: 1 }).catch(() => null));
    expect(n).toBe(2); // BEGIN with the case read and the item lookup, ROLLBACK
    expect(ctx.audit.count).toBe(0);
    expect(await testDb().queueLease.count({ where: { userId: stranger.id } })).toBe(0);
    // A missing case reads the same.
    expect(await refusal(submitAnnotation(ctx, { caseId: "no-such-case", expectedVersion: 0, content, timeSpentMs: 1 }))).toMatchObject({ kind: "NOT_FOUND", message: "No such case." });
  });

  it("a member waits on the case lock a concurrent submission holds (the contrast to the non-member), then submits", async () => {
    const { users, caseIds } = await projectWithRound(1, 1);
    const [a] = users as [Actor];
    let settled = false;
    let submit: Promise<unknown> | undefined;
    await whileCaseLocked(caseIds[0]!, async () => {
      submit = submitAnnotation(createServiceContext(db, a), { caseId: caseIds[0]!, expectedVersion: 0, content, timeSpentMs: 1 }).finally(() => (settled = true));
      // Wait until the member's statement is seen waiting on a lock in PostgreSQL.
      for (let i = 0; i < 500; i++) {
        const [row] = await testDb().$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'BEGIN; EXECUTE %'`;
        if (row!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(settled).toBe(false);
    });
    expect(await submit).toMatchObject({ version: 1, caseVersion: 1 });
  });

  it("a member refused under the lock (bad content, an archived project, a role that may not annotate) gets today's answer and leaves the lock free and nothing written", async () => {
    const { users, projectId, caseIds } = await projectWithRound(1, 1);
    const [a] = users as [Actor];
    const ctx = () => createServiceContext(db, a);
    const submit = (labels: string[]) => submitAnnotation(ctx(), { caseId: caseIds[0]!, expectedVersion: 0, content: { ...content, labels }, timeSpentMs: 1, advanceInProject: projectId });
    expect(await refusal(submit(["no-such-label"]))).toMatchObject({ kind: "BAD_INPUT", field: "labels" });
    expect(await caseLockIsFree(caseIds[0]!)).toBe(true);
    expect(await refusal(submit([]))).toMatchObject({ kind: "BAD_INPUT", message: "Choose a label before submitting." });

    await testDb().project.update({ where: { id: projectId }, data: { archivedAt: new Date() } });
    expect(await refusal(submit(["benign"]))).toMatchObject({ kind: "CONFLICT", message: "This project is archived and read-only." });
    expect(await caseLockIsFree(caseIds[0]!)).toBe(true);
    await testDb().project.update({ where: { id: projectId }, data: { archivedAt: null } });

    await testDb().projectMember.update({ where: { projectId_userId: { projectId, userId: a.id } }, data: { role: "REVIEWER" } });
    expect(await refusal(submit(["benign"]))).toMatchObject({ kind: "FORBIDDEN" });
    expect(await caseLockIsFree(caseIds[0]!)).toBe(true);
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0] } })).toBe(0);
    expect(await testDb().auditEvent.count({ where: { actorId: a.id, action: "annotation.submit" } })).toBe(0);

    // Back to a clinician: the same connection pool serves the next submission as usual (no transaction was left open).
    await testDb().projectMember.update({ where: { projectId_userId: { projectId, userId: a.id } }, data: { role: "CLINICIAN" } });
    const ok = ctx();
    expect(await submitAnnotation(ok, { caseId: caseIds[0]!, expectedVersion: 0, content, timeSpentMs: 1 })).toMatchObject({ version: 1, caseVersion: 1 });
    expect(projectAccessChecked(ok, "annotate")).toBe(true);
  });
});

describe("statements kept prepared per connection", () => {
  it("a fresh connection prepares the lease's and the submission's statements once, in a trip of their own; the repeat prepares nothing and takes the same round trips", async () => {
    const fresh = createDb(process.env.DATABASE_URL!);
    try {
      countRoundTrips(fresh);
      const { users, projectId, caseIds } = await projectWithRound(1, 4);
      const [a] = users as [Actor];
      const submitNext = (caseId: string) => () =>
        submitAnnotation(createServiceContext(fresh, a), { caseId, expectedVersion: 0, content: { labels: ["benign"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 10, advanceInProject: projectId });
      // One call at a time: the pool hands the same idle connection back each time.
      const cold = await measured(() => leaseNext(createServiceContext(fresh, a), { projectId }));
      expect(cold).toMatchObject({ result: { caseId: caseIds[0] }, trips: 2, prepares: 1 });
      const first = await measured(submitNext(caseIds[0]!));
      // the case read with its lock and the item's, and the submission's statement (and its recovery): new on this connection
      // (the lease's opening statements it holds since `cold`), prepared in one trip before BEGIN
      expect(first).toMatchObject({ result: { next: { caseId: caseIds[1] } }, trips: 2, prepares: 1 });
      for (const caseId of [caseIds[1]!, caseIds[2]!]) {
        const warm = await measured(submitNext(caseId));
        expect(warm).toMatchObject({ trips: 2, prepares: 0 });
      }
      expect((await measured(() => leaseNext(createServiceContext(fresh, a), { projectId }))).prepares).toBe(0);
    } finally {
      await fresh.$disconnect();
    }
  });
});
