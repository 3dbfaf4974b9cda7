/**
 * Random baseline: a uniformly random subset of the pool (the first B of a seeded Fisher–Yates permutation).
 * Its expected minority hit rate is the pool prior, the yardstick every other strategy is compared against.
 */
import { permutation } from "../rng";
import type { SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { selectionCount } from "./selection-input";

/** Uniform random min(budget, poolSize) pool indices; needs neither a model nor embeddings. */
export const randomStrategy: SelectionStrategy = {
  name: "random",
  needsModel: false,
  select(input: SelectionInput): SelectionResult {
    const count = selectionCount(input);
    const selected = permutation(input.poolSize, input.rng).slice(0, count);
    return { selected, features: {}, stats: { strategy: "random", poolSize: input.poolSize, budget: input.budget, selectedCount: count } };
  },
};
