import { describe, expect, it } from "vitest";
import { MlInputError } from "../validate";
import { fitTfidf, textTerms, tokenizeWords, transformTfidf } from "./tfidf";

function rowOf(m: ReturnType<typeof transformTfidf>, i: number): Map<number, number> {
  const out = new Map<number, number>();
  for (let p = m.indptr[i]!; p < m.indptr[i + 1]!; p++) out.set(m.indices[p]!, m.values[p]!);
  return out;
}

describe("tokenizeWords / textTerms", () => {
  it("lower-cases and keeps runs of two or more word characters (sklearn's default pattern)", () => {
    expect(tokenizeWords("The eye, a 2nd OD_exam; Ürün x")).toEqual(["the", "eye", "2nd", "od_exam", "ürün"]);
  });
  it("adds space-joined bigrams of consecutive tokens after the unigrams", () => {
    expect(textTerms("Red eye pain", true)).toEqual(["red", "eye", "pain", "red eye", "eye pain"]);
    expect(textTerms("Red eye pain", false)).toEqual(["red", "eye", "pain"]);
  });
});

describe("fitTfidf / transformTfidf", () => {
  const texts = ["red eye", "red eye red", "ear pain", "ear ache"];

  it("keeps terms in at least minDf texts, in term order, with smooth IDF", () => {
    const s = fitTfidf(texts, { minDf: 2 });
    // df: red 2, eye 2, "red eye" 2, ear 2; everything else 1.
    expect(s.terms).toEqual(["ear", "eye", "red", "red eye"]);
    const idf = Math.log(5 / 3) + 1;
    for (const v of s.idf) expect(v).toBeCloseTo(idf, 6);
    expect(s.docCount).toBe(4);
  });

  it("weights counts by 1 + ln(tf) and L2-normalises each row", () => {
    const s = fitTfidf(texts, { minDf: 2 });
    const m = transformTfidf(s, texts);
    expect(m.rows).toBe(4);
    expect(m.cols).toBe(4);
    // Text 2: red ×2, eye ×1, "red eye" ×1, "eye red" (not in the vocabulary). All IDFs are equal.
    const r = rowOf(m, 1);
    const red = 1 + Math.log(2);
    const norm = Math.sqrt(red * red + 1 + 1);
    expect(r.get(2)).toBeCloseTo(red / norm, 6);
    expect(r.get(1)).toBeCloseTo(1 / norm, 6);
    expect(r.get(3)).toBeCloseTo(1 / norm, 6);
    expect(r.has(0)).toBe(false);
    // Text 4: only "ear" is known → a unit vector on it.
    expect([...rowOf(m, 3)]).toEqual([[0, 1]]);
  });

  it("gives a text without vocabulary terms an empty row", () => {
    const s = fitTfidf(texts, { minDf: 2 });
    const m = transformTfidf(s, ["nothing known here", ""]);
    expect(Array.from(m.indptr)).toEqual([0, 0, 0]);
  });

  it("caps the vocabulary at the most frequent terms", () => {
    const s = fitTfidf(["a1 b1 c1", "a1 b1", "a1"], { minDf: 1, maxFeatures: 2, bigrams: false });
    expect(s.terms).toEqual(["a1", "b1"]);
  });

  it("drops terms above maxDfFraction", () => {
    const s = fitTfidf(["aa bb", "aa cc", "aa bb"], { minDf: 1, maxDfFraction: 0.7, bigrams: false });
    expect(s.terms).toEqual(["bb", "cc"]);
  });

  it("rejects an empty corpus or a corpus with no term reaching minDf", () => {
    expect(() => fitTfidf([])).toThrow(MlInputError);
    expect(() => fitTfidf(["alpha", "beta"], { minDf: 2 })).toThrow(/minDf/);
  });
});
