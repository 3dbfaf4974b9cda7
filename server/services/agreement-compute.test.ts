import { describe, expect, it } from "vitest";
import { computeAgreement } from "./agreement-service";

const classes = [{ key: "mass", name: "Mass" }, { key: "calc", name: "Calcification" }];
const row = (caseId: string, authorId: string, labels: string[], version = 1) => ({ caseId, authorId, authorName: authorId.toUpperCase(), version, labels, spans: [] });

describe("computeAgreement (multi-label)", () => {
  it("rates the exact label set overall and each class as a present/absent item", () => {
    const rows = [
      row("c1", "a", ["mass", "calc"]), row("c1", "b", ["calc", "mass"]), // same set in another order
      row("c2", "a", ["mass"]), row("c2", "b", ["mass", "calc"]),         // mass agrees, calc does not
      row("c3", "a", []), row("c3", "b", []),                             // both: nothing
      row("c4", "a", ["calc"]), row("c4", "b", ["mass"], 1), row("c4", "b", ["calc"], 2), // b's edit counts
    ];
    const r = computeAgreement(rows, classes, true, { replicates: 50 });
    expect(r.casesWithTwoOrMore).toBe(4);
    expect(r.casesInDisagreement).toBe(1);
    expect(r.overall.percentAgreement.value).toBeCloseTo(3 / 4, 12);
    const mass = r.perClass.find((c) => c.key === "mass")!;
    const calc = r.perClass.find((c) => c.key === "calc")!;
    expect(mass.percentAgreement.value).toBeCloseTo(1, 12);
    // calc: present/absent a = 1,0,0,1; b = 1,1,0,1 → 3 of 4 agree.
    expect(calc.percentAgreement.value).toBeCloseTo(3 / 4, 12);
    // Krippendorff, calc: values 1,1 | 0,1 | 0,0 | 1,1 → n = 8, o_01 + o_10 = 2, n_0 = 3, n_1 = 5 → α = 1 − 7·2/(64 − 34).
    expect(calc.krippendorffAlpha.value).toBeCloseTo(1 - 14 / 30, 12);
    expect(r.annotators.map((a) => a.name)).toEqual(["A", "B"]);
  });

  it("reports nothing to measure without a case of two annotators", () => {
    const r = computeAgreement([row("c1", "a", ["mass"])], classes, false, { replicates: 50 });
    expect(r.casesAnnotated).toBe(1);
    expect(r.casesWithTwoOrMore).toBe(0);
    expect(r.overall.fleissKappa).toEqual({ value: null, low: null, high: null, cases: 0 });
    expect(r.pairs).toEqual([]);
    expect(r.spans).toEqual({ f1: { value: null, low: null, high: null, cases: 0 }, pairs: 0 });
  });
});
