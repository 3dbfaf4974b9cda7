import { describe, expect, it } from "vitest";
import { baselineStrategyNames, getBaselineStrategy } from "./registry";
import { errorCode } from "./test-fixtures";

describe("baseline registry", () => {
  it("returns each strategy under its own name", () => {
    for (const name of baselineStrategyNames) expect(getBaselineStrategy(name).name).toBe(name);
    expect(getBaselineStrategy("bald").needsModel).toBe(true);
    expect(getBaselineStrategy("k-center").needsModel).toBe(false);
  });

  it("rejects unknown names, including RADS which lives elsewhere", () => {
    expect(errorCode(() => getBaselineStrategy("rads"))).toBe("invalid-argument");
    expect(() => getBaselineStrategy("entropy")).toThrow(/expected one of random, max-entropy, margin, bald, k-center, cold-start/);
  });
});
