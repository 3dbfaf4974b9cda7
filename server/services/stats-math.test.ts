import { describe, expect, it } from "vitest";
import { awaitsAdjudication, entropyOf, equalWidthEdges, histogram, isMinorityCase, minorityShare } from "./stats-math";
import { trainingLabel, type AnnotationVote } from "./training-label";

describe("stats helpers", () => {
  it("bins values on shared edges, last bin closed, outliers clamped", () => {
    expect(equalWidthEdges([0, 1, 2, 4], 4)).toEqual([0, 1, 2, 3, 4]);
    expect(equalWidthEdges([3, 3], 2)).toEqual([2.5, 3, 3.5]);
    expect(histogram([0, 0.5, 1, 3.99, 4, 9, -2, Number.NaN], [0, 1, 2, 3, 4])).toEqual({ edges: [0, 1, 2, 3, 4], counts: [3, 1, 0, 3] });
  });

  it("entropy in nats", () => {
    expect(entropyOf([0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
    expect(entropyOf([1, 0])).toBe(0);
  });

  it("a case is minority when its training label (adjudicated, else strict majority) is a minority class", () => {
    const m = ["rare"];
    let n = 0;
    const v = (authorId: string, version: number, labels: string[], kind: AnnotationVote["kind"] = "SUBMITTED"): AnnotationVote => ({ id: `a${++n}`, authorId, version, kind, labels, createdAt: new Date(Date.UTC(2024, 0, 1, 0, n)) });
    expect(isMinorityCase([], m)).toBeNull();
    // The latest version of an annotator counts.
    expect(isMinorityCase([v("a", 1, ["rare"]), v("a", 2, ["common"])], m)).toBe(false);
    // 1–1: no majority, so no label (it waits for adjudication) — no longer "at least half".
    const split = [v("a", 1, ["common"]), v("b", 1, ["rare"])];
    expect(isMinorityCase(split, m)).toBeNull();
    expect(awaitsAdjudication(split)).toBe(true);
    // Adjudicated: the adjudicator's label wins whatever the votes.
    expect(isMinorityCase([...split, v("r", 1, ["rare"], "ADJUDICATED")], m)).toBe(true);
    expect(awaitsAdjudication([...split, v("r", 1, ["rare"], "ADJUDICATED")])).toBe(false);
    expect(isMinorityCase([v("a", 1, ["rare"]), v("b", 1, ["rare"]), v("c", 1, ["common"]), v("r", 1, ["common"], "ADJUDICATED")], m)).toBe(false);
    // 2 of 3: the majority decides.
    expect(isMinorityCase([v("a", 1, ["common"]), v("b", 1, ["rare"]), v("c", 3, ["common"])], m)).toBe(false);
    expect(isMinorityCase([v("a", 1, ["rare"]), v("b", 1, ["rare"]), v("c", 1, ["common"])], m)).toBe(true);
    // The first label is the vote (multi-label: as training takes it); a skip is no vote.
    expect(isMinorityCase([v("a", 1, ["common", "rare"])], m)).toBe(false);
    expect(isMinorityCase([v("a", 1, [], "SKIPPED")], m)).toBeNull();
    // Every answer agrees with the training label the same function gives.
    for (const annotations of [split, [v("a", 1, ["rare"])], [v("a", 1, ["common"]), v("b", 1, ["common"])]]) {
      const label = trainingLabel(annotations, null).label;
      expect(isMinorityCase(annotations, m)).toBe(label === null ? null : m.includes(label));
    }
  });

  it("minority share from class-indexed vectors", () => {
    expect(minorityShare([0.7, 0.2, 0.1], [2], ["a", "b", "c"], [])).toBeCloseTo(0.1, 12);
    expect(minorityShare([0.7, 0.2, 0.1], undefined, ["a", "b", "c"], ["b", "c"])).toBeCloseTo(0.3, 12);
    expect(minorityShare(null, [1], ["a", "b"], ["b"])).toBeNull();
  });
});
