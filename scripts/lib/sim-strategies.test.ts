import { describe, expect, it } from "vitest";
import { buildStrategies } from "./sim-strategies";

describe("buildStrategies", () => {
  it("maps CLI names to the registry and runs RADS once per mode", () => {
    const s = buildStrategies(["rads", "random", "entropy", "bald", "coreset"], ["exact", "scaled"], { episodes: 5 });
    expect(s.map((x) => x.label)).toEqual(["rads-exact", "rads-scaled", "random", "entropy", "bald", "coreset"]);
    expect(s.map((x) => x.strategy.needsModel)).toEqual([true, true, false, true, true, false]);
  });

  it("names unknown and repeated strategies", () => {
    expect(() => buildStrategies(["random", "magic"], ["exact"], { episodes: 5 })).toThrow(/unknown strategy "magic"; known: rads, entropy, coreset, random, bald/);
    expect(() => buildStrategies(["random", "random"], ["exact"], { episodes: 5 })).toThrow(/lists random twice/);
    expect(() => buildStrategies(["cold-start"], ["exact"], { episodes: 5 })).toThrow(/unknown strategy/);
  });
});
