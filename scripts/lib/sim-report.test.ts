import { describe, expect, it } from "vitest";
import { summarizeRuns, type RoundPoint, type RunResult } from "../../workers/ml/simulation";
import { exactVsScaledTable, fmtMeanStd, learningCurveSvg, noiseTable, notebookComparisonTable, resultsTable } from "./sim-report";

function point(round: number, f1: number, hit: number): RoundPoint {
  return {
    round, labelled: 10 + 5 * round, labelledMinority: 1, roundHitRate: hit, cumulativeHitRate: round === 0 ? NaN : hit, trained: true,
    selectedBy: round === 0 ? "" : "x", selectMs: round === 0 ? 0 : 1000, trainMs: 0, strategyStats: {},
    minorityF1: f1, minorityMacroF1: f1, minorityAuprc: f1 + 0.1, perClassF1: [f1],
  };
}

function run(strategy: string, seed: number, finalF1: number, hit: number, firstQueue: number[]): RunResult {
  return { strategy, budget: 5, seed, poolPrior: 0.1, seedSet: Int32Array.from([0]), selected: [Int32Array.from(firstQueue)], curve: [point(0, 0.1, NaN), point(1, finalF1, hit)] };
}

const input = {
  labels: Int32Array.from([0, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
  numClasses: 2,
  minorityClasses: [1],
  testIndices: Int32Array.from([8, 9]),
  strategies: [{ label: "rads-exact", strategy: null as never }, { label: "rads-scaled", strategy: null as never }],
  budgets: [5],
  seeds: [1, 2],
};
const result = summarizeRuns(input, [
  run("rads-exact", 1, 0.5, 0.2, [1, 2, 3, 4, 5]),
  run("rads-exact", 2, 0.3, 0.4, [1, 2, 3, 4, 5]),
  run("rads-scaled", 1, 0.6, 0.2, [1, 2, 3, 6, 7]), // overlap 3 of 7 → 3/7
  run("rads-scaled", 2, 0.3, 0.6, [1, 2, 3, 4, 5]), // identical → 1
]);

describe("sim-report with label noise", () => {
  const noisyInput = { ...input, noise: [{ kind: "none" as const }, { kind: "minority" as const, rate: 0.3 }] };
  const withNoise = (r: RunResult, noise: string): RunResult => ({ ...r, noise });
  const noisy = summarizeRuns(noisyInput, [
    ...result.runs.map((r) => withNoise(r, "none")),
    withNoise(run("rads-exact", 1, 0.2, 0.2, [1, 2, 3, 4, 5]), "minority:0.3"),
    withNoise(run("rads-exact", 2, 0.2, 0.4, [1, 2, 3, 4, 5]), "minority:0.3"),
    withNoise(run("rads-scaled", 1, 0.4, 0.2, [1, 2, 3, 6, 7]), "minority:0.3"),
    withNoise(run("rads-scaled", 2, 0.4, 0.6, [1, 2, 3, 4, 5]), "minority:0.3"),
  ]);

  it("names each row's setting and gives every setting its seed-set row", () => {
    const t = resultsTable(noisy, { showMacro: false }).split("\n");
    expect(t[0]).toMatch(/^\| strategy +\| label noise +\| +B \|/);
    expect(t.length).toBe(2 + 2 + 4);
    expect(t[3]).toMatch(/^\| \(seed set only\) +\| minority:0\.3 +\|/);
    expect(t[6]).toMatch(/^\| rads-exact +\| minority:0\.3 +\| +5 \|.*\| 0\.200 ± 0\.000 \|/);
    // Without noise the table keeps its old columns.
    expect(resultsTable(result, { showMacro: false })).not.toContain("label noise");
  });

  it("tables the change from noise-free per strategy, paired by seed; none without noise", () => {
    const t = noiseTable(noisy)!.split("\n");
    expect(t[0]).toContain("F1, minority:0.3 (Δ)");
    // rads-exact: F1 0.5, 0.3 → 0.2, 0.2: Δ −0.3, −0.1 → −0.200 ± 0.141.
    expect(t[2]).toMatch(/^\| rads-exact +\| +5 \| +0\.400 \|.*0\.200 \(−0\.200 ± 0\.141\)/);
    expect(noiseTable(result)).toBeNull();
    // The RADS comparison stays on the noise-free runs.
    expect(exactVsScaledTable(noisy)).toBe(exactVsScaledTable(result));
  });
});

describe("sim-report", () => {
  it("prints one row per strategy × budget after a seed-set row", () => {
    const t = resultsTable(result, { showMacro: false }).split("\n");
    expect(t.length).toBe(2 + 1 + 2);
    expect(t[2]).toMatch(/^\| \(seed set only\) +\| +– \| +0 \| +10 \| 0\.100 ± 0\.000 \|/);
    expect(t[3]).toContain("0.400 ± 0.141"); // F1 0.5, 0.3
    expect(t[4]).toContain("| 0.400 ± 0.283 |"); // hit rate 0.2, 0.6
    expect(t[3]!.trim().endsWith(" 1.00 |")).toBe(true); // 1,000 ms per round, in seconds
  });

  it("pairs exact and scaled by seed and measures round-1 queue overlap", () => {
    const t = exactVsScaledTable(result)!.split("\n");
    // ΔF1 per seed: +0.1, 0.0 → +0.050 ± 0.071; Δhit: 0, +0.2 → +0.100 ± 0.141.
    expect(t[2]).toContain("+0.050 ± 0.071");
    expect(t[2]).toContain("+0.100 ± 0.141");
    expect(t[2]).toContain(((3 / 7 + 1) / 2).toFixed(2));
  });

  it("returns no comparison when a mode is missing, and writes n/a for empty means", () => {
    const onlyExact = summarizeRuns({ ...input, strategies: [input.strategies[0]!] }, result.runs.filter((r) => r.strategy === "rads-exact"));
    expect(exactVsScaledTable(onlyExact)).toBeNull();
    expect(fmtMeanStd({ mean: NaN, std: NaN, n: 0 })).toBe("n/a");
  });

  it("draws one F1 and one AUPRC panel per budget", () => {
    const svg = learningCurveSvg(result, "t", "s");
    expect(svg.match(/minority F1 · B = 5 per round/g)?.length).toBe(1);
    expect(svg.match(/minority AUPRC · B = 5 per round/g)?.length).toBe(1);
  });
});

describe("sim-report: stopping columns", () => {
  it("shows the remaining-minority estimate vs truth of the last round and the interval coverage over all rounds", () => {
    const withStop = (r: RunResult, est: [number, number, number, number][]): RunResult => ({
      ...r,
      curve: r.curve.map((p, j) => ({ ...p, remainingMinority: { estimate: est[j]![0], lo: est[j]![1], hi: est[j]![2], truth: est[j]![3], expectedRecall: 0.5, trueRecall: 0.5 } })),
    });
    const res = summarizeRuns(input, [
      withStop(run("rads-exact", 1, 0.5, 0.2, [1]), [[10, 5, 15, 12], [8, 4, 12, 13]]), // covered, not covered
      withStop(run("rads-exact", 2, 0.3, 0.4, [1]), [[10, 5, 15, 9], [6, 2, 10, 7]]), // covered, covered
    ]);
    const t = resultsTable(res, { showMacro: false }).split("\n");
    expect(t[0]).toContain("remaining minority: est [lo, hi] vs truth");
    // Last round: estimate (8 + 6)/2 = 7, lo 3, hi 11, truth 10; coverage 3 of 4 rounds.
    expect(t[3]).toContain("7.0 [3.0, 11.0] vs 10.0");
    expect(t[3]).toContain("75 % of 4");
    // Seed-set row: round 0 only (both covered).
    expect(t[2]).toContain("10.0 [5.0, 15.0] vs 10.5");
    expect(t[2]).toContain("100 % of 2");
    // Without estimates the columns are left out.
    expect(resultsTable(result, { showMacro: false })).not.toContain("remaining minority");
  });
});

describe("notebookComparisonTable", () => {
  it("pairs platform and notebook rows by seed: Δ mean ± std and seeds where the platform is at least as good", () => {
    const nbInput = { ...input, strategies: [{ label: "random" }, { label: "notebook-random" }] };
    const r = summarizeRuns(nbInput, [
      run("random", 1, 0.5, 0.1, [1]),
      run("random", 2, 0.3, 0.1, [1]),
      run("notebook-random", 1, 0.2, 0.1, [1]),
      run("notebook-random", 2, 0.4, 0.1, [1]),
    ]);
    const t = notebookComparisonTable(r)!.split("\n");
    expect(t).toHaveLength(3);
    // ΔF1: +0.3 and −0.1 → mean +0.1, std √0.08 = 0.283; the platform ≥ in 1 of 2 seeds.
    expect(t[2]).toMatch(/^\| random vs notebook-random +\| +5 \| +\+0\.100 ± 0\.283 \| +1 of 2 \|/);
    expect(notebookComparisonTable(result)).toBeNull();
  });
});
