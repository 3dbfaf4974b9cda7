import { describe, expect, it } from "vitest";
import type { RemainingMinority } from "@/contracts/remaining-minority";
import { describeRemainingMinority } from "./remaining-minority-text";

const base: RemainingMinority = {
  poolSize: 400, found: 29, estimate: 11.6, lo: 7.2, hi: 18.1, level: 0.9, expectedRecall: 29 / 40.6, recallLo: 29 / 47.1, recallHi: 29 / 36.2,
  basis: { method: "calibrated-bootstrap", members: 10, folds: 5, labelled: 120, labelledMinority: 27, modelVersion: 3 },
};

describe("describeRemainingMinority", () => {
  it("states the count, the interval rounded outwards, the recall and what it rests on", () => {
    const t = describeRemainingMinority(base, 4);
    expect(t.headline).toBe("≈ 12 minority cases remain in the unlabelled pool of 400 (90% interval 7–19)");
    expect(t.recall).toBe("expected minority recall so far 71% (29 found; 62–80% over the interval)");
    expect(t.basis).toContain("model v3's calibrated probabilities over round #4's pool: 10 bootstrap refits");
    expect(t.basis).toContain("held-out scores (5-fold cross-validation) of the 120 labelled cases it was trained on (27 minority)");
  });

  it("says when the scores were in-sample, when the head was not calibrated, and when recall is undefined", () => {
    expect(describeRemainingMinority({ ...base, basis: { ...base.basis!, folds: 0 } }, 2).basis).toContain("in-sample scores");
    expect(describeRemainingMinority({ ...base, basis: { ...base.basis!, method: "mc-dropout", folds: null } }, 2).basis).toContain("not calibrated");
    const none = describeRemainingMinority({ ...base, found: 0, estimate: 0, lo: 0, hi: 0.4, expectedRecall: null, recallLo: null, recallHi: null }, 2);
    expect(none.headline).toBe("≈ 0 minority cases remain in the unlabelled pool of 400 (90% interval 0–1)");
    expect(none.recall).toContain("no minority case found");
    expect(describeRemainingMinority({ ...base, estimate: 1.2 }, 2).headline).toMatch(/^≈ 1 minority case remains/);
  });
});
