/**
 * A clinician's queue: the project's current (latest) selection round in rank order, with leases
 * so two people do not label one case by accident.
 *
 * Rules (docs/ARCHITECTURE.md, "Annotation workspace"):
 * - `leaseNext` runs one at a time per (round, user) (an advisory lock: two tabs or a double click
 *   get the same case), gives the caller their own unexpired lease back (a reload resumes), else locks the
 *   best-ranked available item (FOR UPDATE SKIP LOCKED), re-counts its live leases under the lock
 *   and takes a lease that expires after settings.leaseMinutes (30). An item has
 *   settings.annotationsPerCase (N, default 1) slots, each for a different clinician; a slot is
 *   live while its lease is unexpired or completed, so an expired lease frees its slot.
 * - Submitting completes the caller's lease (annotation-service); an item is DONE when N leases
 *   are completed.
 * - Skipping records a SKIPPED annotation version with the reason and releases the lease: the
 *   case goes to someone else, never back to the clinician who skipped it in this round.
 * - An item is also finished (DONE, with fewer than N answers) when no active member whose role may annotate is
 *   left who has neither answered nor skipped it: the last skip (skipCase), the last submission
 *   (annotations-repo.ts writeSubmission) or, for members removed or deactivated since, the loop check
 *   (loop-triggers.ts) marks it (queue-repo.ts noMemberLeftSql, finishExhaustedItems). A member who joins while
 *   it is PENDING can still be served it. So a round always completes once everyone has answered or skipped.
 * - A lease whose holder is away — signed out, or no request for longer than the lease time
 *   (settings.leaseMinutes) — no longer holds its slot: the queue shows the case as free, and the
 *   next `leaseNext` in the round releases it (expiry set to now, audited `queue.lease-released`).
 * - Each item carries a short reason why it was selected (selection-reason.ts), with the class and
 *   the model's probability only where the project shows predictions.
 * - Gold cases (issue 14, gold-service.ts): with settings.goldRate r > 0, the clinician's k-th case of the
 *   round (k counts their leases and gold servings there) is a gold case when k is a gold slot
 *   (gold-mixing.ts: ⌊n·r⌋ or ⌈n·r⌉ of any n cases), the slot lies before their regular positions reach the
 *   round's items, and a gold case is left that they were never given nor annotated; the serving is recorded (GoldServing, once per case and clinician) and stays theirs until they
 *   submit or skip it. Nothing a clinician receives tells a gold case apart: the lease, their queue list
 *   (their own gold servings sit among the round's items, ranks numbered in that order; the total counts the
 *   planned gold slots from the start, so it never grows when one is served; a gold row's reason uses the round
 *   model's stored prediction of its case, as a regular row's does) and the case view
 *   (annotation-service.ts scopes a gold case's annotations to the caller) have the same shape and kinds of
 *   values. queue.next reads the active lease, the active gold serving and the served count in ONE
 *   statement (activeServeText), and only a gold slot costs one more (pickGoldCase).
 * - Statements (issue 16): queue.next runs as raw SQL on the pg pool (server/db/sql.ts), not through Prisma. The
 *   opening statements (queue-repo.ts leaseOpeningStatements, three: the latest round, the (round, user) advisory lock
 *   and the away holders' leases released with their audit events; the caller's open lease and gold case, and —
 *   without gold mixing, when nothing is open for them — the best free candidate locked FOR UPDATE SKIP LOCKED; and
 *   takeLease on it: re-count under the lock, lease upsert and audit event, in a statement of its own) need no answer
 *   from JavaScript in between. Without gold
 *   mixing they go with BEGIN and COMMIT in ONE round trip (transactionInOneTrip): 2 round trips after the session
 *   check, with the front door. What needs JavaScript (a lapsed gold case to renew, a candidate taken meanwhile, an
 *   empty or busy queue) and every call with gold mixing (the gold slot is decided from the served count) run in a
 *   transaction that sends BEGIN with the opening statements and goes on statement by statement, as before. Lock
 *   order and answers are as before. annotations.submit with advanceInProject in the case's own project sends the common
 *   path's opening statements behind a savepoint with the submission's COMMIT (leaseAfterSubmit: one commit, one trip
 *   for both); what needs JavaScript follows through leaseNextIn, and a failed or gold-mixing lease is leased after the
 *   commit, without a second front door.
 */
import type { ProjectQueueInput, SkipInput } from "@/contracts/annotations";
import type { ProjectSettings } from "@/contracts/project-config";
import { findCaseForMember, insertAnnotation, lockCase, maxAuthorVersion, readCaseAccess } from "../db/annotations-repo";
import type { AuditEventInput } from "../db/audit-repo";
import {
  findItemInLatestRound,
  finishExhaustedItems,
  leaseOpeningStatements,
  lockQueueItem,
  readLeaseOpening,
  releaseLease,
  selectLeaseCandidates,
  takeLease,
} from "../db/queue-repo";
import { appendAuditEvent, transaction, transactionInOneTrip, type Sql, type TailOutcome, type TripStatement } from "../db/sql";
import { activeServeText, insertGoldServing, pickGoldCase, readActiveServe, renewGoldServing } from "../db/gold-repo";
import { DomainError } from "../errors";
import { requestRetrainCheckSoon } from "./enqueue-job";
import { logger } from "../log";
import type { ServiceContext } from "./context";
import { goldPhase, isGoldSlot } from "./gold-mixing";
import { requireMayAnnotate } from "./annotation-access";
import { requireActor, requireProject } from "./project-access";

/** The moment before which a lease holder's last request makes them "away" (idle past the lease time). */
const idleSince = (now: Date, leaseMinutes: number) => new Date(now.getTime() - leaseMinutes * 60_000);

export interface LeaseView {
  queueItemId: string;
  caseId: string;
  rank: number;
  expiresAt: string;
  resumed: boolean;
}

/**
 * How often queue.next tries again when every case still free for the caller was locked by a concurrent call (the
 * answer "busy"), waiting 5–25·(attempt + 1) ms between tries (about 0.6 s in all, 1.2 s at most) before it answers
 * CONFLICT "Everyone is taking cases at once". Near the end of a round with several answers per case, the last free
 * items are often locked for a moment by colleagues' submissions of them: with 5 tries the soak met that answer 6
 * times in 9,774 calls (2026-12-01, 01:39 UTC; docs/benchmarks.md).
 */
const SKIP_LOCKED_RETRIES = 10;

/**
 * Leases the caller's next case of the project's current round, or returns null when nothing is
 * left for them. Safe under concurrency: see the module comment.
 */
export async function leaseNext(ctx: ServiceContext, input: ProjectQueueInput): Promise<LeaseView | null> {
  // Archived projects are out of every queue: nothing is leased there.
  return leaseNextIn(ctx, await requireProject(ctx, input.projectId, "annotate", { write: true }));
}

/**
 * leaseNext in a project the caller was already admitted to for writing ("annotate", { write: true }: the
 * front door's answer, e.g. annotations.submit's for the case it just wrote), without reading the front door
 * again.
 */
export async function leaseNextIn(ctx: ServiceContext, admitted: AdmittedProject, opened?: OpenedLease): Promise<LeaseView | null> {
  const actor = requireActor(ctx);
  const { project, config } = admitted;
  const settings = config.settings;
  const audit = rawAudit(ctx);
  const goldOn = settings.goldRate > 0;
  const released = (n: number, roundId: string) => {
    // The released leases' audit events were appended by their statement.
    audit.counted(n);
    if (n > 0) logger.info("away leases released", { projectId: project.id, roundId, released: n });
  };

  if (!goldOn) {
    // The common path in ONE round trip: BEGIN, the opening statements and COMMIT together (sql.ts transactionInOneTrip)
    // — or already run and committed in a submission's transaction (`opened`, leaseAfterSubmit).
    // Whatever needs an answer from JavaScript first (a lapsed gold case to renew, a candidate taken meanwhile, an
    // empty or busy queue) is left to the transaction below, which starts over (the away release stays committed).
    const now = opened?.now ?? new Date();
    const opening = readLeaseOpening(opened?.rows ?? (await transactionInOneTrip(ctx.db, openingStatements(ctx, admitted, now))), readActiveServe);
    if (!opening.round) return noRound(ctx, project.id);
    released(opening.released.length, opening.round.id);
    const { lease: active, gold: activeGold } = opening.served;
    if (active) {
      ctx.audit.noChange(); // resuming one's own lease changes nothing
      return { queueItemId: active.id, caseId: active.caseId, rank: active.rank, expiresAt: active.expiresAt.toISOString(), resumed: true };
    }
    if (activeGold && activeGold.expiresAt > now) {
      ctx.audit.noChange();
      return { queueItemId: activeGold.id, caseId: activeGold.caseId, rank: activeGold.rank + 1, expiresAt: activeGold.expiresAt.toISOString(), resumed: true };
    }
    if (opening.taken) {
      audit.counted(1); // the opening's lease statement appended the queue.next event (outcome "leased")
      const { queueItemId, caseId, rank, expiresAt } = opening.taken;
      return { queueItemId, caseId, rank, expiresAt: expiresAt.toISOString(), resumed: false };
    }
  }

  for (let attempt = 0; ; attempt++) {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + settings.leaseMinutes * 60_000);
    // Raw statements on one pooled client (server/db/sql.ts). BEGIN goes with the opening statements in one round trip:
    // the latest round, the per-(round, user) lock and the away holders' leases released; the caller's open lease and
    // gold case (and, without gold mixing, the best free candidate locked); the lease on it (queue-repo.ts leaseOpeningStatements).
    const opening = openingStatements(ctx, admitted, now);
    const outcome = await transaction(
      ctx.db,
      async (tx, beginRows): Promise<LeaseView | "busy" | "no-round" | null> => {
        const { round, released: away, served, tried, taken } = readLeaseOpening(beginRows, readActiveServe);
        if (!round) return "no-round";
        released(away.length, round.id);
        const { lease: active, gold: activeGold, served: servedCount, servedRegular, items } = served;
        if (active) {
          // Resuming one's own lease changes nothing: no event (one per page load buried the real ones).
          ctx.audit.noChange();
          return { queueItemId: active.id, caseId: active.caseId, rank: active.rank, expiresAt: active.expiresAt.toISOString(), resumed: true };
        }
        if (activeGold) {
          // A gold case stays the clinician's until they submit or skip it; a lapsed one gets a new lease time.
          if (activeGold.expiresAt > now) {
            ctx.audit.noChange();
            return { queueItemId: activeGold.id, caseId: activeGold.caseId, rank: activeGold.rank + 1, expiresAt: activeGold.expiresAt.toISOString(), resumed: true };
          }
          const renewed = await renewGoldServing(tx, activeGold.id, expiresAt);
          await audit.append(tx, now, { action: "queue.next", targetType: "GoldServing", targetId: activeGold.id, projectId: project.id, details: { outcome: "gold-renewed", caseId: activeGold.caseId } });
          return { queueItemId: activeGold.id, caseId: activeGold.caseId, rank: activeGold.rank + 1, expiresAt: renewed.expiresAt.toISOString(), resumed: true };
        }
        if (taken) {
          audit.counted(1); // the opening's lease statement appended the queue.next event (outcome "leased")
          return { queueItemId: taken.queueItemId, caseId: taken.caseId, rank: taken.rank, expiresAt: taken.expiresAt.toISOString(), resumed: false };
        }
        // Only a slot of the planned round (before the clinician's regular positions reach the round's items:
        // plannedRoundTotal), so the total their queue showed before this serving stays the same.
        if (goldOn && servedRegular < items && isGoldSlot(servedCount, settings.goldRate, goldPhase(round.id, actor.id))) {
          const caseId = await pickGoldCase(tx, project.id, round.id, actor.id, `${round.id}:${actor.id}`);
          if (caseId) {
            const serving = await insertGoldServing(tx, { projectId: project.id, caseId, userId: actor.id, roundId: round.id, position: servedCount, servedAt: now, expiresAt });
            await audit.append(tx, now, { action: "queue.next", targetType: "GoldServing", targetId: serving.id, projectId: project.id, details: { outcome: "gold", caseId, position: servedCount, round: round.number } });
            return { queueItemId: serving.id, caseId, rank: servedCount + 1, expiresAt: serving.expiresAt.toISOString(), resumed: false };
          }
        }
        const query = { roundId: round.id, roundCreatedAt: round.createdAt, userId: actor.id, slots: settings.annotationsPerCase, now, exclude: tried ? [tried] : [], limit: 1 };
        // A locked row may have been taken between our snapshot and the lock: takeLease re-counts under the lock; if it was
        // taken, move on. (The opening already looked for a free candidate when it tried none: then none was free.)
        const searched = !goldOn && tried === null;
        for (;;) {
          const [candidate] = searched ? [] : await selectLeaseCandidates(tx, query, true);
          if (!candidate) break;
          const lease = await takeLease(tx, { queueItemId: candidate.id, userId: actor.id, now, expiresAt, slots: settings.annotationsPerCase, projectId: project.id, actor: audit.actor });
          if (lease) {
            audit.counted(1); // takeLease appended the queue.next event (outcome "leased") in its statement
            return { queueItemId: candidate.id, caseId: candidate.caseId, rank: candidate.rank, expiresAt: lease.expiresAt.toISOString(), resumed: false };
          }
          query.exclude.push(candidate.id);
        }
        // Nothing unlocked: either the queue is really empty for us, or every candidate is locked by a concurrent call.
        const unlocked = await selectLeaseCandidates(tx, { ...query, exclude: [] }, false);
        if (unlocked.length > 0) return "busy";
        await audit.append(tx, now, { action: "queue.next", targetType: "Project", targetId: project.id, projectId: project.id, details: { outcome: "empty", round: round.number } });
        return null;
      },
      { begin: opening },
    );
    if (outcome === "no-round") return noRound(ctx, project.id);
    if (outcome !== "busy") return outcome;
    if (attempt >= SKIP_LOCKED_RETRIES) {
      throw new DomainError("CONFLICT", "Everyone is taking cases at once; try again in a moment.");
    }
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * (attempt + 1)));
  }
}

/** A project the caller was admitted to for writing (the front door's answer), as leaseNextIn takes it. */
export interface AdmittedProject {
  project: { id: string };
  config: { settings: ProjectSettings };
}

/** The common path's opening statements (leaseOpeningStatements) run elsewhere — in a submission's transaction — and committed: their rows and `now`. */
export interface OpenedLease {
  now: Date;
  rows: Record<string, unknown>[][];
}

/**
 * The lease's opening statements at `now` (queue-repo.ts leaseOpeningStatements), for every path that sends them: the
 * common path's BEGIN…COMMIT in one trip, a submission's transaction's tail, and leaseNextIn's transaction. Without
 * gold mixing they also take the best free candidate; with it they count the caller's servings instead.
 */
function openingStatements(ctx: ServiceContext, admitted: AdmittedProject, now: Date) {
  const actor = requireActor(ctx);
  const { leaseMinutes, annotationsPerCase, goldRate } = admitted.config.settings;
  const goldOn = goldRate > 0;
  return leaseOpeningStatements(
    { projectId: admitted.project.id, userId: actor.id, now, idleSince: idleSince(now, leaseMinutes), leaseMinutes, expiresAt: new Date(now.getTime() + leaseMinutes * 60_000), slots: annotationsPerCase, actor: rawAudit(ctx).actor, takeRegular: !goldOn, withCounts: goldOn },
    activeServeText,
  );
}

/** The next case's lease that a submission's own transaction can carry (leaseAfterSubmit). */
export interface LeaseAfterSubmit {
  /** The opening statements at `now` (the submission's time), for the transaction's tail (sql.ts transactionWithTail). */
  statements(now: Date): TripStatement[];
  /**
   * The lease from the tail's outcome: its rows read as leaseNextIn's common path reads its own (a resumed lease, a
   * new one — or, where JavaScript must answer, leaseNextIn's transaction as before); after a failed tail, leaseNextIn
   * from the start. Call it only after the commit.
   */
  finish(now: Date, outcome: TailOutcome): Promise<LeaseView | null>;
}

/**
 * Submit and take the next in ONE commit (issue 16): the common path's opening statements (the latest round and the
 * (round, user) advisory lock, the away holders' leases released with their events, the caller's open lease and gold
 * case, the best free candidate locked FOR UPDATE SKIP LOCKED and takeLease on it) sent behind a savepoint with the
 * submission's COMMIT (annotation-service.ts submitAnnotation). They read and lock as they do in their own
 * transaction, each statement in its own snapshot, after the submission's case and item locks (case → item →
 * advisory lock → SKIP LOCKED candidate: skip, release and the lease never lock a case or item after waiting on one
 * of these, so nothing deadlocks). Null with gold mixing (the gold slot is decided in JavaScript): lease after the
 * commit, as before.
 */
export function leaseAfterSubmit(ctx: ServiceContext, admitted: AdmittedProject): LeaseAfterSubmit | null {
  if (admitted.config.settings.goldRate > 0) return null;
  return {
    statements: (now) => openingStatements(ctx, admitted, now),
    finish: async (now, outcome) => {
      if ("rows" in outcome) return leaseNextIn(ctx, admitted, { now, rows: outcome.rows });
      // The lease failed inside the submission's transaction (rolled back to its savepoint; the submission is committed).
      logger.warn("the next case's lease failed in the submission's transaction; leasing on its own", { projectId: admitted.project.id, code: (outcome.error as { code?: unknown }).code ?? null });
      return leaseNextIn(ctx, admitted);
    },
  };
}

/** queue.next in a project without a round: nothing to lease, audited (outcome "no-round"). */
async function noRound(ctx: ServiceContext, projectId: string): Promise<null> {
  await ctx.db.$transaction((tx) => ctx.audit.record(tx, { action: "queue.next", targetType: "Project", targetId: projectId, projectId, details: { outcome: "no-round" } }));
  return null;
}

/**
 * Audit events written by raw statements (server/db/sql.ts) inside a raw transaction, attributed to the
 * context's caller as AuditRecorder.record does, and counted on the recorder so the API sees the
 * mutation audited.
 */
export function rawAudit(ctx: ServiceContext) {
  const actor = { actorId: ctx.actor?.id ?? null, actorRole: ctx.actor?.role ?? null };
  const counted = (n: number) => {
    ctx.audit.count += n;
  };
  return {
    actor,
    counted,
    async append(tx: Sql, at: Date, event: Omit<AuditEventInput, "actorId" | "actorRole">) {
      await appendAuditEvent(tx, { ...event, ...actor, actorRole: ctx.actor?.role ?? null, at });
      counted(1);
    },
  };
}

/**
 * Skips a case with a reason: a SKIPPED annotation version (history shows it) and the lease released — only a case the
 * caller may annotate (annotationRefusal, read under the case's and item's locks; else BAD_INPUT, nothing written). The case is
 * never served to the caller again in this round; when that leaves no active member who may annotate and has not
 * answered or skipped it (queue-repo.ts finishExhaustedItems), the item is DONE with fewer answers than
 * annotationsPerCase (its answers count for training as usual) and a loop check is requested, as for a
 * submission that completes an item.
 */
export async function skipCase(ctx: ServiceContext, input: SkipInput) {
  const actor = requireActor(ctx);
  const { project, config } = await requireProject(ctx, input.projectId, "annotate", { write: true });
  const found = await findCaseForMember(ctx.db, input.caseId, actor.id);
  if (!found || found.projectId !== project.id) throw new DomainError("NOT_FOUND", "No such case.");
  const item = await findItemInLatestRound(ctx.db, project.id, input.caseId);
  const result = await ctx.db.$transaction(async (tx) => {
    // Same order as submit (case, then item), so a skip and a submit of one case cannot deadlock.
    await lockCase(tx, input.caseId);
    if (item) await lockQueueItem(tx, item.id);
    // The workspace's rule (annotations-repo.ts annotationRefusal: a TEST case never; the caller's lease, a free slot of
    // a PENDING item of the latest round, a gold case served to them, or their own earlier answer), decided on what is
    // committed under the locks, as a submission decides: a refusal throws, so nothing is written.
    requireMayAnnotate({ split: found.split, gold: found.gold, access: await readCaseAccess(tx, input.caseId, actor.id) }, config.settings.annotationsPerCase);
    const version = (await maxAuthorVersion(tx, input.caseId, actor.id)) + 1;
    const row = await insertAnnotation(tx, {
      caseId: input.caseId,
      authorId: actor.id,
      version,
      kind: "SKIPPED",
      labels: [],
      spans: [],
      uncertain: false,
      comment: "",
      skipReason: input.reason,
      timeSpentMs: 0,
    });
    if (item) await releaseLease(tx, item.id, actor.id);
    // When no member is left who could still answer the case (every one answered or skipped it), the item is
    // finished with the answers it has — else it would stay PENDING forever and its round never complete.
    const finished = item ? (await finishExhaustedItems(tx, { projectId: project.id, queueItemId: item.id })).length > 0 : false;
    // The reason is free text a clinician typed: it stays in the annotation, not in the audit details.
    await ctx.audit.record(tx, { action: "queue.skip", targetType: "Case", targetId: input.caseId, projectId: project.id, details: { version, queueItemId: item?.id ?? null, itemFinished: finished } });
    return { annotationId: row.id, version, itemFinished: finished };
  });
  // As a submission that completes an item does: the round may be complete now (loop-triggers.ts).
  if (result.itemFinished) requestRetrainCheckSoon(project.id);
  return { annotationId: result.annotationId, version: result.version };
}
