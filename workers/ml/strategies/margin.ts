/**
 * Margin baseline (Scheffer et al., 2001): the B cases whose mean MC prediction p̄ has the smallest gap between its
 * two most probable classes, p̄_(1) − p̄_(2). For two classes it ranks exactly like max-entropy; with several
 * classes it looks only at the top-2 confusion and ignores how the rest of the mass is spread.
 */
import type { SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { rankByUncertainty } from "./uncertainty-ranking";

/** Smallest-margin top-B over the pool; needs `mc` [poolSize, K ≥ 2, C]. Ties → lower pool index. */
export const marginStrategy: SelectionStrategy = {
  name: "margin",
  needsModel: true,
  select(input: SelectionInput): SelectionResult {
    return rankByUncertainty(input, "margin", "margin");
  },
};
