import { describe, expect, it } from "vitest";
import { probabilitiesByKey, selectionReason, type ReasonInput } from "./selection-reason";

const labels = [{ key: "normal", name: "Normal" }, { key: "ptx", name: "Pneumothorax" }, { key: "nodule", name: "Suspicious nodule" }];
const base: ReasonInput = { features: {}, strategy: "rads", coldStart: false, labels, minorityClasses: ["ptx", "nodule"], showPredictions: true, probabilities: null };

describe("why this case", () => {
  it("names the likely rare class and the model's probability only where predictions are shown", () => {
    const rare = { ...base, features: { pseudoLabelKey: "ptx", byPolicy: 1, bald: 0.2 }, probabilities: { normal: 0.55, ptx: 0.38, nodule: 0.07 } };
    expect(selectionReason(rare)).toEqual({ kind: "rarity", text: "Likely rare finding: Pneumothorax (model 38 %)" });
    expect(selectionReason({ ...rare, showPredictions: false })).toEqual({ kind: "rarity", text: "Chosen for rarity" });
    // A top-up pick (not the agent's) is there for uncertainty, not rarity.
    expect(selectionReason({ ...rare, features: { pseudoLabelKey: "ptx", byPolicy: 0 } })).toEqual({ kind: "uncertainty", text: "Model uncertain: Normal 55 % or Pneumothorax 38 %" });
    expect(selectionReason({ ...rare, features: { pseudoLabelKey: "normal", byPolicy: 1 }, showPredictions: false })).toEqual({ kind: "uncertainty", text: "Chosen for uncertainty" });
  });

  it("says cold start, diverse, random or data-scientist priority from the round and the features", () => {
    // Worded for any project (images-only projects have no reports).
    expect(selectionReason({ ...base, coldStart: true, strategy: "cold-start" })).toEqual({ kind: "cold-start", text: "Cold start: chosen to cover the variety of cases before there is a model" });
    expect(selectionReason({ ...base, strategy: "coreset" }).text).toBe("Diverse sample: unlike the cases labelled so far");
    expect(selectionReason({ ...base, strategy: "random" }).kind).toBe("random");
    expect(selectionReason({ ...base, features: { priority: true, pseudoLabelKey: "ptx" } }).kind).toBe("priority");
    expect(selectionReason({ ...base, strategy: "bald", features: null }).text).toBe("Model uncertain about this case");
  });

  it("reads stored probabilities in class order or by key", () => {
    expect(probabilitiesByKey([0.1, 0.9], ["a", "b"])).toEqual({ a: 0.1, b: 0.9 });
    expect(probabilitiesByKey({ a: 0.3, b: "x" }, [])).toEqual({ a: 0.3 });
    expect(probabilitiesByKey(null, ["a"])).toBeNull();
  });
});
