/**
 * Selection statistics for data scientists: per round what RADS (or the cold start) did and why
 * — parameters, π̂ beside ρ, the agent's return curve, the selected cases' BALD/entropy/utility
 * against the pool's — and, once annotated, the round's minority hit rate beside the pool prior;
 * across rounds, labels over time and the learning curve of the model versions.
 *
 * Round statistics are read from SelectionRound.stats as the select job writes them
 * (workers/ml/rads `selectWithRads` stats, plus `poolHistograms`, see contracts/selection-stats.ts).
 */
import { ZPoolHistograms, type Histogram, type ProjectIdInput } from "@/contracts/selection-stats";
import { countFirstLabelsPerDay, listModelVersionsOfProject, listPoolPredictions, listProjectsNamed, listRoundsWithItems } from "../db/stats-repo";
import type { ServiceContext } from "./context";
import { toMetricsView, toTrainingSummary } from "./model-metrics";
import { minorityWatch } from "./minority-watch";
import { parseRemainingMinority, parseRemainingMinorityStatus } from "@/contracts/remaining-minority";
import { selectionReason } from "./selection-reason";
import { memberProjectIds, requireProject } from "./project-access";
import { asNumber, asNumberArray, asObject, awaitsAdjudication, entropyOf, equalWidthEdges, histogram, isMinorityCase, latestLabelsPerAuthor, minorityShare } from "./stats-math";

/** The caller's projects whose selection statistics their project role may see. */
export async function listSelectionProjects(ctx: ServiceContext) {
  return listProjectsNamed(ctx.db, await memberProjectIds(ctx, "selection.view", { includeArchived: true }));
}

const FEATURES = ["bald", "entropy", "utility"] as const;
type FeatureName = (typeof FEATURES)[number];

export interface HistogramBin {
  from: number;
  to: number;
  pool: number | null;
  selected: number;
  /** Shares (count / total) so that a pool of thousands and ten selected cases share one axis. */
  poolShare: number | null;
  selectedShare: number;
}

export interface FeatureHistogram {
  feature: FeatureName;
  /** Where the pool's distribution comes from: the select job's record, the stored predictions now (entropy only), or nowhere. */
  poolSource: "recorded" | "predictions" | null;
  bins: HistogramBin[];
}

function compareHistograms(feature: FeatureName, selectedValues: number[], pool: Histogram | null, poolSource: FeatureHistogram["poolSource"]): FeatureHistogram {
  const edges = pool?.edges ?? equalWidthEdges(selectedValues);
  const selected = histogram(selectedValues, edges);
  const poolTotal = pool ? pool.counts.reduce((a, b) => a + b, 0) : 0;
  const selectedTotal = selectedValues.length;
  return {
    feature,
    poolSource: pool ? poolSource : null,
    bins: selected.counts.map((count, i) => ({
      from: edges[i]!,
      to: edges[i + 1]!,
      pool: pool ? pool.counts[i]! : null,
      selected: count,
      poolShare: pool && poolTotal > 0 ? pool.counts[i]! / poolTotal : null,
      selectedShare: selectedTotal > 0 ? count / selectedTotal : 0,
    })),
  };
}

/** The agent's return per episode with a 10-episode trailing moving average, thinned to ≤ 300 points. */
function returnCurve(values: number[] | null): { episode: number; value: number; movingAverage: number }[] {
  if (!values) return [];
  const window = 10;
  const out: { episode: number; value: number; movingAverage: number }[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window]!;
    out.push({ episode: i + 1, value: v, movingAverage: sum / Math.min(i + 1, window) });
  });
  const step = Math.max(1, Math.ceil(out.length / 300));
  return out.filter((_, i) => i % step === 0 || i === out.length - 1);
}

/** Simple parameters (numbers, strings, booleans, short numeric arrays) for the round's parameter table. */
function flatParams(params: unknown): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  const walk = (prefix: string, value: unknown) => {
    if (value === null || value === undefined) return;
    if (typeof value === "number") out.push({ key: prefix, value: Number.isInteger(value) ? String(value) : value.toPrecision(4) });
    else if (typeof value === "string" || typeof value === "boolean") out.push({ key: prefix, value: String(value) });
    else if (Array.isArray(value)) {
      if (value.length <= 8 && value.every((v) => typeof v === "number" || typeof v === "string")) out.push({ key: prefix, value: value.map((v) => (typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(3) : String(v))).join(", ") });
    } else if (typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    }
  };
  walk("", params);
  return out;
}

export async function getSelectionStats(ctx: ServiceContext, input: ProjectIdInput) {
  const { project, config } = await requireProject(ctx, input.projectId, "selection.view");
  const labels = config.labelSchema.labels.map((l) => ({ key: l.key, name: l.name }));
  const labelOrder = labels.map((l) => l.key);
  const nameOf = new Map(labels.map((l) => [l.key, l.name]));
  const minority = config.minorityClasses;
  const rounds = await listRoundsWithItems(ctx.db, project.id);

  const roundViews = [];
  for (const round of rounds) {
    const stats = asObject(round.stats);
    const classKeys = (Array.isArray(stats.classes) && stats.classes.every((c) => typeof c === "string") ? (stats.classes as string[]) : labelOrder);
    const priorPerClass = asNumberArray(stats.prior);
    const rhoPerClass = asNumberArray(stats.rho);
    // The select job records π̂₊ itself (pseudoMinorityPrior); otherwise it is summed from the per-class prior.
    const poolPrior = asNumber(stats.pseudoMinorityPrior) ?? minorityShare(priorPerClass, stats.minorityClasses, classKeys, minority);
    const rho = typeof stats.rho === "number" ? stats.rho : minorityShare(rhoPerClass, stats.minorityClasses, classKeys, minority);

    const selected = round.items.map((item) => {
      const f = asObject(item.features);
      const pseudo = asNumber(f.pseudoLabel);
      const pseudoKey = typeof f.pseudoLabelKey === "string" ? f.pseudoLabelKey : pseudo !== null ? (classKeys[pseudo] ?? `class ${pseudo}`) : typeof f.pseudoLabel === "string" ? f.pseudoLabel : null;
      const annotations = item.case.annotations;
      return {
        rank: item.rank,
        caseId: item.case.id,
        externalId: item.case.externalId,
        status: item.status,
        bald: asNumber(f.bald),
        entropy: asNumber(f.entropy),
        expectedEntropy: asNumber(f.expectedEntropy),
        utility: asNumber(f.utility),
        classWeight: asNumber(f.classWeight),
        pseudoLabel: pseudoKey ? (nameOf.get(pseudoKey) ?? pseudoKey) : null,
        pseudoMinority: pseudoKey ? minority.includes(pseudoKey) : null,
        byPolicy: typeof f.byPolicy === "number" ? f.byPolicy === 1 : typeof f.byPolicy === "boolean" ? f.byPolicy : null,
        labels: [...new Set(latestLabelsPerAuthor(annotations.filter((a) => a.kind === "SUBMITTED")).flat())].map((k) => nameOf.get(k) ?? k),
        /** The reason a clinician sees on the case (with the class: data scientists see predictions). */
        reason: selectionReason({ features: f, strategy: round.strategy, coldStart: round.coldStart, labels, minorityClasses: minority, showPredictions: true, probabilities: null }).text,
        /** By the training-label rule (stats-math `isMinorityCase`); null = no label yet (not annotated, or awaiting adjudication). */
        minority: isMinorityCase(annotations, minority),
        awaitingAdjudication: awaitsAdjudication(annotations),
      };
    });
    // The hit rate counts the cases with a training label; a split vote counts once adjudicated.
    const annotated = selected.filter((s) => s.minority !== null);
    const hits = annotated.filter((s) => s.minority).length;

    const recorded = ZPoolHistograms.safeParse(stats.poolHistograms ?? {});
    const poolHist = recorded.success ? recorded.data : {};
    let entropyFallback: Histogram | null = null;
    if (!poolHist.entropy && round.modelVersion) {
      const predictions = await listPoolPredictions(ctx.db, project.id, round.modelVersion.id);
      const entropies = predictions
        .map((p) => (Array.isArray(p.probabilities) ? (p.probabilities as unknown[]).filter((v): v is number => typeof v === "number") : Object.values(asObject(p.probabilities)).filter((v): v is number => typeof v === "number")))
        .filter((probs) => probs.length > 1)
        .map(entropyOf);
      if (entropies.length) entropyFallback = histogram(entropies, equalWidthEdges([...entropies, ...selected.map((s) => s.entropy ?? Number.NaN)]));
    }
    const histograms = FEATURES.map((feature) => {
      const values = selected.map((s) => s[feature]).filter((v): v is number => v !== null);
      const recordedPool = poolHist[feature] ?? null;
      const pool = recordedPool ?? (feature === "entropy" ? entropyFallback : null);
      return compareHistograms(feature, values, pool, recordedPool ? "recorded" : "predictions");
    }).filter((h) => h.bins.some((b) => b.selected > 0 || (b.pool ?? 0) > 0));

    roundViews.push({
      id: round.id,
      number: round.number,
      strategy: round.strategy,
      coldStart: round.coldStart,
      /** Why the round is what it is, when the job said (e.g. a cold start because the label set changed under the approved model); one line. */
      reason: typeof stats.reason === "string" ? stats.reason : null,
      createdAt: round.createdAt.toISOString(),
      modelVersion: round.modelVersion?.version ?? null,
      params: flatParams(round.params),
      summary: {
        poolPrior,
        rho,
        priorPerClass: priorPerClass ? priorPerClass.map((value, i) => ({ label: nameOf.get(classKeys[i] ?? "") ?? classKeys[i] ?? `class ${i}`, value })) : [],
        lambda: asNumber(stats.lambda),
        /** What λ weighed in this round: "embedding" (cosine to the cases already chosen) or "probability" (the paper's penalty); null for non-RADS rounds. */
        redundancy: stats.redundancy === "embedding" || stats.redundancy === "probability" ? stats.redundancy : null,
        budget: asNumber(stats.budget) ?? round.items.length,
        k: asNumber(stats.k),
        episodes: asNumber(stats.episodes),
        mode: typeof stats.mode === "string" ? stats.mode : typeof stats.method === "string" ? stats.method : null,
        poolSize: asNumber(stats.poolSize),
        toppedUp: asNumber(stats.toppedUp),
        bestMovingAverage: asNumber(stats.bestMovingAverage),
      },
      returnCurve: returnCurve(asNumberArray(stats.returnCurve)),
      remainingMinority: parseRemainingMinority(stats.remainingMinority),
      /** "estimating" while the select job computes the round's stopping estimate after publishing it; null for rounds written before the field. */
      remainingMinorityStatus: parseRemainingMinorityStatus(stats.remainingMinorityStatus),
      histograms,
      selected,
      outcome: {
        total: selected.length,
        annotated: annotated.length,
        minorityHits: hits,
        hitRate: annotated.length > 0 ? hits / annotated.length : null,
        awaitingAdjudication: selected.filter((s) => s.awaitingAdjudication).length,
      },
    });
  }

  let cumulative = 0;
  const labelsOverTime = (await countFirstLabelsPerDay(ctx.db, project.id)).map((d) => {
    cumulative += d.count;
    return { day: d.day, newLabels: d.count, labels: cumulative };
  });

  const learningCurve = (await listModelVersionsOfProject(ctx.db, project.id))
    .map((m) => {
      const view = toMetricsView(m.metrics, m.params, labels, minority);
      return {
        version: m.version,
        status: m.status,
        labelCount: toTrainingSummary(m.trainingSnapshot).labelCount,
        macroF1: view?.macroF1 ?? null,
        minorityRecall: view?.minorityRecall ?? null,
        minorityAuprc: view?.minorityAuprc ?? null,
      };
    })
    .filter((p) => p.labelCount !== null);

  return {
    project: { id: project.id, name: project.name, minorityClasses: minority.map((k) => nameOf.get(k) ?? k), labels, minTestSupport: config.settings.minTestSupport },
    rounds: roundViews,
    /** Whether the active model sees (almost) no minority case, with what helps (issue 15). */
    minorityWatch: await minorityWatch(ctx.db, project.id, config),
    labelsOverTime,
    learningCurve,
  };
}
