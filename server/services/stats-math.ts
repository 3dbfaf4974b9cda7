/**
 * Small pure helpers of the selection-statistics service: histograms on shared bin edges, whether a
 * case is minority (by the training-label rule), and reading the free-form SelectionRound.stats JSON.
 */
import type { Histogram } from "@/contracts/selection-stats";
import { trainingLabel, type AnnotationVote } from "./training-label";

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
 * Whether a case is a minority case, by THE training-label rule (server/services/training-label.ts
 * `trainingLabel`, the one training, the select job, the simulation and the export use): its label —
 * the adjudicated one, else the first label held by a strict majority of its annotators' latest
 * submitted versions — is a minority class. The annotations are the case's SUBMITTED and ADJUDICATED rows.
 *
 * null when the rule gives no label from annotations: nobody annotated the case yet, or its annotators
 * disagree without a majority (e.g. 1–1) and nobody adjudicated — such a case waits in the adjudication
 * queue, is not trained on, and so is not counted as found either (`awaitingAdjudication` says how many).
 * The imported label is not asked: a round's outcome is what its annotators found.
 */
export function isMinorityCase(annotations: readonly AnnotationVote[], minorityClasses: readonly string[]): boolean | null {
  const decided = trainingLabel(annotations, null);
  return decided.label === null ? null : minorityClasses.includes(decided.label);
}

/** Annotated (a submitted or adjudicated label) but without a training label: annotators split, no adjudication yet. */
export function awaitsAdjudication(annotations: readonly AnnotationVote[]): boolean {
  const decided = trainingLabel(annotations, null);
  return decided.label === null && decided.voters > 0;
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
