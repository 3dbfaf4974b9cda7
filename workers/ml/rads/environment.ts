/**
 * The sequential select/skip environment (docs/rads.md, step 6).
 *
 * An episode walks a list of pool cases (the "walk order") one per step. State of a step:
 *   [log p̄_i (C values), H_i, MI_i, selected_so_far / B]         (dimension C + 3, the paper's)
 * or, for a table built with {@link buildWideCaseTable} (the platform variant), [its W per-case features,
 * selected_so_far / B] (dimension W + 1); the redundancy distance always uses the first C features.
 * Action 1 = select, 0 = skip. Selecting case i (only possible while fewer than B are selected) pays
 *   utility_i − λ · 1/(1 + d_min),   d_min = min Euclidean distance from log p̄_i to the already selected cases' log p̄
 * (no penalty for the first selection); skipping pays 0. The episode ends after the last case of the walk
 * or once B cases are selected. A table may instead carry unit-length redundancy vectors (the platform variant
 * passes its embeddings, {@link withCosineRedundancy}); the penalty is then λ · max(0, max_j cos(x_i, x_j)) over
 * the already selected cases — near-duplicate texts cost up to λ, unrelated ones nothing.
 */
import { MlInputError } from "../validate";

/** Per-case inputs of the environment, precomputed once per round. */
export interface RadsCaseTable {
  /** Cases N. */
  n: number;
  /** Classes C. */
  c: number;
  /** Per-case features W (the state without the selected/B column): C + 2 for the paper's table. */
  width: number;
  /** [N, W]: the first C values are the vector the redundancy distance is measured on (log p̄ in the paper's table). */
  features: Float64Array;
  /** [N] reward of selecting the case before the redundancy penalty. */
  utility: Float64Array;
  /** Optional [N, dim] unit-length rows: when present the penalty is cosine-based on these (file comment). */
  cosine?: { dim: number; vectors: Float64Array };
}

/**
 * Packs BALD outputs into a case table.
 * @param meanLogProb [N, C]; @param entropy [N]; @param mutualInformation [N]; @param utility [N].
 */
export function buildCaseTable(
  c: number, meanLogProb: Float64Array, entropy: Float64Array, mutualInformation: Float64Array, utility: Float64Array,
): RadsCaseTable {
  const n = utility.length;
  if (meanLogProb.length !== n * c || entropy.length !== n || mutualInformation.length !== n) {
    throw new MlInputError("dimension-mismatch", `buildCaseTable: expected [${n}, ${c}] log-probs and [${n}] H/MI/utility`);
  }
  const width = c + 2;
  const features = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) features[i * width + k] = meanLogProb[i * c + k]!;
    features[i * width + c] = entropy[i]!;
    features[i * width + c + 1] = mutualInformation[i]!;
  }
  return { n, c, width, features, utility };
}

/**
 * A case table with any per-case features.
 * @param features [N, W] row-major, W >= C; the first C columns are the redundancy vector. @param utility [N].
 * @throws MlInputError for a shape mismatch or a non-finite feature.
 */
export function buildWideCaseTable(c: number, width: number, features: Float64Array, utility: Float64Array): RadsCaseTable {
  const n = utility.length;
  if (!(Number.isInteger(width) && width >= c) || features.length !== n * width) {
    throw new MlInputError("dimension-mismatch", `buildWideCaseTable: expected [${n}, ${width}] features (width >= ${c}), got ${features.length} values`);
  }
  for (let j = 0; j < features.length; j++) {
    if (!Number.isFinite(features[j])) throw new MlInputError("non-finite", `buildWideCaseTable: feature ${j % width} of case ${Math.floor(j / width)} is ${features[j]}`);
  }
  return { n, c, width, features, utility };
}

/** Dimension of the state vector for C classes (the paper's table). */
export function stateDimension(c: number): number {
  return c + 3;
}

/**
 * The same table with cosine redundancy on `vectors` (rows scaled to unit length here; a zero row stays zero and
 * is never redundant). @param vectors [N, dim] row-major, finite.
 * @throws MlInputError for a row count other than the table's or a non-finite value.
 */
export function withCosineRedundancy(table: RadsCaseTable, vectors: ArrayLike<number>, dim: number): RadsCaseTable {
  if (!(Number.isInteger(dim) && dim >= 1) || vectors.length !== table.n * dim) {
    throw new MlInputError("dimension-mismatch", `withCosineRedundancy: expected [${table.n}, ${dim}] vectors, got ${vectors.length} values`);
  }
  const unit = new Float64Array(table.n * dim);
  for (let i = 0; i < table.n; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const v = vectors[i * dim + k]!;
      if (!Number.isFinite(v)) throw new MlInputError("non-finite", `withCosineRedundancy: value ${k} of case ${i} is ${v}`);
      s += v * v;
    }
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dim; k++) unit[i * dim + k] = vectors[i * dim + k]! * inv;
  }
  return { ...table, cosine: { dim, vectors: unit } };
}

/**
 * Redundancy penalty of case `i` given the already selected cases (0 when none): λ/(1 + d_min) on the first C
 * features, or λ·max(0, max_j cos) when the table carries cosine vectors.
 * @param selected pool indices already selected, first `count` entries used.
 */
export function redundancyPenalty(table: RadsCaseTable, i: number, selected: Int32Array, count: number, lambda: number): number {
  if (count === 0) return 0;
  if (table.cosine) {
    const { dim, vectors } = table.cosine;
    let most = 0;
    for (let j = 0; j < count; j++) {
      const s = selected[j]!;
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += vectors[i * dim + k]! * vectors[s * dim + k]!;
      if (dot > most) most = dot;
    }
    return lambda * most;
  }
  const { c, features, width } = table;
  let best = Infinity;
  for (let j = 0; j < count; j++) {
    const s = selected[j]!;
    let d2 = 0;
    for (let k = 0; k < c; k++) {
      const diff = features[i * width + k]! - features[s * width + k]!;
      d2 += diff * diff;
    }
    if (d2 < best) best = d2;
  }
  return lambda / (1 + Math.sqrt(best));
}

/** Outcome of one environment step. */
export interface StepResult {
  reward: number;
  done: boolean;
}

/** One episode at a time over a case table; reuse it across episodes with {@link SelectionEnvironment.reset}. */
export class SelectionEnvironment {
  readonly stateDim: number;
  private order: Int32Array = new Int32Array(0);
  private pos = 0;
  private count = 0;
  private readonly chosen: Int32Array;

  /**
   * @param budget B >= 1; @param lambda redundancy weight (paper: 0.01).
   */
  constructor(readonly table: RadsCaseTable, readonly budget: number, readonly lambda: number) {
    if (!Number.isInteger(budget) || budget < 1) throw new MlInputError("invalid-argument", `environment budget must be an integer >= 1, got ${budget}`);
    if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new MlInputError("invalid-argument", `lambda must be finite and >= 0, got ${lambda}`);
    this.stateDim = table.width + 1;
    this.chosen = new Int32Array(budget);
  }

  /** Starts an episode over `order` (pool indices, walked first to last). */
  reset(order: Int32Array): void {
    if (order.length === 0) throw new MlInputError("empty-input", "environment: an episode needs at least one case");
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      if (!(i >= 0 && i < this.table.n)) throw new MlInputError("invalid-argument", `environment: walk index ${i} is outside the pool 0..${this.table.n - 1}`);
    }
    this.order = order;
    this.pos = 0;
    this.count = 0;
  }

  /** Pool index of the current case. */
  get currentCase(): number {
    return this.order[this.pos]!;
  }

  /** How many cases have been selected in this episode. */
  get selectedCount(): number {
    return this.count;
  }

  /** Writes the current state ([stateDim]) into `out` at `offset`. */
  writeState(out: Float64Array, offset = 0): void {
    const { features, width } = this.table;
    const i = this.currentCase;
    for (let k = 0; k < width; k++) out[offset + k] = features[i * width + k]!;
    out[offset + width] = this.count / this.budget;
  }

  /** Applies `action` (1 select, 0 skip) to the current case and moves to the next. */
  step(action: number): StepResult {
    if (this.pos >= this.order.length || this.count >= this.budget) throw new MlInputError("invalid-argument", "environment: step after the episode ended");
    const i = this.currentCase;
    let reward = 0;
    if (action === 1) {
      reward = this.table.utility[i]! - redundancyPenalty(this.table, i, this.chosen, this.count, this.lambda);
      this.chosen[this.count] = i;
      this.count += 1;
    } else if (action !== 0) {
      throw new MlInputError("invalid-argument", `environment: action must be 0 or 1, got ${action}`);
    }
    this.pos += 1;
    return { reward, done: this.pos >= this.order.length || this.count >= this.budget };
  }

  /** Pool indices selected so far in this episode, in selection order. */
  selected(): Int32Array {
    return this.chosen.slice(0, this.count);
  }
}
