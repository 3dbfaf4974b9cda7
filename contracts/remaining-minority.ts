/**
 * The "when to stop" block of SelectionRound.stats (`remainingMinority`), written by the select job
 * (workers/jobs/stopping-estimate.ts) and read by the selection page: how many minority cases the
 * model expects in the unlabelled pool, its interval, and the expected minority recall so far.
 * NaN recall (nothing found, nothing left) is stored as null (JSON has no NaN).
 */
import { z } from "zod";

const count = z.number().finite().min(0);
const share = z.number().finite().min(0).max(1).nullable();

export const ZRemainingMinorityBasis = z.object({
  /**
   * "calibrated-bootstrap": K bootstrap refits of the approved logistic head, each Platt-scaled on
   * held-out scores of its labelled set (workers/ml/calibration-logistic.ts). "mc-dropout": the MLP
   * head's MC-dropout passes as they are — not calibrated, so the count can be far off.
   */
  method: z.enum(["calibrated-bootstrap", "mc-dropout"]),
  /** Bootstrap members or MC passes K. */
  members: z.number().int().min(1),
  /** Folds of the held-out scores (0: in-sample scores stood in, too few minority cases to hold out). */
  folds: z.number().int().min(0).nullable(),
  /** Cases and minority cases the model was trained (and calibrated) on. */
  labelled: z.number().int().min(0).nullable(),
  labelledMinority: z.number().int().min(0).nullable(),
  modelVersion: z.number().int().min(1),
});

export const ZRemainingMinority = z.object({
  /** Unlabelled pool cases the estimate is over. */
  poolSize: z.number().int().min(0),
  /** Minority cases already labelled (outside TEST). */
  found: z.number().int().min(0),
  estimate: count,
  lo: count,
  hi: count,
  /** Two-sided level of [lo, hi], e.g. 0.9. */
  level: z.number().gt(0).lt(1),
  expectedRecall: share,
  recallLo: share,
  recallHi: share,
  basis: ZRemainingMinorityBasis.optional(),
});
export type RemainingMinority = z.infer<typeof ZRemainingMinority>;

/** The stored block, or null when it is absent or not in this shape (rounds written before it existed). */
export function parseRemainingMinority(value: unknown): RemainingMinority | null {
  const parsed = ZRemainingMinority.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * Where a round's stopping estimate stands (SelectionRound.stats.remainingMinorityStatus): a round is
 * published as soon as its selection is known, so its queue does not wait for the estimate —
 * "estimating" until the select job patches the estimate in ("ready"), or "unavailable" when it could
 * not be computed (the job says why in its own result; the next round carries a new one). Rounds
 * written before this field have none (null: the estimate, if any, came with the round).
 */
export const ZRemainingMinorityStatus = z.enum(["estimating", "ready", "unavailable"]);
export type RemainingMinorityStatus = z.infer<typeof ZRemainingMinorityStatus>;

/** The stored status, or null when absent or not one of the above. */
export function parseRemainingMinorityStatus(value: unknown): RemainingMinorityStatus | null {
  const parsed = ZRemainingMinorityStatus.safeParse(value);
  return parsed.success ? parsed.data : null;
}
