import { describe, expect, it } from "vitest";
import { sortLabelErrors, type LabelErrorRow } from "./label-error-order";

// The margin is given (as the train job stores it), not recomputed: 0.7 − 0.2 is not exactly 0.5 in floating point.
const row = (externalId: string, pGiven: number | null, pSuggested: number | null, margin: number | null): LabelErrorRow => ({
  caseId: `id-${externalId}`,
  externalId,
  given: "normal",
  suggested: "benign",
  pGiven,
  pSuggested,
  margin,
  inAdjudication: false,
});

// Stored order (the train job's): largest margin first.
const rows = [row("a", 0.125, 0.875, 0.75), row("b", 0.25, 0.75, 0.5), row("c", 0.0625, 0.5, 0.4375), row("d", null, 0.9375, null), row("e", 0.375, 0.625, 0.25)];
const ids = (list: LabelErrorRow[]) => list.map((r) => r.externalId);

describe("sortLabelErrors", () => {
  it("orders by margin, largest first, missing margins last", () => {
    expect(ids(sortLabelErrors(rows, "margin"))).toEqual(["a", "b", "c", "e", "d"]);
  });

  it("orders by p(suggested), highest first", () => {
    expect(ids(sortLabelErrors(rows, "pSuggested"))).toEqual(["d", "a", "b", "e", "c"]);
  });

  it("orders by p(given), lowest first, missing values last", () => {
    expect(ids(sortLabelErrors(rows, "pGiven"))).toEqual(["c", "a", "b", "e", "d"]);
  });

  it("keeps the stored order among ties and does not change its input", () => {
    const tied = [row("x", 0.25, 0.75, 0.5), row("y", 0.125, 0.625, 0.5), row("z", 0.375, 0.875, 0.5)];
    expect(ids(sortLabelErrors(tied, "margin"))).toEqual(["x", "y", "z"]);
    expect(ids(sortLabelErrors(rows, "pGiven"))[0]).toBe("c");
    expect(ids(rows)).toEqual(["a", "b", "c", "d", "e"]);
  });
});
