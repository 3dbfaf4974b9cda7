import { describe, expect, it } from "vitest";
import { evaluateClassifier } from "@/workers/ml/metrics";
import { findEvaluation, guardFindings, metricDeltas, toMetricsView, toTrainingSummary } from "./model-metrics";

const labels = [{ key: "neg", name: "Negative" }, { key: "pos", name: "Positive" }];
// 4 test cases: two positives; model A finds both, model B one.
const y = Int32Array.from([0, 0, 1, 1]);
const evalA = evaluateClassifier(Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.2, 0.8]), y, 2);
const evalB = evaluateClassifier(Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.6, 0.4, 0.2, 0.8]), y, 2);

describe("model metrics view", () => {
  it("finds the evaluation at the top level or under test, and names classes from the recorded order", () => {
    expect(findEvaluation(evalA)).toBe(evalA);
    expect(findEvaluation({ test: evalA })).toBe(evalA);
    expect(findEvaluation({ accuracy: 1 })).toBeNull();
    const view = toMetricsView({ test: evalA, classes: ["neg", "pos"] }, {}, labels, ["pos"])!;
    expect(view.classes.map((c) => [c.name, c.minority])).toEqual([["Negative", false], ["Positive", true]]);
    expect(view.minorityRecall).toBe(1);
    expect(view.minorityAuprc).toBe(1);
  });

  it("flags a minority recall drop beyond the tolerance, not within it", () => {
    const a = toMetricsView({ test: evalA }, {}, labels, ["pos"])!;
    const b = toMetricsView({ test: evalB }, {}, labels, ["pos"])!;
    expect(b.minorityRecall).toBe(0.5);
    expect(guardFindings(b, a, 0.02)).toEqual([expect.objectContaining({ classKey: "pos", metric: "recall", active: 1, candidate: 0.5, drop: 0.5 })]);
    expect(guardFindings(b, a, 0.5)).toEqual([]);
    expect(guardFindings(a, b, 0.02)).toEqual([]);
    const deltas = metricDeltas(b, a);
    expect(deltas.find((d) => d.metric === "Minority recall")).toMatchObject({ delta: -0.5, higherIsBetter: true });
    expect(deltas.find((d) => d.metric === "ECE")!.higherIsBetter).toBe(false);
  });

  it("reads label count and rounds from the training snapshot in its several forms", () => {
    expect(toTrainingSummary({ labelCount: 12, rounds: [3, 1] })).toEqual({ labelCount: 12, rounds: [1, 3] });
    expect(toTrainingSummary({ cases: [{ round: 2 }, { round: null }, { roundNumber: 4 }] })).toEqual({ labelCount: 3, rounds: [2, 4] });
    expect(toTrainingSummary(null)).toEqual({ labelCount: null, rounds: [] });
  });
});
