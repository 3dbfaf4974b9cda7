/**
 * The built-in encoder: workers/ml/text-featurizer.ts (hashed TF-IDF, no weights) behind the
 * Encoder interface. Used whenever a project configures no ONNX encoder.
 *
 * The IDF is fitted on the project's narratives, so the version carries a hash of the fitted
 * state: new cases that change the IDF give a new version (and a fresh set of cached embeddings),
 * while refitting the same corpus gives the same version (df counts do not depend on order).
 */
import { featurize, fitTextFeaturizer, createTextFeaturizer, type TextFeaturizerState } from "@/workers/ml/text-featurizer";
import { encoderVersion } from "./encoder-version";
import type { TextEncoder } from "./types";

/** Version of a featuriser state: options plus a short sha256 of the IDF (or "none" when unfitted). */
export function builtinEncoderVersion(state: TextFeaturizerState): string {
  return encoderVersion({ kind: "builtin", state });
}

/** Wraps a (fitted or unfitted) featuriser state. */
export function createBuiltinTextEncoder(state: TextFeaturizerState): TextEncoder & { state: TextFeaturizerState } {
  const version = builtinEncoderVersion(state);
  return {
    kind: "text",
    version,
    dim: state.dim,
    state,
    async embed(batch) {
      const m = featurize(state, batch);
      return Array.from({ length: m.rows }, (_, r) => m.data.slice(r * m.cols, (r + 1) * m.cols));
    },
  };
}

/** Fits the IDF on `corpus` (a project's narratives); an empty corpus gives the unfitted featuriser. */
export function fitBuiltinTextEncoder(corpus: readonly string[], options: { dim?: number } = {}) {
  const state = corpus.length > 0 ? fitTextFeaturizer(corpus, { dim: options.dim }) : createTextFeaturizer({ dim: options.dim });
  return createBuiltinTextEncoder(state);
}
