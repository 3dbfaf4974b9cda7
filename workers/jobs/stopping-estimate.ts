/**
 * The select job's "when to stop" estimate (stored as SelectionRound.stats.remainingMinority,
 * contracts/remaining-minority.ts): minority cases left in the round's pool with a 90 % interval, and
 * the expected minority recall so far.
 *
 * A logistic-head model, refitted on its training snapshot (`approvedLogisticModel`: the same fit
 * its bootstrap uncertainty used, passed in) and, on an ML thread, gives K calibrated bootstrap members
 * (workers/ml/calibration-logistic.ts: Platt scaling on held-out scores per member), whose mixture
 * forms the interval (workers/ml/stopping.ts). Its coverage of the truth is measured by
 * `npm run simulate` (docs/simulation.md, "When to stop"). Every labelled case counts for the
 * calibration: in the platform cases are chosen by the strategy or a person, never by their hidden
 * label. An MLP-head model has no calibration here: its MC-dropout passes are used as they are, and
 * the stored basis says so.
 */
import { ZRemainingMinority, type RemainingMinority } from "@/contracts/remaining-minority";
import type { LogisticModel } from "@/workers/ml/heads/logistic";
import { estimateRemainingFromMc, type RemainingMinorityEstimate } from "@/workers/ml/stopping";
import type { Matrix, McLogProbs } from "@/workers/ml/types";
import { runInMlThread } from "../threads/ml-pool";
import type { ProjectClasses } from "./loop-data";

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The estimate over the pool rows `poolX` for model version `model`, or null when the project has no
 * minority class. @param fitted the model refitted on its training snapshot (`approvedLogisticModel`;
 * null for an MLP head) @param mc the round's uncertainty passes over the same rows (used for an MLP head)
 * @param found minority cases labelled so far (outside TEST) @param members K (≥ 2) @param seed of the folds and resamples.
 */
export async function roundStoppingEstimate(
  fitted: LogisticModel | null, model: { id: string; version: number }, classes: ProjectClasses, poolX: Matrix, mc: McLogProbs, found: number, members: number, seed: number,
): Promise<RemainingMinority | null> {
  if (classes.minority.length === 0) return null;
  if (fitted) {
    const e = await runInMlThread("remainingMinority", { model: fitted, x: poolX, minority: classes.minority, found, members, seed });
    const minority = new Set(classes.minority);
    const labelledMinority = fitted.trainY.reduce((s, v) => s + (minority.has(v) ? 1 : 0), 0);
    return stored(e, { method: "calibrated-bootstrap", members: e.calibration.members, folds: e.calibration.folds, labelled: fitted.trainY.length, labelledMinority, modelVersion: model.version });
  }
  const e = estimateRemainingFromMc(mc, classes.minority, found);
  return stored(e, { method: "mc-dropout", members: mc.k, folds: null, labelled: null, labelledMinority: null, modelVersion: model.version });
}

/** The stored block (validated against the reader's schema, so the writer cannot drift from it). */
function stored(e: RemainingMinorityEstimate, basis: NonNullable<RemainingMinority["basis"]>): RemainingMinority {
  const block = ZRemainingMinority.parse({
    poolSize: e.poolSize,
    found: e.found,
    estimate: e.estimate,
    lo: e.lo,
    hi: e.hi,
    level: e.level,
    expectedRecall: orNull(e.expectedRecall),
    recallLo: orNull(e.recallLo),
    recallHi: orNull(e.recallHi),
    basis,
  });
  return block;
}
