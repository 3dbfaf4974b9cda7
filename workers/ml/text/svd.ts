/**
 * Truncated SVD of a sparse matrix by the randomized range finder (Halko, Martinsson & Tropp
 * 2011, "Finding structure with randomness", Alg. 4.4 with subspace iteration), plus the two
 * dense building blocks it needs: orthonormalisation of a tall matrix (Cholesky QR, twice) and
 * the symmetric eigen-decomposition of a small matrix (cyclic Jacobi).
 *
 * Memory: the tall factors are [rows, l] and [cols, l] Float64 with l = k + oversample, so a
 * 100,000-text pool with k = 100 holds ~100 MB on the row side; nothing is [rows, cols] dense.
 */
import type { Rng } from "../rng";
import { assertInteger, MlInputError } from "../validate";
import type { CsrMatrix } from "./tfidf";

export interface TruncatedSvd {
  /** Number of components k. */
  k: number;
  /** Singular values σ₁ ≥ … ≥ σ_k. */
  singularValues: Float64Array;
  /** Right singular vectors as columns, [cols, k] row-major (column j of A maps to row j). */
  components: Float64Array;
}

export interface SvdOptions {
  /** Extra random directions beyond k (default 20). */
  oversample?: number;
  /** Subspace (power) iterations (default 5, as scikit-learn's TruncatedSVD). */
  powerIterations?: number;
}

/** out [rows, l] = A · B with B [cols, l] row-major. */
export function csrTimesDense(a: CsrMatrix, b: Float64Array, l: number): Float64Array {
  const out = new Float64Array(a.rows * l);
  for (let i = 0; i < a.rows; i++) {
    const o = i * l;
    for (let p = a.indptr[i]!; p < a.indptr[i + 1]!; p++) {
      const v = a.values[p]!;
      const bo = a.indices[p]! * l;
      for (let t = 0; t < l; t++) out[o + t] = out[o + t]! + v * b[bo + t]!;
    }
  }
  return out;
}

/** out [cols, l] = Aᵀ · Q with Q [rows, l] row-major. */
export function csrTransposeTimesDense(a: CsrMatrix, q: Float64Array, l: number): Float64Array {
  const out = new Float64Array(a.cols * l);
  for (let i = 0; i < a.rows; i++) {
    const qo = i * l;
    for (let p = a.indptr[i]!; p < a.indptr[i + 1]!; p++) {
      const v = a.values[p]!;
      const o = a.indices[p]! * l;
      for (let t = 0; t < l; t++) out[o + t] = out[o + t]! + v * q[qo + t]!;
    }
  }
  return out;
}

/** G [l, l] = Yᵀ Y for Y [n, l] row-major (upper triangle computed, mirrored). */
function gram(y: Float64Array, n: number, l: number): Float64Array {
  const g = new Float64Array(l * l);
  for (let i = 0; i < n; i++) {
    const o = i * l;
    for (let a = 0; a < l; a++) {
      const ya = y[o + a]!;
      if (ya === 0) continue;
      const ga = a * l;
      for (let b = a; b < l; b++) g[ga + b] = g[ga + b]! + ya * y[o + b]!;
    }
  }
  for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) g[a * l + b] = g[b * l + a]!;
  return g;
}

/**
 * Orthonormalises the columns of y [n, l] in place (Cholesky QR applied twice, which is as
 * accurate as Householder QR for the well-conditioned blocks the range finder produces). A
 * column that is numerically dependent on earlier ones gets a tiny diagonal shift instead of
 * failing; with Gaussian starting blocks that does not happen in practice.
 */
export function orthonormalizeColumns(y: Float64Array, n: number, l: number): void {
  for (let pass = 0; pass < 2; pass++) {
    const g = gram(y, n, l);
    let trace = 0;
    for (let a = 0; a < l; a++) trace += g[a * l + a]!;
    const jitter = 1e-12 * (trace / Math.max(1, l)) + 1e-300;
    // Cholesky G = Rᵀ R (R upper triangular, stored in g's upper triangle).
    for (let j = 0; j < l; j++) {
      let d = g[j * l + j]!;
      for (let k = 0; k < j; k++) d -= g[k * l + j]! * g[k * l + j]!;
      if (!(d > jitter)) d = jitter;
      const rjj = Math.sqrt(d);
      g[j * l + j] = rjj;
      for (let c = j + 1; c < l; c++) {
        let s = g[j * l + c]!;
        for (let k = 0; k < j; k++) s -= g[k * l + j]! * g[k * l + c]!;
        g[j * l + c] = s / rjj;
      }
    }
    // Y ← Y R⁻¹, row by row (forward substitution on each row).
    for (let i = 0; i < n; i++) {
      const o = i * l;
      for (let j = 0; j < l; j++) {
        let s = y[o + j]!;
        for (let k = 0; k < j; k++) s -= y[o + k]! * g[k * l + j]!;
        y[o + j] = s / g[j * l + j]!;
      }
    }
  }
}

/**
 * Eigen-decomposition of a symmetric matrix s [m, m] by cyclic Jacobi rotations.
 * @returns eigenvalues in decreasing order and eigenvectors as columns of `vectors` [m, m] row-major.
 */
export function symmetricEigen(s: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(s);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  let scale = 0;
  for (let i = 0; i < m * m; i++) scale += a[i]! * a[i]!;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q]! * a[p * m + q]!;
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q]!;
        if (apq === 0) continue;
        const app = a[p * m + p]!;
        const aqq = a[q * m + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p]!;
          const akq = a[k * m + q]!;
          a[k * m + p] = c * akp - sn * akq;
          a[k * m + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k]!;
          const aqk = a[q * m + k]!;
          a[p * m + k] = c * apk - sn * aqk;
          a[q * m + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p]!;
          const vkq = v[k * m + q]!;
          v[k * m + p] = c * vkp - sn * vkq;
          v[k * m + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => a[y * m + y]! - a[x * m + x]! || x - y);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => {
    values[dst] = a[src * m + src]!;
    for (let k = 0; k < m; k++) vectors[k * m + dst] = v[k * m + src]!;
  });
  return { values, vectors };
}

/**
 * Top-k truncated SVD A ≈ U Σ Vᵀ of a sparse matrix, randomized (seeded by `rng`).
 * Signs are fixed so that each right singular vector's largest-magnitude entry is positive,
 * so equal inputs and seed give equal components on every machine.
 * @throws MlInputError when k < 1 or k exceeds min(rows, cols).
 */
export function randomizedSvd(a: CsrMatrix, k: number, rng: Rng, opts: SvdOptions = {}): TruncatedSvd {
  assertInteger(k, 1, "k");
  if (k > Math.min(a.rows, a.cols)) {
    throw new MlInputError("invalid-argument", `randomizedSvd: k = ${k} exceeds min(rows ${a.rows}, cols ${a.cols})`);
  }
  const oversample = opts.oversample ?? 20;
  const q = opts.powerIterations ?? 5;
  assertInteger(oversample, 0, "oversample");
  assertInteger(q, 0, "powerIterations");
  const l = Math.min(k + oversample, a.rows, a.cols);
  const omega = new Float64Array(a.cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = rng.normal();
  let y = csrTimesDense(a, omega, l);
  orthonormalizeColumns(y, a.rows, l);
  for (let it = 0; it < q; it++) {
    // Only the row side is re-orthonormalised: the column side is [cols, l] (vocabulary-sized,
    // 10–100× the rows' cost) and Y = A·(AᵀQ) squares the spread of σ at most once between QRs.
    y = csrTimesDense(a, csrTransposeTimesDense(a, y, l), l);
    orthonormalizeColumns(y, a.rows, l);
  }
  // B = Qᵀ A is [l, cols]; Z = Bᵀ = Aᵀ Q. B Bᵀ = Zᵀ Z = Ũ Λ Ũᵀ gives σ = √λ and V = Z Ũ Σ⁻¹.
  const z = csrTransposeTimesDense(a, y, l);
  const { values, vectors } = symmetricEigen(gram(z, a.cols, l), l);
  const singularValues = new Float64Array(k);
  const components = new Float64Array(a.cols * k);
  for (let c = 0; c < k; c++) {
    const sigma = Math.sqrt(Math.max(values[c]!, 0));
    singularValues[c] = sigma;
    if (sigma === 0) continue;
    let best = 0;
    for (let j = 0; j < a.cols; j++) {
      let s = 0;
      for (let t = 0; t < l; t++) s += z[j * l + t]! * vectors[t * l + c]!;
      const vjc = s / sigma;
      components[j * k + c] = vjc;
      if (Math.abs(vjc) > Math.abs(best)) best = vjc;
    }
    if (best < 0) for (let j = 0; j < a.cols; j++) components[j * k + c] = -components[j * k + c]!;
  }
  return { k, singularValues, components };
}
