/**
 * A project's encoder (Project.encoderConfig): what turns a case into the vector the heads and the
 * selection strategies work on. One schema shared by the project settings form and the worker.
 *
 * - builtin: the hashed TF-IDF text featuriser (workers/ml/text-featurizer.ts); needs no weights.
 * - lsa: TF-IDF word 1–2-grams of the narrative projected on the top `dim` singular directions of the
 *   project's own narratives (workers/ml/text/lsa.ts); fitted by the embed job, no weights to install.
 * - onnx-text: a directory holding an ONNX sentence/token encoder and its HF `tokenizer.json`
 *   (BERT-style WordPiece); token states are mean-pooled over the attention mask.
 * - onnx-image: an ONNX image model file plus the preprocessing it was trained with.
 *
 * Paths are read by the worker process on its own disk (relative paths from its working directory).
 */
import { z } from "zod";
import { numberField, wholeNumberField } from "./number-fields";


export const ZBuiltinEncoderConfig = z.object({
  kind: z.literal("builtin"),
  /** Output width (default 384, the width of the small sentence encoders, so heads are interchangeable). */
  dim: wholeNumberField("The built-in featuriser's width (dim)", { min: 1, max: 65_536 }).default(384),
});

export const ZLsaEncoderConfig = z.object({
  kind: z.literal("lsa"),
  /** Embedding dimension k (default 100, measured on mtsamples: docs/simulation.md, "The learner"). */
  dim: wholeNumberField("The LSA dimension (dim)", { min: 2, max: 1000 }).default(100),
});

export const ZOnnxTextEncoderConfig = z.object({
  kind: z.literal("onnx-text"),
  /** Directory with tokenizer.json and the model (model.onnx, or onnx/model.onnx). */
  path: z.string({ error: "Give the path of the encoder folder (relative to the models folder)" }).min(1, "Give the path of the encoder folder (relative to the models folder)"),
  /** Model file inside the directory when it is not model.onnx / onnx/model.onnx. */
  modelFile: z.string({ error: "The model file must be a file name" }).min(1, "The model file must be a file name").optional(),
  /** Tokens per text including [CLS]/[SEP] (default: tokenizer.json's truncation length, else 512). */
  maxLength: wholeNumberField("The token length (maxLength)", { min: 3, max: 8192 }).optional(),
  /** Output to pool (default last_hidden_state, else the model's first output). */
  outputName: z.string({ error: "The output name must be text" }).min(1, "The output name must be text").optional(),
});

const ZTriple = z.tuple([numberField("A channel value"), numberField("A channel value"), numberField("A channel value")], { error: "Give three numbers, one per RGB channel" });

export const ZImagePreprocess = z
  .object({
    /** The shorter side is resized to this many pixels (aspect ratio kept) before cropping. */
    resizeShortSide: wholeNumberField("The resize side", { min: 1, max: 4096 }).default(256),
    /** Side of the centre crop fed to the model (its input is [batch, 3, crop, crop]). */
    cropSize: wholeNumberField("The crop size", { min: 1, max: 4096 }).default(224),
    /** Per-channel mean and std applied after scaling pixels to [0, 1] (RGB order). */
    mean: ZTriple.default([0.485, 0.456, 0.406]),
    std: ZTriple.refine((s) => s.every((v) => v > 0), "std values must be positive").default([0.229, 0.224, 0.225]),
    /** Window for DICOM pixels (after rescale) when the file names none; default: the image's min–max. */
    dicomWindow: z.object({ center: numberField("The window centre"), width: numberField("The window width", { gt: 0 }) }, { error: "The DICOM window must be an object with center and width" }).optional(),
  })
  .refine((p) => p.cropSize <= p.resizeShortSide, { message: "cropSize must not exceed resizeShortSide", path: ["cropSize"] });

export const ZOnnxImageEncoderConfig = z.object({
  kind: z.literal("onnx-image"),
  /** The .onnx model file. */
  path: z.string({ error: "Give the path of the .onnx file (relative to the models folder)" }).min(1, "Give the path of the .onnx file (relative to the models folder)"),
  /** Output used as the embedding (default: the model's first output), e.g. an exposed pooling layer. */
  outputName: z.string({ error: "The output name must be text" }).min(1, "The output name must be text").optional(),
  preprocess: ZImagePreprocess.default({
    resizeShortSide: 256,
    cropSize: 224,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  }),
});

export const ZEncoderConfig = z.discriminatedUnion("kind", [ZBuiltinEncoderConfig, ZLsaEncoderConfig, ZOnnxTextEncoderConfig, ZOnnxImageEncoderConfig], {
  error: 'The encoder must be an object whose "kind" is builtin, lsa, onnx-text or onnx-image',
});

export type EncoderConfig = z.infer<typeof ZEncoderConfig>;
export type BuiltinEncoderConfig = z.infer<typeof ZBuiltinEncoderConfig>;
export type LsaEncoderConfig = z.infer<typeof ZLsaEncoderConfig>;
export type OnnxTextEncoderConfig = z.infer<typeof ZOnnxTextEncoderConfig>;
export type OnnxImageEncoderConfig = z.infer<typeof ZOnnxImageEncoderConfig>;
export type ImagePreprocess = z.infer<typeof ZImagePreprocess>;

/** Where the ONNX sessions run (env ONNX_EXECUTION_PROVIDER). */
export const ZOnnxExecutionProvider = z.enum(["cpu", "cuda"]);
export type OnnxExecutionProvider = z.infer<typeof ZOnnxExecutionProvider>;

/** Parses a stored encoderConfig; the error names the offending field. */
export function parseEncoderConfig(value: unknown): EncoderConfig {
  const parsed = ZEncoderConfig.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `encoderConfig.${issue.path.join(".") || "kind"}: ${issue.message}`).join("; ");
    throw new Error(`Invalid encoder configuration — ${problems}`);
  }
  return parsed.data;
}
