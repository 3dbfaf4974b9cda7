import { describe, expect, it } from "vitest";
import { MlInputError } from "../validate";
import { expectedClassWeight, priorAwareWeights, pseudoPrior, resolveTargetMix, softPrior } from "./prior";

describe("pseudoPrior", () => {
  it("is the share of each pseudo-label", () => {
    const prior = pseudoPrior(Int32Array.from([0, 1, 0, 0, 2, 0, 0, 1, 0, 0]), 3);
    expect(Array.from(prior)).toEqual([0.7, 0.2, 0.1]);
  });
  it("rejects labels outside the classes", () => {
    expect(() => pseudoPrior(Int32Array.from([0, 3]), 3)).toThrow(MlInputError);
  });
});

describe("priorAwareWeights", () => {
  it("binary by hand: π̂₊ = 0.1, ρ = 0.9 gives w₊ = 9, w₋ = 1/9", () => {
    const mix = resolveTargetMix(2, [1], 0.9);
    const w = priorAwareWeights(Float64Array.from([0.9, 0.1]), [1], mix);
    expect(w[1]).toBeCloseTo(9, 12);
    expect(w[0]).toBeCloseTo(1 / 9, 12);
  });

  it("clamps π̂₊ to [1e-3, 1 − 1e-3] when no case is pseudo-positive (or all are)", () => {
    const mix = resolveTargetMix(2, [1], 0.9);
    const none = priorAwareWeights(Float64Array.from([1, 0]), [1], mix);
    expect(none[1]).toBeCloseTo(0.9 / 1e-3, 9);
    expect(none[0]).toBeCloseTo(0.1 / (1 - 1e-3), 12);
    const all = priorAwareWeights(Float64Array.from([0, 1]), [1], mix);
    expect(all[1]).toBeCloseTo(0.9 / (1 - 1e-3), 12);
    expect(all[0]).toBeCloseTo(0.1 / 1e-3, 9);
  });

  it("multi-class formula reduces to the binary one for C = 2 (minority either class)", () => {
    for (const [p1, rho] of [[0.1, 0.9], [0.3, 0.5], [0.0004, 0.7], [0.9995, 0.2]] as const) {
      const pc = Math.min(Math.max(p1, 1e-3), 1 - 1e-3);
      const w = priorAwareWeights(Float64Array.from([1 - p1, p1]), [1], resolveTargetMix(2, [1], rho));
      expect(w[1]).toBeCloseTo(rho / pc, 9);
      expect(w[0]).toBeCloseTo((1 - rho) / (1 - pc), 9);
      const swapped = priorAwareWeights(Float64Array.from([p1, 1 - p1]), [0], resolveTargetMix(2, [0], rho));
      expect(swapped[0]).toBeCloseTo(rho / pc, 9);
      expect(swapped[1]).toBeCloseTo((1 - rho) / (1 - pc), 9);
    }
  });

  it("multi-class by hand: two minority classes share ρ, the rest share 1 − Σρ", () => {
    // π̂ = [0.7, 0.2, 0.05, 0.05], minority {2, 3}, ρ = 0.8 split evenly: ρ₂ = ρ₃ = 0.4.
    const mix = resolveTargetMix(4, [2, 3], 0.8);
    expect(Array.from(mix)).toEqual([0, 0, 0.4, 0.4]);
    const w = priorAwareWeights(Float64Array.from([0.7, 0.2, 0.05, 0.05]), [2, 3], mix);
    expect(w[2]).toBeCloseTo(8, 12);
    expect(w[3]).toBeCloseTo(8, 12);
    expect(w[0]).toBeCloseTo(0.2 / 0.9, 12);
    expect(w[1]).toBeCloseTo(0.2 / 0.9, 12);
    const uneven = priorAwareWeights(Float64Array.from([0.7, 0.2, 0.05, 0.05]), [2, 3], resolveTargetMix(4, [2, 3], [0.6, 0.3]));
    expect(uneven[2]).toBeCloseTo(12, 12);
    expect(uneven[3]).toBeCloseTo(6, 12);
    expect(uneven[0]).toBeCloseTo(0.1 / 0.9, 12);
  });

  it("rejects unknown or duplicate minority classes and impossible mixes", () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof MlInputError ? e.code : "not-ml-input-error";
      }
      return undefined;
    };
    expect(code(() => resolveTargetMix(2, [2], 0.9))).toBe("unknown-minority-label");
    expect(code(() => resolveTargetMix(3, [1, 1], 0.9))).toBe("unknown-minority-label");
    expect(code(() => resolveTargetMix(2, [-1], 0.9))).toBe("unknown-minority-label");
    expect(code(() => resolveTargetMix(2, [1], 1.5))).toBe("invalid-argument");
    expect(code(() => resolveTargetMix(3, [1, 2], [0.7, 0.6]))).toBe("invalid-argument");
    expect(code(() => resolveTargetMix(3, [1, 2], [0.7]))).toBe("dimension-mismatch");
  });
});

describe("softPrior and expectedClassWeight", () => {
  it("π̂ is the mean probability mass per class, not the argmax share", () => {
    // p̄ rows: [0.7, 0.3], [0.6, 0.4], [0.9, 0.1]: argmax share of class 1 is 0, mass is 0.8/3.
    const p = Float64Array.from([0.7, 0.3, 0.6, 0.4, 0.9, 0.1]);
    const soft = softPrior(p, 2);
    expect(soft[1]).toBeCloseTo(0.8 / 3, 12);
    expect(soft[0]).toBeCloseTo(2.2 / 3, 12);
    expect(pseudoPrior(Int32Array.from([0, 0, 0]), 2)[1]).toBe(0);
    // Weights from the soft prior stay finite and moderate: w₊ = 0.9/(0.8/3) = 3.375, w₋ = 0.1/(2.2/3).
    const w = priorAwareWeights(soft, [1], resolveTargetMix(2, [1], 0.9));
    expect(w[1]).toBeCloseTo(3.375, 12);
    const ew = expectedClassWeight(p, w);
    expect(ew[1]).toBeCloseTo(0.6 * w[0]! + 0.4 * w[1]!, 12);
    expect(ew[2]).toBeLessThan(ew[0]!);
  });

  it("does not depend on the order of the pool, to the last bit", () => {
    const rows = [0.1, 0.2, 0.3000001, 0.7, 1e-9, 0.45, 0.3333333, 0.999];
    const p = Float64Array.from(rows.flatMap((q) => [1 - q, q]));
    const r = Float64Array.from([...rows].reverse().flatMap((q) => [1 - q, q]));
    expect(Array.from(softPrior(p, 2))).toEqual(Array.from(softPrior(r, 2)));
  });

  it("rejects a shape mismatch and non-probabilities", () => {
    expect(() => softPrior(Float64Array.from([0.5, 0.5, 1]), 2)).toThrow(MlInputError);
    expect(() => softPrior(Float64Array.from([1.5, -0.5]), 2)).toThrow(/not a probability/);
    expect(() => expectedClassWeight(Float64Array.from([0.5, 0.5, 1]), Float64Array.from([1, 2]))).toThrow(MlInputError);
  });
});
