import { describe, expect, it } from "vitest";
import type { RunResult } from "../../workers/ml/simulation";
import { findPythonWithSklearn, notebookSpec, parseNotebookRuns } from "./sim-notebook";

function run(strategy: string, budget: number, seed: number, seedSet: number[], selected: number[][]): RunResult {
  return { strategy, budget, seed, poolPrior: 0.1, seedSet: Int32Array.from(seedSet), selected: selected.map((s) => Int32Array.from(s)), curve: [] };
}

describe("notebookSpec", () => {
  const base = { texts: ["a", "b", "c", "d", "e"], labels: Int32Array.from([0, 1, 0, 2, 0]), minorityClasses: [1, 2], train: Int32Array.from([0, 1, 2, 3]), test: Int32Array.from([4]), rounds: 2, budgets: [1] };

  it("hands the script the platform's random selections and each seed's seed set", () => {
    const spec = notebookSpec({ ...base, runs: [run("random", 1, 1, [0, 1], [[2], [3]]), run("entropy", 1, 1, [0, 1], [[3], [2]]), run("random", 1, 2, [1, 2], [[0], [3]])] });
    expect(spec.strategies).toEqual(["random", "entropy"]);
    expect(spec.seeds).toEqual([{ seed: 1, seedSet: [0, 1] }, { seed: 2, seedSet: [1, 2] }]);
    expect(spec.randomSelections).toEqual([
      { seed: 1, budget: 1, selected: [[2], [3]] },
      { seed: 2, budget: 1, selected: [[0], [3]] },
    ]);
    expect(spec.labels).toEqual([0, 1, 0, 2, 0]);
  });

  it("runs only the entropy notebook when the platform simulated no random strategy", () => {
    const spec = notebookSpec({ ...base, runs: [run("entropy", 1, 1, [0, 1], [[3], [2]])] });
    expect(spec.strategies).toEqual(["entropy"]);
    expect(spec.randomSelections).toEqual([]);
  });
});

describe("parseNotebookRuns", () => {
  const point = { round: 0, labelled: 2, labelledMinority: 1, roundHitRate: "NaN", cumulativeHitRate: "NaN", trained: true, selectedBy: "", selectMs: 0, trainMs: 1, strategyStats: {}, minorityF1: 0.5, minorityMacroF1: "NaN", minorityAuprc: 0.7, perClassF1: [] };

  it("reads runs with NaN as strings", () => {
    const runs = parseNotebookRuns(JSON.stringify([{ strategy: "notebook-entropy", budget: 5, seed: 1, poolPrior: 0.1, seedSet: [0, 1], selected: [], curve: [point] }]));
    expect(runs[0]!.curve[0]!.minorityMacroF1).toBeNaN();
    expect(Array.from(runs[0]!.seedSet)).toEqual([0, 1]);
  });

  it("rejects a run under another strategy name or without a curve", () => {
    expect(() => parseNotebookRuns(JSON.stringify([{ strategy: "random", budget: 5, seed: 1, poolPrior: 0.1, seedSet: [], selected: [], curve: [point] }]))).toThrow(/unexpected strategy/);
    expect(() => parseNotebookRuns(JSON.stringify([{ strategy: "notebook-random", budget: 5, seed: 1, poolPrior: 0.1, seedSet: [], selected: [], curve: [] }]))).toThrow(/no curve/);
  });
});

describe("findPythonWithSklearn", () => {
  it("returns null when no candidate interpreter exists", () => {
    expect(findPythonWithSklearn(["/nonexistent/python3-for-test"])).toBeNull();
  });
});
