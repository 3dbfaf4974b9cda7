/**
 * Builds ONNX ModelProto bytes from plain descriptions, on the hand-written protobuf writer.
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto,
 * StringStringEntryProto). Only float32 tensors and int/float/ints attributes are supported:
 * that is everything an MLP head needs, and an unsupported request fails loudly here instead of
 * producing a file onnxruntime rejects later with a vaguer message.
 */
import { ProtoWriter } from "./protobuf-writer";

/** TensorProto.DataType.FLOAT */
const ONNX_FLOAT = 1;
/** AttributeProto.AttributeType */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

export type OnnxAttribute =
  | { name: string; kind: "int"; value: number }
  | { name: string; kind: "float"; value: number }
  | { name: string; kind: "ints"; value: number[] };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: OnnxAttribute[];
}

/** A float32 tensor stored in the graph (weights, biases). `data.length` must equal the product of `dims`. */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** A float32 graph input or output; a string dimension is symbolic (e.g. "batch"). */
export interface OnnxValueInfo {
  name: string;
  shape: (number | string)[];
  docString?: string;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** Default-domain opset (13 gives Softmax/LogSoftmax over one axis, Gemm, Relu, Mul). */
  opsetVersion: number;
  /** IR version 7 is read by every onnxruntime since 1.3. */
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** metadata_props: model card fields onnxruntime exposes without parsing the graph. */
  metadata?: Record<string, string>;
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  if (a.kind === "float") w.float(2, a.value).int(20, ATTR_FLOAT);
  else if (a.kind === "int") w.int(3, a.value).int(20, ATTR_INT);
  else w.packedInts(8, a.value).int(20, ATTR_INTS);
}

function writeTensor(w: ProtoWriter, t: OnnxInitializer): void {
  const expected = t.dims.reduce((p, d) => p * d, 1);
  if (t.data.length !== expected) throw new Error(`ONNX initializer ${t.name}: ${t.data.length} values for dims [${t.dims.join(", ")}] (expected ${expected})`);
  w.packedInts(1, t.dims);
  w.int(2, ONNX_FLOAT);
  w.string(8, t.name);
  // raw_data is little-endian; copy through a DataView so a big-endian host would still be right.
  const raw = new Uint8Array(t.data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < t.data.length; i++) view.setFloat32(i * 4, t.data[i]!, true);
  w.bytes(9, raw);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => {
            if (typeof d === "number") dim.int(1, d);
            else dim.string(2, d);
          });
        }
      });
    }),
  );
  if (v.docString) w.string(3, v.docString);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (attr) => writeAttribute(attr, a));
}

/** Checks that every node input is produced before use (graph inputs, initializers or an earlier node). */
function assertTopological(g: OnnxGraph): void {
  const known = new Set([...g.inputs.map((i) => i.name), ...g.initializers.map((i) => i.name)]);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i !== "" && !known.has(i)) throw new Error(`ONNX node ${n.name} (${n.opType}) reads "${i}" before anything produces it`);
    for (const o of n.outputs) known.add(o);
  }
  for (const o of g.outputs) if (!known.has(o.name)) throw new Error(`ONNX graph output "${o.name}" is produced by no node`);
}

/** Serialises `model` to ONNX ModelProto bytes (what onnxruntime's InferenceSession.create accepts). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  assertTopological(model.graph);
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (graph) => {
    const g = model.graph;
    for (const n of g.nodes) graph.message(1, (node) => writeNode(node, n));
    graph.string(2, g.name);
    for (const t of g.initializers) graph.message(5, (tensor) => writeTensor(tensor, t));
    if (g.docString) graph.string(10, g.docString);
    for (const i of g.inputs) graph.message(11, (vi) => writeValueInfo(vi, i));
    for (const o of g.outputs) graph.message(12, (vi) => writeValueInfo(vi, o));
  });
  w.message(8, (opset) => opset.string(1, "").int(2, model.opsetVersion));
  for (const [key, value] of Object.entries(model.metadata ?? {})) w.message(14, (entry) => entry.string(1, key).string(2, value));
  return w.finish();
}
