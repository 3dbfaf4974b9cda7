import { describe, expect, it } from "vitest";
import {
  MISSING,
  bootstrapEstimate,
  categoryCounts,
  cohenKappa,
  cohenKappaFromTable,
  fleissKappa,
  fleissKappaFromCounts,
  krippendorffAlphaNominal,
  pairMatrix,
  pairableCases,
  percentAgreement,
  spanOverlapF1,
  type Ratings,
} from "./agreement";
import { createRng } from "./rng";

/** Build ratings from a case-major table of category values (null = missing). */
function ratings(rows: (number | null)[][], categories: number): Ratings {
  const annotators = rows[0]?.length ?? 0;
  const values = new Int32Array(rows.length * annotators);
  rows.forEach((row, c) => row.forEach((v, a) => (values[c * annotators + a] = v === null ? MISSING : v)));
  return { values, cases: rows.length, annotators, categories };
}

// Fleiss (1971)-style worked example as published on Wikipedia ("Fleiss' kappa", worked example):
// 10 subjects, 14 raters each, 5 categories; κ = 0.210, P̄ = 0.378, P̄e = 0.213.
const FLEISS_COUNTS = [
  [0, 0, 0, 0, 14],
  [0, 2, 6, 4, 2],
  [0, 0, 3, 5, 6],
  [0, 3, 9, 2, 0],
  [2, 2, 8, 1, 1],
  [7, 7, 0, 0, 0],
  [3, 2, 6, 3, 0],
  [2, 5, 3, 2, 2],
  [6, 5, 2, 1, 0],
  [0, 2, 2, 3, 7],
];

/** Expand category counts into a ratings table (rater order arbitrary: Fleiss' kappa does not track raters). */
function ratingsFromCounts(counts: number[][]): Ratings {
  const rows = counts.map((row) => row.flatMap((n, j) => Array.from({ length: n }, () => j)));
  return ratings(rows, counts[0]!.length);
}

// Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers × 12 units
// with missing values; nominal α = 0.743.
const KRIPPENDORFF_BY_OBSERVER: (number | null)[][] = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
  [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
];
const krippendorffRatings = (): Ratings => {
  // Values 1..5 → categories 0..4; transpose to case-major.
  const rows = KRIPPENDORFF_BY_OBSERVER[0]!.map((_, u) => KRIPPENDORFF_BY_OBSERVER.map((obs) => (obs[u] === null ? null : obs[u]! - 1)));
  return ratings(rows, 5);
};

describe("Fleiss' kappa", () => {
  it("matches the published worked example (κ = 0.210) from counts and from ratings", () => {
    const counts = new Float64Array(FLEISS_COUNTS.flat());
    expect(fleissKappaFromCounts(counts, 5)).toBeCloseTo(0.21, 3);
    const r = ratingsFromCounts(FLEISS_COUNTS);
    expect(fleissKappa(r)).toBeCloseTo(0.21, 3);
    expect(Array.from(categoryCounts(r))).toEqual(FLEISS_COUNTS.flat());
    // P̄ of the example is the mean within-case pairwise agreement.
    expect(percentAgreement(r)).toBeCloseTo(0.378, 3);
  });

  it("is 1 on perfect agreement with more than one category and leaves out cases with a single rating", () => {
    const r = ratings([[0, 0, 0], [1, 1, 1], [2, null, null]], 3);
    expect(fleissKappa(r)).toBe(1);
    expect(pairableCases(r)).toBe(2);
  });
});

describe("Krippendorff's alpha (nominal)", () => {
  it("matches Krippendorff's reliability-data example with missing values (α = 0.743)", () => {
    expect(krippendorffAlphaNominal(krippendorffRatings())).toBeCloseTo(0.743, 3);
  });

  it("is NaN without a pairable case and 1 when every value is one category", () => {
    expect(krippendorffAlphaNominal(ratings([[0, null], [null, 1]], 2))).toBeNaN();
    expect(krippendorffAlphaNominal(ratings([[1, 1], [1, 1]], 2))).toBe(1);
  });
});

describe("Cohen's kappa", () => {
  it("matches the published 2×2 example (20/5/10/15 of 50 → κ = 0.400)", () => {
    // Wikipedia "Cohen's kappa", simple example: p_o = 0.7, p_e = 0.5.
    expect(cohenKappaFromTable([[20, 5], [10, 15]])).toBeCloseTo(0.4, 3);
    const rows: number[][] = [
      ...Array.from({ length: 20 }, () => [0, 0]),
      ...Array.from({ length: 5 }, () => [0, 1]),
      ...Array.from({ length: 10 }, () => [1, 0]),
      ...Array.from({ length: 15 }, () => [1, 1]),
    ];
    expect(cohenKappa(ratings(rows, 2), 0, 1)).toBeCloseTo(0.4, 3);
  });

  it("matches a second published example (45/15/25/15 of 100 → κ = 0.130)", () => {
    // Wikipedia "Cohen's kappa", same percentages example: p_o = 0.60, p_e = 0.54, κ = 0.1304.
    expect(cohenKappaFromTable([[45, 15], [25, 15]])).toBeCloseTo(0.1304, 3);
  });

  it("uses only the cases both annotators rated", () => {
    const r = ratings([[0, 0, 0], [1, 1, null], [0, 1, 1], [1, null, 1]], 2);
    // Annotators 0 and 1 share cases 0..2: agree 2/3; marginals a=(2,1)/3, b=(1,2)/3 → p_e = 4/9.
    expect(cohenKappa(r, 0, 1)).toBeCloseTo((2 / 3 - 4 / 9) / (1 - 4 / 9), 10);
    const m = pairMatrix(r);
    expect(m.shared[0 * 3 + 1]).toBe(3);
    expect(m.shared[1 * 3 + 2]).toBe(2);
    expect(m.kappa[1 * 3 + 0]).toBeCloseTo(m.kappa[0 * 3 + 1]!, 12);
    expect(m.agreement[0 * 3 + 1]).toBeCloseTo(2 / 3, 12);
  });
});

describe("bootstrapEstimate", () => {
  it("brackets the estimate, counts pairable cases and is reproducible from the seed", () => {
    const r = krippendorffRatings();
    const a = bootstrapEstimate(r, krippendorffAlphaNominal, createRng(7), 400);
    const b = bootstrapEstimate(r, krippendorffAlphaNominal, createRng(7), 400);
    expect(a).toEqual(b);
    expect(a.cases).toBe(11); // unit 12 has a single value
    expect(a.value).toBeCloseTo(0.743, 3);
    expect(a.low).toBeLessThan(a.value);
    expect(a.high).toBeGreaterThanOrEqual(a.value);
    expect(a.high).toBeLessThanOrEqual(1);
  });

  it("refuses a table whose size does not match and a value outside the categories", () => {
    expect(() => bootstrapEstimate({ values: new Int32Array(3), cases: 2, annotators: 2, categories: 2 }, fleissKappa, createRng(1))).toThrow(/expected cases × annotators = 4/);
    expect(() => bootstrapEstimate(ratings([[0, 3]], 2), fleissKappa, createRng(1))).toThrow(/value 3 at case 0, annotator 1/);
  });
});

describe("spanOverlapF1", () => {
  it("is the character-level Dice overlap per label", () => {
    expect(spanOverlapF1([{ start: 0, end: 10, label: "x" }], [{ start: 5, end: 15, label: "x" }])).toBeCloseTo(0.5, 12);
    expect(spanOverlapF1([{ start: 0, end: 10, label: "x" }], [{ start: 0, end: 10, label: "y" }])).toBe(0);
    // Overlapping spans of one annotator count each character once.
    expect(spanOverlapF1([{ start: 0, end: 6, label: "x" }, { start: 4, end: 10, label: "x" }], [{ start: 0, end: 10, label: "x" }])).toBe(1);
    expect(spanOverlapF1([], [])).toBeNaN();
  });
});
