"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { labelKeyFrom } from "@/contracts/project-admin";
import { DEFAULT_LABEL_COLORS } from "@/contracts/project-config";
import { useTRPC } from "../../../../_components/providers";

export interface UnknownLabel {
  value: string;
  rows: number;
}

const ADD = "__add__";

/**
 * The import's labels that are not in the schema, once per value with its row count, and the offer:
 * add each to the label schema or map it to an existing class, then import the same files again
 * with that label map (contracts/imports.ts ZColumnMapping.labelMap).
 */
export function UnknownLabelsOffer({ projectId, unknown, onRetry }: { projectId: string; unknown: UnknownLabel[]; onRetry: (labelMap: Record<string, string>) => Promise<void> }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const saveLabels = useMutation(trpc.projectAdmin.updateLabels.mutationOptions());
  const mayAdd = project.data?.permissions.includes("project.configure") ?? false;
  const classes = useMemo(() => project.data?.config.labelSchema.labels ?? [], [project.data]);
  const [choice, setChoice] = useState<Record<string, string>>({});
  const [mapAll, setMapAll] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = (value: string) => choice[value] ?? (mayAdd ? ADD : "");
  const rows = unknown.reduce((n, u) => n + u.rows, 0);

  async function apply() {
    setError(null);
    const missing = unknown.filter((u) => !chosen(u.value));
    if (missing.length) {
      setError(`Choose what to do with ${missing.map((u) => `"${u.value}"`).slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}.`);
      return;
    }
    setBusy(true);
    try {
      const labelMap: Record<string, string> = {};
      const toAdd = unknown.filter((u) => chosen(u.value) === ADD);
      if (toAdd.length && project.data) {
        const config = project.data.config;
        const keys = new Set(config.labelSchema.labels.map((l) => l.key));
        const added = toAdd.map((u, i) => {
          let key = labelKeyFrom(u.value);
          for (let n = 2; keys.has(key); n++) key = `${labelKeyFrom(u.value).slice(0, 60)}_${n}`;
          keys.add(key);
          labelMap[u.value] = key;
          return { key, name: u.value.slice(0, 100), color: DEFAULT_LABEL_COLORS[(config.labelSchema.labels.length + i) % DEFAULT_LABEL_COLORS.length]! };
        });
        await saveLabels.mutateAsync({
          projectId,
          labelSchema: { labels: [...config.labelSchema.labels, ...added], multiLabel: config.labelSchema.multiLabel },
          minorityClasses: config.minorityClasses,
        });
        await queryClient.invalidateQueries({ queryKey: trpc.projectAdmin.get.queryKey({ projectId }) });
      }
      for (const u of unknown) if (chosen(u.value) !== ADD) labelMap[u.value] = chosen(u.value);
      await onRetry(labelMap);
    } catch (err) {
      setError(err instanceof Error ? err.message : "Something went wrong.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" data-testid="unknown-labels">
      <h2 style={{ marginTop: 0 }}>
        {unknown.length} label{unknown.length === 1 ? "" : "s"} not in the schema ({rows} row{rows === 1 ? "" : "s"})
      </h2>
      <p className="muted">
        {mayAdd ? "Add each to the project's label schema, or map it to an existing class" : "Map each to an existing class"}, then import the same files
        again. Nothing was imported yet.
      </p>
      <p className="form-row">
        <label>
          Set every value to
          <select value={mapAll} onChange={(e) => { setMapAll(e.target.value); if (e.target.value) setChoice(Object.fromEntries(unknown.map((u) => [u.value, e.target.value]))); }} disabled={busy}>
            <option value="">—</option>
            {mayAdd && <option value={ADD}>Add as new classes</option>}
            {classes.map((c) => <option key={c.key} value={c.key}>Map to {c.name} ({c.key})</option>)}
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
              <td>{u.rows}</td>
              <td>
                <select aria-label={`What to do with ${u.value}`} value={chosen(u.value)} onChange={(e) => setChoice({ ...choice, [u.value]: e.target.value })} disabled={busy}>
                  {!mayAdd && <option value="">Choose a class…</option>}
                  {mayAdd && <option value={ADD}>Add to the schema as a new class</option>}
                  {classes.map((c) => <option key={c.key} value={c.key}>Map to {c.name} ({c.key})</option>)}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="form-row" style={{ marginBottom: 0 }}>
        <button type="button" onClick={apply} disabled={busy}>{busy ? "Importing…" : "Apply and import again"}</button>
        {error && <span className="error" role="alert">{error}</span>}
      </p>
    </section>
  );
}
