/**
 * Uncertainty-sampling baseline: the B cases whose mean MC-dropout prediction p̄ has the highest predictive
 * entropy H = −Σ_c p̄_c ln p̄_c (nats). It mixes what the model does not know (epistemic) with cases that are
 * simply ambiguous (aleatoric), which is why it tends to pick boundary outliers — the behaviour RADS improves on.
 */
import type { SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { rankByUncertainty } from "./uncertainty-ranking";

/** Max-entropy top-B over the pool; needs `mc` [poolSize, K ≥ 2, C]. */
export const maxEntropyStrategy: SelectionStrategy = {
  name: "max-entropy",
  needsModel: true,
  select(input: SelectionInput): SelectionResult {
    return rankByUncertainty(input, "max-entropy", "entropy");
  },
};
