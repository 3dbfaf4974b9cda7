/**
 * Embedding-space state features of the platform RADS variant: what the paper's state (model outputs only) does
 * not know — where a case lies relative to what is already labelled and how typical it is of the pool.
 *
 * Per pool case i, with cos(a, b) the cosine similarity of two embeddings (0 when either is the zero vector):
 *   distanceToMinority_i = 1 − max_{j labelled minority} cos(x_i, x_j)    (1 when no minority case is labelled)
 *   distanceToLabelled_i = 1 − max_{j labelled}          cos(x_i, x_j)    (1 when nothing is labelled)
 *   density_i            = mean of the `neighbours` largest cos(x_i, x_r), r ≠ i in the reference set
 * Distances are in [0, 2]; density in [−1, 1]. The reference set is the whole pool up to `referenceLimit` cases
 * (then the features do not depend on the pool's order); above it, a seeded sample of that many pool cases.
 * With `rows`, only those pool cases are computed (the others are NaN): the values of a computed row are the
 * same as without `rows` (same reference set, same random draws), so a caller that only looks at a shortlist pays
 * for the shortlist. Cost: O((L + min(N, referenceLimit)) · R · d) with R = rows.length (N without `rows`).
 *
 * Computation. The cosines are blocked float32 matrix products of unit rows (`gemmNN` from ../linalg, the wasm
 * SIMD kernel where available) by one helper, `forEachRowAgainstSet`: a block of up to BLOCK requested pool rows
 * against a whole set (transposed once), each row's similarities handed to a reducer — a running max over the
 * labelled rows (distances), the mean of the `neighbours` largest over the density reference set (density). The products used to be scalar float64 dot products (kept as
 * `embeddingStateFeaturesReference`, the reference the unit test compares against); the blocked form measured
 * several times faster (docs/benchmarks.md) and agrees with it to float32 rounding. `gemmNN` sums every entry
 * over d in order whatever the entry's place in the block (wasm and JS kernels alike), so a row's values with
 * `rows` are bit-identical to those without.
 */
import { gemmNN, transpose } from "../linalg";
import type { Rng } from "../rng";
import type { Matrix } from "../types";
import { assertFiniteMatrix, assertSameCols, MlInputError } from "../validate";

export interface EmbeddingStateFeatures {
  distanceToMinority: Float64Array;
  distanceToLabelled: Float64Array;
  density: Float64Array;
  /** Labelled minority cases the first feature was measured against. */
  labelledMinority: number;
  /** Size of the density reference set. */
  referenceSize: number;
}

export interface EmbeddingFeatureOptions {
  /** Neighbours averaged for the density (default 10). */
  neighbours?: number;
  /** Largest reference set for the density (default 2,000). */
  referenceLimit?: number;
  /**
   * Pool indices to compute (any order, repeats allowed); the other entries of the three arrays are NaN.
   * Default: every pool case.
   */
  rows?: Int32Array;
}

/** Rows scaled to unit L2 norm, float64 (zero rows stay zero). */
function unitRows(m: Matrix): Float64Array {
  const { rows, cols, data } = m;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += data[i * cols + k]! * data[i * cols + k]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < cols; k++) out[i * cols + k] = data[i * cols + k]! * inv;
  }
  return out;
}

/** Rows scaled to unit L2 norm (norm taken in float64), float32 (zero rows stay zero). */
function unitRows32(m: Matrix): Float32Array {
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += data[i * cols + k]! * data[i * cols + k]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < cols; k++) out[i * cols + k] = data[i * cols + k]! * inv;
  }
  return out;
}

/** Requested pool rows per product block (a block of similarities is BLOCK × (L or reference size) float32). */
const BLOCK = 256;

/**
 * Blocked "row × set" cosines: for every requested pool row i (in `rows` order), the similarities of x_i to all
 * `setSize` rows of `set` ([setSize, d], unit rows, float32) are computed as one float32 product per block of up to
 * BLOCK rows (`gemmNN`, the set transposed once) and handed to `reduce(i, sims, offset)`, which reads
 * sims[offset + j] for j = 0..setSize−1 (valid only during the call). The per-row reducer is what differs between
 * the features (running max, or the mean of the k largest).
 */
function forEachRowAgainstSet(
  x: Float32Array, d: number, rows: Int32Array, set: Float32Array, setSize: number,
  reduce: (i: number, sims: Float32Array, offset: number) => void,
): void {
  if (rows.length === 0 || setSize === 0) return;
  const setT = transpose(set, setSize, d);
  const blockRows = Math.min(BLOCK, rows.length);
  const block = new Float32Array(blockRows * d);
  const sims = new Float32Array(blockRows * setSize);
  for (let start = 0; start < rows.length; start += blockRows) {
    const count = Math.min(blockRows, rows.length - start);
    for (let r = 0; r < count; r++) block.set(x.subarray(rows[start + r]! * d, rows[start + r]! * d + d), r * d);
    gemmNN(count, setSize, d, block, setT, sims);
    for (let r = 0; r < count; r++) reduce(rows[start + r]!, sims, r * setSize);
  }
}

/**
 * Mean of the k = top.length largest of values[offset + q], q = 0..count−1, q ≠ skip (fewer when fewer remain; 0 when
 * none). `top` is scratch space: it holds the largest values seen so far in descending order (insertion into a short
 * list), the same summation order as the scalar reference.
 */
function meanOfTopK(values: Float32Array, offset: number, count: number, skip: number, top: Float64Array): number {
  const k = top.length;
  let filled = 0;
  for (let q = 0; q < count; q++) {
    if (q === skip) continue;
    const s = values[offset + q]!;
    if (filled < k) {
      let p = filled++;
      while (p > 0 && top[p - 1]! < s) {
        top[p] = top[p - 1]!;
        p--;
      }
      top[p] = s;
    } else if (s > top[k - 1]!) {
      let p = k - 1;
      while (p > 0 && top[p - 1]! < s) {
        top[p] = top[p - 1]!;
        p--;
      }
      top[p] = s;
    }
  }
  let sum = 0;
  for (let t = 0; t < filled; t++) sum += top[t]!;
  return filled > 0 ? sum / filled : 0;
}

/** The density reference set: every pool index when n <= limit, else a seeded sample of `limit` indices, sorted. */
function densityReference(n: number, limit: number, rng: Rng): Int32Array {
  if (n <= limit) return Int32Array.from({ length: n }, (_, i) => i);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  for (let j = 0; j < limit; j++) {
    const pick = j + rng.int(n - j);
    const t = all[j]!;
    all[j] = all[pick]!;
    all[pick] = t;
  }
  return all.slice(0, limit).sort();
}

function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[ai + k]! * b[bi + k]!;
  return s;
}

/**
 * The argument checks and output set-up both implementations share: options with their defaults, finite
 * embeddings, the rows to compute (each inside [0, N)), the two distance arrays (1 on those rows, NaN elsewhere
 * when `options.rows` is given, else 1 everywhere), and — when labelled rows are given — their minority flags
 * and count (`isMinority` null without labelled rows).
 * @throws MlInputError as `embeddingStateFeatures` documents
 */
function checkedFeatureInputs(
  pool: Matrix, labelled: Matrix | null, labelledLabels: Int32Array | null, minorityClasses: readonly number[], options: EmbeddingFeatureOptions,
) {
  const neighbours = options.neighbours ?? 10;
  const referenceLimit = options.referenceLimit ?? 2000;
  if (!(Number.isInteger(neighbours) && neighbours >= 1)) throw new MlInputError("invalid-argument", `embedding features: neighbours must be an integer >= 1, got ${neighbours}`);
  if (!(Number.isInteger(referenceLimit) && referenceLimit >= 2)) throw new MlInputError("invalid-argument", `embedding features: referenceLimit must be an integer >= 2, got ${referenceLimit}`);
  assertFiniteMatrix(pool, "RADS: embeddings");
  const n = pool.rows;
  const d = pool.cols;
  const rows = options.rows ?? Int32Array.from({ length: n }, (_, i) => i);
  for (const i of rows) {
    if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new MlInputError("invalid-argument", `embedding features: row ${i} is outside the pool of ${n} cases`);
  }
  const unset = options.rows !== undefined ? NaN : 1;
  const distanceToMinority = new Float64Array(n).fill(unset);
  const distanceToLabelled = new Float64Array(n).fill(unset);
  for (const i of rows) {
    distanceToMinority[i] = 1;
    distanceToLabelled[i] = 1;
  }
  let isMinority: Uint8Array | null = null;
  let labelledMinority = 0;
  if (labelled !== null && labelled.rows > 0) {
    assertFiniteMatrix(labelled, "RADS: labelledEmbeddings");
    assertSameCols(pool, labelled, "embeddings", "labelledEmbeddings");
    if (labelledLabels !== null && labelledLabels.length !== labelled.rows) {
      throw new MlInputError("dimension-mismatch", `RADS: ${labelledLabels.length} labelledLabels for ${labelled.rows} labelledEmbeddings rows`);
    }
    const minority = new Set(minorityClasses);
    isMinority = Uint8Array.from({ length: labelled.rows }, (_, j) => (labelledLabels !== null && minority.has(labelledLabels[j]!) ? 1 : 0));
    for (const v of isMinority) labelledMinority += v;
  }
  return { neighbours, referenceLimit, n, d, rows, distanceToMinority, distanceToLabelled, isMinority, labelledMinority };
}

/**
 * @param pool pool embeddings [N, d]; @param labelled labelled embeddings [L, d] or null; @param labelledLabels
 * [L] class indices of those rows or null (then every labelled row counts for distanceToLabelled only);
 * @param minorityClasses the minority class indices; @param rng used only when N > referenceLimit.
 * @returns three [N] arrays (NaN outside `options.rows` when given), the labelled minority count and the reference size.
 * @throws MlInputError for non-finite embeddings, mismatched widths, a label count that differs from L, or a row
 *   index outside [0, N).
 */
export function embeddingStateFeatures(
  pool: Matrix, labelled: Matrix | null, labelledLabels: Int32Array | null, minorityClasses: readonly number[], rng: Rng,
  options: EmbeddingFeatureOptions = {},
): EmbeddingStateFeatures {
  const { neighbours, referenceLimit, n, d, rows, distanceToMinority, distanceToLabelled, isMinority, labelledMinority } = checkedFeatureInputs(pool, labelled, labelledLabels, minorityClasses, options);
  const x = unitRows32(pool);
  if (labelled !== null && isMinority !== null) {
    const nl = labelled.rows;
    forEachRowAgainstSet(x, d, rows, unitRows32(labelled), nl, (i, sims, o) => {
      let bestAll = -Infinity;
      let bestMin = -Infinity;
      for (let j = 0; j < nl; j++) {
        const s = sims[o + j]!;
        if (s > bestAll) bestAll = s;
        if (isMinority[j] && s > bestMin) bestMin = s;
      }
      distanceToLabelled[i] = 1 - bestAll;
      if (bestMin > -Infinity) distanceToMinority[i] = 1 - bestMin;
    });
  }

  // Density reference set: the whole pool when small enough, else a seeded sample (same draws as the reference).
  const reference = densityReference(n, referenceLimit, rng);
  const density = new Float64Array(n).fill(options.rows !== undefined ? NaN : 0);
  const nr = reference.length;
  if (nr > 0 && rows.length > 0) {
    const ref = new Float32Array(nr * d);
    for (let r = 0; r < nr; r++) ref.set(x.subarray(reference[r]! * d, reference[r]! * d + d), r * d);
    // Position of each pool case in the reference set (−1 when not in it), to skip a case's own similarity.
    const refPos = new Int32Array(n).fill(-1);
    for (let r = 0; r < nr; r++) refPos[reference[r]!] = r;
    const top = new Float64Array(neighbours);
    forEachRowAgainstSet(x, d, rows, ref, nr, (i, sims, o) => {
      density[i] = meanOfTopK(sims, o, nr, refPos[i]!, top);
    });
  }
  return { distanceToMinority, distanceToLabelled, density, labelledMinority, referenceSize: reference.length };
}

/**
 * The scalar float64 implementation `embeddingStateFeatures` replaced, kept as the reference its unit test
 * compares against and for the micro-benchmark (scripts/bench-embedding-features.ts); not for production use.
 * Same parameters, results and errors as `embeddingStateFeatures` (up to float32 rounding of the cosines).
 *
 * @param pool pool embeddings [N, d]; @param labelled labelled embeddings [L, d] or null; @param labelledLabels
 * [L] class indices of those rows or null (then every labelled row counts for distanceToLabelled only);
 * @param minorityClasses the minority class indices; @param rng used only when N > referenceLimit.
 * @returns three [N] arrays (NaN outside `options.rows` when given), the labelled minority count and the reference size.
 * @throws MlInputError for non-finite embeddings, mismatched widths, a label count that differs from L, or a row
 *   index outside [0, N).
 */
export function embeddingStateFeaturesReference(
  pool: Matrix, labelled: Matrix | null, labelledLabels: Int32Array | null, minorityClasses: readonly number[], rng: Rng,
  options: EmbeddingFeatureOptions = {},
): EmbeddingStateFeatures {
  const { neighbours, referenceLimit, n, d, rows, distanceToMinority, distanceToLabelled, isMinority, labelledMinority } = checkedFeatureInputs(pool, labelled, labelledLabels, minorityClasses, options);
  const x = unitRows(pool);
  if (labelled !== null && isMinority !== null) {
    const l = unitRows(labelled);
    for (const i of rows) {
      let bestAll = -Infinity;
      let bestMin = -Infinity;
      for (let j = 0; j < labelled.rows; j++) {
        const s = dot(x, i * d, l, j * d, d);
        if (s > bestAll) bestAll = s;
        if (isMinority[j] && s > bestMin) bestMin = s;
      }
      distanceToLabelled[i] = 1 - bestAll;
      if (bestMin > -Infinity) distanceToMinority[i] = 1 - bestMin;
    }
  }

  // Density reference set: the whole pool when small enough, else a seeded sample.
  let reference: Int32Array;
  if (n <= referenceLimit) {
    reference = Int32Array.from({ length: n }, (_, i) => i);
  } else {
    const all = Int32Array.from({ length: n }, (_, i) => i);
    for (let j = 0; j < referenceLimit; j++) {
      const pick = j + rng.int(n - j);
      const t = all[j]!;
      all[j] = all[pick]!;
      all[pick] = t;
    }
    reference = all.slice(0, referenceLimit).sort();
  }
  const density = new Float64Array(n).fill(options.rows !== undefined ? NaN : 0);
  const top = new Float64Array(neighbours);
  for (const i of rows) {
    // `top` holds the largest similarities seen so far in descending order (insertion into a short list).
    let filled = 0;
    for (let r = 0; r < reference.length; r++) {
      const j = reference[r]!;
      if (j === i) continue;
      const s = dot(x, i * d, x, j * d, d);
      if (filled < neighbours) {
        let p = filled++;
        while (p > 0 && top[p - 1]! < s) {
          top[p] = top[p - 1]!;
          p--;
        }
        top[p] = s;
      } else if (s > top[neighbours - 1]!) {
        let p = neighbours - 1;
        while (p > 0 && top[p - 1]! < s) {
          top[p] = top[p - 1]!;
          p--;
        }
        top[p] = s;
      }
    }
    let sum = 0;
    for (let t = 0; t < filled; t++) sum += top[t]!;
    density[i] = filled > 0 ? sum / filled : 0;
  }
  return { distanceToMinority, distanceToLabelled, density, labelledMinority, referenceSize: reference.length };
}
