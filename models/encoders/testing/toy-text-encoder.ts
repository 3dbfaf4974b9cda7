/**
 * A toy BERT-shaped ONNX text encoder for tests and the embedding benchmark (there are no real
 * text-encoder weights in ../shared): last_hidden_state[b, t, :] = word[input_ids[b, t]] +
 * type[token_type_ids[b, t]], two Gathers and an Add over tables whose values are a closed-form
 * function of (id, d), so a test can recompute any pooled vector by hand.
 *
 * Serialised with the project's protobuf writer (models/onnx/protobuf-writer.ts). The ONNX builder
 * beside it writes float32 graph inputs only, and a text encoder's inputs are int64, so the few
 * messages needed here are written directly (field numbers from onnx.proto).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ProtoWriter } from "../../onnx/protobuf-writer";

const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;

/** Word-table value for token `id`, dimension `d` (what a test recomputes by hand). */
export function toyWordValue(id: number, d: number): number {
  return Math.fround(Math.sin(0.001 * (id + 1) * (d + 1)) + 0.01 * d);
}

/** Token-type-table value for type `type`, dimension `d`. */
export function toyTypeValue(type: number, d: number): number {
  return Math.fround(type === 0 ? 0.05 : -0.05 * d);
}

export interface ToyTextEncoderOptions {
  vocabSize: number;
  dim: number;
  /** Declare a token_type_ids input (default true). */
  tokenTypes?: boolean;
  /** Name of the graph output (default last_hidden_state). */
  outputName?: string;
}

function valueInfo(w: ProtoWriter, name: string, elemType: number, shape: (number | string)[]): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, elemType);
      tensor.message(2, (s) => {
        for (const d of shape) s.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function floatTensor(w: ProtoWriter, name: string, dims: number[], value: (i: number, d: number) => number): void {
  const [rows, cols] = dims as [number, number];
  const raw = new Uint8Array(rows * cols * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < rows; i++) for (let d = 0; d < cols; d++) view.setFloat32((i * cols + d) * 4, value(i, d), true);
  w.packedInts(1, dims);
  w.int(2, FLOAT);
  w.string(8, name);
  w.bytes(9, raw);
}

function gather(w: ProtoWriter, name: string, table: string, indices: string, output: string): void {
  w.string(1, table).string(1, indices).string(2, output).string(3, name).string(4, "Gather");
  w.message(5, (a) => a.string(1, "axis").int(3, 0).int(20, ATTR_INT));
}

/** ONNX ModelProto bytes of the toy encoder. */
export function buildToyTextEncoder(options: ToyTextEncoderOptions): Uint8Array {
  const { vocabSize, dim } = options;
  const tokenTypes = options.tokenTypes ?? true;
  const output = options.outputName ?? "last_hidden_state";
  const w = new ProtoWriter();
  w.int(1, 7); // ir_version
  w.string(2, "rads-annotate-tests");
  w.message(7, (g) => {
    g.message(1, (n) => gather(n, "word_gather", "word_embeddings", "input_ids", tokenTypes ? "word_states" : output));
    if (tokenTypes) {
      g.message(1, (n) => gather(n, "type_gather", "type_embeddings", "token_type_ids", "type_states"));
      g.message(1, (n) => n.string(1, "word_states").string(1, "type_states").string(2, output).string(3, "add_types").string(4, "Add"));
    }
    g.string(2, "toy_text_encoder");
    g.message(5, (t) => floatTensor(t, "word_embeddings", [vocabSize, dim], toyWordValue));
    if (tokenTypes) g.message(5, (t) => floatTensor(t, "type_embeddings", [2, dim], toyTypeValue));
    g.message(11, (v) => valueInfo(v, "input_ids", INT64, ["batch", "sequence"]));
    g.message(11, (v) => valueInfo(v, "attention_mask", INT64, ["batch", "sequence"]));
    if (tokenTypes) g.message(11, (v) => valueInfo(v, "token_type_ids", INT64, ["batch", "sequence"]));
    g.message(12, (v) => valueInfo(v, output, FLOAT, ["batch", "sequence", dim]));
  });
  w.message(8, (opset) => opset.string(1, "").int(2, 13));
  return w.finish();
}

/**
 * A temporary encoder directory: the toy model.onnx plus a copy of a real tokenizer.json
 * (e.g. ../shared/models/all-MiniLM-L6-v2-tokenizer/tokenizer.json). Returns its path.
 */
export function writeToyTextEncoderDir(tokenizerJson: string, options: Omit<ToyTextEncoderOptions, "vocabSize"> & { vocabSize?: number }): string {
  const vocabSize = options.vocabSize ?? Object.keys((JSON.parse(fs.readFileSync(tokenizerJson, "utf8")) as { model: { vocab: object } }).model.vocab).length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-toy-encoder-"));
  fs.copyFileSync(tokenizerJson, path.join(dir, "tokenizer.json"));
  fs.writeFileSync(path.join(dir, "model.onnx"), buildToyTextEncoder({ ...options, vocabSize }));
  return dir;
}
