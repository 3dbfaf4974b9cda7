"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../../_components/providers";

export interface SuspectedLabelErrorsView {
  rows: { caseId: string; externalId: string; given: string; suggested: string; pGiven: number | null; pSuggested: number | null; margin: number | null; inAdjudication: boolean }[] | null;
  flaggedCount: number;
  folds: number | null;
  skipped: string | null;
  canSendToAdjudication: boolean;
}

const f3 = (v: number | null) => (v === null ? "—" : v.toFixed(3));

function SendButton({ projectId, caseId, queued, modelVersionId }: { projectId: string; caseId: string; queued: boolean; modelVersionId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const send = useMutation(
    trpc.agreement.requestAdjudication.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.review.get.queryKey({ modelVersionId }) }),
    }),
  );
  if (queued || send.isSuccess) return <span className="muted">In the <Link href={`/projects/${projectId}/adjudication`}>adjudication queue</Link></span>;
  return (
    <>
      <button type="button" className="secondary" disabled={send.isPending} onClick={() => send.mutate({ projectId, caseId })}>
        Send to adjudication
      </button>
      {send.error && <span className="error" role="alert"> {send.error.message}</span>}
    </>
  );
}

/**
 * Cases whose given label the candidate contradicts with confidence out of fold (confident learning,
 * workers/ml/label-errors.ts), largest margin first, each with "Send to adjudication" (issue 14).
 */
export function SuspectedLabelErrors({ errors, projectId, modelVersionId, nameOf }: { errors: SuspectedLabelErrorsView; projectId: string; modelVersionId: string; nameOf: (key: string) => string }) {
  return (
    <section className="panel" data-testid="suspected-label-errors">
      <h2 style={{ marginTop: 0 }}>Suspected label errors</h2>
      {errors.rows === null ? (
        <p className="muted">{errors.skipped ? `Not computed for this model: ${errors.skipped}` : "This model was trained before suspected label errors were recorded."}</p>
      ) : errors.rows.length === 0 ? (
        <p className="muted">None: out of fold, the model contradicts no training label with confidence.</p>
      ) : (
        <>
          <p className="muted">
            {errors.flaggedCount} training case{errors.flaggedCount === 1 ? "" : "s"} whose label the model contradicts out of fold ({errors.folds ?? "?"} folds): the suggested class reaches its
            per-class threshold (its mean probability on cases labelled with it) and is the likeliest class that does — the given class does not, or is less likely. A negative margin: the given class is likelier, but below its own threshold. Largest margin first{errors.rows.length < errors.flaggedCount ? `; the top ${errors.rows.length} shown` : ""}.
          </p>
          <div style={{ overflowX: "auto" }}>
            <table>
              <thead>
                <tr><th>Case</th><th>Given label</th><th>Model suggests</th><th>p(given)</th><th>p(suggested)</th><th>Margin</th><th /></tr>
              </thead>
              <tbody>
                {errors.rows.map((r) => (
                  <tr key={r.caseId}>
                    <td><Link href={`/projects/${projectId}/cases/${r.caseId}`}>{r.externalId}</Link></td>
                    <td>{nameOf(r.given)}</td>
                    <td>{nameOf(r.suggested)}</td>
                    <td>{f3(r.pGiven)}</td>
                    <td>{f3(r.pSuggested)}</td>
                    <td>{f3(r.margin)}</td>
                    <td>{errors.canSendToAdjudication ? <SendButton projectId={projectId} caseId={r.caseId} queued={r.inAdjudication} modelVersionId={modelVersionId} /> : r.inAdjudication ? <span className="muted">In adjudication</span> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
