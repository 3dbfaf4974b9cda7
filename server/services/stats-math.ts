/**
 * Small pure helpers of the selection-statistics service: histograms on shared bin edges, the
 * consensus label of a case, and reading the free-form SelectionRound.stats JSON.
 */
import type { Histogram } from "@/contracts/selection-stats";

/** `bins` equal-width edges over [min, max] of the values (a degenerate range is widened by ±0.5). */
export function equalWidthEdges(values: readonly number[], bins = 10): number[] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  return Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
}

/**
 * Counts values into [edges[i], edges[i+1]); the last bin is closed. Values outside the edges are
 * clamped into the first/last bin so that every selected case appears on the chart.
 */
export function histogram(values: readonly number[], edges: readonly number[]): Histogram {
  if (edges.length < 2) throw new Error("histogram: at least two edges are needed");
  const counts = new Array<number>(edges.length - 1).fill(0);
  const last = counts.length - 1;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    let bin = last;
    for (let i = 0; i < last; i++) {
      if (v < edges[i + 1]!) {
        bin = i;
        break;
      }
    }
    counts[bin]! += 1;
  }
  return { edges: [...edges], counts };
}

/** Shannon entropy in nats of one probability vector (0·log 0 = 0). */
export function entropyOf(probabilities: readonly number[]): number {
  let h = 0;
  for (const p of probabilities) if (p > 0) h -= p * Math.log(p);
  return h;
}

export interface AnnotationLike {
  authorId: string;
  version: number;
  labels: string[];
}

/**
 * Each author's latest submitted labels for one case (earlier versions were edits, superseded).
 * Returns one label list per author.
 */
export function latestLabelsPerAuthor(annotations: readonly AnnotationLike[]): string[][] {
  const latest = new Map<string, AnnotationLike>();
  for (const a of annotations) {
    const seen = latest.get(a.authorId);
    if (!seen || a.version > seen.version) latest.set(a.authorId, a);
  }
  return [...latest.values()].map((a) => a.labels);
}

/**
 * Whether an annotated case is a minority case: at least half of its annotators (each by their
 * latest version) gave it a minority label. Ties count as minority — with double annotation a
 * disagreement on a rare finding is itself worth having found. null when nobody annotated it.
 */
export function isMinorityCase(annotations: readonly AnnotationLike[], minorityClasses: readonly string[]): boolean | null {
  const perAuthor = latestLabelsPerAuthor(annotations);
  if (perAuthor.length === 0) return null;
  const votes = perAuthor.filter((labels) => labels.some((l) => minorityClasses.includes(l))).length;
  return votes * 2 >= perAuthor.length;
}

/**
 * The consensus label of a case for training/simulation: the most frequent label among its
 * annotators' latest labels (first label of each), ties broken toward a minority class, then by
 * label order; falls back to the imported label.
 */
export function consensusLabel(annotations: readonly AnnotationLike[], importedLabel: string | null, labelOrder: readonly string[], minorityClasses: readonly string[]): string | null {
  const perAuthor = latestLabelsPerAuthor(annotations).map((labels) => labels[0]).filter((l): l is string => typeof l === "string");
  if (perAuthor.length === 0) return importedLabel;
  const counts = new Map<string, number>();
  for (const l of perAuthor) counts.set(l, (counts.get(l) ?? 0) + 1);
  const rankOf = (l: string) => (labelOrder.indexOf(l) === -1 ? Number.MAX_SAFE_INTEGER : labelOrder.indexOf(l));
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || Number(minorityClasses.includes(b[0])) - Number(minorityClasses.includes(a[0])) || rankOf(a[0]) - rankOf(b[0]))[0]![0];
}

type Json = Record<string, unknown>;
export const asObject = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
export const asNumber = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
export const asNumberArray = (v: unknown): number[] | null => (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x)) ? (v as number[]) : null);

/**
 * Sum of a per-class vector over the minority classes. The select job stores class-indexed arrays
 * (prior, rho) with the minority classes as indices (`stats.minorityClasses`); when those are
 * missing, the indices come from the project's label order.
 */
export function minorityShare(perClass: number[] | null, statsMinority: unknown, labelOrder: readonly string[], minorityClasses: readonly string[]): number | null {
  if (!perClass) return null;
  const fromStats = asNumberArray(statsMinority);
  const indices = fromStats ?? minorityClasses.map((k) => labelOrder.indexOf(k)).filter((i) => i >= 0);
  if (indices.length === 0) return null;
  let sum = 0;
  for (const i of indices) sum += perClass[i] ?? 0;
  return sum;
}
