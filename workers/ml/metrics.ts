/**
 * Classifier evaluation on predicted probabilities: everything the model pages chart and the registry stores.
 * All outputs are plain numbers, arrays and null (JSON-safe); undefined quantities are null, never NaN.
 *
 * Definitions (chosen to match scikit-learn so numbers can be cross-checked there):
 * - Predictions are argmax_c p_c (lowest class index on ties).
 * - precision_c = TP/(TP+FP), recall_c = TP/(TP+FN), F1_c = 2PR/(P+R); a 0/0 is reported as 0
 *   (sklearn's zero_division=0).
 * - macro-F1 averages F1_c over the classes that occur in the labels or in the predictions (sklearn's
 *   default label set), so a class absent from both does not drag the mean down.
 * - balanced accuracy = mean recall over the classes that occur in the labels.
 * - AUROC (one-vs-rest, score p_c): the Mann–Whitney statistic (R₊ − n₊(n₊+1)/2)/(n₊n₋) where R₊ is the sum
 *   of the positives' ranks and tied scores share their average rank; null when a class has no positives
 *   or no negatives. macro-AUROC averages the defined ones.
 * - AUPRC = average precision, step-wise without interpolation: AP = Σ_t (R_t − R_{t−1})·P_t over the
 *   distinct score thresholds t in decreasing order (tied scores enter together); null without positives.
 * - ECE: confidence = max_c p_c, M equal-width bins, bin index min(⌊conf·M⌋, M−1) (so [i/M, (i+1)/M), the
 *   last bin closed); ECE = Σ_b (n_b/N)·|accuracy_b − meanConfidence_b|.
 * - log loss = mean −ln max(p_y, 1e-15).
 */
import { argmax } from "./linalg";
import { assertInteger, assertLabels, assertLength, MlInputError } from "./validate";

/** One point of a precision-recall curve at score threshold `threshold` (predict positive when p ≥ threshold). */
export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** One reliability-diagram bin; meanConfidence/accuracy are null for an empty bin. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanConfidence: number | null;
  accuracy: number | null;
}

/** Per-class one-vs-rest numbers. */
export interface ClassMetrics {
  classIndex: number;
  support: number;
  predicted: number;
  precision: number;
  recall: number;
  f1: number;
  auroc: number | null;
  auprc: number | null;
  /** PR curve (descending threshold), thinned to at most `maxCurvePoints` points. */
  prCurve: PrPoint[];
}

/** Everything `evaluateClassifier` reports (JSON-safe). */
export interface ClassifierEvaluation {
  n: number;
  numClasses: number;
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  macroAuroc: number | null;
  macroAuprc: number | null;
  logLoss: number;
  ece: number;
  /** confusion[true][predicted] counts, [C][C]. */
  confusion: number[][];
  perClass: ClassMetrics[];
  reliability: ReliabilityBin[];
}

export interface EvaluateOptions {
  /** Equal-width confidence bins for ECE and the reliability diagram (default 10). */
  bins?: number;
  /** Largest number of points kept per PR curve (default 200); the extreme points are always kept. */
  maxCurvePoints?: number;
}

/** Confusion matrix [C][C] (rows = true class, columns = predicted class) from labels y[N] and predictions pred[N]. */
export function confusionMatrix(y: Int32Array, pred: Int32Array, numClasses: number): number[][] {
  assertLength(pred.length, y.length, "confusionMatrix: predictions vs labels");
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < y.length; i++) m[y[i]!]![pred[i]!]!++;
  return m;
}

/** Indices 0..n-1 sorted by score descending (stable: equal scores keep index order). */
function orderByScoreDesc(scores: Float64Array): Int32Array {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return Int32Array.from(idx);
}

/**
 * One-vs-rest AUROC from scores[N] and binary truth isPos[N] using average ranks for ties (Mann–Whitney U);
 * null when either class is empty.
 */
export function aurocBinary(scores: Float64Array, isPos: Uint8Array): number | null {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += isPos[i]!;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  const order = orderByScoreDesc(scores);
  // Ranks ascend with score, so the descending order position i has rank n − i; ties get the group mean.
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = n - (i + j) / 2;
    for (let t = i; t <= j; t++) if (isPos[order[t]!]) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Step-wise average precision AP = Σ (R_t − R_{t−1})·P_t over distinct thresholds (ties enter together) and the
 * PR points at those thresholds, descending; AP is null when there are no positives.
 */
export function precisionRecallCurve(scores: Float64Array, isPos: Uint8Array): { ap: number | null; points: PrPoint[] } {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += isPos[i]!;
  const order = orderByScoreDesc(scores);
  const points: PrPoint[] = [];
  let tp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < n; ) {
    const s = scores[order[i]!]!;
    let j = i;
    while (j < n && scores[order[j]!] === s) tp += isPos[order[j++]!]!;
    const precision = tp / j;
    const recall = nPos === 0 ? 0 : tp / nPos;
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
    points.push({ threshold: s, precision, recall });
    i = j;
  }
  return { ap: nPos === 0 ? null : ap, points };
}

/** Keeps at most `max` points spread evenly by position, always including the first and last. */
function thin(points: PrPoint[], max: number): PrPoint[] {
  if (points.length <= max) return points;
  const out: PrPoint[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]!);
  return out;
}

/**
 * Reliability bins and ECE from confidences[N] (max probability) and correctness[N] (1 = argmax right),
 * M equal-width bins over [0, 1] (see file header for the bin rule).
 */
export function calibration(confidence: Float64Array, correct: Uint8Array, bins: number): { ece: number; reliability: ReliabilityBin[] } {
  assertInteger(bins, 1, "bins");
  const count = new Float64Array(bins);
  const confSum = new Float64Array(bins);
  const hitSum = new Float64Array(bins);
  for (let i = 0; i < confidence.length; i++) {
    const c = confidence[i]!;
    const b = Math.min(Math.floor(c * bins), bins - 1);
    count[b]!++;
    confSum[b]! += c;
    hitSum[b]! += correct[i]!;
  }
  let ece = 0;
  const n = confidence.length;
  const reliability: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const nb = count[b]!;
    const meanConfidence = nb > 0 ? confSum[b]! / nb : null;
    const accuracy = nb > 0 ? hitSum[b]! / nb : null;
    if (nb > 0) ece += (nb / n) * Math.abs(accuracy! - meanConfidence!);
    reliability.push({ lower: b / bins, upper: (b + 1) / bins, count: nb, meanConfidence, accuracy });
  }
  return { ece, reliability };
}

/**
 * All metrics for probabilities probs[N, C] (row-major, rows summing to ~1) against labels y[N] in 0..C-1.
 * @throws MlInputError on mismatched sizes, N = 0, labels out of range, or NaN/Inf/negative probabilities.
 */
export function evaluateClassifier(
  probs: Float32Array,
  y: Int32Array,
  numClasses: number,
  options: EvaluateOptions = {},
): ClassifierEvaluation {
  const bins = options.bins ?? 10;
  const maxCurvePoints = options.maxCurvePoints ?? 200;
  assertInteger(bins, 1, "bins");
  assertInteger(maxCurvePoints, 2, "maxCurvePoints");
  assertLabels(y, numClasses);
  const n = y.length;
  const c = numClasses;
  if (n === 0) throw new MlInputError("empty-input", "evaluateClassifier: no rows to evaluate");
  assertLength(probs.length, n * c, "evaluateClassifier: probs length vs N·C");
  for (let i = 0; i < probs.length; i++) {
    const v = probs[i]!;
    if (!(v >= 0) || v === Infinity) {
      throw new MlInputError("non-finite", `evaluateClassifier: probability ${v} at row ${Math.floor(i / c)}, class ${i % c} is not a finite non-negative number`);
    }
  }

  const pred = new Int32Array(n);
  const confidence = new Float64Array(n);
  const correct = new Uint8Array(n);
  let hits = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    const p = argmax(probs, i * c, c);
    pred[i] = p;
    confidence[i] = probs[i * c + p]!;
    correct[i] = p === y[i] ? 1 : 0;
    hits += correct[i]!;
    logLoss -= Math.log(Math.max(probs[i * c + y[i]!]!, 1e-15));
  }
  const confusion = confusionMatrix(y, pred, c);

  const perClass: ClassMetrics[] = [];
  const scores = new Float64Array(n);
  const isPos = new Uint8Array(n);
  let f1Sum = 0, f1Count = 0, recallSum = 0, recallCount = 0;
  let aurocSum = 0, aurocCount = 0, auprcSum = 0, auprcCount = 0;
  for (let k = 0; k < c; k++) {
    let support = 0, predicted = 0;
    for (let j = 0; j < c; j++) {
      support += confusion[k]![j]!;
      predicted += confusion[j]![k]!;
    }
    const tp = confusion[k]![k]!;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (support > 0 || predicted > 0) {
      f1Sum += f1;
      f1Count++;
    }
    if (support > 0) {
      recallSum += recall;
      recallCount++;
    }
    for (let i = 0; i < n; i++) {
      scores[i] = probs[i * c + k]!;
      isPos[i] = y[i] === k ? 1 : 0;
    }
    const auroc = aurocBinary(scores, isPos);
    const pr = precisionRecallCurve(scores, isPos);
    if (auroc !== null) {
      aurocSum += auroc;
      aurocCount++;
    }
    if (pr.ap !== null) {
      auprcSum += pr.ap;
      auprcCount++;
    }
    perClass.push({ classIndex: k, support, predicted, precision, recall, f1, auroc, auprc: pr.ap, prCurve: thin(pr.points, maxCurvePoints) });
  }
  const { ece, reliability } = calibration(confidence, correct, bins);
  return {
    n,
    numClasses: c,
    accuracy: hits / n,
    balancedAccuracy: recallCount > 0 ? recallSum / recallCount : 0,
    macroF1: f1Count > 0 ? f1Sum / f1Count : 0,
    macroAuroc: aurocCount > 0 ? aurocSum / aurocCount : null,
    macroAuprc: auprcCount > 0 ? auprcSum / auprcCount : null,
    logLoss: logLoss / n,
    ece,
    confusion,
    perClass,
    reliability,
  };
}
