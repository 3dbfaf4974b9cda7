/** The built-in encoder: the featuriser behind the Encoder interface, versioned by options and fitted IDF. */
import { describe, expect, it } from "vitest";
import { ZEncoderConfig } from "@/contracts/encoder-config";
import { featurize, fitTextFeaturizer } from "@/workers/ml/text-featurizer";
import { builtinEncoderVersion, createBuiltinTextEncoder, fitBuiltinTextEncoder } from "./builtin-text-encoder";
import { createEncoder } from "./create-encoder";

const corpus = ["Acute appendicitis, laparoscopic appendectomy.", "Chest pain; troponin negative.", "Right knee arthroscopy with partial meniscectomy."];

describe("built-in text encoder", () => {
  it("embeds exactly the featuriser's rows", async () => {
    const enc = fitBuiltinTextEncoder(corpus, { dim: 64 });
    const rows = await enc.embed(corpus);
    const m = featurize(fitTextFeaturizer(corpus, { dim: 64 }), corpus);
    expect(enc.kind).toBe("text");
    expect(enc.dim).toBe(64);
    rows.forEach((row, r) => expect(Array.from(row)).toEqual(Array.from(m.data.subarray(r * 64, (r + 1) * 64))));
  });

  it("versions by options and IDF: the same corpus in any order gives one version, a new text another", () => {
    const a = fitBuiltinTextEncoder(corpus).version;
    expect(a).toMatch(/^builtin-hashed-text-v1-d384-c3-5-bi-n3-idf-[0-9a-f]{16}$/);
    expect(fitBuiltinTextEncoder([...corpus].reverse()).version).toBe(a);
    expect(fitBuiltinTextEncoder([...corpus, "Cataract extraction, left eye."]).version).not.toBe(a);
    expect(fitBuiltinTextEncoder(corpus, { dim: 128 }).version).not.toBe(a);
    expect(createBuiltinTextEncoder(fitTextFeaturizer(corpus, { wordBigrams: false })).version).toContain("-nobi-");
  });

  it("with no narratives it is the unfitted featuriser (IDF = 1)", async () => {
    const enc = fitBuiltinTextEncoder([]);
    expect(enc.version).toBe("builtin-hashed-text-v1-d384-c3-5-bi-n0-idf-none");
    expect(builtinEncoderVersion(enc.state)).toBe(enc.version);
    const [empty] = await enc.embed([""]);
    expect(empty!.every((v) => v === 0)).toBe(true);
  });

  it("createEncoder builds it from { kind: builtin } (dim defaults to 384) and fits on the corpus given", async () => {
    const config = ZEncoderConfig.parse({ kind: "builtin" });
    expect(config).toEqual({ kind: "builtin", dim: 384 });
    const enc = await createEncoder(config, { corpus });
    expect(enc.version).toBe(fitBuiltinTextEncoder(corpus).version);
    expect(() => ZEncoderConfig.parse({ kind: "onnx-text" })).toThrow();
    expect(() => ZEncoderConfig.parse({ kind: "word2vec" })).toThrow();
  });
});
