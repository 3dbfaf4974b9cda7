"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useTRPC } from "../../../../_components/providers";
import { restClassOf } from "./label-offer-defaults";

export interface UnknownLabel {
  value: string;
  rows: number;
}

/** The answer to the offer: value → existing class key, and the values to add to the schema as new classes. */
export interface UnknownLabelsAnswer {
  labelMap: Record<string, string>;
  addLabels: string[];
}

const ADD = "__add__";
const rowsText = (n: number) => `${n} row${n === 1 ? "" : "s"}`;

/**
 * The import's labels that are not in the schema, once per value with its row count, and the offer:
 * map each to an existing class (by default the schema's rest class, when it has one:
 * `restClassOf`) or add it to the label schema as a new class; then import the same files again
 * with that answer (contracts/imports.ts ZColumnMapping.labelMap / addLabels). Nothing is written
 * here: the classes to add travel with the import and are added in its transaction, so a batch
 * that is not imported (a row error, "Don't import this batch") leaves the schema as it was.
 */
export function UnknownLabelsOffer({ projectId, unknown, busy, onRetry }: { projectId: string; unknown: UnknownLabel[]; busy: boolean; onRetry: (answer: UnknownLabelsAnswer) => void }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const mayAdd = project.data?.permissions.includes("project.configure") ?? false;
  const classes = useMemo(() => project.data?.config.labelSchema.labels ?? [], [project.data]);
  const rest = useMemo(() => (project.data ? restClassOf(project.data.config.labelSchema.labels, project.data.config.minorityClasses) : null), [project.data]);
  const [choice, setChoice] = useState<Record<string, string>>({});
  const [mapAll, setMapAll] = useState("");
  const [error, setError] = useState<string | null>(null);
  const chosen = (value: string) => choice[value] ?? rest?.key ?? (mayAdd ? ADD : "");
  const rows = unknown.reduce((n, u) => n + u.rows, 0);
  const toAdd = unknown.filter((u) => chosen(u.value) === ADD);
  const nameOf = (key: string) => classes.find((c) => c.key === key)?.name ?? key;
  const mappedTo = new Map<string, number>();
  for (const u of unknown) if (chosen(u.value) && chosen(u.value) !== ADD) mappedTo.set(chosen(u.value), (mappedTo.get(chosen(u.value)) ?? 0) + u.rows);

  function apply() {
    setError(null);
    const missing = unknown.filter((u) => !chosen(u.value));
    if (missing.length) {
      setError(`Choose what to do with ${missing.map((u) => `"${u.value}"`).slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}.`);
      return;
    }
    const labelMap: Record<string, string> = {};
    for (const u of unknown) if (chosen(u.value) !== ADD) labelMap[u.value] = chosen(u.value);
    onRetry({ labelMap, addLabels: toAdd.map((u) => u.value) });
  }

  return (
    <section className="panel" data-testid="unknown-labels">
      <h2 style={{ marginTop: 0 }}>
        {unknown.length} label{unknown.length === 1 ? "" : "s"} not in the schema ({rowsText(rows)})
      </h2>
      <p className="muted">
        Map each to an existing class{rest ? ` (proposed: ${rest.name}, the class that is not a minority class)` : ""}
        {mayAdd ? ", or add it to the project's label schema as a new class" : ""}, then import the same files again. Nothing was imported
        and nothing is changed until the batch imports: new classes are added together with it.
      </p>
      <p className="form-row">
        <label>
          Set every value to
          <select value={mapAll} onChange={(e) => { setMapAll(e.target.value); if (e.target.value) setChoice(Object.fromEntries(unknown.map((u) => [u.value, e.target.value]))); }} disabled={busy}>
            <option value="">—</option>
            {classes.map((c) => <option key={c.key} value={c.key}>Map to {c.name} ({c.key})</option>)}
            {mayAdd && <option value={ADD}>Add each as a new class</option>}
          </select>
        </label>
      </p>
      <table>
        <thead>
          <tr><th>Label in the file</th><th>Rows</th><th>Do</th></tr>
        </thead>
        <tbody>
          {unknown.map((u) => (
            <tr key={u.value} data-testid="unknown-label">
              <td>{u.value}</td>
              <td data-testid="unknown-label-rows">{u.rows}</td>
              <td>
                <select aria-label={`What to do with ${u.value}`} value={chosen(u.value)} onChange={(e) => setChoice({ ...choice, [u.value]: e.target.value })} disabled={busy}>
                  {!rest && !mayAdd && <option value="">Choose a class…</option>}
                  {classes.map((c) => <option key={c.key} value={c.key}>Map to {c.name} ({c.key})</option>)}
                  {mayAdd && <option value={ADD}>Add to the schema as a new class</option>}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted" data-testid="unknown-labels-summary">
        {[...mappedTo].map(([key, n]) => `${rowsText(n)} → ${nameOf(key)}`).join("; ")}
        {mappedTo.size > 0 && toAdd.length > 0 ? "; " : ""}
        {toAdd.length > 0 ? `${toAdd.length} new class${toAdd.length === 1 ? "" : "es"} (${rowsText(toAdd.reduce((n, u) => n + u.rows, 0))})` : ""}
      </p>
      <p className="form-row" style={{ marginBottom: 0 }}>
        <button type="button" onClick={apply} disabled={busy}>{busy ? "Importing…" : "Apply and import again"}</button>
        {error && <span className="error" role="alert">{error}</span>}
      </p>
    </section>
  );
}
