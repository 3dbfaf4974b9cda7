import { describe, expect, it } from "vitest";
import { buildStrategies } from "./sim-strategies";

describe("buildStrategies", () => {
  it("maps CLI names to the registry, runs the paper's RADS once per mode and the platform's once", () => {
    const s = buildStrategies(["rads", "rads-utility", "rads-paper", "random", "entropy", "margin", "bald", "coreset"], ["exact", "scaled"], { episodes: 5 });
    expect(s.map((x) => x.label)).toEqual(["rads", "rads-utility", "rads-paper-exact", "rads-paper-scaled", "random", "entropy", "margin", "bald", "coreset"]);
    expect(s.map((x) => x.strategy.name)).toEqual(["rads", "rads", "rads", "rads", "random", "max-entropy", "margin", "bald", "k-center"]);
    expect(s.map((x) => x.strategy.needsModel)).toEqual([true, true, true, true, false, true, true, true, false]);
  });

  it("names unknown and repeated strategies", () => {
    expect(() => buildStrategies(["random", "magic"], ["exact"], { episodes: 5 })).toThrow(/unknown strategy "magic"; known: rads, rads-utility, rads-paper, entropy, coreset, random, margin, bald/);
    expect(() => buildStrategies(["random", "random"], ["exact"], { episodes: 5 })).toThrow(/lists random twice/);
    expect(() => buildStrategies(["cold-start"], ["exact"], { episodes: 5 })).toThrow(/unknown strategy/);
  });
});
