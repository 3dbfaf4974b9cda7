/**
 * Gold cases (issue 14 item 3). A data scientist (project permission `labels.gold`) marks cases with a
 * known answer — only a case adjudicated (its newest ADJUDICATED version) or imported with a label; the gold
 * answer is that label, adjudicated first — from the case browser (one case or a selection) or the CLI
 * (`npm run gold -- mark --project <p> --cases <external ids>`, scripts/gold.ts; a system action without --as). The queue (queue-service.ts `leaseNext`, slots from gold-mixing.ts) gives each clinician
 * gold cases at `settings.goldRate` of the cases it serves them, each gold case at most once per clinician,
 * and nothing a clinician receives says which case is gold.
 *
 * The report scores each annotator's FIRST submitted annotation of a gold case after it was given to them
 * (later edits do not change the score) against the gold answer: accuracy (single-label: the label equals
 * the answer; multi-label: the label sets are equal) and minority-class recall (of the answers whose gold
 * label holds a minority class, the share that holds that class too), overall and per batch of N answers in
 * time order, each with the number of answers it rests on. An annotator with at least GOLD_MIN_ANSWERS answers
 * and accuracy below `settings.goldMinAccuracy` is flagged — to the data scientist, nothing is blocked.
 *
 * Training: a gold case already has its label, so clinicians' gold answers never vote — the training-label
 * rule (training-label.ts, `{ gold: true }`) gives a gold case its adjudicated label, else its imported label.
 *
 * Split: a gold case stays in SEED (its known answer is a training label). Moving it to POOL (selection could
 * queue it as an ordinary case, where clinicians' answers would read as votes) or TEST (a known answer
 * clinicians are scored on would also grade models) is refused (`refuseGoldLeavingSeed`, called by the case
 * browser's move): unmark it first.
 */
import { GOLD_MIN_ANSWERS, ZGoldReportInput, type GoldListInput, type GoldReportInput, type MarkGoldInput, type UnmarkGoldInput } from "@/contracts/gold";
import { deleteGoldCases, findGoldCandidates, listGoldAmong, listGoldAnswers, listGoldCases, upsertGoldCases } from "../db/gold-repo";
import type { DbOrTx } from "../db/tx";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { requireProject, requireProjectAsSystem } from "./project-access";

/** The CLI without --as acts as the system (no role; audited without an actor); everyone else through the front door. */
const access = (ctx: ServiceContext, projectId: string, opts: { system?: boolean }, write: boolean) =>
  !ctx.actor && opts.system ? requireProjectAsSystem(ctx, projectId, { write }) : requireProject(ctx, projectId, "labels.gold", { write });

const someIds = (rows: { externalId: string }[], n: number) => rows.slice(0, n).map((r) => r.externalId).join(", ") + (rows.length > n ? `, … (${rows.length - n} more)` : "");

/**
 * Refuses moving gold cases out of SEED (see the file's comment): to POOL or TEST with any gold case among
 * `caseIds` throws; to SEED returns quietly.
 * @throws CONFLICT (field `caseIds`) naming the gold cases, e.g. "2 selected case(s) are gold cases …"
 */
export async function refuseGoldLeavingSeed(db: DbOrTx, projectId: string, caseIds: string[], split: string): Promise<void> {
  if (split === "SEED" || caseIds.length === 0) return;
  const gold = await listGoldAmong(db, projectId, caseIds);
  if (gold.length === 0) return;
  throw new DomainError(
    "CONFLICT",
    `${gold.length} selected case(s) are gold cases, known answers clinicians are scored against; a gold case stays in SEED, so it cannot move to ${split} — unmark it as gold first (${someIds(gold, 10)}).`,
    { field: "caseIds" },
  );
}

/**
 * Marks cases of the project as gold, all or nothing. The answer of each is its newest adjudicated label set,
 * else its imported label; re-marking a gold case refreshes its answer.
 * @returns `{ marked, refreshed }` (new gold cases; gold cases whose answer was written again)
 * @throws NOT_FOUND (a case id that is not one of the project's), BAD_INPUT naming the cases without a known
 *   answer (field `caseIds`), FORBIDDEN, CONFLICT (archived). Audited `gold.mark` with each case's answer before/after.
 */
export async function markGold(ctx: ServiceContext, input: MarkGoldInput, opts: { system?: boolean } = {}) {
  const { project } = await access(ctx, input.projectId, opts, true);
  const actor = ctx.actor;
  return ctx.db.$transaction(async (tx) => {
    const rows = await findGoldCandidates(tx, project.id, input.caseIds);
    if (rows.length !== input.caseIds.length) throw new DomainError("NOT_FOUND", `${input.caseIds.length - rows.length} of the selected cases are not cases of this project.`);
    const unknown = rows.filter((r) => !r.adjudicated?.length && !r.importedLabel);
    if (unknown.length) {
      throw new DomainError("BAD_INPUT", `${unknown.length} of the selected cases have no known answer (${someIds(unknown, 5)}): only a case imported with a label or adjudicated can be gold.`, { field: "caseIds" });
    }
    const answers = rows.map((r) => ({
      caseId: r.id,
      externalId: r.externalId,
      labels: r.adjudicated?.length ? [...r.adjudicated] : [r.importedLabel!],
      source: (r.adjudicated?.length ? "adjudicated" : "imported") as "adjudicated" | "imported",
      before: r.gold,
    }));
    await upsertGoldCases(tx, project.id, actor?.id ?? null, answers.map(({ caseId, labels, source }) => ({ caseId, labels, source })));
    await ctx.audit.record(tx, {
      action: "gold.mark",
      targetType: "Case",
      projectId: project.id,
      details: { changed: answers.map((a) => ({ caseId: a.caseId, externalId: a.externalId, before: a.before, after: { labels: a.labels, source: a.source } })) },
    });
    const refreshed = answers.filter((a) => a.before !== null).length;
    return { marked: answers.length - refreshed, refreshed };
  });
}

/**
 * Stops using cases as gold. Their servings stay (a clinician still never gets the case as gold twice), but
 * their answers leave the report. Audited `gold.unmark` with each removed answer.
 * @returns `{ unmarked, notGold }`
 */
export async function unmarkGold(ctx: ServiceContext, input: UnmarkGoldInput, opts: { system?: boolean } = {}) {
  const { project } = await access(ctx, input.projectId, opts, true);
  return ctx.db.$transaction(async (tx) => {
    const removed = await deleteGoldCases(tx, project.id, input.caseIds);
    await ctx.audit.record(tx, {
      action: "gold.unmark",
      targetType: "Case",
      projectId: project.id,
      details: { changed: removed.map((r) => ({ caseId: r.caseId, before: { labels: r.labels, source: r.source }, after: null })), notGold: input.caseIds.length - removed.length },
    });
    return { unmarked: removed.length, notGold: input.caseIds.length - removed.length };
  });
}

/** The project's gold cases with their answers, how often each was given and answered, and the gold settings. */
export async function listGold(ctx: ServiceContext, input: GoldListInput, opts: { system?: boolean } = {}) {
  const { project, config } = await access(ctx, input.projectId, opts, false);
  const rows = await listGoldCases(ctx.db, project.id);
  return {
    goldRate: config.settings.goldRate,
    goldMinAccuracy: config.settings.goldMinAccuracy,
    cases: rows.map((r) => ({ caseId: r.caseId, externalId: r.externalId, labels: r.labels, source: r.source, markedAt: r.markedAt.toISOString(), markedByName: r.markedByName, served: r.served, answered: r.answered })),
  };
}

// ---------------------------------------------------------------------------------------------
// The report (pure part)

export interface GoldAnswer {
  userId: string;
  userName: string;
  caseId: string;
  gold: readonly string[];
  answer: readonly string[];
  answeredAt: Date;
}

export interface GoldScore {
  /** Gold answers scored. */
  answers: number;
  correct: number;
  /** correct / answers; null without answers. */
  accuracy: number | null;
  /** Answers whose gold label holds a minority class (one per class held), and how many of them hold it too. */
  minorityAnswers: number;
  minorityHits: number;
  /** minorityHits / minorityAnswers; null when no gold answer had a minority class. */
  minorityRecall: number | null;
}

export interface GoldBatch extends GoldScore {
  /** 1-based batch number in time order; the last batch may hold fewer than batchSize answers. */
  index: number;
  from: string;
  to: string;
}

export interface GoldAnnotatorReport extends GoldScore {
  userId: string;
  name: string;
  batches: GoldBatch[];
  /** Accuracy below the project's threshold with at least GOLD_MIN_ANSWERS answers. */
  flagged: boolean;
  /** Why there is no verdict yet (too few answers), or why they are flagged; null when they pass. */
  note: string | null;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join("\u0000") === [...b].sort().join("\u0000");

/** Whether an answer matches the gold answer: single-label compares the (first) label, multi-label the sets. */
export function goldCorrect(gold: readonly string[], answer: readonly string[], multiLabel: boolean): boolean {
  return multiLabel ? sameSet(gold, answer) : answer[0] !== undefined && answer[0] === gold[0];
}

/** Accuracy and minority-class recall over some gold answers. */
export function scoreGold(answers: readonly GoldAnswer[], minority: ReadonlySet<string>, multiLabel: boolean): GoldScore {
  let correct = 0;
  let minorityAnswers = 0;
  let minorityHits = 0;
  for (const a of answers) {
    if (goldCorrect(a.gold, a.answer, multiLabel)) correct++;
    const goldClasses = multiLabel ? a.gold : a.gold.slice(0, 1);
    const given = multiLabel ? a.answer : a.answer.slice(0, 1);
    for (const cls of goldClasses) {
      if (!minority.has(cls)) continue;
      minorityAnswers++;
      if (given.includes(cls)) minorityHits++;
    }
  }
  return {
    answers: answers.length,
    correct,
    accuracy: answers.length ? correct / answers.length : null,
    minorityAnswers,
    minorityHits,
    minorityRecall: minorityAnswers ? minorityHits / minorityAnswers : null,
  };
}

/**
 * Per-annotator gold scores (annotators by name), each with its batches of `batchSize` answers in time order
 * and the flag: accuracy < minAccuracy once at least GOLD_MIN_ANSWERS answers are in.
 */
export function goldAccuracyReport(answers: readonly GoldAnswer[], opts: { minority: readonly string[]; multiLabel: boolean; minAccuracy: number; batchSize: number }): GoldAnnotatorReport[] {
  const minority = new Set(opts.minority);
  const byUser = new Map<string, GoldAnswer[]>();
  for (const a of answers) byUser.set(a.userId, [...(byUser.get(a.userId) ?? []), a]);
  const out: GoldAnnotatorReport[] = [];
  for (const [userId, list] of byUser) {
    const sorted = [...list].sort((a, b) => a.answeredAt.getTime() - b.answeredAt.getTime());
    const score = scoreGold(sorted, minority, opts.multiLabel);
    const batches: GoldBatch[] = [];
    for (let i = 0; i < sorted.length; i += opts.batchSize) {
      const chunk = sorted.slice(i, i + opts.batchSize);
      batches.push({ index: batches.length + 1, from: chunk[0]!.answeredAt.toISOString(), to: chunk.at(-1)!.answeredAt.toISOString(), ...scoreGold(chunk, minority, opts.multiLabel) });
    }
    const enough = score.answers >= GOLD_MIN_ANSWERS;
    const flagged = enough && score.accuracy !== null && score.accuracy < opts.minAccuracy;
    const note = !enough
      ? `${score.answers} gold answer${score.answers === 1 ? "" : "s"}: at least ${GOLD_MIN_ANSWERS} are needed before a verdict`
      : flagged
        ? `accuracy ${(score.accuracy! * 100).toFixed(0)}% is below the project's threshold of ${(opts.minAccuracy * 100).toFixed(0)}%`
        : null;
    out.push({ userId, name: sorted[0]!.userName, ...score, batches, flagged, note });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
}

/**
 * The gold section of the agreement page: per annotator accuracy and minority-class recall on gold, overall
 * and per batch of `batchSize` answers, with the flags. Read by a member with `labels.gold`.
 */
export async function goldReport(ctx: ServiceContext, input: GoldReportInput, opts: { system?: boolean } = {}) {
  const parsed = ZGoldReportInput.parse(input);
  const { project, config } = await access(ctx, parsed.projectId, opts, false);
  const rows = await listGoldAnswers(ctx.db, project.id);
  const goldCases = (await listGoldCases(ctx.db, project.id)).length;
  const annotators = goldAccuracyReport(rows, { minority: config.minorityClasses, multiLabel: config.labelSchema.multiLabel, minAccuracy: config.settings.goldMinAccuracy, batchSize: parsed.batchSize });
  return {
    goldRate: config.settings.goldRate,
    goldMinAccuracy: config.settings.goldMinAccuracy,
    minAnswers: GOLD_MIN_ANSWERS,
    batchSize: parsed.batchSize,
    goldCases,
    minorityClasses: config.minorityClasses,
    annotators,
    flagged: annotators.filter((a) => a.flagged).map((a) => ({ userId: a.userId, name: a.name, accuracy: a.accuracy, answers: a.answers })),
  };
}
