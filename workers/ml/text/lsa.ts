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

const MAGIC = "LSA1";

/**
 * Binary form of a fitted encoder (for storage beside a project's embeddings): "LSA1", a uint32
 * (little-endian) header length, a UTF-8 JSON header (dim, docCount, bigrams, terms,
 * singularValues), padding to 4 bytes, then idf Float32 [vocabulary] and components Float32
 * [vocabulary, dim], little-endian. mtsamples' 84,664 terms × 100 dims take ≈ 35 MB.
 */
export function serializeLsaState(state: LsaState): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ dim: state.dim, docCount: state.tfidf.docCount, bigrams: state.tfidf.bigrams, terms: state.tfidf.terms, singularValues: Array.from(state.singularValues) }),
  );
  const start = Math.ceil((8 + header.length) / 4) * 4;
  const v = state.tfidf.terms.length;
  const out = new Uint8Array(start + 4 * (v + v * state.dim));
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  let o = start;
  for (const x of state.tfidf.idf) {
    view.setFloat32(o, x, true);
    o += 4;
  }
  for (const x of state.components) {
    view.setFloat32(o, x, true);
    o += 4;
  }
  return out;
}

/** @throws MlInputError (`invalid-argument`) when the bytes are not a serialised LSA state. */
export function deserializeLsaState(bytes: Uint8Array): LsaState {
  const bad = (why: string) => new MlInputError("invalid-argument", `LSA state: ${why}`);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 4)) !== MAGIC) throw bad("missing the LSA1 magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hLen = view.getUint32(4, true);
  if (8 + hLen > bytes.length) throw bad("truncated header");
  let h: { dim: number; docCount: number; bigrams: boolean; terms: string[]; singularValues: number[] };
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hLen))) as typeof h;
  } catch {
    throw bad("unreadable header");
  }
  if (!Number.isInteger(h.dim) || h.dim < 1 || !Array.isArray(h.terms) || !Array.isArray(h.singularValues)) throw bad("header lacks dim, terms or singularValues");
  const v = h.terms.length;
  const start = Math.ceil((8 + hLen) / 4) * 4;
  if (bytes.length !== start + 4 * (v + v * h.dim)) throw bad(`expected ${start + 4 * (v + v * h.dim)} bytes for ${v} terms × ${h.dim} dims, got ${bytes.length}`);
  const idf = new Float32Array(v);
  const components = new Float32Array(v * h.dim);
  let o = start;
  for (let i = 0; i < v; i++, o += 4) idf[i] = view.getFloat32(o, true);
  for (let i = 0; i < components.length; i++, o += 4) components[i] = view.getFloat32(o, true);
  return {
    format: "lsa",
    version: 1,
    tfidf: { format: "tfidf-vocab", version: 1, bigrams: h.bigrams, terms: h.terms, idf, docCount: h.docCount },
    dim: h.dim,
    components,
    singularValues: Float64Array.from(h.singularValues),
  };
}
