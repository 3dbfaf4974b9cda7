/**
 * The project's encoder from its validated encoderConfig. ONNX sessions come from
 * models/onnx-sessions.ts (cached), so creating the same encoder twice is cheap.
 */
import type { EncoderConfig, OnnxExecutionProvider } from "@/contracts/encoder-config";
import { fitBuiltinTextEncoder } from "./builtin-text-encoder";
import { fitLsaTextEncoder } from "./lsa-text-encoder";
import { createOnnxImageEncoder } from "./onnx-image-encoder";
import { createOnnxTextEncoder } from "./onnx-text-encoder";
import type { Encoder } from "./types";

export interface CreateEncoderOptions {
  provider?: OnnxExecutionProvider;
  /** Texts the built-in featuriser and the LSA encoder are fitted on (the project's narratives); ignored by ONNX encoders. */
  corpus?: readonly string[];
}

export async function createEncoder(config: EncoderConfig, options: CreateEncoderOptions = {}): Promise<Encoder> {
  switch (config.kind) {
    case "builtin":
      return fitBuiltinTextEncoder(options.corpus ?? [], { dim: config.dim });
    case "lsa":
      return fitLsaTextEncoder(options.corpus ?? [], { dim: config.dim });
    case "onnx-text":
      return createOnnxTextEncoder(config, options.provider);
    case "onnx-image":
      return createOnnxImageEncoder(config, options.provider);
  }
}
