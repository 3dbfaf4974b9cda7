import { describe, expect, it } from "vitest";
import { selectionParamsOf } from "./select";

const row = (selectionParams: unknown, minorityClasses = ["rare", "odd"]) => ({
  labelSchema: { labels: [{ key: "common", name: "Common" }, { key: "rare", name: "Rare" }, { key: "odd", name: "Odd" }], multiLabel: false },
  minorityClasses,
  selectionParams,
  encoderConfig: { kind: "builtin", dim: 16 },
  settings: {},
});

describe("the select job's parameters (read with the settings page's schema)", () => {
  it("maps the project's strategy names to their workers/ml implementations", () => {
    expect(selectionParamsOf(row({ strategy: "entropy", budget: 7 })).strategy).toBe("max-entropy");
    expect(selectionParamsOf(row({ strategy: "coreset", budget: 7 })).strategy).toBe("k-center");
    expect(selectionParamsOf(row({ strategy: "bald", budget: 7 })).strategy).toBe("bald");
    // Rows written with the workers/ml names before the settings page keep working.
    expect(selectionParamsOf(row({ strategy: "max-entropy", budget: 7 })).strategy).toBe("max-entropy");
  });

  it("gives ρ per minority class in minorityClasses order, and the budget, K and episodes as saved", () => {
    const params = selectionParamsOf(row({ strategy: "rads", budget: 12, mcPasses: 4, episodes: 50, rho: { odd: 0.1, rare: 0.3 }, lambda: 0.2 }));
    expect(params).toMatchObject({ strategy: "rads", budget: 12, mcPasses: 4, episodes: 50, lambda: 0.2, rho: [0.3, 0.1] });
    expect(selectionParamsOf(row({ budget: 3 })).rho).toBe(0.9);
  });

  it("refuses a stored value the settings page would refuse, naming the field", () => {
    expect(() => selectionParamsOf(row({ strategy: "rads", budget: 0 }))).toThrow(/selectionParams\.budget: B must be a whole number between 1 and/);
    expect(() => selectionParamsOf(row({ strategy: "magic", budget: 5 }))).toThrow(/selectionParams\.strategy/);
  });
});
