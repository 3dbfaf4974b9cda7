/**
 * The clinician's queue reads (issue 16, goal 1) on raw statements (server/db/queue-reads.ts): the queue list
 * of one project (`projectQueue`, procedure queue.project: ONE statement after the session check), the cases
 * the caller would get next for prefetching (`upcoming`, queue.upcoming: two), and the overview of the caller's
 * queues (`myQueues`, queue.mine: two); the rules are in queue-service.ts's module comment. Answers checked against
 * ones built by hand from a fixture's rows in server/services/queue-reads.int.test.ts.
 *
 * Access: queue.project reads the caller's membership in its one statement and passes it to the front door's
 * checks (project-access.ts admitToProject: NOT_FOUND for a non-member or a missing project, FORBIDDEN for a
 * role without "annotate", the configuration parsed); queue.upcoming goes through requireProject; queue.mine
 * through memberProjectRoles ("annotate", archived projects left out) and its statement joins the membership
 * again. The queue list reads no patient data (ids, ranks, states, reasons), so, as before, no read is audited.
 */
import { ZProjectQueueListInput, type ProjectQueueInput, type ProjectQueueListInput } from "@/contracts/annotations";
import { ZProjectSettings } from "@/contracts/project-config";
import { myQueueRounds, projectQueueForMember, reasonFeatures, reasonPartsOf, upcomingForRound, type CallerRoundCounts, type GoldServingRow, type ItemTuple, type LeaseTuple } from "../db/queue-reads";
import type { ServiceContext } from "./context";
import { goldPhase, plannedRoundTotal } from "./gold-mixing";
import { admitToProject, memberProjectRoles, requireActor, requireProject } from "./project-access";
import { probabilitiesByKey, selectionReason, type SelectionReason } from "./selection-reason";

type ItemState = "done" | "done-by-me" | "leased-by-me" | "leased" | "available" | "skipped";
type Status = ItemTuple[3];

/** A timestamp read out of json (UTC wall time without a zone) as ISO text with milliseconds, as Date#toISOString gives. */
const isoOf = (value: string) => new Date(value.endsWith("Z") ? value : `${value}Z`).toISOString();

/** The caller's total for a round: its items plus the gold slots planned for them (gold-mixing plannedRoundTotal, while gold cases are left for them); without gold, the round's items. */
function plannedTotal(p: { roundId: string; userId: string; goldRate: number; items: number; servedRegular: number; goldServed: number; goldLeft: number }): number {
  if (p.goldRate <= 0 && p.goldServed === 0) return p.items;
  const goldLeft = p.goldRate > 0 ? p.goldLeft : 0;
  return plannedRoundTotal({ items: p.items, servedRegular: p.servedRegular, served: p.servedRegular + p.goldServed, goldLeft, rate: p.goldRate, phase: goldPhase(p.roundId, p.userId) });
}

/**
 * The caller's counts of a round — the workspace header's and My queue's, from the same SQL (queue-reads.ts
 * callerCountsSql), so the two always agree:
 * - total: their list — the round's items plus their gold slots, planned in advance (plannedTotal: it never steps up
 *   when a gold case is served; it grows only when gold mixing is switched on or gold cases are added mid-round);
 * - done: what they will no longer be served — items not PENDING, PENDING items they finished (completed lease, or
 *   an annotation since the round began: queue-repo.ts openForCallerSql), gold servings they answered or skipped;
 * - remaining: total − done, the cases they may still be served (gold servings included);
 * - doneByMe: their completed leases and submitted gold servings.
 * Zeros without a round.
 */
function roundCounts(c: CallerRoundCounts, p: { roundId: string | null; userId: string; goldRate: number }) {
  if (p.roundId === null) return { total: 0, done: 0, remaining: 0, doneByMe: 0 };
  const total = plannedTotal({ roundId: p.roundId, userId: p.userId, goldRate: p.goldRate, items: c.items, servedRegular: c.servedRegular, goldServed: c.goldServed, goldLeft: c.goldLeft });
  const done = c.itemsDone + c.goldAnswered;
  return { total, done, remaining: Math.max(0, total - done), doneByMe: c.completedByMe + c.goldSubmitted };
}

/**
 * A gold row's selection features: the neighbouring item's, with the pseudo-label (where it has one) the likeliest
 * minority class of the gold case's own prediction, so a "Likely rare finding" names a class and probability of this
 * case. Without a prediction, the neighbour's as they are (a regular row without one).
 */
function goldReasonFeatures(features: unknown, probabilities: Record<string, number> | null, minorityClasses: string[]): unknown {
  if (!probabilities || typeof features !== "object" || features === null || Array.isArray(features)) return features;
  const f = features as Record<string, unknown>;
  if (typeof f.pseudoLabelKey !== "string") return features;
  const best = minorityClasses.filter((k) => typeof probabilities[k] === "number").sort((a, b) => probabilities[b]! - probabilities[a]!)[0];
  return best ? { ...f, pseudoLabelKey: best } : features;
}

/**
 * One page of the caller's queue list of one project — the answer of queue.project. The list is the latest round's
 * items in rank order with the caller's gold servings among them (each at the place it was served, ranks then
 * numbered 1…n in list order, so neither place nor number tells a gold case apart); the answer carries:
 * - `nextRound`, `project`, `round` as before; `counts` { total, done, remaining, doneByMe } of the whole list
 *   (roundCounts, the same as queue.mine's; the header's "case k of N" reads total), counted in SQL;
 * - `items`: the rows `itemsOffset` … `itemsOffset + itemsLimit − 1` of the list (default 0 and 50, at most 200);
 * - `page` { offset, limit, rows }: what was asked and how many rows the list has;
 * - `current`: the row of `caseId` (the case on screen) wherever it is in the list, with its rank and reason; null
 *   when it is not in the caller's list of this round.
 * ONE raw statement (queue-reads.ts projectQueueForMember).
 * @throws DomainError NOT_FOUND (not a member / no such project), FORBIDDEN (role may not annotate), CONFLICT (invalid stored configuration); ZodError for an input outside ZProjectQueueListInput
 */
export async function projectQueue(ctx: ServiceContext, rawInput: ProjectQueueListInput) {
  const actor = requireActor(ctx);
  const input = ZProjectQueueListInput.parse(rawInput);
  const now = new Date();
  const found = await projectQueueForMember(ctx.db, { projectId: input.projectId, userId: actor.id, now, offset: input.itemsOffset, limit: input.itemsLimit, caseId: input.caseId ?? null });
  const { project, config } = admitToProject(ctx, found?.membership ?? null, "annotate");
  const { round } = found!;
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
  // With any gold serving the ranks are the list's numbers 1…n; without, the items' own ranks.
  const renumber = found!.counts.goldServed > 0;
  const itemRow = (item: ItemTuple, index: number) => {
    const [id, caseId, rank, status, , , , , , hasImages, stored, leaseList] = item;
    const leases = leaseList ?? [];
    const mine = leases.find((l) => l[0] === actor.id);
    let state: ItemState;
    if (mine?.[3]) state = "done-by-me";
    else if (status === "DONE") state = "done";
    else if (status === "SKIPPED") state = "skipped";
    else if (mine && mine[4]) state = "leased-by-me";
    else if (leases.filter(holds).length >= settings.annotationsPerCase) state = "leased";
    else state = "available";
    // Who holds the case now and until when (open leases of others), so a blocked round names its holder.
    const heldBy = leases.filter((l) => l[0] !== actor.id && !l[3] && l[4] && !away.has(l[0])).map((l) => ({ name: l[1], until: isoOf(l[2]) }));
    return { queueItemId: id, caseId, rank: renumber ? index + 1 : rank, status: status as Status, state, hasImages, heldBy, reason: reasonOf(reasonFeatures(reasonPartsOf(item)), probabilitiesOf(stored)) };
  };
  type Row = ReturnType<typeof itemRow>;
  const goldRow = (serving: GoldServingRow): Row => {
    const answered = serving.answer === "SUBMITTED";
    const state: ItemState = answered ? "done-by-me" : serving.answer === null && serving.unexpired ? "leased-by-me" : "available";
    // The reason reads as a regular row's: the round's selection features beside it, with the round model's stored
    // prediction of this case (its likeliest minority class standing for the pseudo-label), or — with no prediction
    // stored — exactly the words of a regular row without one.
    const probabilities = probabilitiesOf(serving.probabilities);
    const reason = reasonOf(goldReasonFeatures(serving.neighbour ? reasonFeatures(serving.neighbour) : {}, probabilities, config.minorityClasses), probabilities);
    const status: Status = answered && settings.annotationsPerCase === 1 ? "DONE" : "PENDING";
    return { queueItemId: serving.id, caseId: serving.caseId, rank: serving.at + 1, status, state, hasImages: serving.hasImages, heldBy: [], reason };
  };
  // The page: each gold row at its place, the round's items filling the others in order.
  const rows: Row[] = [];
  const goldOnPage = found!.gold.filter((g) => g.at >= input.itemsOffset && g.at < input.itemsOffset + input.itemsLimit);
  for (let index = input.itemsOffset, regular = 0, gold = 0; regular < found!.items.length || gold < goldOnPage.length; index++) {
    if (goldOnPage[gold]?.at === index) rows.push(goldRow(goldOnPage[gold++]!));
    else rows.push(itemRow(found!.items[regular++]!, index));
  }
  const currentGold = found!.gold.find((g) => g.current);
  const current = found!.current ? itemRow(found!.current.item, found!.current.index) : currentGold ? goldRow(currentGold) : null;
  const job = round ? found!.job : null;
  return {
    nextRound: job ? { kind: job.kind, status: job.status, stage: job.stage, percent: job.percent, since: job.createdAt.toISOString() } : null,
    project: { id: project.id, name: project.name, labelSchema: config.labelSchema, annotationsPerCase: settings.annotationsPerCase, leaseMinutes: settings.leaseMinutes, archived: project.archivedAt !== null },
    round: round ? { id: round.id, number: round.number, strategy: round.strategy, coldStart: round.coldStart, createdAt: round.createdAt.toISOString() } : null,
    items: rows,
    page: { offset: input.itemsOffset, limit: input.itemsLimit, rows: found!.counts.items + found!.counts.goldServed },
    current,
    counts: roundCounts(found!.counts, { roundId: round?.id ?? null, userId: actor.id, goldRate: settings.goldRate }),
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
 * answer of queue.mine ({ projectId, projectName, round, total, done, remaining }[]: roundCounts, the same counts
 * as the caller's queue list in queue.project). Two statements: the caller's memberships, then every project's round
 * and counts.
 */
export async function myQueues(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  const projects = await myQueueRounds(ctx.db, [...(await memberProjectRoles(ctx, "annotate")).keys()], actor.id);
  return projects.map((p) => {
    const round = p.round;
    const goldRate = ZProjectSettings.safeParse(p.settings ?? {}).data?.goldRate ?? 0;
    const { total, done, remaining } = roundCounts(p.counts, { roundId: round?.id ?? null, userId: actor.id, goldRate });
    return {
      projectId: p.projectId,
      projectName: p.projectName,
      round: round ? { number: round.number, strategy: round.strategy, coldStart: round.coldStart, createdAt: round.createdAt.toISOString() } : null,
      total,
      done,
      remaining,
    };
  });
}
