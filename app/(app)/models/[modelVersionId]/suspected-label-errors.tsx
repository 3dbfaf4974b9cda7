"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useId, useState } from "react";
import { useTRPC } from "../../../_components/providers";
import { LABEL_ERROR_SORTS, LABEL_ERRORS_PAGE_SIZE, sortLabelErrors, type LabelErrorRow, type LabelErrorSort } from "./label-error-order";

export interface SuspectedLabelErrorsView {
  rows: LabelErrorRow[] | null;
  flaggedCount: number;
  folds: number | null;
  skipped: string | null;
  canSendToAdjudication: boolean;
}

type Row = LabelErrorRow;

const f3 = (v: number | null) => (v === null ? "—" : v.toFixed(3));
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function SendButton({ projectId, row, modelVersionId }: { projectId: string; row: Row; modelVersionId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const send = useMutation(
    trpc.agreement.requestAdjudication.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.review.get.queryKey({ modelVersionId }) }),
    }),
  );
  if (row.inAdjudication || send.isSuccess) {
    return (
      <span className="muted" role={send.isSuccess ? "status" : undefined}>
        In the <Link href={`/projects/${projectId}/adjudication`}>adjudication queue</Link>
      </span>
    );
  }
  return (
    <>
      {/* The accessible name starts with the visible text and names the case (one button per row). */}
      <button type="button" className="secondary" aria-label={`Send to adjudication: case ${row.externalId}`} disabled={send.isPending} onClick={() => send.mutate({ projectId, caseId: row.caseId })}>
        Send to adjudication
      </button>
      {send.error && <span className="error" role="alert"> {send.error.message}</span>}
    </>
  );
}

/**
 * Cases whose given label the candidate contradicts with confidence out of fold (confident learning,
 * workers/ml/label-errors.ts), each with "Send to adjudication" (issue 14). Paged: the first
 * LABEL_ERRORS_PAGE_SIZE rows, then more on request, with the count of all of them; ordered by margin
 * (the stored order) unless the reviewer picks p(suggested) or p(given); cases already in the
 * adjudication queue may be hidden.
 */
export function SuspectedLabelErrors({ errors, projectId, modelVersionId, nameOf }: { errors: SuspectedLabelErrorsView; projectId: string; modelVersionId: string; nameOf: (key: string) => string }) {
  const [sort, setSort] = useState<LabelErrorSort>("margin");
  const [hideQueued, setHideQueued] = useState(false);
  const [shown, setShown] = useState(LABEL_ERRORS_PAGE_SIZE);
  const tableId = useId();
  const rows = errors.rows;
  const queued = rows?.filter((r) => r.inAdjudication).length ?? 0;
  const hiding = hideQueued && queued > 0;
  const list = rows ? sortLabelErrors(hiding ? rows.filter((r) => !r.inAdjudication) : rows, sort) : [];
  const visible = list.slice(0, shown);
  const more = Math.min(LABEL_ERRORS_PAGE_SIZE, list.length - visible.length);

  return (
    <section className="panel" data-testid="suspected-label-errors" id="suspected-label-errors" aria-labelledby={`${tableId}-title`}>
      <h2 style={{ marginTop: 0 }} id={`${tableId}-title`}>
        Suspected label errors{rows && rows.length > 0 ? ` (${errors.flaggedCount})` : ""}
      </h2>
      {rows === null ? (
        <p className="muted">{errors.skipped ? `Not computed for this model: ${errors.skipped}` : "This model was trained before suspected label errors were recorded."}</p>
      ) : rows.length === 0 ? (
        <p className="muted">None: out of fold, the model contradicts no training label with confidence.</p>
      ) : (
        <>
          <p className="muted">
            Training cases whose label the model contradicts out of fold ({errors.folds ?? "?"} folds): the suggested class reaches its per-class threshold (its mean
            probability on cases labelled with it) and is the likeliest class that does — the given class does not, or is less likely. Margin = p(suggested) − p(given);
            a negative margin: the given class is likelier, but below its own threshold.
            {rows.length < errors.flaggedCount ? ` The ${rows.length} with the largest margin were recorded of ${errors.flaggedCount} flagged.` : ""}
          </p>
          <div className="list-controls">
            <label>
              Sort by
              <select value={sort} onChange={(e) => setSort(e.target.value as LabelErrorSort)}>
                {Object.entries(LABEL_ERROR_SORTS).map(([key, s]) => (
                  <option key={key} value={key}>{s.label}</option>
                ))}
              </select>
            </label>
            {queued > 0 && (
              <label>
                <input type="checkbox" checked={hideQueued} onChange={(e) => setHideQueued(e.target.checked)} />
                Hide the {plural(queued, "case", "cases")} already in the adjudication queue
              </label>
            )}
          </div>
          <p data-testid="label-errors-count" aria-live="polite">
            <strong>{plural(errors.flaggedCount, "suspected label error", "suspected label errors")}</strong>
            {queued > 0 ? `, ${queued} already in the adjudication queue` : ""} — showing {visible.length} of {list.length}
            {hiding ? " not yet in the queue" : rows.length < errors.flaggedCount ? " recorded" : ""}.
          </p>
          <div style={{ overflowX: "auto" }}>
            <table id={tableId} data-testid="label-errors-table">
              <thead>
                <tr><th scope="col">Case</th><th scope="col">Given label</th><th scope="col">Model suggests</th><th scope="col">p(given)</th><th scope="col">p(suggested)</th><th scope="col">Margin</th><th scope="col">Adjudication</th></tr>
              </thead>
              <tbody>
                {visible.map((r) => (
                  <tr key={r.caseId} data-testid="label-error-row" data-case={r.externalId}>
                    <th scope="row"><Link href={`/projects/${projectId}/cases/${r.caseId}`} aria-label={`Case ${r.externalId}`}>{r.externalId}</Link></th>
                    <td>{nameOf(r.given)}</td>
                    <td>{nameOf(r.suggested)}</td>
                    <td>{f3(r.pGiven)}</td>
                    <td>{f3(r.pSuggested)}</td>
                    <td>{f3(r.margin)}</td>
                    <td>{errors.canSendToAdjudication ? <SendButton projectId={projectId} row={r} modelVersionId={modelVersionId} /> : r.inAdjudication ? <span className="muted">In adjudication</span> : <span className="muted">Not sent</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.length > LABEL_ERRORS_PAGE_SIZE && (
            <div className="list-more">
              {more > 0 && (
                <>
                  <button type="button" className="secondary" aria-controls={tableId} onClick={() => setShown(shown + more)}>Show {more} more</button>
                  <button type="button" className="secondary" aria-controls={tableId} onClick={() => setShown(list.length)}>Show all {list.length}</button>
                </>
              )}
              {visible.length > LABEL_ERRORS_PAGE_SIZE && (
                <button type="button" className="secondary" aria-controls={tableId} onClick={() => setShown(LABEL_ERRORS_PAGE_SIZE)}>Show the first {LABEL_ERRORS_PAGE_SIZE} only</button>
              )}
            </div>
          )}
        </>
      )}
    </section>
  );
}
