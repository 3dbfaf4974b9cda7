/**
 * Per-case utility (docs/rads.md, step 5): MI min-max normalised over the pool, times the case's class weight.
 */
import { MlInputError } from "../validate";

/**
 * Min-max normalisation to [0, 1].
 * @param values [N]; @param minRange below this range (max − min) every output is 0 (paper: 1e-8), since
 *   stretching rounding noise to [0,1] would invent differences that are not there.
 * @returns [N] in [0, 1].
 */
export function minMaxNormalise(values: Float64Array, minRange = 1e-8): Float64Array {
  const out = new Float64Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new MlInputError("non-finite", `minMaxNormalise: value ${v} at index ${i} is not finite`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  if (!(range >= minRange)) return out;
  for (let i = 0; i < values.length; i++) out[i] = (values[i]! - lo) / range;
  return out;
}

/**
 * utility_i = norm(MI)_i · w[pseudoLabel_i].
 * @param mutualInformation [N]; @param pseudoLabel [N]; @param classWeights [C]; @param minRange see {@link minMaxNormalise}.
 * @returns utility [N].
 */
export function caseUtility(
  mutualInformation: Float64Array, pseudoLabel: Int32Array, classWeights: Float64Array, minRange = 1e-8,
): Float64Array {
  if (pseudoLabel.length !== mutualInformation.length) {
    throw new MlInputError("dimension-mismatch", `caseUtility: ${mutualInformation.length} MI values but ${pseudoLabel.length} pseudo-labels`);
  }
  const out = minMaxNormalise(mutualInformation, minRange);
  for (let i = 0; i < out.length; i++) {
    const w = classWeights[pseudoLabel[i]!];
    if (w === undefined) throw new MlInputError("invalid-label", `caseUtility: pseudoLabel[${i}] = ${pseudoLabel[i]} has no class weight`);
    out[i] = out[i]! * w;
  }
  return out;
}
