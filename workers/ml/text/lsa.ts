/**
 * LSA text encoder: TF-IDF with a fitted vocabulary (`tfidf.ts`), projected on the top-k right
 * singular vectors of the project's own TF-IDF matrix (`svd.ts`), rows L2-normalised
 * (Deerwester et al. 1990). Fitted on unlabelled texts — a clinic has plenty — so the k
 * directions are the pool's main co-occurrence patterns, and a head trained on a few dozen
 * labels has k weights per class to learn instead of one per n-gram.
 *
 * Embedding of a text: e = normalise(tfidf(text) · V_k), with V_k [vocabulary, k]. The same
 * formula serves fitted and new texts, so the pool and later imports share one space.
 */
import type { Rng } from "../rng";
import type { Matrix } from "../types";
import { assertInteger, MlInputError } from "../validate";
import { randomizedSvd, type SvdOptions } from "./svd";
import { fitTfidf, transformTfidf, type CsrMatrix, type TfidfOptions, type TfidfState } from "./tfidf";

export interface LsaOptions extends TfidfOptions, SvdOptions {
  /** Embedding dimension k (default 100; capped at the fitted texts and vocabulary). */
  dim?: number;
}

/** Fitted LSA encoder (JSON-safe after Array.from on the typed arrays). */
export interface LsaState {
  format: "lsa";
  version: 1;
  tfidf: TfidfState;
  dim: number;
  /** [vocabulary, dim] row-major projection V_k. */
  components: Float32Array;
  singularValues: Float64Array;
}

/** Default embedding dimension: measured on mtsamples (docs/simulation.md, "The learner"). */
export const DEFAULT_LSA_DIM = 100;

/**
 * Leading-column counts whose logistic heads are averaged on LSA embeddings
 * (heads/logistic.ts `prefixEnsemble`): 50 directions generalise from a few dozen labels, 100
 * separate better from a few hundred; measured on mtsamples (docs/simulation.md, "The learner").
 */
export const LSA_HEAD_PREFIXES: readonly number[] = Object.freeze([50, 100]);

/**
 * Fits the vocabulary, IDF and the k-dimensional projection on `texts`.
 * @throws MlInputError on an empty corpus, no vocabulary, or bad options.
 */
export function fitLsa(texts: readonly string[], rng: Rng, opts: LsaOptions = {}): LsaState {
  const tfidf = fitTfidf(texts, opts);
  const a = transformTfidf(tfidf, texts);
  const want = opts.dim ?? DEFAULT_LSA_DIM;
  assertInteger(want, 1, "dim");
  const dim = Math.min(want, a.rows, a.cols);
  const svd = randomizedSvd(a, dim, rng, opts);
  return { format: "lsa", version: 1, tfidf, dim, components: Float32Array.from(svd.components), singularValues: svd.singularValues };
}

/** Projects TF-IDF rows [n, vocabulary] to L2-normalised [n, dim] embeddings. */
export function projectLsa(state: LsaState, a: CsrMatrix): Matrix {
  if (a.cols !== state.tfidf.terms.length) {
    throw new MlInputError("dimension-mismatch", `projectLsa: TF-IDF matrix has ${a.cols} columns but the encoder's vocabulary has ${state.tfidf.terms.length}`);
  }
  const k = state.dim;
  const out = new Float32Array(a.rows * k);
  const row = new Float64Array(k);
  for (let i = 0; i < a.rows; i++) {
    row.fill(0);
    for (let p = a.indptr[i]!; p < a.indptr[i + 1]!; p++) {
      const v = a.values[p]!;
      const o = a.indices[p]! * k;
      for (let t = 0; t < k; t++) row[t] = row[t]! + v * state.components[o + t]!;
    }
    let ss = 0;
    for (let t = 0; t < k; t++) ss += row[t]! * row[t]!;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let t = 0; t < k; t++) out[i * k + t] = row[t]! * inv;
  }
  return { data: out, rows: a.rows, cols: k };
}

/** L2-normalised LSA embeddings [texts.length, dim]; a text without vocabulary terms is a zero row. */
export function embedLsa(state: LsaState, texts: readonly string[]): Matrix {
  return projectLsa(state, transformTfidf(state.tfidf, texts));
}
