/**
 * Inter-annotator agreement on nominal labels: percent agreement, Cohen's kappa (two annotators),
 * Fleiss' kappa and Krippendorff's alpha (many annotators, missing ratings allowed), each with a
 * bootstrap 95% percentile interval over cases; evidence-span overlap F1.
 *
 * Ratings are a row-major `Int32Array` of shape [cases × annotators]: the category index in
 * [0, categories) or `MISSING` (-1) where that annotator did not rate that case. A multi-label project
 * is measured per class, each class a binary item (0 = absent, 1 = present).
 *
 * Sources: Cohen J. (1960) "A coefficient of agreement for nominal scales", Educ Psychol Meas 20:37–46;
 * Fleiss J.L. (1971) "Measuring nominal scale agreement among many raters", Psychol Bull 76:378–382;
 * Krippendorff K. (2011) "Computing Krippendorff's alpha-reliability" (coincidence matrix, nominal δ).
 */
import type { Rng } from "./rng";

/** Marks a case an annotator did not rate. */
export const MISSING = -1;

/** A ratings table: `values[c * annotators + a]` is annotator a's category for case c, or MISSING. */
export interface Ratings {
  values: Int32Array;
  cases: number;
  annotators: number;
  categories: number;
}

/** A statistic with its bootstrap 95% interval and the number of cases it rests on (cases with ≥ 2 ratings). */
export interface Estimate {
  value: number;
  low: number;
  high: number;
  cases: number;
}

function check(r: Ratings, where: string): void {
  if (!Number.isInteger(r.cases) || r.cases < 0 || !Number.isInteger(r.annotators) || r.annotators < 0) throw new Error(`${where}: cases and annotators must be non-negative integers`);
  if (!Number.isInteger(r.categories) || r.categories < 1) throw new Error(`${where}: categories must be a positive integer, got ${r.categories}`);
  if (r.values.length !== r.cases * r.annotators) throw new Error(`${where}: values has ${r.values.length} entries, expected cases × annotators = ${r.cases * r.annotators}`);
  for (let i = 0; i < r.values.length; i++) {
    const v = r.values[i]!;
    if (v !== MISSING && (v < 0 || v >= r.categories)) throw new Error(`${where}: value ${v} at case ${Math.floor(i / Math.max(1, r.annotators))}, annotator ${i % Math.max(1, r.annotators)} is not a category in [0, ${r.categories}) nor MISSING`);
  }
}

/** Per-case category counts [cases × categories] from ratings (Fleiss' n_ij). */
export function categoryCounts(r: Ratings): Float64Array {
  check(r, "categoryCounts");
  const out = new Float64Array(r.cases * r.categories);
  for (let c = 0; c < r.cases; c++) {
    for (let a = 0; a < r.annotators; a++) {
      const v = r.values[c * r.annotators + a]!;
      if (v !== MISSING) out[c * r.categories + v]! += 1;
    }
  }
  return out;
}

/** Number of cases with at least two ratings (the cases every statistic here rests on). */
export function pairableCases(r: Ratings, caseIndex?: Int32Array): number {
  let n = 0;
  const m = caseIndex ? caseIndex.length : r.cases;
  for (let i = 0; i < m; i++) {
    const c = caseIndex ? caseIndex[i]! : i;
    let k = 0;
    for (let a = 0; a < r.annotators; a++) if (r.values[c * r.annotators + a] !== MISSING) k++;
    if (k >= 2) n++;
  }
  return n;
}

/**
 * Percent agreement: the share of agreeing annotator pairs within a case, averaged over cases with
 * at least two ratings. In [0, 1]; NaN when no case has two ratings.
 */
export function percentAgreement(r: Ratings, caseIndex?: Int32Array): number {
  const m = caseIndex ? caseIndex.length : r.cases;
  const counts = new Float64Array(r.categories);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < m; i++) {
    const c = caseIndex ? caseIndex[i]! : i;
    counts.fill(0);
    let k = 0;
    for (let a = 0; a < r.annotators; a++) {
      const v = r.values[c * r.annotators + a]!;
      if (v !== MISSING) { counts[v]! += 1; k++; }
    }
    if (k < 2) continue;
    let agree = 0;
    for (let j = 0; j < r.categories; j++) agree += counts[j]! * (counts[j]! - 1);
    sum += agree / (k * (k - 1));
    n++;
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * Cohen's kappa of annotators `a` and `b` on the cases both rated: (p_o − p_e) / (1 − p_e), p_e from
 * each annotator's own marginal distribution. NaN when they share no case; 1 when p_e = 1 and they agree
 * on every case (a single category used by both), NaN if p_e = 1 otherwise cannot happen.
 */
export function cohenKappa(r: Ratings, a: number, b: number, caseIndex?: Int32Array): number {
  const m = caseIndex ? caseIndex.length : r.cases;
  const pa = new Float64Array(r.categories);
  const pb = new Float64Array(r.categories);
  let n = 0;
  let agree = 0;
  for (let i = 0; i < m; i++) {
    const c = caseIndex ? caseIndex[i]! : i;
    const x = r.values[c * r.annotators + a]!;
    const y = r.values[c * r.annotators + b]!;
    if (x === MISSING || y === MISSING) continue;
    pa[x]! += 1;
    pb[y]! += 1;
    if (x === y) agree++;
    n++;
  }
  if (n === 0) return NaN;
  let pe = 0;
  for (let j = 0; j < r.categories; j++) pe += (pa[j]! / n) * (pb[j]! / n);
  const po = agree / n;
  if (pe >= 1 - 1e-12) return po >= 1 - 1e-12 ? 1 : NaN;
  return (po - pe) / (1 - pe);
}

/** Cohen's kappa from a square confusion table (row = annotator 1, column = annotator 2), counts. */
export function cohenKappaFromTable(table: readonly (readonly number[])[]): number {
  const k = table.length;
  if (k === 0 || table.some((row) => row.length !== k)) throw new Error("cohenKappaFromTable: the table must be square and non-empty");
  let n = 0, diag = 0;
  const rows = new Float64Array(k), cols = new Float64Array(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    const v = table[i]![j]!;
    if (!(v >= 0)) throw new Error(`cohenKappaFromTable: cell [${i}][${j}] must be a non-negative count, got ${v}`);
    n += v; rows[i]! += v; cols[j]! += v;
    if (i === j) diag += v;
  }
  if (n === 0) return NaN;
  let pe = 0;
  for (let i = 0; i < k; i++) pe += (rows[i]! / n) * (cols[i]! / n);
  if (pe >= 1 - 1e-12) return diag === n ? 1 : NaN;
  return (diag / n - pe) / (1 - pe);
}

/**
 * Fleiss' kappa from per-case category counts [cases × categories]. Cases with fewer than two ratings
 * are left out; with a varying number of raters per case P_i uses each case's own n_i and p_j pools all
 * ratings (equal to Fleiss 1971 when every case has the same number of raters). NaN with no usable case.
 */
export function fleissKappaFromCounts(counts: Float64Array, categories: number, caseIndex?: Int32Array): number {
  const total = counts.length / categories;
  if (!Number.isInteger(total)) throw new Error(`fleissKappaFromCounts: counts has ${counts.length} entries, not a multiple of categories = ${categories}`);
  const m = caseIndex ? caseIndex.length : total;
  const pj = new Float64Array(categories);
  let pSum = 0, used = 0, ratings = 0;
  for (let i = 0; i < m; i++) {
    const c = caseIndex ? caseIndex[i]! : i;
    let ni = 0, sq = 0;
    for (let j = 0; j < categories; j++) { const v = counts[c * categories + j]!; ni += v; sq += v * v; }
    if (ni < 2) continue;
    for (let j = 0; j < categories; j++) pj[j]! += counts[c * categories + j]!;
    ratings += ni;
    pSum += (sq - ni) / (ni * (ni - 1));
    used++;
  }
  if (used === 0) return NaN;
  const pBar = pSum / used;
  let pe = 0;
  for (let j = 0; j < categories; j++) { const p = pj[j]! / ratings; pe += p * p; }
  if (pe >= 1 - 1e-12) return pBar >= 1 - 1e-12 ? 1 : NaN;
  return (pBar - pe) / (1 - pe);
}

/** Fleiss' kappa of a ratings table (see `fleissKappaFromCounts`). */
export function fleissKappa(r: Ratings, caseIndex?: Int32Array): number {
  return fleissKappaFromCounts(categoryCounts(r), r.categories, caseIndex);
}

/**
 * Krippendorff's alpha for nominal data, missing ratings allowed: α = 1 − (n − 1)·Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k,
 * where o is the coincidence matrix over cases with at least two ratings (each case's m_u(m_u − 1) ordered
 * pairs weighted 1/(m_u − 1)), n_c its margins and n the number of pairable values. NaN with no pairable
 * case; 1 when every value falls in one category.
 */
export function krippendorffAlphaNominal(r: Ratings, caseIndex?: Int32Array): number {
  const k = r.categories;
  const m = caseIndex ? caseIndex.length : r.cases;
  const counts = new Float64Array(k);
  const nc = new Float64Array(k);
  let disagree = 0; // Σ_{c≠k} o_ck
  let n = 0;
  for (let i = 0; i < m; i++) {
    const c = caseIndex ? caseIndex[i]! : i;
    counts.fill(0);
    let mu = 0;
    for (let a = 0; a < r.annotators; a++) {
      const v = r.values[c * r.annotators + a]!;
      if (v !== MISSING) { counts[v]! += 1; mu++; }
    }
    if (mu < 2) continue;
    let same = 0;
    for (let j = 0; j < k; j++) { same += counts[j]! * (counts[j]! - 1); nc[j]! += counts[j]!; }
    disagree += (mu * (mu - 1) - same) / (mu - 1);
    n += mu;
  }
  if (n === 0) return NaN;
  let sq = 0;
  for (let j = 0; j < k; j++) sq += nc[j]! * nc[j]!;
  const expected = n * n - sq; // Σ_{c≠k} n_c n_k
  if (expected <= 0) return 1;
  return 1 - ((n - 1) * disagree) / expected;
}

/**
 * A statistic with a bootstrap 95% percentile interval: `replicates` resamples of the cases with
 * replacement (seeded `rng`); replicates where the statistic is undefined (NaN) are dropped. `cases` is
 * the number of cases with at least two ratings. Interval bounds are NaN when fewer than 20 replicates
 * are defined.
 */
export function bootstrapEstimate(r: Ratings, statistic: (r: Ratings, caseIndex?: Int32Array) => number, rng: Rng, replicates = 1000): Estimate {
  check(r, "bootstrapEstimate");
  if (!Number.isInteger(replicates) || replicates < 1) throw new Error(`bootstrapEstimate: replicates must be a positive integer, got ${replicates}`);
  const value = statistic(r);
  const cases = pairableCases(r);
  if (r.cases === 0) return { value, low: NaN, high: NaN, cases };
  const idx = new Int32Array(r.cases);
  const draws: number[] = [];
  for (let b = 0; b < replicates; b++) {
    for (let i = 0; i < r.cases; i++) idx[i] = rng.int(r.cases);
    const v = statistic(r, idx);
    if (Number.isFinite(v)) draws.push(v);
  }
  if (draws.length < 20) return { value, low: NaN, high: NaN, cases };
  draws.sort((x, y) => x - y);
  return { value, low: quantile(draws, 0.025), high: quantile(draws, 0.975), cases };
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Pairwise results for an annotator×annotator matrix: Cohen's kappa, percent agreement and shared cases per pair. */
export interface PairMatrix {
  kappa: Float64Array;
  agreement: Float64Array;
  shared: Int32Array;
  annotators: number;
}

/** Cohen's kappa, percent agreement and the number of shared cases for every annotator pair (symmetric, row-major). */
export function pairMatrix(r: Ratings): PairMatrix {
  check(r, "pairMatrix");
  const n = r.annotators;
  const kappa = new Float64Array(n * n).fill(NaN);
  const agreement = new Float64Array(n * n).fill(NaN);
  const shared = new Int32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0, eq = 0;
      for (let c = 0; c < r.cases; c++) {
        const x = r.values[c * n + a]!, y = r.values[c * n + b]!;
        if (x === MISSING || y === MISSING) continue;
        s++;
        if (x === y) eq++;
      }
      const k = a === b ? (s > 0 ? 1 : NaN) : cohenKappa(r, a, b);
      const p = s > 0 ? eq / s : NaN;
      for (const [i, j] of [[a, b], [b, a]] as const) {
        kappa[i * n + j] = k;
        agreement[i * n + j] = p;
        shared[i * n + j] = s;
      }
    }
  }
  return { kappa, agreement, shared, annotators: n };
}

/** An evidence span: half-open [start, end) in characters of the narrative, with its label key. */
export interface SpanLike {
  start: number;
  end: number;
  label: string;
}

/**
 * Overlap F1 of two annotators' evidence spans on one narrative, at character level per label:
 * 2·|A ∩ B| / (|A| + |B|), where A and B are the sets of (label, character) pairs covered (overlapping
 * spans of one annotator count a character once). NaN when neither marked any character.
 */
export function spanOverlapF1(a: readonly SpanLike[], b: readonly SpanLike[]): number {
  const cover = (spans: readonly SpanLike[]) => {
    const byLabel = new Map<string, [number, number][]>();
    for (const s of spans) {
      if (!(Number.isFinite(s.start) && Number.isFinite(s.end))) throw new Error(`spanOverlapF1: span bounds must be finite numbers, got [${s.start}, ${s.end})`);
      if (s.end <= s.start) continue;
      const list = byLabel.get(s.label) ?? [];
      list.push([s.start, s.end]);
      byLabel.set(s.label, list);
    }
    // Merge overlapping intervals per label.
    const merged = new Map<string, [number, number][]>();
    for (const [label, list] of byLabel) {
      list.sort((x, y) => x[0] - y[0]);
      const out: [number, number][] = [];
      for (const [s, e] of list) {
        const last = out[out.length - 1];
        if (last && s <= last[1]) last[1] = Math.max(last[1], e);
        else out.push([s, e]);
      }
      merged.set(label, out);
    }
    return merged;
  };
  const ca = cover(a), cb = cover(b);
  const size = (m: Map<string, [number, number][]>) => [...m.values()].flat().reduce((t, [s, e]) => t + e - s, 0);
  const sa = size(ca), sb = size(cb);
  if (sa + sb === 0) return NaN;
  let inter = 0;
  for (const [label, xs] of ca) {
    const ys = cb.get(label);
    if (!ys) continue;
    let i = 0, j = 0;
    while (i < xs.length && j < ys.length) {
      const lo = Math.max(xs[i]![0], ys[j]![0]);
      const hi = Math.min(xs[i]![1], ys[j]![1]);
      if (hi > lo) inter += hi - lo;
      if (xs[i]![1] < ys[j]![1]) i++;
      else j++;
    }
  }
  return (2 * inter) / (sa + sb);
}
