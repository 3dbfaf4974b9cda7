/**
 * TF-IDF with a fitted vocabulary (word 1–2-grams), producing a sparse CSR matrix — the
 * representation a data scientist reaches for first (scikit-learn's `TfidfVectorizer` with
 * `ngram_range=(1, 2), sublinear_tf=True, min_df=2`), written here so the platform can learn
 * on it, or on its LSA projection (`lsa.ts`), without Python.
 *
 * Per text (same conventions as scikit-learn's defaults, so the two agree on the vocabulary):
 * lower-case; tokens = maximal runs of Unicode letters, marks, digits and "_" of length ≥ 2
 * (sklearn's `(?u)\b\w\w+\b`); terms = the tokens and the space-joined pairs of consecutive
 * tokens. Vocabulary = terms in at least `minDf` fitted texts (and at most `maxDfFraction` of
 * them), the `maxFeatures` most frequent by document frequency when capped (ties by term), in
 * term order (UTF-16 code-unit order). Weights: TF = 1 + ln(count) (sublinear), IDF_j =
 * ln((1 + N)/(1 + df_j)) + 1 (smooth IDF, N = fitted texts), rows L2-normalised; a text without
 * vocabulary terms is an empty row.
 */
import { assertInRange, assertInteger, MlInputError } from "../validate";

/** Sparse row-major matrix (compressed sparse rows): row i holds `indices/values[indptr[i]..indptr[i+1])`. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface TfidfOptions {
  /** Keep terms occurring in at least this many fitted texts (default 2). */
  minDf?: number;
  /** Drop terms occurring in more than this share of fitted texts (default 1: keep all). */
  maxDfFraction?: number;
  /** Cap on the vocabulary size, most frequent terms first (default 200,000: bounds memory on large projects). */
  maxFeatures?: number;
  /** Include word bigrams (default true). */
  bigrams?: boolean;
}

/** Fitted vectoriser; JSON-safe (`idf` as a number array after `Array.from`). */
export interface TfidfState {
  format: "tfidf-vocab";
  version: 1;
  bigrams: boolean;
  /** Terms in column order. */
  terms: string[];
  /** IDF per column. */
  idf: Float32Array;
  /** Number of texts fitted on. */
  docCount: number;
}

const TOKEN = /[\p{L}\p{M}\p{N}_]{2,}/gu;

/** Lower-cased tokens of `text`: runs of ≥ 2 letters, marks, digits or "_" (sklearn's default token pattern). */
export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** The text's terms (unigrams, then bigrams "a b" when `bigrams`), with repeats. */
export function textTerms(text: string, bigrams: boolean): string[] {
  const toks = tokenizeWords(text);
  if (!bigrams) return toks;
  const out = toks.slice();
  for (let i = 1; i < toks.length; i++) out.push(`${toks[i - 1]} ${toks[i]}`);
  return out;
}

/**
 * Fits the vocabulary and IDF on `texts` (e.g. the project's whole unlabelled pool).
 * @throws MlInputError (`empty-input`) without texts or when no term reaches `minDf`; (`invalid-argument`) on bad options.
 */
export function fitTfidf(texts: readonly string[], opts: TfidfOptions = {}): TfidfState {
  const minDf = opts.minDf ?? 2;
  const maxDfFraction = opts.maxDfFraction ?? 1;
  const maxFeatures = opts.maxFeatures ?? 200_000;
  const bigrams = opts.bigrams ?? true;
  assertInteger(minDf, 1, "minDf");
  assertInteger(maxFeatures, 1, "maxFeatures");
  assertInRange(maxDfFraction, 0, 1, "maxDfFraction");
  if (texts.length === 0) throw new MlInputError("empty-input", "fitTfidf: no texts to fit the vocabulary on");
  const df = new Map<string, number>();
  for (const t of texts) {
    for (const term of new Set(textTerms(t, bigrams))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const maxDf = Math.floor(maxDfFraction * texts.length);
  let kept = [...df].filter(([, d]) => d >= minDf && d <= maxDf);
  if (kept.length === 0) {
    throw new MlInputError("empty-input", `fitTfidf: no term occurs in at least ${minDf} of the ${texts.length} texts (and at most ${maxDf}); lower minDf`);
  }
  if (kept.length > maxFeatures) {
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    kept = kept.slice(0, maxFeatures);
  }
  kept.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const n = texts.length;
  const idf = new Float32Array(kept.length);
  kept.forEach(([, d], j) => (idf[j] = Math.log((1 + n) / (1 + d)) + 1));
  return { format: "tfidf-vocab", version: 1, bigrams, terms: kept.map(([t]) => t), idf, docCount: n };
}

/**
 * TF-IDF rows [texts.length, vocabulary] (CSR, columns sorted within a row) of `texts` under a fitted state.
 * Terms outside the vocabulary are ignored.
 */
export function transformTfidf(state: TfidfState, texts: readonly string[]): CsrMatrix {
  const column = new Map<string, number>();
  state.terms.forEach((t, j) => column.set(t, j));
  const indptr = new Int32Array(texts.length + 1);
  const idxParts: Int32Array[] = [];
  const valParts: Float32Array[] = [];
  let nnz = 0;
  for (let i = 0; i < texts.length; i++) {
    const counts = new Map<number, number>();
    for (const term of textTerms(texts[i]!, state.bigrams)) {
      const j = column.get(term);
      if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
    }
    const cols = Int32Array.from(counts.keys()).sort();
    const vals = new Float32Array(cols.length);
    let ss = 0;
    for (let k = 0; k < cols.length; k++) {
      const v = (1 + Math.log(counts.get(cols[k]!)!)) * state.idf[cols[k]!]!;
      vals[k] = v;
      ss += v * v;
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let k = 0; k < vals.length; k++) vals[k] = vals[k]! * inv;
    idxParts.push(cols);
    valParts.push(vals);
    nnz += cols.length;
    indptr[i + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let i = 0; i < texts.length; i++) {
    indices.set(idxParts[i]!, indptr[i]!);
    values.set(valParts[i]!, indptr[i]!);
  }
  return { rows: texts.length, cols: state.terms.length, indptr, indices, values };
}
