import type { RemainingMinority } from "@/contracts/remaining-minority";
import { describeRemainingMinority } from "./remaining-minority-text";

/**
 * The selection page's "when to stop" panel (issue 17, goal 3): the latest round's estimate of the
 * minority cases left in the unlabelled pool, its interval, the expected minority recall so far, and
 * what the figures rest on. Renders a short note while no round carries an estimate. A round is
 * published before its estimate is computed: while the newest round's is (`estimatingRound`), the
 * panel says so above the previous estimate, which it labels as older.
 */
export function RemainingMinorityPanel({ round, estimatingRound = null }: { round: { number: number; remainingMinority: RemainingMinority | null } | null | undefined; estimatingRound?: number | null }) {
  const estimating = estimatingRound !== null
    ? <p data-testid="remaining-minority-estimating">When to stop (round #{estimatingRound}): estimating… — the round&apos;s queue is open; its estimate of the minority cases left follows in a moment.</p>
    : null;
  if (!round?.remainingMinority) {
    return estimating
      ? <section className="panel" data-testid="remaining-minority">{estimating}</section>
      : <p className="muted" data-testid="remaining-minority">When to stop: no estimate yet — it comes with the first round selected by an approved model.</p>;
  }
  const text = describeRemainingMinority(round.remainingMinority, round.number);
  return (
    <section className="panel" data-testid="remaining-minority">
      {estimating}
      <strong>When to stop (round #{round.number}{estimating ? ", the previous estimate" : ""})</strong>
      <p data-testid="remaining-minority-headline">{text.headline}; {text.recall}.</p>
      <p className="muted small" data-testid="remaining-minority-basis">{text.basis}</p>
    </section>
  );
}
