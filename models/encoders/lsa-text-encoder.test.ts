/** The LSA encoder behind the Encoder interface: vectors of workers/ml/text/lsa.ts, versioned by the fitted state. */
import { describe, expect, it } from "vitest";
import { MlInputError } from "@/workers/ml/validate";
import { fitLsaTextEncoder, lsaEncoderVersion } from "./lsa-text-encoder";

const corpus = [
  "Cataract extraction of the left eye, intraocular lens.",
  "Left eye cataract, visual acuity reduced.",
  "Chronic sinusitis, nasal endoscopy and sinus surgery.",
  "Nasal obstruction and sinusitis, septoplasty.",
  "Chest pain, troponin negative, stress test.",
  "Chest pain with exertion, stress test ordered.",
];

describe("LSA text encoder", () => {
  it("embeds unit vectors of its dimension, same topic closer than another topic", async () => {
    const enc = fitLsaTextEncoder(corpus, { dim: 3 });
    expect(enc.kind).toBe("text");
    expect(enc.dim).toBe(3);
    const [eye, eye2, sinus] = await enc.embed([corpus[0]!, corpus[1]!, corpus[2]!]);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    expect(dot(eye!, eye!)).toBeCloseTo(1, 5);
    expect(dot(eye!, eye2!)).toBeGreaterThan(dot(eye!, sinus!));
  });

  it("versions by the fitted state: any order of the same narratives gives one version, a new narrative another", () => {
    const a = fitLsaTextEncoder(corpus, { dim: 3 });
    expect(a.version).toMatch(/^lsa-text-v1-d3-n6-t\d+-[0-9a-f]{16}$/);
    expect(fitLsaTextEncoder([...corpus].reverse(), { dim: 3 }).version).toBe(a.version);
    expect(fitLsaTextEncoder([...corpus, "Sinus surgery follow-up, nasal packing removed."], { dim: 3 }).version).not.toBe(a.version);
    expect(fitLsaTextEncoder(corpus, { dim: 2 }).version).not.toBe(a.version);
    expect(lsaEncoderVersion(a.state)).toBe(a.version);
  });

  it("refuses an empty corpus with a clear error", () => {
    expect(() => fitLsaTextEncoder([])).toThrow(MlInputError);
  });
});
