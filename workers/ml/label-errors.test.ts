import { describe, expect, it } from "vitest";
import { findLabelErrors, labelErrorList, outOfFoldProbabilities } from "./label-errors";
import { createRng } from "./rng";
import { MlInputError } from "./validate";

describe("findLabelErrors (confident learning)", () => {
  it("thresholds are the mean self-probability per class; flags the argmax over classes at or above their threshold; ranks by margin", () => {
    // Rows: labels 0,0,0,1,1 ; probs over 2 classes.
    const probs = [
      0.9, 0.1, // 0: fine
      0.8, 0.2, // 0: fine
      0.3, 0.7, // 0: p1 = 0.7 ≥ t1 → flagged (margin 0.4)
      0.4, 0.6, // 1: fine
      0.6, 0.4, // 1: p0 = 0.6 < t0 = 2/3, p1 = 0.4 < t1 → not flagged
    ];
    const y = Int32Array.from([0, 0, 0, 1, 1]);
    const r = findLabelErrors(probs, y, 2);
    expect(r.thresholds[0]).toBeCloseTo((0.9 + 0.8 + 0.3) / 3, 12);
    expect(r.thresholds[1]).toBeCloseTo((0.6 + 0.4) / 2, 12);
    expect(r.flagged).toHaveLength(1);
    expect(r.flagged[0]).toMatchObject({ index: 2, given: 0, suggested: 1 });
    expect(r.flagged[0]!.margin).toBeCloseTo(0.4, 12);

    // t0 = 0.5875, t1 = 0.5: rows 2 (margin 0.1) and 4 (margin 0.8) flagged, the larger margin first.
    const r2 = findLabelErrors([0.9, 0.1, 0.9, 0.1, 0.45, 0.55, 0.5, 0.5, 0.1, 0.9], Int32Array.from([0, 0, 0, 1, 0]), 2);
    expect(r2.flagged.map((f) => f.index)).toEqual([4, 2]);
  });

  it("a class nobody labelled never claims a case, and bad input is refused with what and where", () => {
    const r = findLabelErrors([0.2, 0.1, 0.7, 0.8, 0.1, 0.1], Int32Array.from([0, 0]), 3);
    expect(Number.isNaN(r.thresholds[2]!)).toBe(true);
    expect(r.flagged).toEqual([]);
    expect(() => findLabelErrors([0.5, 0.5], Int32Array.from([0, 1]), 2)).toThrow(MlInputError);
    expect(() => findLabelErrors([0.5, NaN, 0.5, 0.5], Int32Array.from([0, 1]), 2)).toThrow(/row 0, class 1/);
  });
});

describe("suspected label errors on a synthetic set with planted flips", () => {
  it("finds most planted flips out of fold, with few false flags", () => {
    const rng = createRng(1401);
    const d = 6;
    const sizes = [160, 100, 40]; // imbalanced, the last class a minority
    const centres = [0, 1, 2].map((c) => Array.from({ length: d }, (_, j) => (j === c ? 3 : 0)));
    const rows: number[][] = [];
    const truth: number[] = [];
    sizes.forEach((n, c) => {
      for (let i = 0; i < n; i++) {
        rows.push(centres[c]!.map((m) => m + rng.normal()));
        truth.push(c);
      }
    });
    const n = rows.length;
    const y = Int32Array.from(truth);
    // Plant 20 flips (5 of them on minority cases) to another class.
    const planted = new Set<number>();
    while (planted.size < 15) planted.add(rng.int(260));
    while (planted.size < 20) planted.add(260 + rng.int(40));
    for (const i of planted) y[i] = (truth[i]! + 1 + rng.int(2)) % 3;
    const x = { data: Float32Array.from(rows.flat()), rows: n, cols: d };

    const probs = outOfFoldProbabilities(x, y, 3, [{ dims: d, c: 1 }], { folds: 5, classWeight: "balanced", maxIterations: 200 }, createRng(7));
    expect(probs).toHaveLength(n * 3);
    for (let i = 0; i < n; i++) expect(probs[i * 3]! + probs[i * 3 + 1]! + probs[i * 3 + 2]!).toBeCloseTo(1, 9);
    const { flagged } = findLabelErrors(probs, y, 3);
    const hits = flagged.filter((f) => planted.has(f.index));
    const recall = hits.length / planted.size;
    const falseFlags = flagged.length - hits.length;
    expect(recall).toBeGreaterThanOrEqual(0.8); // measured: 17 of 20, with 1 false flag
    expect(falseFlags).toBeLessThanOrEqual(10); // of 280 clean cases
    // A flagged planted case is suggested its true class, and planted flips rank above the false flags on average.
    for (const f of hits) expect(f.suggested).toBe(truth[f.index]);
    const rank = (keep: (i: number) => boolean) => {
      const r = flagged.map((f, k) => (keep(f.index) ? k : -1)).filter((k) => k >= 0);
      return r.length ? r.reduce((a, b) => a + b, 0) / r.length : Infinity;
    };
    if (falseFlags > 0) expect(rank((i) => planted.has(i))).toBeLessThan(rank((i) => !planted.has(i)));
  });

  it("needs two cases in every labelled class", () => {
    const x = { data: Float32Array.from([0, 1, 2, 3]), rows: 4, cols: 1 };
    expect(() => outOfFoldProbabilities(x, Int32Array.from([0, 0, 0, 1]), 2, [{ dims: 1, c: 1 }], { folds: 5, classWeight: "balanced", maxIterations: 50 }, createRng(1))).toThrow(/smallest class has 1/);
  });
});

describe("labelErrorList", () => {
  it("names flags by case id and class key, keeps the top `limit`, and skips (with the reason) a set that cannot be cross-validated", () => {
    const x = { data: Float32Array.from([0, 0.1, 0.2, 0.3, 2, 2.1, 2.2, 0.15, 2.3, 2.05]), rows: 10, cols: 1 };
    const y = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 0]); // rows 7 and 9 sit in the other cluster
    const ids = Array.from({ length: 10 }, (_, i) => `case-${i}`);
    const { list, skipped } = labelErrorList(x, y, ids, ["normal", "suspicious"], [{ dims: 1, c: 10 }], { folds: 3, classWeight: "balanced", maxIterations: 200, limit: 1 }, createRng(3));
    expect(skipped).toBeNull();
    expect(list!.folds).toBe(3);
    expect(list!.flaggedCount).toBeGreaterThanOrEqual(2);
    expect(list!.cases).toHaveLength(1);
    expect(["case-7", "case-9"]).toContain(list!.cases[0]!.caseId);
    expect(Object.keys(list!.thresholds)).toEqual(["normal", "suspicious"]);

    const tiny = labelErrorList(x, Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), ids, ["normal", "suspicious"], [{ dims: 1, c: 10 }], { folds: 3, classWeight: "balanced", maxIterations: 50, limit: 5 }, createRng(3));
    expect(tiny.list).toBeNull();
    expect(tiny.skipped).toMatch(/smallest class has 1/);
  });
});
