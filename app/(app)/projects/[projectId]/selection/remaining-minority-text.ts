/**
 * The words of the selection page's "when to stop" panel (remaining-minority.tsx), from a round's
 * stored estimate (contracts/remaining-minority.ts): the headline a data scientist reads, and what it
 * rests on. Pure, so the wording is unit-tested.
 */
import type { RemainingMinority } from "@/contracts/remaining-minority";

const percent = (v: number | null): string => (v === null ? "—" : `${Math.round(v * 100)}%`);

/**
 * Headline, e.g. "≈ 12 minority cases remain (90% interval 7–19); expected minority recall so far 71%
 * (recall interval 58–80%)", and the basis sentence. Counts are rounded to whole cases, the interval
 * outwards (floor of lo, ceil of hi).
 */
export function describeRemainingMinority(v: RemainingMinority, roundNumber: number): { headline: string; recall: string; basis: string } {
  const level = Math.round(v.level * 100);
  const n = Math.round(v.estimate);
  const headline = `≈ ${n} minority ${n === 1 ? "case remains" : "cases remain"} in the unlabelled pool of ${v.poolSize} (${level}% interval ${Math.floor(v.lo)}–${Math.ceil(v.hi)})`;
  const recall = v.expectedRecall === null
    ? `expected minority recall so far: — (no minority case found and none expected)`
    : `expected minority recall so far ${percent(v.expectedRecall)} (${v.found} found; ${v.recallLo === null ? "—" : Math.round(v.recallLo * 100)}–${percent(v.recallHi)} over the interval)`;
  const b = v.basis;
  let basis: string;
  if (!b) {
    basis = `Rests on the model's probabilities over round #${roundNumber}'s pool, summed; how they were calibrated was not recorded.`;
  } else if (b.method === "calibrated-bootstrap") {
    const heldOut = b.folds ? `held-out scores (${b.folds}-fold cross-validation)` : "in-sample scores (too few minority cases to hold any out, so the interval is optimistic)";
    basis = `Rests on model v${b.modelVersion}'s calibrated probabilities over round #${roundNumber}'s pool: ${b.members} bootstrap refits of the head, each Platt-scaled on ${heldOut} of the ${b.labelled ?? "?"} labelled cases it was trained on (${b.labelledMinority ?? "?"} minority). ` +
      "The interval adds the spread of those refits to the chance in which cases are minority. It assumes the labelled cases were picked by the strategy or by people, not because of their label, and it ages as new labels arrive.";
  } else {
    basis = `Rests on model v${b.modelVersion}'s ${b.members} MC-dropout passes as they are, not calibrated: the MLP head's probabilities can over- or under-count badly, so read this as a rough figure.`;
  }
  return { headline, recall, basis };
}
