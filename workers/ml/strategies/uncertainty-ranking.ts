/**
 * Top-B ranking on one BALD quantity (predictive entropy or mutual information), shared by the max-entropy and
 * BALD baselines so both report the same per-case features and statistics and differ only in the score.
 */
import { baldFeatures } from "../bald";
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
  score: "entropy" | "mutualInformation",
): SelectionResult {
  const count = selectionCount(input);
  const mc = requireMc(input, strategy);
  const bald = baldFeatures(mc);
  const scores = bald[score];
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
