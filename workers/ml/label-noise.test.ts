import { describe, expect, it } from "vitest";
import { applyLabelNoise, noiseName, parseLabelNoise } from "./label-noise";
import { createRng } from "./rng";
import { MlInputError } from "./validate";

// 3 classes: 0 common (70 %), 1 other (20 %), 2 rare (10 %, the minority); every 5th case is TEST.
function dataset(n: number): { labels: Int32Array; test: Int32Array } {
  const labels = Int32Array.from({ length: n }, (_, i) => (i % 10 === 3 ? 2 : i % 10 < 2 ? 1 : 0));
  const test = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 0);
  return { labels, test };
}

/** k within `z` standard deviations of the binomial mean n·p. */
function withinBinomial(k: number, n: number, p: number, z = 4): boolean {
  return Math.abs(k - n * p) <= z * Math.sqrt(n * p * (1 - p));
}

describe("applyLabelNoise", () => {
  const { labels, test } = dataset(20_000);
  const inTest = new Set(test);

  it("symmetric: flips each non-test label with the rate (binomial bounds), always to another class, never on TEST", () => {
    for (const [seed, rate] of [[1, 0.1], [2, 0.1], [3, 0.3], [4, 0.05]] as const) {
      const out = applyLabelNoise(labels, 3, [2], test, { kind: "symmetric", rate }, createRng(seed));
      const changed = Array.from({ length: labels.length }, (_, i) => i).filter((i) => out.labels[i] !== labels[i]);
      expect(changed).toEqual(Array.from(out.flipped));
      expect(out.eligible).toBe(labels.length - test.length);
      expect(withinBinomial(changed.length, out.eligible, rate)).toBe(true);
      for (const i of test) expect(out.labels[i]).toBe(labels[i]);
      for (const i of changed) expect(inTest.has(i)).toBe(false);
      // The new class is uniform over the other two: each about half of the flips of its source class.
      const fromCommon = changed.filter((i) => labels[i] === 0);
      const toRare = fromCommon.filter((i) => out.labels[i] === 2).length;
      expect(withinBinomial(toRare, fromCommon.length, 0.5)).toBe(true);
    }
  });

  it("minority-targeted: flips only minority labels, to the majority class, with the rate; TEST untouched", () => {
    for (const [seed, rate] of [[1, 0.2], [5, 0.3], [9, 0.5]] as const) {
      const out = applyLabelNoise(labels, 3, [2], test, { kind: "minority", rate }, createRng(seed));
      const trainMinority = Array.from({ length: labels.length }, (_, i) => i).filter((i) => !inTest.has(i) && labels[i] === 2);
      expect(out.eligible).toBe(trainMinority.length);
      expect(out.target).toBe(0);
      for (let i = 0; i < labels.length; i++) {
        if (out.labels[i] === labels[i]) continue;
        expect(labels[i]).toBe(2);
        expect(out.labels[i]).toBe(0);
        expect(inTest.has(i)).toBe(false);
      }
      expect(withinBinomial(out.flipped.length, trainMinority.length, rate)).toBe(true);
      for (const i of test) expect(out.labels[i]).toBe(labels[i]);
    }
  });

  it("is deterministic for a seed and differs between seeds; leaves the input alone", () => {
    const before = labels.slice();
    const a = applyLabelNoise(labels, 3, [2], test, { kind: "symmetric", rate: 0.2 }, createRng(42));
    const b = applyLabelNoise(labels, 3, [2], test, { kind: "symmetric", rate: 0.2 }, createRng(42));
    const c = applyLabelNoise(labels, 3, [2], test, { kind: "symmetric", rate: 0.2 }, createRng(43));
    expect(b.labels).toEqual(a.labels);
    expect(c.labels).not.toEqual(a.labels);
    expect(labels).toEqual(before);
  });

  it("rate 0 flips nothing, rate 1 flips every eligible case", () => {
    expect(applyLabelNoise(labels, 3, [2], test, { kind: "symmetric", rate: 0 }, createRng(1)).flipped.length).toBe(0);
    const all = applyLabelNoise(labels, 3, [2], test, { kind: "minority", rate: 1 }, createRng(1));
    expect(all.flipped.length).toBe(all.eligible);
  });

  it("refuses a rate outside [0, 1] and minority noise with no majority class to flip to", () => {
    expect(() => applyLabelNoise(labels, 3, [2], test, { kind: "symmetric", rate: 1.5 }, createRng(1))).toThrow(MlInputError);
    expect(() => applyLabelNoise(Int32Array.from([1, 1, 0]), 2, [1], Int32Array.from([2]), { kind: "minority", rate: 0.5 }, createRng(1))).toThrow(/non-minority class/);
  });
});

describe("parseLabelNoise / noiseName", () => {
  it("round-trips the names and refuses unknown kinds and rates", () => {
    expect(parseLabelNoise("symmetric:0.1")).toEqual({ kind: "symmetric", rate: 0.1 });
    expect(parseLabelNoise(" minority:0.3 ")).toEqual({ kind: "minority", rate: 0.3 });
    expect(parseLabelNoise("none")).toEqual({ kind: "none" });
    expect(parseLabelNoise("minority:0")).toEqual({ kind: "none" });
    expect(noiseName(parseLabelNoise("symmetric:0.25"))).toBe("symmetric:0.25");
    expect(() => parseLabelNoise("flip:0.1")).toThrow(/expected none, symmetric/);
    expect(() => parseLabelNoise("symmetric:1.2")).toThrow(/\[0, 1\]/);
    expect(() => parseLabelNoise("symmetric:")).toThrow(/expected none/);
  });
});
