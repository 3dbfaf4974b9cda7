import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { ZImagePreprocess } from "@/contracts/encoder-config";
import { fitTextFeaturizer } from "@/workers/ml/text-featurizer";
import { createRng } from "@/workers/ml/rng";
import { fitLsa, serializeLsaState } from "@/workers/ml/text/lsa";
import { encoderKindOfVersion, encoderVersion, isBuiltinVersionOfWidth } from "./encoder-version";

describe("encoderVersion", () => {
  it("keeps the formats vectors are already stored under", () => {
    const state = fitTextFeaturizer(["chest pain", "no acute findings", "chest x-ray clear"], { dim: 64 });
    const idf = crypto.createHash("sha256").update(Buffer.from(new Float64Array(state.idf!).buffer)).digest("hex").slice(0, 16);
    expect(encoderVersion({ kind: "builtin", state })).toBe(`builtin-hashed-text-v${state.version}-d64-c${state.minCharN}-${state.maxCharN}-${state.wordBigrams ? "bi" : "nobi"}-n3-idf-${idf}`);
    expect(encoderVersion({ kind: "onnx-text", modelSha256: "a".repeat(64), tokenizerSha256: "b".repeat(64), maxLength: 128, outputName: "last_hidden_state" })).toBe(
      `onnx-text:model-${"a".repeat(16)}:tok-${"b".repeat(16)}:max128:out-last_hidden_state:mean-l2`,
    );
    const preprocess = ZImagePreprocess.parse({});
    const pre = crypto.createHash("sha256").update(JSON.stringify({ cropSize: 224, mean: [0.485, 0.456, 0.406], resizeShortSide: 256, std: [0.229, 0.224, 0.225] })).digest("hex").slice(0, 12);
    expect(encoderVersion({ kind: "onnx-image", modelSha256: "c".repeat(64), outputName: "output", preprocess })).toBe(`onnx-image:model-${"c".repeat(16)}:out-output:pre-${pre}:l2`);
  });

  it("changes with anything that changes the vectors, and not with key order", () => {
    const base = { kind: "onnx-image" as const, modelSha256: "c".repeat(64), outputName: "output", preprocess: ZImagePreprocess.parse({}) };
    const v = encoderVersion(base);
    expect(encoderVersion({ ...base, modelSha256: "d".repeat(64) })).not.toBe(v);
    expect(encoderVersion({ ...base, outputName: "pool" })).not.toBe(v);
    expect(encoderVersion({ ...base, preprocess: { ...base.preprocess, cropSize: 200 } })).not.toBe(v);
    const { std, mean, cropSize, resizeShortSide } = base.preprocess;
    expect(encoderVersion({ ...base, preprocess: { std, mean, cropSize, resizeShortSide } })).toBe(v);
  });

  it("names the kind of a stored version", () => {
    const state = fitTextFeaturizer(["a b c"], { dim: 32 });
    const builtin = encoderVersion({ kind: "builtin", state });
    expect(encoderKindOfVersion(builtin)).toBe("builtin");
    expect(isBuiltinVersionOfWidth(builtin, 32)).toBe(true);
    expect(isBuiltinVersionOfWidth(builtin, 384)).toBe(false);
    expect(encoderKindOfVersion("onnx-image:model-x:out-y:pre-z:l2")).toBe("onnx-image");
    // The name the what-if used to look up (the config's kind alone) is no version any encoder writes.
    expect(encoderKindOfVersion("onnx-image")).toBeNull();
  });

  it("names an LSA fit by a hash of the whole fitted state", () => {
    const texts = ["chest pain radiating", "chest pain at rest", "no acute findings today", "no acute distress noted", "follow up chest film"];
    const state = fitLsa(texts, createRng(3), { dim: 2 });
    const sha = crypto.createHash("sha256").update(serializeLsaState(state)).digest("hex").slice(0, 16);
    const version = encoderVersion({ kind: "lsa", state });
    expect(version).toBe(`lsa-text-v1-d${state.dim}-n5-t${state.tfidf.terms.length}-${sha}`);
    expect(encoderKindOfVersion(version)).toBe("lsa");
    // Refitting the same texts the same way names the same version; other texts, another.
    expect(encoderVersion({ kind: "lsa", state: fitLsa(texts, createRng(3), { dim: 2 }) })).toBe(version);
    const other = fitLsa([...texts, "chest pain again"], createRng(3), { dim: 2 });
    expect(encoderVersion({ kind: "lsa", state: other })).not.toBe(version);
  });
});
