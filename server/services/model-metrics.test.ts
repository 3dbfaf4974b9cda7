import { describe, expect, it } from "vitest";
import { evaluateClassifier } from "@/workers/ml/metrics";
import { findEvaluation, guardFindings, guardVerdict, metricDeltas, minorityMinSupport, toMetricsView, toTrainingSummary } from "./model-metrics";

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

  it("guard verdict: too few TEST cases cannot pass, recall 0 is never passed, and every delta carries its integer support", () => {
    const a = toMetricsView({ test: evalA }, {}, labels, ["pos"])!;
    const b = toMetricsView({ test: evalB }, {}, labels, ["pos"])!;
    // Two TEST positives: under a threshold of 10 the verdict is "insufficient", at 2 it passes.
    expect(guardVerdict(a, a, 0.02, 10)).toMatchObject({ status: "insufficient", thin: [{ classKey: "pos", support: 2 }], floors: [], findings: [] });
    expect(guardVerdict(a, a, 0.02, 2)).toMatchObject({ status: "passed", support: [{ classKey: "pos", support: 2 }] });
    // A drop beyond the tolerance fails, whatever the support.
    expect(guardVerdict(b, a, 0.02, 2).status).toBe("failed");
    // A model that finds no positive (recall 0) fails, even beside an active model just as blind and without one.
    const blind = toMetricsView({ test: evaluateClassifier(Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.6, 0.4, 0.7, 0.3]), y, 2) }, {}, labels, ["pos"])!;
    expect(blind.minorityRecall).toBe(0);
    expect(guardVerdict(blind, blind, 0.02, 1)).toMatchObject({ status: "failed", findings: [], floors: [{ classKey: "pos", metric: "recall", candidate: 0, support: 2 }] });
    expect(guardVerdict(blind, null, 0.02, 1).status).toBe("failed");
    // No minority class evaluated: nothing to judge.
    expect(guardVerdict(toMetricsView({ test: evalA }, {}, labels, [])!, null, 0.02, 1).status).toBe("insufficient");

    const deltas = metricDeltas(a, null, 10);
    const recall = deltas.find((d) => d.metric === "Minority recall")!;
    expect(recall.support).toEqual([{ classKey: "pos", name: "Positive", support: 2 }]);
    expect(recall.tooFew).toBe(true);
    expect(deltas.find((d) => d.metric === "Accuracy")!.support).toEqual([{ classKey: null, name: "all TEST cases", support: 4 }]);
    expect(metricDeltas(a, null, 2).every((d) => !d.tooFew)).toBe(true);
    for (const d of deltas) for (const s of d.support) expect(Number.isInteger(s.support)).toBe(true);
    expect(minorityMinSupport(a)).toBe(2);
  });

  it("reads label count and rounds from the training snapshot in its several forms", () => {
    expect(toTrainingSummary({ labelCount: 12, rounds: [3, 1] })).toEqual({ labelCount: 12, rounds: [1, 3] });
    expect(toTrainingSummary({ cases: [{ round: 2 }, { round: null }, { roundNumber: 4 }] })).toEqual({ labelCount: 3, rounds: [2, 4] });
    expect(toTrainingSummary(null)).toEqual({ labelCount: null, rounds: [] });
  });
});
