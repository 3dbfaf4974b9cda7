/**
 * Human-facing output of a simulation: the markdown results table (stdout and docs), the
 * RADS exact-vs-scaled comparison, and the learning-curve chart. Pure string functions.
 */
import type { MeanStd, RunResult, SimulationResult } from "../../workers/ml/simulation";
import { renderLineChart, type Panel } from "./svg-chart";

export function fmtMeanStd(m: MeanStd, digits = 3): string {
  if (m.n === 0 || !Number.isFinite(m.mean)) return "n/a";
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}

function table(header: string[], rows: string[][], alignRight: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => (alignRight[c] ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join(" | ")} |`;
  const sep = `|${widths.map((w, c) => (alignRight[c] ? `${"-".repeat(w + 1)}:` : `${"-".repeat(w + 2)}`)).join("|")}|`;
  return [line(header), sep, ...rows.map(line)].join("\n");
}

/**
 * The main table: one row per strategy × budget with the final-round metrics (mean ± std over
 * seeds), plus one "seed set only" row (round 0 is the same head for every strategy).
 */
export function resultsTable(result: SimulationResult, opts: { showMacro: boolean }): string {
  // The stopping columns appear when the runs carry the estimate (workers/ml/stopping.ts).
  const stopping = result.runs.some((r) => r.curve.some((p) => p.remainingMinority !== undefined));
  // With label noise (--noise) every row names its setting, and each setting has its own seed-set row
  // (the round-0 head learns the seed set's noisy labels).
  const noises = noiseSettings(result);
  const noisy = noises.some((n) => n !== "none");
  const header = [
    "strategy", ...(noisy ? ["label noise"] : []), "B", "rounds", "labels", "minority F1", ...(opts.showMacro ? ["macro F1 (minority classes)"] : []), "minority AUPRC", "hit rate", "pool prior", "select s/round",
    ...(stopping ? ["remaining minority: est [lo, hi] vs truth", "interval coverage"] : []),
  ];
  const rows: string[][] = [];
  for (const noise of noises) {
    const first = result.aggregates.find((a) => (a.noise ?? "none") === noise);
    if (!first) continue;
    const p0 = first.curve[0]!;
    rows.push([
      "(seed set only)", ...(noisy ? [noise] : []), "–", "0", p0.labelled.mean.toFixed(0), fmtMeanStd(p0.minorityF1), ...(opts.showMacro ? [fmtMeanStd(p0.minorityMacroF1)] : []), fmtMeanStd(p0.minorityAuprc), "–", fmtMeanStd(first.poolPrior), "–",
      ...(stopping ? stoppingCells(runsOf(result, first), 0) : []),
    ]);
  }
  for (const a of result.aggregates) {
    rows.push([
      a.strategy + (a.coldStartRounds > 0 ? ` (${a.coldStartRounds} cold-start rounds)` : ""),
      ...(noisy ? [a.noise ?? "none"] : []),
      String(a.budget),
      String(a.final.round),
      a.final.labelled.mean.toFixed(0),
      fmtMeanStd(a.final.minorityF1),
      ...(opts.showMacro ? [fmtMeanStd(a.final.minorityMacroF1)] : []),
      fmtMeanStd(a.final.minorityAuprc),
      fmtMeanStd(a.final.cumulativeHitRate),
      fmtMeanStd(a.poolPrior),
      fmtSeconds(a.selectMs),
      ...(stopping ? stoppingCells(runsOf(result, a), null) : []),
    ]);
  }
  return table(header, rows, header.map((_, c) => c > (noisy ? 1 : 0)));
}

/** The label-noise settings of a result in table order ("none" for results without noise). */
export function noiseSettings(result: Pick<SimulationResult, "aggregates">): string[] {
  return [...new Set(result.aggregates.map((a) => a.noise ?? "none"))];
}

const noiseOf = (r: { noise?: string }) => r.noise ?? "none";

function runsOf(result: SimulationResult, a: { strategy: string; budget: number; noise?: string }): RunResult[] {
  return result.runs.filter((r) => r.strategy === a.strategy && r.budget === a.budget && noiseOf(r) === noiseOf(a));
}

/**
 * How each strategy degrades with label noise (--noise): per strategy × budget the final minority F1
 * and AUPRC (mean over seeds) at every noise setting, with the change from noise-free (paired by seed,
 * mean ± std). Null without noise settings.
 */
export function noiseTable(result: SimulationResult): string | null {
  const noises = noiseSettings(result).filter((n) => n !== "none");
  if (noises.length === 0) return null;
  const last = (r: RunResult) => r.curve[r.curve.length - 1]!;
  const clean = result.aggregates.filter((a) => noiseOf(a) === "none");
  const rows = clean.map((a) => {
    const base = runsOf(result, a);
    const cells = noises.flatMap((noise) => {
      const b = result.aggregates.find((x) => x.strategy === a.strategy && x.budget === a.budget && noiseOf(x) === noise);
      if (!b) return ["n/a", "n/a"];
      const runs = runsOf(result, b);
      return [
        `${b.final.minorityF1.mean.toFixed(3)} (${fmtSigned(pairedDiff(base, runs, (r) => last(r).minorityF1))})`,
        `${b.final.minorityAuprc.mean.toFixed(3)} (${fmtSigned(pairedDiff(base, runs, (r) => last(r).minorityAuprc))})`,
      ];
    });
    return [a.strategy, String(a.budget), a.final.minorityF1.mean.toFixed(3), a.final.minorityAuprc.mean.toFixed(3), ...cells];
  });
  const header = ["strategy", "B", "F1, no noise", "AUPRC, no noise", ...noises.flatMap((n) => [`F1, ${n} (Δ)`, `AUPRC, ${n} (Δ)`])];
  return table(header, rows, header.map((_, c) => c > 0));
}

/**
 * The stopping check of one table row: the remaining-minority estimate, its 90 % interval and the
 * truth at `round` (null = each run's last round), means over seeds; and the coverage, the share of
 * all estimated rounds (every round ≥ `round` or ≥ 0, every seed) whose interval holds the truth.
 */
function stoppingCells(runs: RunResult[], round: number | null): string[] {
  const at = runs.map((r) => (round === null ? r.curve[r.curve.length - 1] : r.curve[round])?.remainingMinority).filter((x) => x !== undefined);
  const all = runs.flatMap((r) => (round === null ? r.curve : r.curve.slice(0, round + 1)).map((p) => p.remainingMinority)).filter((x) => x !== undefined);
  if (at.length === 0) return ["n/a", "n/a"];
  const mean = (f: (x: (typeof at)[number]) => number) => at.reduce((s, x) => s + f(x), 0) / at.length;
  const covered = all.filter((x) => x.truth >= x.lo && x.truth <= x.hi).length;
  return [
    `${mean((x) => x.estimate).toFixed(1)} [${mean((x) => x.lo).toFixed(1)}, ${mean((x) => x.hi).toFixed(1)}] vs ${mean((x) => x.truth).toFixed(1)}`,
    `${((100 * covered) / all.length).toFixed(0)} % of ${all.length}`,
  ];
}

function fmtSeconds(m: MeanStd): string {
  if (m.n === 0 || !Number.isFinite(m.mean)) return "n/a";
  return (m.mean / 1000).toFixed(m.mean < 100 ? 3 : 2);
}

function pairedDiff(a: RunResult[], b: RunResult[], pick: (r: RunResult) => number): MeanStd {
  const bySeed = new Map(a.map((r) => [r.seed, r]));
  const diffs: number[] = [];
  for (const rb of b) {
    const ra = bySeed.get(rb.seed);
    if (ra) diffs.push(pick(rb) - pick(ra));
  }
  const v = diffs.filter(Number.isFinite);
  if (v.length === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

function jaccard(a: Int32Array, b: Int32Array): number {
  const sa = new Set(a);
  let inter = 0;
  for (const x of b) if (sa.has(x)) inter++;
  const union = sa.size + b.length - inter;
  return union === 0 ? NaN : inter / union;
}

/**
 * RADS scaled vs exact, paired by seed (same seed set, same round-1 model and MC masks):
 * differences (scaled − exact) of the final metrics, the overlap of the round-1 queues (the one
 * round where both modes see identical inputs), and the selection time of each.
 * Returns null when the result lacks either mode.
 */
export function exactVsScaledTable(full: SimulationResult, exactLabel = "rads-exact", scaledLabel = "rads-scaled"): string | null {
  // Compared without label noise (the noisy rows have their own table, noiseTable).
  const result = { ...full, runs: full.runs.filter((r) => noiseOf(r) === "none"), aggregates: full.aggregates.filter((a) => noiseOf(a) === "none") };
  const budgets = [...new Set(result.runs.map((r) => r.budget))];
  const rows: string[][] = [];
  for (const b of budgets) {
    const ex = result.runs.filter((r) => r.budget === b && r.strategy === exactLabel);
    const sc = result.runs.filter((r) => r.budget === b && r.strategy === scaledLabel);
    if (ex.length === 0 || sc.length === 0) continue;
    const last = (r: RunResult) => r.curve[r.curve.length - 1]!;
    const overlap = sc
      .map((s) => {
        const e = ex.find((r) => r.seed === s.seed);
        return e && e.selected[0] && s.selected[0] ? jaccard(e.selected[0], s.selected[0]) : NaN;
      })
      .filter(Number.isFinite);
    const meanOf = (v: number[]) => (v.length ? v.reduce((x, y) => x + y, 0) / v.length : NaN);
    const exAgg = result.aggregates.find((a) => a.strategy === exactLabel && a.budget === b)!;
    const scAgg = result.aggregates.find((a) => a.strategy === scaledLabel && a.budget === b)!;
    rows.push([
      String(b),
      String(Math.min(ex.length, sc.length)),
      fmtSigned(pairedDiff(ex, sc, (r) => last(r).minorityF1)),
      fmtSigned(pairedDiff(ex, sc, (r) => last(r).minorityAuprc)),
      fmtSigned(pairedDiff(ex, sc, (r) => last(r).cumulativeHitRate)),
      overlap.length ? meanOf(overlap).toFixed(2) : "n/a",
      fmtSeconds(exAgg.selectMs),
      fmtSeconds(scAgg.selectMs),
    ]);
  }
  if (rows.length === 0) return null;
  return table(
    ["B", "seeds", "Δ minority F1 (scaled − exact)", "Δ AUPRC", "Δ hit rate", "round-1 queue overlap (Jaccard)", "exact s/round", "scaled s/round"],
    rows,
    [true, true, true, true, true, true, true, true],
  );
}

function fmtSigned(m: MeanStd): string {
  if (m.n === 0) return "n/a";
  const s = m.mean >= 0 ? "+" : "−";
  return `${s}${Math.abs(m.mean).toFixed(3)} ± ${m.std.toFixed(3)}`;
}

/** Learning curves: one column per budget, rows minority F1 and minority AUPRC, mean ± std bands. */
export function learningCurveSvg(result: SimulationResult, title: string, subtitle: string): string {
  const budgets = [...new Set(result.aggregates.map((a) => a.budget))];
  const panels: Panel[] = [];
  const metrics = [
    { key: "minorityF1" as const, row: 0 },
    { key: "minorityAuprc" as const, row: 1 },
  ];
  budgets.forEach((b, col) => {
    for (const m of metrics) {
      panels.push({
        title: `${m.row === 0 ? "minority F1" : "minority AUPRC"} · B = ${b} per round`,
        row: m.row,
        col,
        series: result.aggregates
          .filter((a) => a.budget === b)
          .map((a) => ({
            label: noiseOf(a) === "none" ? a.strategy : `${a.strategy} (noise ${noiseOf(a)})`,
            points: a.curve.map((p) => ({ x: p.labelled.mean, y: p[m.key].mean, lo: p[m.key].mean - p[m.key].std, hi: p[m.key].mean + p[m.key].std })),
          })),
      });
    }
  });
  return renderLineChart(panels, {
    title,
    subtitle,
    rowYLabels: ["minority F1 (test)", "minority AUPRC (test)"],
    xLabel: "labelled cases",
    rowYDomains: [[0, 1], [0, 1]],
    panelWidth: budgets.length > 3 ? 300 : 340,
    panelHeight: 250,
  });
}

/**
 * Platform vs notebook, paired by seed (same split, seed set and rounds; for random the very same
 * selected cases): per budget and pair (random vs notebook-random, entropy vs notebook-entropy),
 * Δ = platform − notebook of the final minority F1 and AUPRC (mean ± std over seeds) and in how
 * many seeds the platform was at least as good. Null when the result has no notebook rows.
 */
export function notebookComparisonTable(result: SimulationResult): string | null {
  const budgets = [...new Set(result.runs.map((r) => r.budget))];
  const pairs: [string, string][] = [["random", "notebook-random"], ["entropy", "notebook-entropy"]];
  const last = (r: RunResult) => r.curve[r.curve.length - 1]!;
  const rows: string[][] = [];
  for (const [platform, notebook] of pairs) {
    for (const b of budgets) {
      const pl = result.runs.filter((r) => r.budget === b && r.strategy === platform);
      const nb = result.runs.filter((r) => r.budget === b && r.strategy === notebook);
      if (pl.length === 0 || nb.length === 0) continue;
      const atLeast = (pick: (r: RunResult) => number) => {
        let k = 0, n = 0;
        for (const p of pl) {
          const q = nb.find((r) => r.seed === p.seed);
          if (!q) continue;
          n++;
          if (pick(p) >= pick(q)) k++;
        }
        return `${k} of ${n}`;
      };
      rows.push([
        `${platform} vs ${notebook}`,
        String(b),
        fmtSigned(pairedDiff(nb, pl, (r) => last(r).minorityF1)),
        atLeast((r) => last(r).minorityF1),
        fmtSigned(pairedDiff(nb, pl, (r) => last(r).minorityAuprc)),
        atLeast((r) => last(r).minorityAuprc),
      ]);
    }
  }
  if (rows.length === 0) return null;
  return table(["pair (paired by seed)", "B", "Δ minority F1 (platform − notebook)", "seeds ≥", "Δ minority AUPRC", "seeds ≥"], rows, [false, true, true, true, true, true]);
}
