/**
 * Built-in text featuriser that needs no model weights: hashed bag of n-grams with sub-linear TF and IDF,
 * so a project can train heads on report text before any encoder is installed.
 *
 * Per text: NFKC-normalise and lower-case; words are maximal runs of Unicode letters/digits. Features are
 * the strings "w:<word>", "b:<word> <next word>" (bigrams) and "c:<gram>" for every character n-gram
 * (n = minCharN..maxCharN, in code points) of the word padded as "<word>", so prefixes and suffixes count.
 * Each feature string is hashed (FNV-1a 32 over UTF-8, then murmur3's fmix32 so the low bits used for the
 * bucket are well mixed) to bucket h mod dim with sign +1/−1 from the top bit (signed hashing: collisions
 * cancel in expectation instead of piling up). Per bucket: raw signed count v, TF = sign(v)(1 + ln|v|),
 * times IDF_j = ln((1 + N)/(1 + df_j)) + 1 (smooth IDF, N = fitted texts, df_j = texts with a non-zero
 * bucket j); IDF = 1 everywhere when unfitted. Rows are L2-normalised; a text with no words (empty,
 * punctuation only) has nothing to normalise and stays an all-zero row.
 */
import type { Matrix } from "./types";
import { assertInteger, MlInputError } from "./validate";

export interface TextFeaturizerOptions {
  /** Output dimension (default 384, the width of the small sentence encoders, so heads are interchangeable). */
  dim?: number;
  /** Shortest character n-gram (default 3). */
  minCharN?: number;
  /** Longest character n-gram (default 5). */
  maxCharN?: number;
  /** Include word bigrams (default true). */
  wordBigrams?: boolean;
}

/** Serialisable featuriser state (JSON-safe); `idf` is null when unfitted (IDF = 1). */
export interface TextFeaturizerState {
  format: "hashed-text";
  version: 1;
  dim: number;
  minCharN: number;
  maxCharN: number;
  wordBigrams: boolean;
  /** Number of texts the IDF was fitted on (0 when unfitted). */
  docCount: number;
  idf: number[] | null;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvByte(h: number, byte: number): number {
  return Math.imul(h ^ byte, FNV_PRIME) >>> 0;
}

/** Continues an FNV-1a state with the UTF-8 bytes of one code point. */
function fnvCodePoint(h: number, cp: number): number {
  if (cp < 0x80) return fnvByte(h, cp);
  if (cp < 0x800) return fnvByte(fnvByte(h, 0xc0 | (cp >> 6)), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) {
    return fnvByte(fnvByte(fnvByte(h, 0xe0 | (cp >> 12)), 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
  }
  h = fnvByte(h, 0xf0 | (cp >> 18));
  h = fnvByte(h, 0x80 | ((cp >> 12) & 0x3f));
  h = fnvByte(h, 0x80 | ((cp >> 6) & 0x3f));
  return fnvByte(h, 0x80 | (cp & 0x3f));
}

function fnvString(h: number, s: string): number {
  for (const ch of s) h = fnvCodePoint(h, ch.codePointAt(0)!);
  return h;
}

/** FNV-1a 32-bit hash of the UTF-8 bytes of `s`, as an unsigned integer (e.g. "a" → 0xe40c292c). */
export function fnv1a32(s: string): number {
  return fnvString(FNV_OFFSET, s);
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit (FNV's low bits are weak alone). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Normalised, lower-cased word tokens of `text` (runs of Unicode letters and digits). */
export function tokenize(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function resolveOptions(opts: TextFeaturizerOptions): Omit<TextFeaturizerState, "format" | "version" | "docCount" | "idf"> {
  const dim = opts.dim ?? 384;
  const minCharN = opts.minCharN ?? 3;
  const maxCharN = opts.maxCharN ?? 5;
  assertInteger(dim, 1, "dim");
  assertInteger(minCharN, 1, "minCharN");
  assertInteger(maxCharN, minCharN, "maxCharN");
  return { dim, minCharN, maxCharN, wordBigrams: opts.wordBigrams ?? true };
}

/** An unfitted featuriser (IDF = 1 everywhere); usable directly with `featurize`. */
export function createTextFeaturizer(opts: TextFeaturizerOptions = {}): TextFeaturizerState {
  return { format: "hashed-text", version: 1, ...resolveOptions(opts), docCount: 0, idf: null };
}

// Hash states after the namespace prefixes, so a feature hashes as its full string without building it.
const PREFIX_WORD = fnv1a32("w:");
const PREFIX_BIGRAM = fnv1a32("b:");
const PREFIX_CHAR = fnv1a32("c:");
const SPACE = 0x20;

type Settings = Pick<TextFeaturizerState, "dim" | "minCharN" | "maxCharN" | "wordBigrams">;

/** Raw signed hashed counts of one text into out[dim] (overwritten); returns the number of words. */
function hashedCounts(text: string, s: Settings, out: Float64Array, cps: { buf: Int32Array }): number {
  out.fill(0);
  const words = tokenize(text);
  const add = (h: number): void => {
    const m = fmix32(h);
    const j = m % s.dim;
    out[j] = out[j]! + (m & 0x80000000 ? -1 : 1);
  };
  let prev = -1;
  for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    const hw = fnvString(PREFIX_WORD, word);
    add(hw);
    if (s.wordBigrams && prev >= 0) add(fnvString(fnvCodePoint(fnvString(PREFIX_BIGRAM, words[prev]!), SPACE), word));
    prev = w;
    // Code points of "<word>" in a reused buffer; n-grams extend one FNV state from each start position.
    let len = 0;
    if (cps.buf.length < word.length + 2) cps.buf = new Int32Array(2 * (word.length + 2));
    const buf = cps.buf;
    buf[len++] = 0x3c;
    for (const ch of word) buf[len++] = ch.codePointAt(0)!;
    buf[len++] = 0x3e;
    for (let i = 0; i + s.minCharN <= len; i++) {
      let h = PREFIX_CHAR;
      for (let n = 1; n <= s.maxCharN && i + n <= len; n++) {
        h = fnvCodePoint(h, buf[i + n - 1]!);
        if (n >= s.minCharN) add(h);
      }
    }
  }
  return words.length;
}

/**
 * Fits IDF on `texts` and returns the serialisable state (see file header for the IDF formula).
 * @throws MlInputError on bad options or an empty corpus.
 */
export function fitTextFeaturizer(texts: readonly string[], opts: TextFeaturizerOptions = {}): TextFeaturizerState {
  const s = resolveOptions(opts);
  if (texts.length === 0) throw new MlInputError("empty-input", "fitTextFeaturizer: no texts to fit the IDF on");
  const df = new Float64Array(s.dim);
  const counts = new Float64Array(s.dim);
  const cps = { buf: new Int32Array(64) };
  for (const text of texts) {
    hashedCounts(text, s, counts, cps);
    for (let j = 0; j < s.dim; j++) if (counts[j] !== 0) df[j]!++;
  }
  const n = texts.length;
  const idf = Array.from(df, (d) => Math.log((1 + n) / (1 + d)) + 1);
  return { format: "hashed-text", version: 1, ...s, docCount: n, idf };
}

function assertState(state: TextFeaturizerState): void {
  const fail = (why: string): never => {
    throw new MlInputError("invalid-argument", `featurize: invalid featuriser state: ${why}`);
  };
  if (state?.format !== "hashed-text" || state.version !== 1) fail("unknown format or version");
  if (!Number.isInteger(state.dim) || state.dim < 1) fail(`dim ${state.dim}`);
  if (!Number.isInteger(state.minCharN) || state.minCharN < 1 || !Number.isInteger(state.maxCharN) || state.maxCharN < state.minCharN) {
    fail(`char n-gram range ${state.minCharN}..${state.maxCharN}`);
  }
  if (state.idf !== null) {
    if (!Array.isArray(state.idf) || state.idf.length !== state.dim) fail(`idf must have ${state.dim} values`);
    state.idf.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) fail(`idf[${j}] is not finite`);
    });
  }
}

/** Feature matrix [texts.length, state.dim]: L2-normalised TF-IDF rows; texts without words give zero rows. */
export function featurize(state: TextFeaturizerState, texts: readonly string[]): Matrix {
  assertState(state);
  const dim = state.dim;
  const data = new Float32Array(texts.length * dim);
  const counts = new Float64Array(dim);
  const cps = { buf: new Int32Array(64) };
  const idf = state.idf;
  for (let r = 0; r < texts.length; r++) {
    if (hashedCounts(texts[r]!, state, counts, cps) === 0) continue;
    let norm2 = 0;
    for (let j = 0; j < dim; j++) {
      const v = counts[j]!;
      if (v === 0) continue;
      // Sub-linear TF: a term repeated 10 times is more telling than once, but not 10 times more.
      const tf = v > 0 ? 1 + Math.log(v) : -(1 + Math.log(-v));
      const w = idf === null ? tf : tf * idf[j]!;
      counts[j] = w;
      norm2 += w * w;
    }
    if (norm2 === 0) continue;
    const inv = 1 / Math.sqrt(norm2);
    const o = r * dim;
    for (let j = 0; j < dim; j++) data[o + j] = counts[j]! * inv;
  }
  return { data, rows: texts.length, cols: dim };
}
