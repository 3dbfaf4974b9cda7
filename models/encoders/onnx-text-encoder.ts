/**
 * ONNX text encoder: a BERT-family model directory (tokenizer.json + model.onnx) run through
 * onnxruntime-node. Token states are mean-pooled over the attention mask and L2-normalised
 * (the sentence-transformers recipe). A model whose chosen output is already [batch, dim]
 * (a pooled sentence embedding) is only normalised.
 *
 * Input names are discovered from the session: input_ids and attention_mask are required,
 * token_type_ids is fed only if the graph declares it.
 */
import fs from "node:fs";
import path from "node:path";
import type { OnnxExecutionProvider, OnnxTextEncoderConfig } from "@/contracts/encoder-config";
import { fileSha256, getOnnxSession, OnnxModelError, ort } from "../onnx-sessions";
import { encoderVersion } from "./encoder-version";
import { l2NormalizeInPlace, type TextEncoder } from "./types";
import { loadWordPieceTokenizer, type EncodedBatch, type WordPieceTokenizer } from "./wordpiece-tokenizer";

const MODEL_CANDIDATES = ["model.onnx", "onnx/model.onnx", "onnx/model_quantized.onnx"];

function findModelFile(dir: string, modelFile: string | undefined): string {
  const candidates = modelFile ? [modelFile] : MODEL_CANDIDATES;
  for (const candidate of candidates) {
    const full = path.join(dir, candidate);
    if (fs.existsSync(full)) return full;
  }
  throw new OnnxModelError(`Text encoder directory ${dir} holds no model: looked for ${candidates.join(", ")}.`);
}

/** Mean of the masked token states of `hidden` [batch, seq, dim], one L2-normalised vector per row. */
export function meanPoolNormalize(hidden: Float32Array, batch: number, seq: number, dim: number, mask: BigInt64Array): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (mask[b * seq + t] === 0n) continue;
      count++;
      const o = (b * seq + t) * dim;
      for (let d = 0; d < dim; d++) v[d] = v[d]! + hidden[o + d]!;
    }
    // sentence-transformers divides by max(count, 1e-9); every row has at least [CLS][SEP] here.
    const inv = 1 / Math.max(count, 1e-9);
    for (let d = 0; d < dim; d++) v[d] = v[d]! * inv;
    out.push(l2NormalizeInPlace(v));
  }
  return out;
}

export interface OnnxTextEncoder extends TextEncoder {
  readonly tokenizer: WordPieceTokenizer;
  readonly maxLength: number;
  /** The onnxruntime feeds for a tokenised batch (for the benchmark's raw session.run). */
  feeds(encoded: EncodedBatch): Record<string, ort.Tensor>;
  /** Runs a tokenised batch and pools it. */
  embedEncoded(encoded: EncodedBatch): Promise<Float32Array[]>;
  readonly session: ort.InferenceSession;
}

export async function createOnnxTextEncoder(config: OnnxTextEncoderConfig, provider: OnnxExecutionProvider = "cpu"): Promise<OnnxTextEncoder> {
  const dir = path.resolve(config.path);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new OnnxModelError(`Text encoder path ${config.path} is not a directory.`);
  const tokenizerFile = path.join(dir, "tokenizer.json");
  if (!fs.existsSync(tokenizerFile)) throw new OnnxModelError(`Text encoder directory ${config.path} has no tokenizer.json.`);
  const tokenizer = loadWordPieceTokenizer(tokenizerFile);
  const modelFile = findModelFile(dir, config.modelFile);
  const session = await getOnnxSession(modelFile, provider);

  for (const required of ["input_ids", "attention_mask"]) {
    if (!session.inputNames.includes(required)) {
      throw new OnnxModelError(`Text encoder ${modelFile} has no input "${required}" (inputs: ${session.inputNames.join(", ")}).`);
    }
  }
  const extra = session.inputNames.filter((n) => !["input_ids", "attention_mask", "token_type_ids"].includes(n));
  if (extra.length) throw new OnnxModelError(`Text encoder ${modelFile} expects inputs this encoder cannot feed: ${extra.join(", ")}.`);
  const feedTypes = session.inputNames.includes("token_type_ids");
  const outputName = config.outputName ?? (session.outputNames.includes("last_hidden_state") ? "last_hidden_state" : session.outputNames[0]);
  if (!outputName || !session.outputNames.includes(outputName)) {
    throw new OnnxModelError(`Text encoder ${modelFile} has no output "${outputName}" (outputs: ${session.outputNames.join(", ")}).`);
  }
  const maxLength = config.maxLength ?? tokenizer.defaultMaxLength;

  const feeds = (encoded: EncodedBatch): Record<string, ort.Tensor> => {
    const dims = [encoded.batch, encoded.seqLen];
    const f: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", encoded.inputIds, dims),
      attention_mask: new ort.Tensor("int64", encoded.attentionMask, dims),
    };
    if (feedTypes) f.token_type_ids = new ort.Tensor("int64", encoded.tokenTypeIds, dims);
    return f;
  };

  const embedEncoded = async (encoded: EncodedBatch): Promise<Float32Array[]> => {
    const result = await session.run(feeds(encoded), [outputName]);
    const out = result[outputName]!;
    try {
      if (out.type !== "float32") throw new OnnxModelError(`Text encoder output ${outputName} is ${out.type}, expected float32.`);
      const data = out.data as Float32Array;
      if (out.dims.length === 3 && out.dims[0] === encoded.batch && out.dims[1] === encoded.seqLen) {
        return meanPoolNormalize(data, encoded.batch, encoded.seqLen, out.dims[2]!, encoded.attentionMask);
      }
      if (out.dims.length === 2 && out.dims[0] === encoded.batch) {
        const dim = out.dims[1]!;
        return Array.from({ length: encoded.batch }, (_, b) => l2NormalizeInPlace(data.slice(b * dim, (b + 1) * dim)));
      }
      throw new OnnxModelError(`Text encoder output ${outputName} has shape [${out.dims.join(", ")}]; expected [batch, seq, dim] or [batch, dim].`);
    } finally {
      out.dispose();
    }
  };

  // One probe run finds the width, and fails now (not mid-job) if the graph cannot run at all.
  const probe = await embedEncoded(tokenizer.encodeBatch([""], maxLength));
  const dim = probe[0]!.length;
  const version = encoderVersion({ kind: "onnx-text", modelSha256: fileSha256(modelFile), tokenizerSha256: fileSha256(tokenizerFile), maxLength, outputName });

  return {
    kind: "text",
    version,
    dim,
    tokenizer,
    maxLength,
    session,
    feeds,
    embedEncoded,
    async embed(batch) {
      if (batch.length === 0) return [];
      return embedEncoded(tokenizer.encodeBatch(batch, maxLength));
    },
  };
}
