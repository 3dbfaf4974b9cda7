/**
 * BALD baseline (Houlsby et al., 2011): the B cases with the largest mutual information MI = H − E between the
 * prediction and the weights, estimated from K MC-dropout passes. High MI means the passes disagree confidently,
 * i.e. the model's own uncertainty (epistemic), not label noise. Top-B picks are scored independently, so they
 * can be redundant — the gap RADS's redundancy penalty targets.
 */
import type { SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { rankByUncertainty } from "./uncertainty-ranking";

/** BALD top-B over the pool; needs `mc` [poolSize, K ≥ 2, C]. */
export const baldTopBStrategy: SelectionStrategy = {
  name: "bald",
  needsModel: true,
  select(input: SelectionInput): SelectionResult {
    return rankByUncertainty(input, "bald", "mutualInformation");
  },
};
