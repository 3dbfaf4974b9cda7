"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import "../../_components/charts.css";
import { useTRPC } from "../../_components/providers";

const pct = (v: number | null) => (v === null ? "—" : v.toFixed(3));

/** The TEST cases a minority metric rests on (the fewest of any minority class), and "too few cases to judge" under the project's threshold. */
function Support({ n, min }: { n: number | null; min: number | null }) {
  if (n === null) return null;
  return (
    <span className="muted small" style={{ display: "block" }}>
      {n} TEST {n === 1 ? "case" : "cases"}{min !== null && n < min && <span className="too-few"> · too few cases to judge</span>}
    </span>
  );
}

/** Model versions of the caller's projects where their role may list models (review.list decides per project). */
export function ModelsList() {
  const trpc = useTRPC();
  const models = useQuery(trpc.review.list.queryOptions());
  // Opening a review is for the roles the project grants "models.review" (the server says per row).
  return (
    <>
      <h1>Models</h1>
      {models.isPending && <p className="muted">Loading…</p>}
      {models.error && <p className="error">{models.error.message}</p>}
      {models.data?.length === 0 && <p className="muted">No model has been trained yet in your projects. Selection runs in cold-start mode until a model is approved.</p>}
      {models.data && models.data.length > 0 && (
        <table className="panel" data-testid="models-table">
          <thead>
            <tr><th>Project</th><th>Version</th><th>Status</th><th>Labels</th><th>Macro F1</th><th>Minority recall</th><th>Minority AUPRC</th><th>Created</th><th></th></tr>
          </thead>
          <tbody>
            {models.data.map((m) => (
              <tr key={m.id} data-testid={`model-row-v${m.version}`}>
                <td>{m.projectName}</td>
                <td>v{m.version}</td>
                <td><span className={`badge ${m.status}`}>{m.status}</span></td>
                <td>{m.labelCount ?? "—"}</td>
                <td>{pct(m.macroF1)}</td>
                <td data-testid="minority-recall">{pct(m.minorityRecall)}<Support n={m.minoritySupport} min={m.minTestSupport} /></td>
                <td>{pct(m.minorityAuprc)}<Support n={m.minoritySupport} min={m.minTestSupport} /></td>
                <td>{new Date(m.createdAt).toLocaleString()}</td>
                <td>{m.canOpen && <Link href={`/models/${m.id}`}>{m.status === "CANDIDATE" ? "Review" : "Open"}</Link>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
