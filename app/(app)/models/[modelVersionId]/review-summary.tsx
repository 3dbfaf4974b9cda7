"use client";

import type { inferRouterOutputs } from "@trpc/server";
import type { AgreementEstimate } from "@/contracts/agreement";
import type { AppRouter } from "@/server/api/root";

type ReviewData = inferRouterOutputs<AppRouter>["review"]["get"];

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(3));
const cases = (n: number) => `${n} TEST ${n === 1 ? "case" : "cases"}`;
const vsActive = (active: number | null | undefined, hasActive: boolean) => (hasActive ? ` (active ${f3(active)})` : "");
const estimate = (e: AgreementEstimate) => (e.value === null ? "—" : `${f3(e.value)} [${f3(e.low)}, ${f3(e.high)}]`);

/**
 * "Before you decide": one line per thing the reviewer should weigh, beside the decision at the top of
 * the review page, each with the cases it rests on and a link to its detail further down (minority
 * classes, all classes, training labels, their agreement, suspected label errors). Shows only what
 * the review already carries; nothing here is computed anew.
 */
export function ReviewSummary({ data }: { data: ReviewData }) {
  const { candidate, active, changes, guard, labelQuality, labelErrors } = data;
  const cm = candidate.metrics;
  const am = active?.metrics ?? null;
  const hasActive = am !== null;
  const minority = cm?.classes.filter((c) => c.minority) ?? [];
  const queued = labelErrors.rows?.filter((r) => r.inAdjudication).length ?? 0;

  return (
    <section className="panel" data-testid="review-summary" aria-labelledby="review-summary-title">
      {/* Once decided (or superseded) there is nothing to decide: the same lines, as what the model rests on. */}
      <h2 id="review-summary-title">{data.decision.open ? "Before you decide" : "What this model rests on"}</h2>
      <ul>
        {!cm && <li className="error">This model has no recorded test metrics: nothing on the TEST split to judge it by.</li>}
        {minority.map((c) => {
          const a = am?.classes.find((x) => x.key === c.key);
          const support = Math.round(c.support);
          return (
            <li key={c.key} data-testid={`summary-minority-${c.key}`}>
              <strong>{c.name}</strong> (minority): recall {f3(c.recall)}{vsActive(a?.recall, hasActive)}, AUPRC {f3(c.auprc)}{vsActive(a?.auprc, hasActive)} on {cases(support)}
              {support < guard.minSupport && <span className="too-few"> too few cases to judge</span>}. <a href="#per-class">Per class</a>
            </li>
          );
        })}
        {cm && minority.length === 0 && <li>No minority class among the evaluated classes.</li>}
        {cm && (
          <li>
            All classes: macro F1 {f3(cm.macroF1)}{vsActive(am?.macroF1, hasActive)}, ECE {f3(cm.ece)}{vsActive(am?.ece, hasActive)} (lower is better) on {cases(Math.round(cm.n))}.{" "}
            <a href="#metric-changes">All metrics</a>
          </li>
        )}
        <li>
          Trained on {candidate.labelCount ?? "an unrecorded number of"} labels
          {changes.labelDelta !== null && active ? ` (${changes.labelDelta >= 0 ? "+" : "−"}${Math.abs(changes.labelDelta)} since active v${active.version})` : ""}; new rounds:{" "}
          {changes.newRounds.length ? changes.newRounds.map((r) => `#${r}`).join(", ") : "none"}.
        </li>
        <li>
          Training labels: Krippendorff&apos;s α {estimate(labelQuality.krippendorffAlpha)} over the {labelQuality.krippendorffAlpha.cases} training cases with two or more annotators (of {labelQuality.trainingCases})
          {labelQuality.sources ? `; ${labelQuality.sources.adjudicated} adjudicated, ${labelQuality.sources.consensus} by majority, ${labelQuality.sources.imported} imported` : ""}.{" "}
          <a href="#training-label-quality">Label quality</a>
        </li>
        <li data-testid="summary-label-errors">
          {labelErrors.rows === null ? (
            <>Suspected label errors: not computed for this model{labelErrors.skipped ? ` (${labelErrors.skipped})` : ""}.</>
          ) : labelErrors.rows.length === 0 ? (
            <>Suspected label errors: none — out of fold, the model contradicts no training label with confidence.</>
          ) : (
            <>
              <strong>{labelErrors.flaggedCount}</strong> suspected label {labelErrors.flaggedCount === 1 ? "error" : "errors"} among the training cases (out of fold)
              {queued > 0 ? `, ${queued} already in the adjudication queue` : ""}. <a href="#suspected-label-errors">Review them</a>
            </>
          )}
        </li>
      </ul>
    </section>
  );
}
