/**
 * Completes a queue the agent left short. The greedy pass may end its walk with fewer than B picks when
 * the learnt policy skips too much; the round must still deliver B cases, so the remainder is filled
 * deterministically with the highest-utility cases not yet picked (ties: lower pool index first).
 */
import { MlInputError } from "../validate";

/**
 * Pool indices by descending utility, ties by ascending index (a total order, so results never depend on sort stability).
 * @param utility [N]. @returns [N] pool indices.
 */
export function rankByUtility(utility: Float64Array): Int32Array {
  const order = new Int32Array(utility.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => utility[b]! - utility[a]! || a - b);
}

/**
 * The policy's picks followed by top-ranked unpicked cases until `budget` are chosen.
 * @param picks [P] pool indices chosen by the policy (kept first, in order; duplicates dropped);
 * @param ranked [N] pool indices, best first (from {@link rankByUtility}); @param budget B <= N.
 * @returns { selected [min(B, N)], toppedUp: how many came from the ranking, policyKept: how many picks were kept }.
 */
export function topUpSelection(picks: Int32Array, ranked: Int32Array, budget: number): { selected: Int32Array; toppedUp: number; policyKept: number } {
  if (!Number.isInteger(budget) || budget < 0) throw new MlInputError("invalid-argument", `topUpSelection: budget must be an integer >= 0, got ${budget}`);
  const chosen: number[] = [];
  const taken = new Set<number>();
  for (let j = 0; j < picks.length && chosen.length < budget; j++) {
    const i = picks[j]!;
    if (!taken.has(i)) {
      taken.add(i);
      chosen.push(i);
    }
  }
  const policyKept = chosen.length;
  for (let r = 0; r < ranked.length && chosen.length < budget; r++) {
    const i = ranked[r]!;
    if (!taken.has(i)) {
      taken.add(i);
      chosen.push(i);
    }
  }
  return { selected: Int32Array.from(chosen), toppedUp: chosen.length - policyKept, policyKept };
}
