"use client";

import { useQuery } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import Link from "next/link";
import { useTRPC } from "../../../../../_components/providers";
import "../../../../queue/[projectId]/workspace.css";
import "../cases.css";

// The annotation workspace's cornerstone viewer (it touches `window` when imported: browser only).
const ImageViewer = dynamic(() => import("../../../../queue/[projectId]/image-viewer").then((m) => m.ImageViewer), { ssr: false, loading: () => <div className="viewport" /> });

const formatReason = (value: number | string) => (typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toPrecision(3)) : value);
const when = (iso: string) => iso.replace("T", " ").slice(0, 16);

export function CaseView({ projectId, caseId }: { projectId: string; caseId: string }) {
  const trpc = useTRPC();
  // Opening a case is audited once per visit: no refetch on focus, no retry.
  const view = useQuery(trpc.cases.get.queryOptions({ projectId, caseId }, { refetchOnWindowFocus: false, retry: false, staleTime: Infinity }));
  if (view.isPending) return <p className="muted">Loading…</p>;
  if (view.error) {
    return (
      <div className="panel">
        <h1>Case not available</h1>
        <p className="error" role="alert">{view.error.message}</p>
        <p>
          <Link href={`/projects/${projectId}`}>Back to the project</Link>
        </p>
      </div>
    );
  }
  const { case: c, history, predictions, selection, view: kind, labels } = view.data;
  const colorOf = new Map(labels.map((l) => [l.key, l.color]));
  // The image evidence of the newest submitted annotation shown here, drawn read-only on the images.
  const latestRegions = history.filter((h) => h.kind === "SUBMITTED").at(-1)?.regions ?? [];
  return (
    <div className="case-view" data-testid="case-view">
      <p className="muted small" style={{ margin: "0 0 6px" }}>
        {kind === "browser" ? <Link href={`/projects/${projectId}/cases`}>← Cases</Link> : <Link href={`/queue/${projectId}`}>← Queue</Link>} · read-only
      </p>
      <h1>
        Case <span data-testid="case-external-id">{c.externalId}</span>{" "}
        {c.split && <span className={`badge cb-split-${c.split.toLowerCase()}`}>{c.split}</span>}
        {c.priorityRequestedAt && <span className="badge cb-priority" style={{ marginLeft: 6 }}>next round</span>}
      </h1>
      <div className="cb-detail-grid">
        <div style={{ minWidth: 0 }}>
          {c.images.length > 0 && <ImageViewer key={c.id} images={c.images} evidence={latestRegions.length > 0 ? { regions: latestRegions, labels, defaultLabel: null } : undefined} />}
          <section className="panel">
            <h2 style={{ marginTop: 0 }}>Narrative</h2>
            {c.narrative ? <div className="narrative" data-testid="case-narrative">{c.narrative}</div> : <p className="muted">This case has no narrative.</p>}
          </section>
          {c.metadata.length > 0 && (
            <section className="panel">
              <h2 style={{ marginTop: 0 }}>Metadata from the import</h2>
              <table>
                <tbody>
                  {c.metadata.map((m) => (
                    <tr key={m.key}>
                      <th>{m.key}</th>
                      <td>{m.value}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </div>
        <aside>
          <section className="panel">
            <dl>
              {c.importedLabel && (
                <>
                  <dt>Imported label</dt>
                  <dd>{labels.find((l) => l.key === c.importedLabel)?.name ?? c.importedLabel}</dd>
                </>
              )}
              <dt>Import</dt>
              <dd>{c.importBatch ? `${c.importBatch.source} (${when(c.importBatch.createdAt)})` : "—"}</dd>
              <dt>Added</dt>
              <dd>{when(c.createdAt)}</dd>
              <dt>Images</dt>
              <dd>{c.images.length}</dd>
              {c.burnedInReview.length > 0 && (
                <>
                  <dt>Review</dt>
                  <dd data-testid="case-burned-in-review">
                    <span className="badge">burned-in text possible</span> {c.burnedInReview.join(", ")}: check the pixels for names or numbers
                  </dd>
                </>
              )}
            </dl>
          </section>
          <section className="panel" data-testid="case-history">
            <h2 style={{ marginTop: 0 }}>Annotation history</h2>
            {history.length === 0 ? (
              <p className="muted">No annotation yet.</p>
            ) : (
              <ol className="history cb-history">
                {history.map((h) => (
                  <li key={h.id}>
                    <strong>{h.authorName}</strong>
                    {h.mine && " (you)"} · v{h.version} · {when(h.createdAt)}
                    <div>
                      {h.kind === "SKIPPED" ? (
                        <span className="muted">skipped{h.skipReason ? `: ${h.skipReason}` : ""}</span>
                      ) : (
                        h.labels.map((l) => (
                          <span key={l.key} className="badge" style={{ background: colorOf.get(l.key) ?? undefined, color: colorOf.has(l.key) ? "#fff" : undefined, marginRight: 4 }}>
                            {l.name}
                          </span>
                        ))
                      )}
                      {h.uncertain && <span className="badge inactive">uncertain</span>}
                    </div>
                    {h.comment && <div className="muted">“{h.comment}”</div>}
                    {h.spans.length > 0 && <div className="muted small">{h.spans.length} evidence span(s): {h.spans.map((s) => `“${s.text}”`).join(", ")}</div>}
                    {h.regions.length > 0 && (
                      <div className="muted small" data-testid="case-history-regions">
                        {h.regions.length} image region(s): {h.regions.map((r) => `${r.shape} on frame ${r.frame} (${labels.find((l) => l.key === r.label)?.name ?? r.label})`).join(", ")}
                      </div>
                    )}
                  </li>
                ))}
              </ol>
            )}
          </section>
          {kind === "browser" && (
            <section className="panel" data-testid="case-selection">
              <h2 style={{ marginTop: 0 }}>Selection</h2>
              {selection.length === 0 ? (
                <p className="muted">No round has selected this case.</p>
              ) : (
                selection.map((s) => (
                  <div key={s.round} style={{ marginBottom: 10 }}>
                    <strong>Round {s.round}</strong> · {s.coldStart ? "cold start" : s.strategy}
                    {s.modelVersion !== null && ` (model v${s.modelVersion})`} · rank {s.rank} · {s.status.toLowerCase()}
                    {s.reasons.length > 0 && (
                      <div className="small muted">
                        {s.reasons.map((r) => (
                          <span key={r.name} style={{ marginRight: 10 }}>
                            {r.name} = {formatReason(r.value)}
                          </span>
                        ))}
                      </div>
                    )}
                  </div>
                ))
              )}
            </section>
          )}
          {predictions.length > 0 && (
            <section className="panel" data-testid="case-predictions">
              <h2 style={{ marginTop: 0 }}>Predictions</h2>
              {predictions.map((p) => (
                <div key={p.modelVersion} style={{ marginBottom: 10 }}>
                  <strong>Model v{p.modelVersion}</strong> <span className="muted small">({p.modelStatus.toLowerCase()})</span>: {p.predictedName} ({(p.confidence * 100).toFixed(0)} %)
                  {p.probabilities
                    .slice()
                    .sort((a, b) => b.p - a.p)
                    .map((q) => (
                      <div key={q.label} className="small">
                        <span className="cb-bar" style={{ width: `${Math.max(2, q.p * 120)}px` }} />
                        {labels.find((l) => l.key === q.label)?.name ?? q.label} {(q.p * 100).toFixed(1)} %
                      </div>
                    ))}
                </div>
              ))}
            </section>
          )}
        </aside>
      </div>
    </div>
  );
}
