import { describe, expect, it } from "vitest";
import { createRng } from "../rng";
import { deserializeLsaState, embedLsa, fitLsa, serializeLsaState } from "./lsa";

const eye = ["red eye itchy eye", "eye pain red eye", "blurred vision eye exam", "eye exam vision cataract"];
const ear = ["ear pain hearing loss", "ear infection hearing", "sinus ear pain nose", "nose sinus congestion ear"];
const corpus = [...eye, ...ear];

function cos(x: Float32Array, i: number, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += x[i * d + t]! * x[j * d + t]!;
  return s;
}

describe("LSA encoder", () => {
  it("embeds texts as unit rows of the requested dimension", () => {
    const st = fitLsa(corpus, createRng(1), { dim: 3 });
    const x = embedLsa(st, corpus);
    expect([x.rows, x.cols]).toEqual([8, 3]);
    for (let i = 0; i < 8; i++) expect(cos(x.data, i, i, 3)).toBeCloseTo(1, 5);
  });

  it("puts texts of the same topic closer than texts of different topics", () => {
    const st = fitLsa(corpus, createRng(1), { dim: 2 });
    const x = embedLsa(st, [...corpus, "itchy red eye"]);
    const d = x.cols;
    const q = 8;
    const toEye = eye.map((_, i) => cos(x.data, q, i, d));
    const toEar = ear.map((_, i) => cos(x.data, q, 4 + i, d));
    expect(Math.min(...toEye)).toBeGreaterThan(Math.max(...toEar));
  });

  it("caps the dimension at the corpus size and is deterministic under a seed", () => {
    const a = fitLsa(corpus, createRng(4), { dim: 50 });
    expect(a.dim).toBeLessThanOrEqual(8);
    const b = fitLsa(corpus, createRng(4), { dim: 50 });
    expect(Array.from(embedLsa(a, corpus).data)).toEqual(Array.from(embedLsa(b, corpus).data));
  });

  it("maps a text with no known term to a zero row", () => {
    const st = fitLsa(corpus, createRng(1), { dim: 2 });
    expect(Array.from(embedLsa(st, ["zzz qqq"]).data)).toEqual([0, 0]);
  });
});

describe("serializeLsaState / deserializeLsaState", () => {
  it("round-trips a fitted encoder: same embeddings after the trip", () => {
    const st = fitLsa(corpus, createRng(1), { dim: 3 });
    const back = deserializeLsaState(serializeLsaState(st));
    expect(back.tfidf.terms).toEqual(st.tfidf.terms);
    expect(Array.from(embedLsa(back, corpus).data)).toEqual(Array.from(embedLsa(st, corpus).data));
  });

  it("rejects bytes that are not a serialised state", () => {
    expect(() => deserializeLsaState(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/LSA1 magic/);
    const ok = serializeLsaState(fitLsa(corpus, createRng(1), { dim: 2 }));
    expect(() => deserializeLsaState(ok.subarray(0, ok.length - 4))).toThrow(/expected \d+ bytes/);
  });
});
