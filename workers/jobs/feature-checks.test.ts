import { describe, expect, it } from "vitest";
import { degenerateFeatures } from "./feature-checks";

const m = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0]?.length ?? 0 });

describe("degenerateFeatures", () => {
  it("accepts features that vary across cases, a few zero rows included", () => {
    expect(degenerateFeatures(m([[1, 0], [0, 1], [0, 0], [0.5, 0.5]]))).toBeNull();
  });

  it("names all-zero, constant, mostly-zero, non-finite and empty features", () => {
    expect(degenerateFeatures(m([[0, 0], [0, 0], [0, 0]]))).toBe("all 3 feature vectors are zero");
    expect(degenerateFeatures(m([[0.6, 0.8], [0.6, 0.8]]))).toBe("all 2 cases have the same feature vector");
    expect(degenerateFeatures(m([[0, 0], [0, 0], [1, 0]]))).toBe("2 of 3 feature vectors are zero (for text encoders: cases without a narrative)");
    expect(degenerateFeatures(m([[1, 0], [Number.NaN, 0]]))).toBe("case 2 of 2 has a non-finite feature");
    expect(degenerateFeatures({ data: new Float32Array(0), rows: 0, cols: 0 })).toBe("the feature vectors are empty");
  });
});
