/**
 * The LSA text encoder (workers/ml/text/lsa.ts: TF-IDF word 1–2-grams → top-k singular
 * directions of the project's own narratives, rows L2-normalised) behind the Encoder interface —
 * the representation of the simulation's default learner (docs/simulation.md, "The learner").
 *
 * The encoder is fitted on the project's narratives (the unlabelled pool). The corpus is sorted
 * before fitting, so the same narratives in any order give bit-identical vectors and one version;
 * the version carries a hash of the whole fitted state (vocabulary, IDF, projection).
 * The project's encoder for `{ kind: "lsa" }` (contracts/encoder-config.ts); the embed job fits it
 * and keeps the fitted state in the blob store (workers/jobs/embed.ts).
 */
import { createRng } from "@/workers/ml/rng";
import { DEFAULT_LSA_DIM, embedLsa, fitLsa, type LsaState } from "@/workers/ml/text/lsa";
import { encoderVersion } from "./encoder-version";
import type { TextEncoder } from "./types";

/** `lsa-text-v1-d<dim>-n<texts fitted>-t<terms>-<sha16 of the serialised state>`. */
export function lsaEncoderVersion(state: LsaState): string {
  return encoderVersion({ kind: "lsa", state });
}

/** Wraps a fitted LSA state. */
export function createLsaTextEncoder(state: LsaState): TextEncoder & { state: LsaState } {
  return {
    kind: "text",
    version: lsaEncoderVersion(state),
    dim: state.dim,
    state,
    async embed(batch) {
      const m = embedLsa(state, batch);
      return Array.from({ length: m.rows }, (_, r) => m.data.slice(r * m.cols, (r + 1) * m.cols));
    },
  };
}

/**
 * Fits on `corpus` (the project's narratives; order does not matter). The seed fixes the
 * randomized SVD's starting block (default 0).
 * @throws MlInputError when the corpus is empty or no term occurs in two narratives.
 */
export function fitLsaTextEncoder(corpus: readonly string[], options: { dim?: number; seed?: number } = {}) {
  const sorted = [...corpus].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return createLsaTextEncoder(fitLsa(sorted, createRng(options.seed ?? 0), { dim: options.dim ?? DEFAULT_LSA_DIM }));
}
