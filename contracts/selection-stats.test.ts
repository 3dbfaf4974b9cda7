import { describe, expect, it } from "vitest";
import { labelNoiseFromText, ZStartSimulationInput } from "./selection-stats";

const base = { projectId: "p1", strategies: ["random"], budgets: [5], rounds: 2, seeds: 2, episodes: 20, seedSize: 10 };
const messages = (input: unknown) => {
  const parsed = ZStartSimulationInput.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.message);
};

describe("what-if label-noise settings", () => {
  it("reads the form's text into settings the schema checks", () => {
    expect(labelNoiseFromText("")).toEqual([]);
    expect(labelNoiseFromText(" symmetric:0.1, minority:0.3 ")).toEqual([{ kind: "symmetric", rate: 0.1 }, { kind: "minority", rate: 0.3 }]);
    expect(ZStartSimulationInput.parse({ ...base, noise: labelNoiseFromText("symmetric:0.1,minority:0.3") }).noise).toEqual([{ kind: "symmetric", rate: 0.1 }, { kind: "minority", rate: 0.3 }]);
    expect(ZStartSimulationInput.parse(base).noise).toBeUndefined();
  });

  it("refuses an unknown kind, a rate of 0 or above 0.5, a setting twice, and more than three", () => {
    expect(messages({ ...base, noise: labelNoiseFromText("flip:0.1") })).toEqual(["Label noise is symmetric or minority"]);
    expect(messages({ ...base, noise: labelNoiseFromText("symmetric") })).toContain("Label noise is symmetric or minority");
    expect(messages({ ...base, noise: labelNoiseFromText("minority:0") })).toEqual(["A noise rate is above 0 (noise-free rows are always run)"]);
    expect(messages({ ...base, noise: labelNoiseFromText("symmetric:0.7") })).toEqual(["A noise rate is at most 0.5"]);
    // A bad rate names only the rate, and spaces around ':' are read as the form's hint writes it.
    expect(messages({ ...base, noise: labelNoiseFromText("minority:abc") })).toEqual(["A noise rate is a number"]);
    expect(messages({ ...base, noise: labelNoiseFromText("symmetric:0.1.2") })).toEqual(["A noise rate is a number"]);
    expect(labelNoiseFromText("symmetric: 0.1, minority : 0.3")).toEqual([{ kind: "symmetric", rate: 0.1 }, { kind: "minority", rate: 0.3 }]);
    expect(messages({ ...base, noise: labelNoiseFromText("minority:0.3 minority:0.3") })).toEqual(["Each label-noise setting once"]);
    expect(messages({ ...base, noise: labelNoiseFromText("minority:0.1 minority:0.2 minority:0.3 symmetric:0.1") })).toEqual(["At most 3 label-noise settings"]);
  });
});
