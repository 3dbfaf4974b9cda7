import { describe, expect, it } from "vitest";
import { baldFeatures } from "./bald";
import type { McLogProbs } from "./types";
import { MlInputError } from "./validate";

/** Builds an MC tensor from probabilities [n][k][c]. */
function mcFromProbs(p: number[][][]): McLogProbs {
  const n = p.length;
  const k = p[0]!.length;
  const c = p[0]![0]!.length;
  const data = new Float32Array(n * k * c);
  p.forEach((row, i) => row.forEach((pass, kk) => pass.forEach((v, cc) => (data[(i * k + kk) * c + cc] = Math.log(v)))));
  return { data, n, k, c };
}

describe("baldFeatures", () => {
  it("two confident, disagreeing passes: H = ln 2, E = 0, MI = ln 2", () => {
    const f = baldFeatures(mcFromProbs([[[1, 0], [0, 1]]]));
    expect(f.meanProb[0]).toBeCloseTo(0.5, 12);
    expect(f.meanProb[1]).toBeCloseTo(0.5, 12);
    expect(f.entropy[0]).toBeCloseTo(Math.LN2, 12);
    expect(f.expectedEntropy[0]).toBeCloseTo(0, 12);
    expect(f.mutualInformation[0]).toBeCloseTo(Math.LN2, 12);
    expect(f.meanLogProb[0]).toBeCloseTo(Math.log(0.5), 12);
    expect(f.pseudoLabel[0]).toBe(0); // tie goes to the lowest class
  });

  it("identical passes carry no mutual information", () => {
    const f = baldFeatures(mcFromProbs([[[0.3, 0.7], [0.3, 0.7], [0.3, 0.7]]]));
    const h = -(0.3 * Math.log(0.3) + 0.7 * Math.log(0.7));
    expect(f.entropy[0]).toBeCloseTo(h, 6);
    expect(f.expectedEntropy[0]).toBeCloseTo(h, 6);
    expect(f.mutualInformation[0]).toBeCloseTo(0, 6);
    expect(f.pseudoLabel[0]).toBe(1);
  });

  it("hand-computed three-class case and clamped log p̄", () => {
    // p̄ = [0.5, 0.5, 0]; H = ln 2; E = mean(H([0.8,0.2,0]), H([0.2,0.8,0])) = H([0.8,0.2]).
    const f = baldFeatures(mcFromProbs([[[0.8, 0.2, 0], [0.2, 0.8, 0]], [[0.1, 0.1, 0.8], [0.1, 0.1, 0.8]]]));
    const h82 = -(0.8 * Math.log(0.8) + 0.2 * Math.log(0.2));
    expect(f.entropy[0]).toBeCloseTo(Math.LN2, 6);
    expect(f.expectedEntropy[0]).toBeCloseTo(h82, 6);
    expect(f.mutualInformation[0]).toBeCloseTo(Math.LN2 - h82, 6);
    expect(f.meanLogProb[2]).toBeCloseTo(Math.log(1e-12), 9);
    expect(f.pseudoLabel[1]).toBe(2);
    expect(f.meanLogProb.length).toBe(6);
    expect(f.mutualInformation.length).toBe(2);
  });

  it("rejects K < 2, C < 2, NaN, +Infinity, wrong length and unnormalised logits", () => {
    expect(() => baldFeatures({ data: new Float32Array([0, -1]), n: 1, k: 1, c: 2 })).toThrow(/>= 2 MC-dropout/);
    expect(() => baldFeatures({ data: new Float32Array([0, 0]), n: 1, k: 2, c: 1 })).toThrow(/>= 2 classes/);
    const nan = mcFromProbs([[[0.5, 0.5], [0.5, 0.5]]]);
    nan.data[1] = NaN;
    expect(() => baldFeatures(nan)).toThrow(/NaN/);
    const inf = mcFromProbs([[[0.5, 0.5], [0.5, 0.5]]]);
    inf.data[2] = Infinity;
    expect(() => baldFeatures(inf)).toThrow(/Infinity/);
    expect(() => baldFeatures({ data: new Float32Array(3), n: 1, k: 2, c: 2 })).toThrow(/needs 4/);
    expect(() => baldFeatures({ data: new Float32Array([2, 1, 2, 1]), n: 1, k: 2, c: 2 })).toThrow(/log-probabilities/);
    expect(() => baldFeatures(nan)).toThrow(MlInputError);
  });

  it("empty pool gives empty features", () => {
    const f = baldFeatures({ data: new Float32Array(0), n: 0, k: 3, c: 2 });
    expect(f.entropy.length).toBe(0);
  });
});
