import { describe, expect, it } from "vitest";
import { rankByUtility, topUpSelection } from "./top-up";

describe("topUpSelection", () => {
  const ranked = rankByUtility(Float64Array.from([0.1, 0.9, 0.5, 0.9, 0.2]));
  it("ranks by utility, ties by lower index", () => {
    expect(Array.from(ranked)).toEqual([1, 3, 2, 4, 0]);
  });
  it("keeps the policy's picks first and fills with the best unpicked", () => {
    const r = topUpSelection(Int32Array.from([3]), ranked, 3);
    expect(Array.from(r.selected)).toEqual([3, 1, 2]);
    expect(r.toppedUp).toBe(2);
    expect(r.policyKept).toBe(1);
  });
  it("adds nothing when the policy filled the budget, and drops duplicate picks", () => {
    expect(topUpSelection(Int32Array.from([4, 0]), ranked, 2).toppedUp).toBe(0);
    expect(Array.from(topUpSelection(Int32Array.from([4, 4]), ranked, 2).selected)).toEqual([4, 1]);
  });
});
