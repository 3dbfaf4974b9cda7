/**
 * Top-B ranking on one uncertainty score (predictive entropy, mutual information, or the negated top-2 margin of
 * p̄), shared by the max-entropy, BALD and margin baselines so they report the same per-case features and
 * statistics and differ only in the score.
 */
import { baldFeatures, type BaldFeatures } from "../bald";
import type { SelectionInput, SelectionResult } from "../types";
import { minorityProbability, pick, pseudoMinorityShare, requireMc, selectionCount, topByScore } from "./selection-input";

/**
 * Selects the `min(budget, poolSize)` cases with the largest `score` (ties → lower pool index).
 * features (per selected case): entropy, expectedEntropy, mutualInformation, pseudoLabel, minorityProb.
 * stats: the strategy, K, the pool's pseudo-minority share π̂ (fraction pseudo-labelled minority), the same share
 * among the selected, and the mean score over pool and selection.
 */
export function rankByUncertainty(
  input: SelectionInput,
  strategy: string,
  score: "entropy" | "mutualInformation" | "margin",
): SelectionResult {
  const count = selectionCount(input);
  const mc = requireMc(input, strategy);
  const bald = baldFeatures(mc);
  const margin = topTwoMargin(bald);
  // The margin ranks ascending (smallest gap first), so its score is the negated margin.
  const scores = score === "margin" ? margin.map((m) => -m) : bald[score];
  const selected = topByScore(scores, count);
  const minorityProb = minorityProbability(bald, input.minorityClasses);
  let poolMean = 0;
  for (let i = 0; i < scores.length; i++) poolMean += scores[i]!;
  let selMean = 0;
  for (let t = 0; t < selected.length; t++) selMean += scores[selected[t]!]!;
  return {
    selected,
    features: {
      entropy: pick(bald.entropy, selected),
      expectedEntropy: pick(bald.expectedEntropy, selected),
      mutualInformation: pick(bald.mutualInformation, selected),
      pseudoLabel: pick(bald.pseudoLabel, selected),
      minorityProb: pick(minorityProb, selected),
      margin: pick(margin, selected),
    },
    stats: {
      strategy,
      score,
      k: mc.k,
      poolSize: input.poolSize,
      budget: input.budget,
      selectedCount: selected.length,
      pseudoPrior: pseudoMinorityShare(bald, input.minorityClasses, null),
      selectedPseudoMinorityShare: pseudoMinorityShare(bald, input.minorityClasses, selected),
      poolMeanScore: scores.length > 0 ? poolMean / scores.length : null,
      selectedMeanScore: selected.length > 0 ? selMean / selected.length : null,
    },
  };
}

/**
 * Top-2 margin of the mean prediction per case: p̄_(1) − p̄_(2), the gap between the two most probable classes
 * (Scheffer et al., 2001). In [0, 1]; 0 = the model cannot tell its two best classes apart.
 * @returns [N].
 */
export function topTwoMargin(bald: BaldFeatures): Float64Array {
  const { n, c, meanProb } = bald;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let first = -Infinity;
    let second = -Infinity;
    for (let k = 0; k < c; k++) {
      const p = meanProb[i * c + k]!;
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) second = p;
    }
    out[i] = first - second;
  }
  return out;
}
