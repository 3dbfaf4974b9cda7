/**
 * Checks on the features a job is about to learn from, shared by the train job and the what-if:
 * a head fitted on features that cannot separate anything would still "succeed" with F1 0, which is
 * what the what-if once reported for an image project whose features were all zeros.
 */
import type { Matrix } from "../ml/types";

/**
 * Why the rows of `m` [cases, dim] cannot train a head, or null when they can: empty, a non-finite
 * value, every vector zero, every vector the same, or more than half of them zero.
 */
export function degenerateFeatures(m: Matrix): string | null {
  if (m.rows === 0 || m.cols === 0) return "the feature vectors are empty";
  let zeroRows = 0;
  let constant = true;
  for (let i = 0; i < m.rows; i++) {
    let zero = true;
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!;
      if (!Number.isFinite(v)) return `case ${i + 1} of ${m.rows} has a non-finite feature`;
      if (v !== 0) zero = false;
      if (constant && v !== m.data[j]) constant = false;
    }
    if (zero) zeroRows++;
  }
  if (zeroRows === m.rows) return `all ${m.rows} feature vectors are zero`;
  if (constant) return `all ${m.rows} cases have the same feature vector`;
  if (zeroRows * 2 > m.rows) return `${zeroRows} of ${m.rows} feature vectors are zero (for text encoders: cases without a narrative)`;
  return null;
}

