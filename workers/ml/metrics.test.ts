import { describe, expect, it } from "vitest";
import { aurocBinary, calibration, confusionMatrix, evaluateClassifier, precisionRecallCurve } from "./metrics";
import { MlInputError } from "./validate";

/**
 * Hand-worked binary example.
 *   y  = [1,   0,   1,   0,   1,   0  ]
 *   p1 = [0.9, 0.8, 0.7, 0.7, 0.3, 0.2]   (p0 = 1 − p1)
 * argmax → [1,1,1,1,0,0]; confusion [[1,2],[1,2]].
 * Class 1: P = 2/4, R = 2/3, F1 = 4/7. Class 0: P = 1/2, R = 1/3, F1 = 0.4.
 * AUROC_1: positives 0.9, 0.7, 0.3 vs negatives 0.8, 0.7, 0.2 → (3 + 1.5 + 1)/9 = 5.5/9 (the 0.7 tie counts ½).
 * AP_1: thresholds 0.9 (P 1, R ⅓), 0.8 (P ½, R ⅓), 0.7 (P 2/4, R ⅔), 0.3 (P 3/5, R 1), 0.2 → ⅓(1 + ½ + 0.6) = 0.7.
 * Confidences [0.9,0.8,0.7,0.7,0.7,0.8], correct [1,0,1,0,0,1]; with 2 bins all fall in [0.5, 1]:
 * ECE = |3/6 − 4.6/6| = 0.26667.
 * log loss = −(ln .9 + ln .2 + ln .7 + ln .3 + ln .3 + ln .8)/6 = 0.783761.
 */
const y = Int32Array.of(1, 0, 1, 0, 1, 0);
const p1 = [0.9, 0.8, 0.7, 0.7, 0.3, 0.2];
const probs = Float32Array.from(p1.flatMap((p) => [1 - p, p]));

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MlInputError);
    return (e as MlInputError).code;
  }
  return "no error";
}

describe("evaluateClassifier on a hand-worked example", () => {
  const ev = evaluateClassifier(probs, y, 2, { bins: 2 });

  it("counts the confusion matrix and per-class precision/recall/F1", () => {
    expect(ev.confusion).toEqual([
      [1, 2],
      [1, 2],
    ]);
    const [c0, c1] = ev.perClass;
    expect(c1!.precision).toBeCloseTo(0.5, 10);
    expect(c1!.recall).toBeCloseTo(2 / 3, 10);
    expect(c1!.f1).toBeCloseTo(4 / 7, 10);
    expect(c0!.precision).toBeCloseTo(0.5, 10);
    expect(c0!.recall).toBeCloseTo(1 / 3, 10);
    expect(c0!.f1).toBeCloseTo(0.4, 10);
    expect(c1!.support).toBe(3);
    expect(c1!.predicted).toBe(4);
  });

  it("averages into accuracy, balanced accuracy and macro-F1", () => {
    expect(ev.accuracy).toBeCloseTo(0.5, 10);
    expect(ev.balancedAccuracy).toBeCloseTo(0.5, 10);
    expect(ev.macroF1).toBeCloseTo((4 / 7 + 0.4) / 2, 10);
  });

  it("computes AUROC with a tie and step-wise average precision", () => {
    expect(ev.perClass[1]!.auroc).toBeCloseTo(5.5 / 9, 10);
    expect(ev.perClass[1]!.auprc).toBeCloseTo(0.7, 6);
    // Class 0's positives score 0.2, 0.3, 0.8 against 0.1, 0.3, 0.7: again 5.5/9.
    expect(ev.perClass[0]!.auroc).toBeCloseTo(5.5 / 9, 6);
    expect(ev.macroAuroc).toBeCloseTo(5.5 / 9, 6);
  });

  it("lists PR points per distinct threshold, ties entering together", () => {
    const pts = ev.perClass[1]!.prCurve.map((p) => [Math.round(p.threshold * 10) / 10, p.precision, p.recall]);
    expect(pts).toEqual([
      [0.9, 1, 1 / 3],
      [0.8, 0.5, 1 / 3],
      [0.7, 0.5, 2 / 3],
      [0.3, 0.6, 1],
      [0.2, 0.5, 1],
    ]);
  });

  it("computes ECE and reliability bins on max-probability confidence", () => {
    expect(ev.ece).toBeCloseTo(4.6 / 6 - 0.5, 5);
    expect(ev.reliability.map((b) => b.count)).toEqual([0, 6]);
    expect(ev.reliability[0]!.accuracy).toBeNull();
    expect(ev.reliability[1]!.accuracy).toBeCloseTo(0.5, 10);
    expect(ev.reliability[1]!.meanConfidence).toBeCloseTo(4.6 / 6, 6);
    // Four bins: [0.5, 0.75) holds the three 0.7s (1 of 3 right), [0.75, 1] the rest (2 of 3 right):
    // ECE = ½|⅓ − 0.7| + ½|⅔ − 0.8333| = 0.26667.
    const four = evaluateClassifier(probs, y, 2, { bins: 4 });
    expect(four.reliability.map((b) => b.count)).toEqual([0, 0, 3, 3]);
    expect(four.ece).toBeCloseTo(0.5 * (0.7 - 1 / 3) + 0.5 * (2.5 / 3 - 2 / 3), 5);
  });

  it("computes the log loss", () => {
    const expected = -(Math.log(0.9) + Math.log(0.2) + Math.log(0.7) + Math.log(0.3) + Math.log(0.3) + Math.log(0.8)) / 6;
    expect(ev.logLoss).toBeCloseTo(expected, 5);
  });

  it("is JSON-safe", () => {
    expect(JSON.parse(JSON.stringify(ev))).toEqual(ev);
  });
});

describe("ranking metrics on known rankings", () => {
  it("gives 1 for a perfect ranking and the right values for a reversed one", () => {
    const scores = Float64Array.of(0.9, 0.8, 0.3, 0.1);
    const perfect = Uint8Array.of(1, 1, 0, 0);
    const reversed = Uint8Array.of(0, 0, 1, 1);
    expect(aurocBinary(scores, perfect)).toBe(1);
    expect(precisionRecallCurve(scores, perfect).ap).toBe(1);
    expect(aurocBinary(scores, reversed)).toBe(0);
    // Reversed: positives at ranks 3 and 4 → AP = ½·⅓ + ½·2/4 = 5/12.
    expect(precisionRecallCurve(scores, reversed).ap).toBeCloseTo(5 / 12, 12);
  });

  it("gives 0.5 AUROC and AP = prior when every score ties", () => {
    const scores = new Float64Array(5).fill(0.4);
    const pos = Uint8Array.of(1, 0, 0, 1, 0);
    expect(aurocBinary(scores, pos)).toBe(0.5);
    expect(precisionRecallCurve(scores, pos).ap).toBeCloseTo(0.4, 12);
  });

  it("is undefined (null) without positives or negatives", () => {
    const scores = Float64Array.of(0.1, 0.2);
    expect(aurocBinary(scores, Uint8Array.of(0, 0))).toBeNull();
    expect(aurocBinary(scores, Uint8Array.of(1, 1))).toBeNull();
    expect(precisionRecallCurve(scores, Uint8Array.of(0, 0)).ap).toBeNull();
  });
});

describe("multi-class conventions", () => {
  // 3 classes; class 2 never occurs and is never predicted, so macro-F1 and balanced accuracy skip it.
  const probs3 = Float32Array.of(0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.6, 0.3, 0.1, 0.3, 0.6, 0.1);
  const y3 = Int32Array.of(0, 1, 1, 1);
  const ev = evaluateClassifier(probs3, y3, 3);

  it("averages only over classes present in labels or predictions", () => {
    // Class 0: P = 1/2, R = 1 → F1 = 2/3; class 1: P = 1, R = 2/3 → F1 = 0.8.
    expect(ev.macroF1).toBeCloseTo((2 / 3 + 0.8) / 2, 10);
    expect(ev.balancedAccuracy).toBeCloseTo((1 + 2 / 3) / 2, 10);
    expect(ev.perClass[2]!.auroc).toBeNull();
    expect(ev.perClass[2]!.auprc).toBeNull();
    expect(ev.confusion).toEqual([
      [1, 0, 0],
      [1, 2, 0],
      [0, 0, 0],
    ]);
  });

  it("thins long PR curves but keeps both ends", () => {
    const n = 1000;
    const p = new Float32Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      p[i * 2 + 1] = i / n;
      p[i * 2] = 1 - i / n;
      labels[i] = i % 3 === 0 ? 1 : 0;
    }
    const full = precisionRecallCurve(Float64Array.from({ length: n }, (_, i) => p[i * 2 + 1]!), Uint8Array.from(labels));
    const curve = evaluateClassifier(p, labels, 2, { maxCurvePoints: 50 }).perClass[1]!.prCurve;
    expect(curve).toHaveLength(50);
    expect(curve[0]).toEqual(full.points[0]);
    expect(curve[49]).toEqual(full.points[full.points.length - 1]);
  });
});

describe("helpers and bad inputs", () => {
  it("confusionMatrix rejects mismatched lengths", () => {
    expect(confusionMatrix(Int32Array.of(0, 1), Int32Array.of(1, 1), 2)).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(errorCode(() => confusionMatrix(Int32Array.of(0, 1), Int32Array.of(1), 2))).toBe("dimension-mismatch");
  });

  it("calibration puts confidence 1 in the last bin", () => {
    const { reliability, ece } = calibration(Float64Array.of(1, 1), Uint8Array.of(1, 1), 5);
    expect(reliability[4]!.count).toBe(2);
    expect(ece).toBe(0);
  });

  it("rejects bad shapes, labels, values and options", () => {
    expect(errorCode(() => evaluateClassifier(probs.subarray(1), y, 2))).toBe("dimension-mismatch");
    expect(errorCode(() => evaluateClassifier(probs, Int32Array.of(1, 0, 2, 0, 1, 0), 2))).toBe("invalid-label");
    expect(errorCode(() => evaluateClassifier(new Float32Array(0), new Int32Array(0), 2))).toBe("empty-input");
    const nan = Float32Array.from(probs);
    nan[5] = NaN;
    expect(() => evaluateClassifier(nan, y, 2)).toThrow(/row 2, class 1/);
    expect(errorCode(() => evaluateClassifier(probs, y, 2, { bins: 0 }))).toBe("invalid-argument");
  });
});
