/** Builders shared by the strategy tests (not exported from the package surface). */
import { createRng } from "../rng";
import type { Matrix, McLogProbs, SelectionInput } from "../types";
import { MlInputError } from "../validate";

/** McLogProbs from probabilities given as cases → passes → classes. */
export function mcFromProbs(cases: number[][][]): McLogProbs {
  const n = cases.length;
  const k = cases[0]!.length;
  const c = cases[0]![0]!.length;
  const data = new Float32Array(n * k * c);
  cases.forEach((passes, i) => passes.forEach((p, kk) => p.forEach((v, cc) => (data[(i * k + kk) * c + cc] = Math.log(v)))));
  return { data, n, k, c };
}

/** A matrix from rows of numbers. */
export function matrix(rows: number[][]): Matrix {
  const cols = rows[0]?.length ?? 0;
  return { data: Float32Array.from(rows.flat()), rows: rows.length, cols };
}

/** A SelectionInput with neutral defaults; override what the test is about. */
export function selectionInput(overrides: Partial<SelectionInput> & { poolSize: number }): SelectionInput {
  return {
    budget: 1,
    mc: null,
    embeddings: null,
    labelledEmbeddings: null,
    minorityClasses: [1],
    rng: createRng(1),
    ...overrides,
  };
}

/** The MlInputError code thrown by fn, or "no error". */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof MlInputError)) throw e;
    return e.code;
  }
  return "no error";
}
