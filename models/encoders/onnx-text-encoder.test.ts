/**
 * The ONNX text-encoder path end to end: the real MiniLM tokenizer
 * (../shared/models/all-MiniLM-L6-v2-tokenizer/tokenizer.json) plus a toy ONNX graph built here
 * (word + token-type Gather tables; no real text-encoder weights exist in ../shared), run through
 * onnxruntime-node, mean-pooled over the attention mask and L2-normalised — compared with the same
 * pooling worked out by hand from the tables' closed form.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseOnnxSessions } from "../onnx-sessions";
import { createOnnxTextEncoder, meanPoolNormalize, type OnnxTextEncoder } from "./onnx-text-encoder";
import { toyTypeValue, toyWordValue, writeToyTextEncoderDir } from "./testing/toy-text-encoder";

const TOKENIZER = path.resolve("../shared/models/all-MiniLM-L6-v2-tokenizer/tokenizer.json");
const DIM = 32;
const dirs: string[] = [];
let encoder: OnnxTextEncoder;

function toyDir(options: Parameters<typeof writeToyTextEncoderDir>[1]): string {
  const dir = writeToyTextEncoderDir(TOKENIZER, options);
  dirs.push(dir);
  return dir;
}

/** Mean of word[id] + type[0] over the ids, then divided by its L2 norm — by hand, in float64. */
function expectedEmbedding(tokenIds: number[], withTypes = true): number[] {
  const mean = Array.from({ length: DIM }, (_, d) => tokenIds.reduce((s, id) => s + toyWordValue(id, d) + (withTypes ? toyTypeValue(0, d) : 0), 0) / tokenIds.length);
  const norm = Math.sqrt(mean.reduce((s, v) => s + v * v, 0));
  return mean.map((v) => v / norm);
}

beforeAll(async () => {
  encoder = await createOnnxTextEncoder({ kind: "onnx-text", path: toyDir({ dim: DIM }) });
});

afterAll(async () => {
  await releaseOnnxSessions();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("ONNX text encoder (toy graph + real tokenizer)", () => {
  it("discovers the width, the default length and a version naming model, tokenizer and length", () => {
    expect(encoder.kind).toBe("text");
    expect(encoder.dim).toBe(DIM);
    expect(encoder.maxLength).toBe(128);
    expect(encoder.version).toMatch(/^onnx-text:model-[0-9a-f]{16}:tok-[0-9a-f]{16}:max128:out-last_hidden_state:mean-l2$/);
  });

  it("mean-pools over [CLS] text [SEP] and L2-normalises, as computed by hand", async () => {
    const text = "Patient presents with acute cholecystitis.";
    const tokens = [101, ...encoder.tokenizer.tokenize(text), 102];
    expect(tokens).toHaveLength(12);
    const [v] = await encoder.embed([text]);
    const expected = expectedEmbedding(tokens);
    expect(v).toHaveLength(DIM);
    v!.forEach((x, d) => expect(x).toBeCloseTo(expected[d]!, 5));
    expect(Math.hypot(...v!)).toBeCloseTo(1, 6);
  });

  it("ignores padding: a short text gives the same vector alone and beside a long one", async () => {
    const short = "No acute distress.";
    const long = "Chest X-ray shows bilateral lower lobe opacities consistent with multifocal pneumonia; no effusion.";
    const [alone] = await encoder.embed([short]);
    const [withLong, longVec] = await encoder.embed([short, long]);
    alone!.forEach((x, d) => expect(withLong![d]).toBeCloseTo(x, 6));
    expect(longVec).not.toEqual(withLong);
    const expectedShort = expectedEmbedding([101, ...encoder.tokenizer.tokenize(short), 102]);
    withLong!.forEach((x, d) => expect(x).toBeCloseTo(expectedShort[d]!, 5));
  });

  it("truncates to maxLength tokens: only the first maxLength − 2 content tokens count", async () => {
    const small = await createOnnxTextEncoder({ kind: "onnx-text", path: dirs[0]!, maxLength: 8 });
    expect(small.version).toContain(":max8:");
    const text = "left lower lobe consolidation with air bronchograms and small effusion";
    const [v] = await small.embed([text]);
    const expected = expectedEmbedding([101, ...small.tokenizer.tokenize(text).slice(0, 6), 102]);
    v!.forEach((x, d) => expect(x).toBeCloseTo(expected[d]!, 5));
  });

  it("feeds token_type_ids only when the graph declares it, and pools the first output when last_hidden_state is absent", async () => {
    const enc = await createOnnxTextEncoder({ kind: "onnx-text", path: toyDir({ dim: DIM, tokenTypes: false, outputName: "token_states" }) });
    expect(enc.version).toContain(":out-token_states:");
    const text = "Sjögren's syndrome";
    expect(Object.keys(enc.feeds(enc.tokenizer.encodeBatch([text]))).sort()).toEqual(["attention_mask", "input_ids"]);
    const [v] = await enc.embed([text]);
    const expected = expectedEmbedding([101, ...enc.tokenizer.tokenize(text), 102], false);
    v!.forEach((x, d) => expect(x).toBeCloseTo(expected[d]!, 5));
    expect(enc.version).not.toBe(encoder.version);
  });

  it("an empty batch embeds nothing; an empty text is [CLS] [SEP]", async () => {
    expect(await encoder.embed([])).toEqual([]);
    const [v] = await encoder.embed([""]);
    const expected = expectedEmbedding([101, 102]);
    v!.forEach((x, d) => expect(x).toBeCloseTo(expected[d]!, 5));
  });

  it("refuses a missing directory, a directory without tokenizer or model, and an unknown output", async () => {
    await expect(createOnnxTextEncoder({ kind: "onnx-text", path: "/nonexistent/encoder" })).rejects.toThrow(/is not a directory/);
    const noModel = toyDir({ dim: 4 });
    fs.rmSync(path.join(noModel, "model.onnx"));
    await expect(createOnnxTextEncoder({ kind: "onnx-text", path: noModel })).rejects.toThrow(/holds no model: looked for model\.onnx/);
    const noTokenizer = toyDir({ dim: 4 });
    fs.rmSync(path.join(noTokenizer, "tokenizer.json"));
    await expect(createOnnxTextEncoder({ kind: "onnx-text", path: noTokenizer })).rejects.toThrow(/has no tokenizer\.json/);
    await expect(createOnnxTextEncoder({ kind: "onnx-text", path: dirs[0]!, outputName: "pooler_output" })).rejects.toThrow(/has no output "pooler_output"/);
  });
});

describe("meanPoolNormalize", () => {
  it("averages only the masked-in positions, then normalises", () => {
    // batch 1, seq 3, dim 2: rows (3, 4), (1, 0), (100, 100) with the last masked out → mean (2, 2) → (1/√2, 1/√2).
    const hidden = new Float32Array([3, 4, 1, 0, 100, 100]);
    const [v] = meanPoolNormalize(hidden, 1, 3, 2, new BigInt64Array([1n, 1n, 0n]));
    expect(v![0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(v![1]).toBeCloseTo(Math.SQRT1_2, 6);
  });
});
