/**
 * The clinician's queue reads (issue 16, goal 1) on raw statements (server/db/queue-reads.ts): the queue list
 * of one project (`projectQueue`, procedure queue.project: ONE statement after the session check), the cases
 * the caller would get next for prefetching (`upcoming`, queue.upcoming: two), and the overview of the caller's
 * queues (`myQueues`, queue.mine: two). Same answers as the Prisma reads they replace (getProjectQueue,
 * upcomingCases, listMyQueues; the rules are in queue-service.ts's module comment), compared in
 * server/services/queue-reads.int.test.ts.
 *
 * Access: queue.project reads the caller's membership in its one statement and passes it to the front door's
 * checks (project-access.ts admitToProject: NOT_FOUND for a non-member or a missing project, FORBIDDEN for a
 * role without "annotate", the configuration parsed); queue.upcoming goes through requireProject; queue.mine
 * through memberProjectRoles ("annotate", archived projects left out) and its statement joins the membership
 * again. The queue list reads no patient data (ids, ranks, states, reasons), so, as before, no read is audited.
 */
import type { ProjectQueueInput } from "@/contracts/annotations";
import { ZProjectSettings } from "@/contracts/project-config";
import { myQueueRounds, projectQueueForMember, reasonFeatures, upcomingForRound, type ItemTuple, type LeaseTuple } from "../db/queue-reads";
import type { ServiceContext } from "./context";
import { goldPhase, plannedRoundTotal } from "./gold-mixing";
import { admitToProject, memberProjectRoles, requireActor, requireProject } from "./project-access";
import { probabilitiesByKey, selectionReason, type SelectionReason } from "./selection-reason";

type ItemState = "done" | "done-by-me" | "leased-by-me" | "leased" | "available" | "skipped";
type Status = ItemTuple[3];

/** A timestamp read out of json (UTC wall time without a zone) as ISO text with milliseconds, as Date#toISOString gives. */
const isoOf = (value: string) => new Date(value.endsWith("Z") ? value : `${value}Z`).toISOString();

/** The caller's total for a round (gold-mixing plannedRoundTotal; without gold, the round's items), as queue-service's plannedTotal. */
function plannedTotal(p: { roundId: string; userId: string; goldRate: number; items: number; servedRegular: number; goldServed: number; goldLeft: number }): number {
  if (p.goldRate <= 0 && p.goldServed === 0) return p.items;
  const goldLeft = p.goldRate > 0 ? p.goldLeft : 0;
  return plannedRoundTotal({ items: p.items, servedRegular: p.servedRegular, served: p.servedRegular + p.goldServed, goldLeft, rate: p.goldRate, phase: goldPhase(p.roundId, p.userId) });
}

/** A gold row's selection features (queue-service goldReasonFeatures): the neighbour's, with the gold case's likeliest minority class as pseudo-label. */
function goldReasonFeatures(features: unknown, probabilities: Record<string, number> | null, minorityClasses: string[]): unknown {
  if (!probabilities || typeof features !== "object" || features === null || Array.isArray(features)) return features;
  const f = features as Record<string, unknown>;
  if (typeof f.pseudoLabelKey !== "string") return features;
  const best = minorityClasses.filter((k) => typeof probabilities[k] === "number").sort((a, b) => probabilities[b]! - probabilities[a]!)[0];
  return best ? { ...f, pseudoLabelKey: best } : features;
}

/**
 * The current round of one project as the caller sees it, in rank order — the answer of queue.project
 * (shape: nextRound, project, round, items, counts; see queue-service getProjectQueue, whose answer it
 * repeats). ONE raw statement (queue-reads.ts projectQueueForMember).
 * @throws DomainError NOT_FOUND (not a member / no such project), FORBIDDEN (role may not annotate), CONFLICT (invalid stored configuration)
 */
export async function projectQueue(ctx: ServiceContext, input: ProjectQueueInput) {
  const actor = requireActor(ctx);
  const now = new Date();
  const found = typeof input.projectId === "string" && input.projectId.length > 0 ? await projectQueueForMember(ctx.db, { projectId: input.projectId, userId: actor.id, now }) : null;
  const { project, config } = admitToProject(ctx, found?.membership ?? null, "annotate");
  const { round, items, gold } = found!;
  const settings = config.settings;
  const idleSince = now.getTime() - settings.leaseMinutes * 60_000;
  const away = new Set(found!.holders.filter((h) => h.signedInBefore && (h.lastLiveSeenAt === null || h.lastLiveSeenAt.getTime() <= idleSince)).map((h) => h.userId));
  const holds = (l: LeaseTuple) => l[3] || (l[4] && !away.has(l[0]));
  const classKeys = config.labelSchema.labels.map((l) => l.key);
  const showProbabilities = Boolean(round?.modelVersionId && settings.showPredictions);
  const probabilitiesOf = (stored: unknown) => (showProbabilities && stored !== null && stored !== undefined ? probabilitiesByKey(stored, classKeys) : null);
  const reasonOf = (features: unknown, probabilities: Record<string, number> | null): SelectionReason | null =>
    round
      ? selectionReason({ features, strategy: round.strategy, coldStart: round.coldStart, labels: config.labelSchema.labels, minorityClasses: config.minorityClasses, showPredictions: settings.showPredictions, probabilities })
      : null;
  let servedRegular = 0;
  const rows = items.map((item) => {
    const [id, caseId, rank, status, , , , , , hasImages, stored, leaseList] = item;
    const leases = leaseList ?? [];
    const mine = leases.find((l) => l[0] === actor.id);
    if (mine) servedRegular++;
    let state: ItemState;
    if (mine?.[3]) state = "done-by-me";
    else if (status === "DONE") state = "done";
    else if (status === "SKIPPED") state = "skipped";
    else if (mine && mine[4]) state = "leased-by-me";
    else if (leases.filter(holds).length >= settings.annotationsPerCase) state = "leased";
    else state = "available";
    const heldBy = leases.filter((l) => l[0] !== actor.id && !l[3] && l[4] && !away.has(l[0])).map((l) => ({ name: l[1], until: isoOf(l[2]) }));
    return { queueItemId: id, caseId, rank, status: status as Status, state, hasImages, heldBy, reason: reasonOf(reasonFeatures(item), probabilitiesOf(stored)) };
  });
  for (const serving of gold) {
    const at = Math.min(serving.position, rows.length);
    const neighbour = items[Math.min(at, items.length - 1)];
    const answered = serving.answer === "SUBMITTED";
    const state: ItemState = answered ? "done-by-me" : serving.answer === null && serving.unexpired ? "leased-by-me" : "available";
    const probabilities = probabilitiesOf(serving.probabilities);
    const reason = reasonOf(goldReasonFeatures(neighbour ? reasonFeatures(neighbour) : {}, probabilities, config.minorityClasses), probabilities);
    const status: Status = answered && settings.annotationsPerCase === 1 ? "DONE" : "PENDING";
    rows.splice(at, 0, { queueItemId: serving.id, caseId: serving.caseId, rank: 0, status, state, hasImages: serving.hasImages, heldBy: [], reason });
  }
  if (gold.length > 0) rows.forEach((row, i) => (row.rank = i + 1));
  const done = rows.filter((r) => r.status === "DONE").length;
  const total = round ? plannedTotal({ roundId: round.id, userId: actor.id, goldRate: settings.goldRate, items: items.length, servedRegular, goldServed: gold.length, goldLeft: found!.goldLeft }) : 0;
  const job = round ? found!.job : null;
  return {
    nextRound: job ? { kind: job.kind, status: job.status, stage: job.stage, percent: job.percent, since: job.createdAt.toISOString() } : null,
    project: { id: project.id, name: project.name, labelSchema: config.labelSchema, annotationsPerCase: settings.annotationsPerCase, leaseMinutes: settings.leaseMinutes, archived: project.archivedAt !== null },
    round: round ? { id: round.id, number: round.number, strategy: round.strategy, coldStart: round.coldStart, createdAt: round.createdAt.toISOString() } : null,
    items: rows,
    counts: { total, done, remaining: total - done, doneByMe: rows.filter((r) => r.state === "done-by-me").length },
  };
}

/**
 * Case ids the caller would most likely get next (not leased), for the page to prefetch — the answer of
 * queue.upcoming ([{ caseId, rank }], best rank first, at most `limit`, default 2; [] without a round or on
 * an archived project). Two statements: the front door, then the latest round with its candidates.
 * @throws DomainError as requireProject
 */
export async function upcoming(ctx: ServiceContext, input: ProjectQueueInput & { limit?: number }) {
  const actor = requireActor(ctx);
  const { project, config, archived } = await requireProject(ctx, input.projectId, "annotate");
  if (archived) return [];
  const rows = await upcomingForRound(ctx.db, { projectId: project.id, userId: actor.id, slots: config.settings.annotationsPerCase, now: new Date(), limit: input.limit ?? 2 });
  return rows ?? [];
}

/**
 * One line per project of the caller where they may annotate (archived left out), by project creation — the
 * answer of queue.mine ({ projectId, projectName, round, total, done, remaining }[]; see queue-service
 * listMyQueues). Two statements: the caller's memberships, then every project's round and counts.
 */
export async function myQueues(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  const projects = await myQueueRounds(ctx.db, [...(await memberProjectRoles(ctx, "annotate")).keys()], actor.id);
  return projects.map((p) => {
    const round = p.round;
    const goldRate = ZProjectSettings.safeParse(p.settings ?? {}).data?.goldRate ?? 0;
    const hasGold = p.goldTotal > 0;
    // With gold on, the caller's total is planned as in their queue list, so the totals agree.
    const planned = round && (goldRate > 0 || hasGold) ? plannedTotal({ roundId: round.id, userId: actor.id, goldRate, items: p.items, servedRegular: p.servedRegular, goldServed: p.goldTotal, goldLeft: p.goldLeft }) : null;
    const total = planned ?? p.counts.reduce((n, c) => n + c.count, 0) + p.goldTotal;
    const done = p.counts.filter((c) => c.status !== "PENDING").reduce((n, c) => n + c.count, 0) + p.goldAnswered;
    return {
      projectId: p.projectId,
      projectName: p.projectName,
      round: round ? { number: round.number, strategy: round.strategy, coldStart: round.coldStart, createdAt: round.createdAt.toISOString() } : null,
      total,
      done,
      remaining: total - done,
    };
  });
}
