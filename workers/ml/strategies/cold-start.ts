/**
 * Cold-start strategy for rounds with no model: stratified and diverse selection over embeddings.
 *
 * Method: cluster the pool into B strata with k-means (k-means++ seeding, then Lloyd iterations, fitted on a
 * seeded sample of at most 10,000 cases for speed; every pool case is then assigned to its nearest centroid),
 * pick from each stratum the case nearest its centroid, and queue strata largest first.
 * Why not k-center here: k-center's first picks are the farthest points, which in clinical text embeddings are
 * mostly atypical or garbled reports; with no model to say what is informative, the first labels should be
 * typical of each region of the data (representative) and spread across regions (diverse). Largest-first
 * ordering means an annotator who stops early has still covered the most common kinds of case.
 * With no embeddings at all the round falls back to random sampling and says so in `stats.method`.
 */
import { permutation, type Rng } from "../rng";
import type { Matrix, SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { nearestCenters, rowSquaredNorms } from "./embedding-distance";
import { requireEmbeddings, selectionCount } from "./selection-input";

const MAX_FIT_SAMPLE = 10_000;
const MAX_LLOYD_ITERATIONS = 10;

function subMatrix(m: Matrix, rows: Int32Array): Matrix {
  const data = new Float32Array(rows.length * m.cols);
  for (let r = 0; r < rows.length; r++) data.set(m.data.subarray(rows[r]! * m.cols, (rows[r]! + 1) * m.cols), r * m.cols);
  return { data, rows: rows.length, cols: m.cols };
}

/** k-means++ seeding: each next centre is drawn with probability ∝ squared distance to the nearest centre so far. */
function seedCentroids(sample: Matrix, norms: Float64Array, k: number, rng: Rng): Matrix {
  const d = sample.cols;
  const centers = new Float32Array(k * d);
  const minD2 = new Float64Array(sample.rows).fill(Infinity);
  let idx = rng.int(sample.rows);
  for (let c = 0; c < k; c++) {
    centers.set(sample.data.subarray(idx * d, (idx + 1) * d), c * d);
    nearestCenters(sample, norms, { data: centers.subarray(c * d, (c + 1) * d), rows: 1, cols: d }, minD2, null);
    let total = 0;
    for (let i = 0; i < sample.rows; i++) total += minD2[i]!;
    // All remaining mass 0 means every point coincides with a centre; any choice is then equivalent.
    let r = rng.next() * total;
    idx = 0;
    for (let i = 0; i < sample.rows; i++) {
      r -= minD2[i]!;
      if (r < 0) {
        idx = i;
        break;
      }
    }
  }
  return { data: centers, rows: k, cols: d };
}

/** Lloyd iterations until assignments stop changing (or the cap); an empty cluster keeps its old centroid. */
function lloyd(sample: Matrix, norms: Float64Array, centers: Matrix): number {
  const k = centers.rows;
  const d = sample.cols;
  const assign = new Int32Array(sample.rows).fill(-1);
  const next = new Int32Array(sample.rows);
  const dist = new Float64Array(sample.rows);
  const sums = new Float64Array(k * d);
  const sizes = new Float64Array(k);
  let it = 0;
  while (it < MAX_LLOYD_ITERATIONS) {
    it++;
    dist.fill(Infinity);
    nearestCenters(sample, norms, centers, dist, next);
    let changed = false;
    for (let i = 0; i < sample.rows; i++) if (next[i] !== assign[i]) changed = true;
    assign.set(next);
    if (!changed) break;
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < sample.rows; i++) {
      const c = assign[i]!;
      sizes[c]!++;
      for (let j = 0; j < d; j++) sums[c * d + j]! += sample.data[i * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      if (sizes[c] === 0) continue;
      for (let j = 0; j < d; j++) centers.data[c * d + j] = sums[c * d + j]! / sizes[c]!;
    }
  }
  return it;
}

/**
 * Cold start over `embeddings` [poolSize, d] (labelled embeddings are not used). stats.coldStart is always true.
 * features (per pick): clusterSize (pool cases in its stratum), distanceToCentroid (Euclidean).
 */
export const coldStartStrategy: SelectionStrategy = {
  name: "cold-start",
  needsModel: false,
  select(input: SelectionInput): SelectionResult {
    const count = selectionCount(input);
    if (input.embeddings === null) {
      const selected = permutation(input.poolSize, input.rng).slice(0, count);
      return {
        selected,
        features: {},
        stats: { strategy: "cold-start", coldStart: true, method: "random (no embeddings available)", poolSize: input.poolSize, budget: input.budget, selectedCount: count },
      };
    }
    const { pool } = requireEmbeddings(input, "cold-start");
    const n = pool.rows;
    const baseStats = { strategy: "cold-start", coldStart: true, method: "k-means strata, nearest-to-centroid representative, largest stratum first", poolSize: n, budget: input.budget };
    if (count === 0) return { selected: new Int32Array(0), features: { clusterSize: new Float64Array(0), distanceToCentroid: new Float64Array(0) }, stats: { ...baseStats, selectedCount: 0 } };

    const fitRows = n > MAX_FIT_SAMPLE ? permutation(n, input.rng).slice(0, Math.max(MAX_FIT_SAMPLE, count)) : null;
    const sample = fitRows === null ? pool : subMatrix(pool, fitRows);
    const sampleNorms = rowSquaredNorms(sample);
    const centers = seedCentroids(sample, sampleNorms, count, input.rng);
    const iterations = lloyd(sample, sampleNorms, centers);

    const poolNorms = fitRows === null ? sampleNorms : rowSquaredNorms(pool);
    const dist2 = new Float64Array(n).fill(Infinity);
    const cluster = new Int32Array(n);
    nearestCenters(pool, poolNorms, centers, dist2, cluster);
    const size = new Int32Array(count);
    const rep = new Int32Array(count).fill(-1);
    for (let i = 0; i < n; i++) {
      const c = cluster[i]!;
      size[c]!++;
      if (rep[c] === -1 || dist2[i]! < dist2[rep[c]!]!) rep[c] = i;
    }
    // Largest stratum first; equal sizes keep cluster order, which the seeded k-means++ order fixes.
    const strata = Array.from({ length: count }, (_, c) => c).filter((c) => rep[c]! >= 0);
    strata.sort((a, b) => size[b]! - size[a]! || a - b);
    const selected: number[] = strata.map((c) => rep[c]!);
    const clusterSize: number[] = strata.map((c) => size[c]!);
    const distanceToCentroid: number[] = strata.map((c) => Math.sqrt(dist2[rep[c]!]!));

    // Coinciding centroids (duplicate-heavy pools) can leave strata empty; top up with the farthest cases from the
    // picks so far (k-center greedy) so the queue still has min(budget, poolSize) distinct cases.
    if (selected.length < count) {
      const minD2 = new Float64Array(n).fill(Infinity);
      const taken = new Uint8Array(n);
      for (const s of selected) taken[s] = 1;
      nearestCenters(pool, poolNorms, subMatrix(pool, Int32Array.from(selected)), minD2, null);
      while (selected.length < count) {
        let best = -1;
        let bestIdx = -1;
        for (let i = 0; i < n; i++) if (!taken[i] && minD2[i]! > best) { best = minD2[i]!; bestIdx = i; }
        taken[bestIdx] = 1;
        selected.push(bestIdx);
        clusterSize.push(size[cluster[bestIdx]!]!);
        distanceToCentroid.push(Math.sqrt(dist2[bestIdx]!));
        nearestCenters(pool, poolNorms, subMatrix(pool, Int32Array.of(bestIdx)), minD2, null);
      }
    }
    return {
      selected: Int32Array.from(selected),
      features: { clusterSize: Float64Array.from(clusterSize), distanceToCentroid: Float64Array.from(distanceToCentroid) },
      stats: { ...baseStats, selectedCount: selected.length, clusters: count, iterations, fitSampleSize: sample.rows, strataSizes: clusterSize.slice(0, strata.length) },
    };
  },
};
