/**
 * The encoder contract: a case's text or image in, a fixed-width L2-normalised Float32 vector out.
 * `version` names exactly what produced a vector (weights, tokenizer/preprocessing, fitted state),
 * so Embedding rows cached under one version are never mixed with another encoder's.
 */

/** One image to embed: the raw file bytes (PNG, JPEG or DICOM; the format is sniffed from them). */
export interface ImageInput {
  bytes: Uint8Array;
  /** Shown in error messages (e.g. the CaseImage id); never a patient identifier. */
  label?: string;
}

interface EncoderBase {
  /** Stable identifier of the exact encoder (model checksum, preprocessing, fitted state). */
  readonly version: string;
  /** Width of every vector `embed` returns. */
  readonly dim: number;
}

export interface TextEncoder extends EncoderBase {
  readonly kind: "text";
  /** One unit-length vector (or all zeros for a text with no tokens, built-in only) per text. */
  embed(batch: readonly string[]): Promise<Float32Array[]>;
}

export interface ImageEncoder extends EncoderBase {
  readonly kind: "image";
  /** One unit-length vector per image; throws ImageDecodeError naming the image that failed. */
  embed(batch: readonly ImageInput[]): Promise<Float32Array[]>;
  /** Decodes and preprocesses one image to the model's [3, crop, crop] input (throws per image). */
  prepare(image: ImageInput): Float32Array;
  /** Runs already prepared images (so one bad image can be left out of a batch). */
  embedPrepared(batch: readonly Float32Array[]): Promise<Float32Array[]>;
}

export type Encoder = TextEncoder | ImageEncoder;

/** Scales `v` to unit L2 norm in place; an all-zero vector stays zero (nothing to normalise). */
export function l2NormalizeInPlace(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  if (sum === 0) return v;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  return v;
}
