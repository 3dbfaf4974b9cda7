import { describe, expect, it } from "vitest";
import { whatIfCaveats } from "./what-if-caveats";

describe("what-if caveats", () => {
  it("warns when TEST holds fewer minority cases than the project's threshold, or the labelled pool is too small to tell strategies apart", () => {
    const small = whatIfCaveats({ testSize: 10, testPrior: 0.2, trainSize: 11, trainPrior: 0.18, aggregates: [{ budget: 2 }, { budget: 5 }] }, 10);
    expect(small).toHaveLength(2);
    expect(small[0]).toContain("holds 2 minority cases (the project asks for at least 10)");
    expect(small[1]).toContain("Only 11 labelled pool cases (2 of the minority)");
    expect(whatIfCaveats({ testSize: 200, testPrior: 0.1, trainSize: 500, trainPrior: 0.1, aggregates: [{ budget: 10 }] }, 10)).toEqual([]);
    expect(whatIfCaveats({ testSize: 200, testPrior: 0.1, trainSize: 500, trainPrior: 0.1, aggregates: [{ budget: 10 }] }, 25)[0]).toContain("holds 20 minority cases");
  });
});
