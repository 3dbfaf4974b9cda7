import { describe, expect, it } from "vitest";
import { transactionLimits } from "./client";

describe("transactionLimits", () => {
  it("defaults to 10 s waiting for a connection and 15 s running", () => {
    expect(transactionLimits({})).toEqual({ maxWait: 10_000, timeout: 15_000 });
  });
  it("takes the environment's values and refuses what is not a positive whole number of ms", () => {
    expect(transactionLimits({ DB_TX_MAX_WAIT_MS: "500", DB_TX_TIMEOUT_MS: "2000" })).toEqual({ maxWait: 500, timeout: 2000 });
    expect(() => transactionLimits({ DB_TX_TIMEOUT_MS: "soon" })).toThrow(/DB_TX_TIMEOUT_MS must be a positive whole number/);
    expect(() => transactionLimits({ DB_TX_MAX_WAIT_MS: "0" })).toThrow(/DB_TX_MAX_WAIT_MS/);
  });
});
