import { describe, expect, it } from "vitest";
import { createTextFeaturizer, featurize, fitTextFeaturizer, fmix32, fnv1a32, tokenize, type TextFeaturizerState } from "./text-featurizer";
import type { Matrix } from "./types";
import { MlInputError } from "./validate";

function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const corpus = [
  "Chest X-ray shows left lower lobe pneumonia.",
  "Left lower lobe pneumonia seen on chest radiograph",
  "Patient reports mild knee pain after a fall at home.",
  "No acute cardiopulmonary abnormality; lungs are clear.",
  "CT head: no intracranial haemorrhage.",
  "Knee radiograph: no fracture, mild effusion.",
];

describe("hashing", () => {
  it("matches published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes non-ASCII text through its UTF-8 bytes", () => {
    // "é" is the two UTF-8 bytes C3 A9; feeding them by hand must give the same state.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32("é")).toBe(h);
  });

  it("fmix32 maps 0 to 0 and spreads consecutive inputs over the top bit", () => {
    expect(fmix32(0)).toBe(0);
    let top = 0;
    for (let i = 1; i <= 1000; i++) top += fmix32(i) >>> 31;
    expect(top).toBeGreaterThan(400);
    expect(top).toBeLessThan(600);
  });
});

describe("tokenize", () => {
  it("lower-cases, normalises and splits on non-alphanumerics", () => {
    expect(tokenize("Chest X-ray: LLL pneumonia, 5mg")).toEqual(["chest", "x", "ray", "lll", "pneumonia", "5mg"]);
    expect(tokenize("Ｆｕｌｌwidth Ärztin")).toEqual(["fullwidth", "ärztin"]);
    expect(tokenize("  ...  ")).toEqual([]);
  });
});

describe("featurize", () => {
  const state = fitTextFeaturizer(corpus);
  const m = featurize(state, corpus);

  it("returns [N, 384] L2-normalised rows by default", () => {
    expect([m.rows, m.cols]).toEqual([corpus.length, 384]);
    for (let i = 0; i < m.rows; i++) expect(Math.sqrt(dot(row(m, i), row(m, i)))).toBeCloseTo(1, 5);
  });

  it("is deterministic and independent of batch composition", () => {
    expect(featurize(state, corpus).data).toEqual(m.data);
    expect(featurize(state, [corpus[3]!]).data).toEqual(row(m, 3));
  });

  it("places similar reports closer than unrelated ones", () => {
    const similar = dot(row(m, 0), row(m, 1));
    expect(similar).toBeGreaterThan(dot(row(m, 0), row(m, 2)) + 0.2);
    expect(similar).toBeGreaterThan(dot(row(m, 0), row(m, 4)) + 0.2);
    // Character n-grams relate inflections that share no whole word.
    const u = featurize(state, ["pneumonias", "pneumonia", "fracture"]);
    expect(dot(row(u, 0), row(u, 1))).toBeGreaterThan(dot(row(u, 0), row(u, 2)) + 0.3);
  });

  it("gives an all-zero row for text without words", () => {
    const z = featurize(state, ["", "  -- ;; ", "ok"]);
    expect(Array.from(row(z, 0)).every((v) => v === 0)).toBe(true);
    expect(Array.from(row(z, 1)).every((v) => v === 0)).toBe(true);
    expect(Math.sqrt(dot(row(z, 2), row(z, 2)))).toBeCloseTo(1, 5);
  });

  it("works unfitted (IDF = 1) and fitted IDF changes the weighting", () => {
    const unfitted = createTextFeaturizer();
    expect(unfitted.idf).toBeNull();
    const a = featurize(unfitted, corpus);
    expect(Math.sqrt(dot(row(a, 0), row(a, 0)))).toBeCloseTo(1, 5);
    expect(a.data).not.toEqual(m.data);
    // Smooth IDF: ln((1+N)/(1+df)) + 1 lies in [1, ln((1+N)/1) + 1].
    for (const v of state.idf!) {
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(Math.log(1 + corpus.length) + 1 + 1e-12);
    }
    expect(state.docCount).toBe(corpus.length);
  });

  it("respects the configured dimension and survives a JSON round trip", () => {
    const small = fitTextFeaturizer(corpus, { dim: 64, minCharN: 2, maxCharN: 3, wordBigrams: false });
    const back = JSON.parse(JSON.stringify(small)) as TextFeaturizerState;
    const f = featurize(back, corpus);
    expect(f.cols).toBe(64);
    expect(f.data).toEqual(featurize(small, corpus).data);
  });

  it("rejects bad options, an empty corpus and a corrupted state", () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(MlInputError);
        return (e as MlInputError).code;
      }
      return "no error";
    };
    expect(code(() => fitTextFeaturizer([]))).toBe("empty-input");
    expect(code(() => createTextFeaturizer({ dim: 0 }))).toBe("invalid-argument");
    expect(code(() => createTextFeaturizer({ minCharN: 4, maxCharN: 3 }))).toBe("invalid-argument");
    expect(code(() => featurize({ ...state, idf: state.idf!.slice(1) }, ["x"]))).toBe("invalid-argument");
    expect(code(() => featurize({ ...state, idf: state.idf!.map(() => NaN) }, ["x"]))).toBe("invalid-argument");
    expect(code(() => featurize({ ...state, format: "other" } as unknown as TextFeaturizerState, ["x"]))).toBe("invalid-argument");
  });
});
