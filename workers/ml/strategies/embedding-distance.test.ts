import { describe, expect, it } from "vitest";
import { nearestCenters, rowSquaredNorms } from "./embedding-distance";
import { matrix } from "./test-fixtures";

describe("nearestCenters", () => {
  it("finds each point's nearest centre and its squared distance, keeping smaller existing values", () => {
    const points = matrix([[0, 0], [4, 0], [10, 1], [5, 5]]);
    const centers = matrix([[0, 1], [10, 0]]);
    const d2 = Float64Array.of(Infinity, Infinity, Infinity, 0.5);
    const nearest = new Int32Array(4).fill(-1);
    nearestCenters(points, rowSquaredNorms(points), centers, d2, nearest);
    expect(Array.from(d2)).toEqual([1, 17, 1, 0.5]);
    expect(Array.from(nearest)).toEqual([0, 0, 1, -1]);
  });
});
