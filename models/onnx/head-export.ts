/**
 * Exports a trained MLP head (workers/ml/mlp-head.ts HeadWeights) as an ONNX graph that
 * onnxruntime runs for both plain inference and MC dropout.
 *
 * Design choice — ONE graph with an explicit dropout-mask input per hidden layer, rather than an
 * ONNX Dropout node (training_mode=true) or two graphs:
 * - ONNX Dropout draws its mask from onnxruntime's own generator, so an MC-dropout round could not
 *   be reproduced from the project's seed, and its results would differ from workers/ml.
 * - With the mask as an input, masks come from our seeded Rng (the same draws, in the same order,
 *   as workers/ml mcDropoutLogProbs — so both paths give the same numbers), and plain inference is
 *   the same graph with a [1, H] mask of ones that broadcasts over the batch (no second file to keep
 *   in step with the first).
 *
 *   embedding [batch, D]
 *     → Gemm(W0, b0, transB) → Relu → Mul(dropout_mask_0 [mask_rows, H0]) → …   (each hidden layer)
 *     → Gemm(W_last, b_last, transB) → logits [batch, C]
 *     → Softmax(axis 1) → probabilities [batch, C];  LogSoftmax(axis 1) → log_probabilities [batch, C]
 *
 * A mask holds 0 (dropped) or 1/(1−p) (kept, inverted-dropout scaling), exactly like training.
 */
import type { HeadWeights } from "@/workers/ml/types";
import { encodeOnnxModel, type OnnxInitializer, type OnnxNode, type OnnxValueInfo } from "./onnx-builder";

export const HEAD_INPUT = "embedding";
export const HEAD_PROBABILITIES = "probabilities";
export const HEAD_LOG_PROBABILITIES = "log_probabilities";
export const HEAD_OPSET = 13;
export const HEAD_IR_VERSION = 7;

/** Name of the mask input of hidden layer `l` (0-based). */
export function dropoutMaskInput(l: number): string {
  return `dropout_mask_${l}`;
}

export interface HeadOnnxSignature {
  input: { name: string; shape: (number | string)[] };
  masks: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  dropout: number;
  opset: number;
}

/** The tensors a caller must feed and may read; recorded in the model card. */
export function headOnnxSignature(weights: HeadWeights): HeadOnnxSignature {
  return {
    input: { name: HEAD_INPUT, shape: ["batch", weights.inputDim] },
    masks: weights.hidden.map((h, l) => ({ name: dropoutMaskInput(l), shape: ["mask_rows", h] })),
    outputs: [
      { name: HEAD_PROBABILITIES, shape: ["batch", weights.numClasses] },
      { name: HEAD_LOG_PROBABILITIES, shape: ["batch", weights.numClasses] },
    ],
    dropout: weights.dropout,
    opset: HEAD_OPSET,
  };
}

/**
 * ONNX bytes for `weights`. `metadata` lands in the model's metadata_props (string values).
 * @throws Error when the layer shapes do not chain inputDim → hidden… → numClasses.
 */
export function exportHeadToOnnx(weights: HeadWeights, metadata: Record<string, string> = {}): Uint8Array {
  const dims = [weights.inputDim, ...weights.hidden, weights.numClasses];
  if (weights.layers.length !== dims.length - 1) throw new Error(`exportHeadToOnnx: ${weights.layers.length} layers for architecture ${dims.join("→")}`);
  weights.layers.forEach((layer, l) => {
    if (layer.inDim !== dims[l] || layer.outDim !== dims[l + 1]) throw new Error(`exportHeadToOnnx: layer ${l} is ${layer.inDim}→${layer.outDim}, expected ${dims[l]}→${dims[l + 1]}`);
  });

  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const inputs: OnnxValueInfo[] = [{ name: HEAD_INPUT, shape: ["batch", weights.inputDim], docString: "frozen encoder embedding, float32" }];
  let current = HEAD_INPUT;
  const last = weights.layers.length - 1;
  weights.layers.forEach((layer, l) => {
    initializers.push({ name: `layer${l}.weight`, dims: [layer.outDim, layer.inDim], data: layer.weight });
    initializers.push({ name: `layer${l}.bias`, dims: [layer.outDim], data: layer.bias });
    const z = l === last ? "logits" : `layer${l}.pre`;
    // Weights are stored [out, in], so transB = 1 gives x·Wᵀ + b without transposing anything.
    nodes.push({ opType: "Gemm", name: `layer${l}.gemm`, inputs: [current, `layer${l}.weight`, `layer${l}.bias`], outputs: [z], attributes: [{ name: "transB", kind: "int", value: 1 }] });
    if (l === last) return;
    nodes.push({ opType: "Relu", name: `layer${l}.relu`, inputs: [z], outputs: [`layer${l}.act`] });
    const mask = dropoutMaskInput(l);
    inputs.push({ name: mask, shape: ["mask_rows", layer.outDim], docString: "0 or 1/(1-p) per unit; [1, H] of ones = dropout off" });
    nodes.push({ opType: "Mul", name: `layer${l}.dropout`, inputs: [`layer${l}.act`, mask], outputs: [`layer${l}.out`] });
    current = `layer${l}.out`;
  });
  nodes.push({ opType: "Softmax", name: "softmax", inputs: ["logits"], outputs: [HEAD_PROBABILITIES], attributes: [{ name: "axis", kind: "int", value: 1 }] });
  nodes.push({ opType: "LogSoftmax", name: "log_softmax", inputs: ["logits"], outputs: [HEAD_LOG_PROBABILITIES], attributes: [{ name: "axis", kind: "int", value: 1 }] });

  return encodeOnnxModel({
    irVersion: HEAD_IR_VERSION,
    opsetVersion: HEAD_OPSET,
    producerName: "rads-annotate",
    producerVersion: "1",
    docString: "MLP classification head over frozen embeddings; MC dropout through explicit mask inputs.",
    metadata: { dropout: String(weights.dropout), hidden: JSON.stringify(weights.hidden), ...metadata },
    graph: {
      name: "mlp_head",
      nodes,
      initializers,
      inputs,
      outputs: [
        { name: HEAD_PROBABILITIES, shape: ["batch", weights.numClasses] },
        { name: HEAD_LOG_PROBABILITIES, shape: ["batch", weights.numClasses] },
      ],
    },
  });
}
