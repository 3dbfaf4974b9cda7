/**
 * Input checks and small helpers shared by the baseline strategies, so every strategy rejects the same bad
 * inputs with the same `MlInputError` codes and ranks ties the same way.
 */
import type { BaldFeatures } from "../bald";
import type { Matrix, McLogProbs, SelectionInput } from "../types";
import {
  assertFiniteMatrix,
  assertInteger,
  assertMcLogProbs,
  assertMinorityClasses,
  assertSameCols,
  MlInputError,
  resolveBudget,
} from "../validate";

/** Number of cases to pick: min(budget, poolSize) per the SelectionResult contract; budget must be an integer ≥ 0. */
export function selectionCount(input: SelectionInput): number {
  assertInteger(input.poolSize, 0, "poolSize");
  return resolveBudget(input.budget, input.poolSize, "clamp");
}

/** The MC-dropout tensor of a model-driven strategy, checked against the pool and the minority classes. */
export function requireMc(input: SelectionInput, strategy: string): McLogProbs {
  const mc = input.mc;
  if (mc === null) {
    throw new MlInputError("invalid-argument", `${strategy} needs MC-dropout predictions of a trained model; use the cold-start strategy before one exists`);
  }
  assertMcLogProbs(mc, input.poolSize);
  assertMinorityClasses(input.minorityClasses, mc.c);
  return mc;
}

/** Pool embeddings [poolSize, d] (finite), and labelled embeddings [L, d] when present, for embedding strategies. */
export function requireEmbeddings(input: SelectionInput, strategy: string): { pool: Matrix; labelled: Matrix | null } {
  const pool = input.embeddings;
  if (pool === null) throw new MlInputError("invalid-argument", `${strategy} needs pool embeddings`);
  assertFiniteMatrix(pool, `${strategy}: embeddings`);
  if (pool.rows !== input.poolSize) {
    throw new MlInputError("dimension-mismatch", `${strategy}: embeddings have ${pool.rows} rows but the pool has ${input.poolSize} cases`);
  }
  const labelled = input.labelledEmbeddings;
  if (labelled !== null) {
    assertFiniteMatrix(labelled, `${strategy}: labelledEmbeddings`);
    assertSameCols(pool, labelled, "embeddings", "labelledEmbeddings");
  }
  return { pool, labelled };
}

/** Indices of the `count` largest scores[N], highest first; ties go to the lower index so queues are reproducible. */
export function topByScore(scores: Float64Array, count: number): Int32Array {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return Int32Array.from(idx.slice(0, count));
}

/** Values of per-case array `values` at `selected`, as float64 (the SelectionResult feature format). */
export function pick(values: ArrayLike<number>, selected: Int32Array): Float64Array {
  return Float64Array.from(selected, (i) => values[i]!);
}

/** Σ_{c∈minority} p̄_c per case [N] — how much of the mean prediction goes to the classes we are hunting. */
export function minorityProbability(bald: BaldFeatures, minority: readonly number[]): Float64Array {
  const out = new Float64Array(bald.n);
  for (let i = 0; i < bald.n; i++) {
    let s = 0;
    for (const m of minority) s += bald.meanProb[i * bald.c + m]!;
    out[i] = s;
  }
  return out;
}

/** Share of `indices` (or of all N when null) whose pseudo-label is a minority class; 0 for an empty set. */
export function pseudoMinorityShare(bald: BaldFeatures, minority: readonly number[], indices: Int32Array | null): number {
  const set = new Set(minority);
  const n = indices === null ? bald.n : indices.length;
  if (n === 0) return 0;
  let hits = 0;
  for (let t = 0; t < n; t++) {
    const i = indices === null ? t : indices[t]!;
    if (set.has(bald.pseudoLabel[i]!)) hits++;
  }
  return hits / n;
}
