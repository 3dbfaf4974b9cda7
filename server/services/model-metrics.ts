/**
 * Reading the JSON a train job stores on a ModelVersion (test metrics from
 * workers/ml/metrics.ts `evaluateClassifier`, the training snapshot) into the shape the review
 * page draws, and the comparison rules of a review: deltas and the minority guard.
 *
 * Pure (no database): the JSON columns are free-form, so everything here is defensive — a
 * missing or malformed part becomes null/empty and the page says "not recorded" rather than
 * failing. Numbers are never invented.
 */
import type { ClassifierEvaluation, ClassMetrics, ReliabilityBin } from "@/workers/ml/metrics";

export interface LabelInfo {
  key: string;
  name: string;
}

export interface ClassView {
  key: string;
  name: string;
  minority: boolean;
  support: number;
  precision: number;
  recall: number;
  f1: number;
  auprc: number | null;
  auroc: number | null;
  prCurve: { precision: number; recall: number; threshold: number }[];
}

export interface MetricsView {
  n: number;
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  macroAuprc: number | null;
  macroAuroc: number | null;
  ece: number;
  logLoss: number;
  classes: ClassView[];
  /** confusion[true][predicted], in `classes` order. */
  confusion: number[][];
  reliability: ReliabilityBin[];
  /** Mean over minority classes (null if the project has none among the evaluated classes). */
  minorityRecall: number | null;
  minorityAuprc: number | null;
}

export interface TrainingSummary {
  /** Labelled cases the model was trained on (null when the snapshot does not say). */
  labelCount: number | null;
  /** Selection-round numbers whose labels went into training, ascending. */
  rounds: number[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The evaluation object inside ModelVersion.metrics: stored at the top level or under test/evaluation. */
export function findEvaluation(metrics: unknown): ClassifierEvaluation | null {
  if (!isObject(metrics)) return null;
  const candidates = [metrics, metrics.test, metrics.evaluation, metrics.testMetrics];
  for (const c of candidates) {
    if (isObject(c) && Array.isArray(c.perClass) && Array.isArray(c.confusion)) return c as unknown as ClassifierEvaluation;
  }
  return null;
}

/** Class keys in the model's output order: recorded with the model, else the project's label schema. */
export function modelClassKeys(metrics: unknown, params: unknown, labels: LabelInfo[]): string[] {
  for (const source of [metrics, params]) {
    if (!isObject(source)) continue;
    for (const field of ["classes", "labels", "classKeys"]) {
      const value = source[field];
      if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value as string[];
    }
  }
  return labels.map((l) => l.key);
}

export function toMetricsView(metrics: unknown, params: unknown, labels: LabelInfo[], minorityClasses: string[]): MetricsView | null {
  const evaluation = findEvaluation(metrics);
  if (!evaluation) return null;
  const keys = modelClassKeys(metrics, params, labels);
  const nameOf = new Map(labels.map((l) => [l.key, l.name]));
  const classes: ClassView[] = evaluation.perClass.map((pc: ClassMetrics, i) => {
    const key = keys[pc.classIndex ?? i] ?? `class ${pc.classIndex ?? i}`;
    return {
      key,
      name: nameOf.get(key) ?? key,
      minority: minorityClasses.includes(key),
      support: num(pc.support) ?? 0,
      precision: num(pc.precision) ?? 0,
      recall: num(pc.recall) ?? 0,
      f1: num(pc.f1) ?? 0,
      auprc: num(pc.auprc),
      auroc: num(pc.auroc),
      prCurve: Array.isArray(pc.prCurve) ? pc.prCurve.map((p) => ({ precision: p.precision, recall: p.recall, threshold: p.threshold })) : [],
    };
  });
  const minority = classes.filter((c) => c.minority);
  const mean = (values: (number | null)[]): number | null => {
    const defined = values.filter((v): v is number => v !== null);
    return defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null;
  };
  return {
    n: num(evaluation.n) ?? 0,
    accuracy: num(evaluation.accuracy) ?? 0,
    balancedAccuracy: num(evaluation.balancedAccuracy) ?? 0,
    macroF1: num(evaluation.macroF1) ?? 0,
    macroAuprc: num(evaluation.macroAuprc),
    macroAuroc: num(evaluation.macroAuroc),
    ece: num(evaluation.ece) ?? 0,
    logLoss: num(evaluation.logLoss) ?? 0,
    classes,
    confusion: evaluation.confusion,
    reliability: Array.isArray(evaluation.reliability) ? evaluation.reliability : [],
    minorityRecall: mean(minority.map((c) => c.recall)),
    minorityAuprc: mean(minority.map((c) => c.auprc)),
  };
}

/**
 * Label count and rounds from ModelVersion.trainingSnapshot. Accepts an explicit `labelCount`
 * or a list of trained-on cases (`cases`/`examples`/`annotations`), and rounds as numbers, as
 * `{ number }` objects, or per case (`round`/`roundNumber`).
 */
export function toTrainingSummary(snapshot: unknown): TrainingSummary {
  if (!isObject(snapshot)) return { labelCount: null, rounds: [] };
  let labelCount = num(snapshot.labelCount) ?? num(snapshot.labelled) ?? num(snapshot.size);
  let list: unknown[] | null = null;
  for (const field of ["cases", "examples", "annotations", "items"]) {
    if (Array.isArray(snapshot[field])) {
      list = snapshot[field] as unknown[];
      break;
    }
  }
  if (labelCount === null && list) labelCount = list.length;
  const rounds = new Set<number>();
  const addRound = (v: unknown) => {
    const n = num(v) ?? (isObject(v) ? (num(v.number) ?? num(v.round)) : null);
    if (n !== null) rounds.add(n);
  };
  for (const field of ["rounds", "roundNumbers"]) {
    if (Array.isArray(snapshot[field])) (snapshot[field] as unknown[]).forEach(addRound);
  }
  if (list) {
    for (const item of list) {
      if (isObject(item)) {
        addRound(item.round ?? item.roundNumber);
      }
    }
  }
  return { labelCount, rounds: [...rounds].sort((a, b) => a - b) };
}

export interface GuardFinding {
  classKey: string;
  metric: "recall" | "auprc";
  active: number;
  candidate: number;
  drop: number;
}

/**
 * The review guard: every minority class whose recall or AUPRC is lower in the candidate than
 * in the active model by more than `tolerance` (absolute). Classes the active model did not
 * evaluate, or with an undefined AUPRC on either side, cannot be compared and are left out.
 * A tiny epsilon keeps a drop of exactly the tolerance from flagging through rounding.
 */
export function guardFindings(candidate: MetricsView, active: MetricsView, tolerance: number): GuardFinding[] {
  const findings: GuardFinding[] = [];
  const activeByKey = new Map(active.classes.map((c) => [c.key, c]));
  for (const c of candidate.classes) {
    if (!c.minority) continue;
    const a = activeByKey.get(c.key);
    if (!a) continue;
    const pairs: [GuardFinding["metric"], number | null, number | null][] = [
      ["recall", a.recall, c.recall],
      ["auprc", a.auprc, c.auprc],
    ];
    for (const [metric, before, after] of pairs) {
      if (before === null || after === null) continue;
      const drop = before - after;
      if (drop > tolerance + 1e-12) findings.push({ classKey: c.key, metric, active: before, candidate: after, drop });
    }
  }
  return findings;
}

/** A minority class the guard could not judge: fewer TEST cases than the project's threshold. */
export interface ThinClass {
  classKey: string;
  /** TEST cases of this class (an integer). */
  support: number;
}

/** A minority class below the absolute floor: the candidate finds none of its TEST cases (recall 0). */
export interface FloorFinding {
  classKey: string;
  metric: "recall";
  candidate: number;
  support: number;
}

/**
 * The guard's verdict:
 * - "failed": a minority recall/AUPRC dropped beyond the tolerance (findings), or a minority class is
 *   below the absolute floor (recall 0 on its TEST cases) — whatever the active model did;
 * - "insufficient": nothing failed, but a minority class rests on fewer than `minSupport` TEST cases
 *   (or the candidate evaluated no minority class at all): too few cases to judge, so it cannot pass;
 * - "passed": neither.
 */
export interface GuardVerdict {
  status: "passed" | "failed" | "insufficient";
  tolerance: number;
  minSupport: number;
  /** Drops against the active model (empty without one). */
  findings: GuardFinding[];
  floors: FloorFinding[];
  thin: ThinClass[];
  /** TEST cases per minority class of the candidate, in class order. */
  support: { classKey: string; support: number }[];
}

/**
 * The whole review guard (issue 15): drops against the active model (`guardFindings`), the absolute
 * floor (a minority class with TEST cases and recall 0 fails even when the active model is as bad or
 * there is none) and the support rule (a minority class with fewer than `minSupport` TEST cases is
 * "too few cases to judge": the guard cannot pass). Pure; see GuardVerdict for the outcomes.
 */
export function guardVerdict(candidate: MetricsView, active: MetricsView | null, tolerance: number, minSupport: number): GuardVerdict {
  const findings = active ? guardFindings(candidate, active, tolerance) : [];
  const minority = candidate.classes.filter((c) => c.minority);
  const support = minority.map((c) => ({ classKey: c.key, support: Math.round(c.support) }));
  const floors: FloorFinding[] = minority.filter((c) => c.support > 0 && c.recall <= 0).map((c) => ({ classKey: c.key, metric: "recall", candidate: c.recall, support: Math.round(c.support) }));
  const thin = support.filter((s) => s.support < minSupport);
  const status = findings.length > 0 || floors.length > 0 ? "failed" : thin.length > 0 || minority.length === 0 ? "insufficient" : "passed";
  return { status, tolerance, minSupport, findings, floors, thin, support };
}

export interface Delta {
  metric: string;
  active: number | null;
  candidate: number | null;
  /** candidate − active; null when either is missing. */
  delta: number | null;
  /** Whether a higher value is better (ECE and log loss: lower is better). */
  higherIsBetter: boolean;
  /**
   * The TEST cases the metric rests on (integers): per minority class for the minority metrics,
   * the whole TEST split (one entry, classKey null) for the others.
   */
  support: { classKey: string | null; name: string; support: number }[];
  /** Whether any of those counts is below the project's threshold: "too few cases to judge". */
  tooFew: boolean;
}

/**
 * Candidate − active for each headline metric, with the TEST cases it rests on. Minority metrics rest
 * on each minority class's TEST cases; macro metrics are means over classes, so they rest on every
 * class's TEST cases; accuracy, ECE and log loss on the whole TEST split. `minSupport` (default 1: no
 * rule) marks a metric resting on fewer cases of some class as "too few cases to judge".
 */
export function metricDeltas(candidate: MetricsView, active: MetricsView | null, minSupport = 1): Delta[] {
  const perClass = (classes: ClassView[]) => classes.map((c) => ({ classKey: c.key, name: c.name, support: Math.round(c.support) }));
  const minority = perClass(candidate.classes.filter((c) => c.minority));
  const all = perClass(candidate.classes);
  const whole = [{ classKey: null, name: "all TEST cases", support: Math.round(candidate.n) }];
  const row = (metric: string, pick: (m: MetricsView) => number | null, support: Delta["support"], higherIsBetter = true): Delta => {
    const a = active ? pick(active) : null;
    const c = pick(candidate);
    return { metric, active: a, candidate: c, delta: a !== null && c !== null ? c - a : null, higherIsBetter, support, tooFew: support.length === 0 || support.some((s) => s.support < minSupport) };
  };
  return [
    row("Minority recall", (m) => m.minorityRecall, minority),
    row("Minority AUPRC", (m) => m.minorityAuprc, minority),
    row("Macro F1", (m) => m.macroF1, all),
    row("Macro AUPRC", (m) => m.macroAuprc, all),
    row("Balanced accuracy", (m) => m.balancedAccuracy, all),
    row("Accuracy", (m) => m.accuracy, whole),
    row("ECE", (m) => m.ece, whole, false),
    row("Log loss", (m) => m.logLoss, whole, false),
  ];
}

/** The fewest TEST cases of any minority class (an integer), or null when no minority class was evaluated. */
export function minorityMinSupport(view: MetricsView): number | null {
  const minority = view.classes.filter((c) => c.minority);
  return minority.length ? Math.min(...minority.map((c) => Math.round(c.support))) : null;
}
