"use client";

import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../../_components/providers";
import { auditDetailsSummary } from "./audit-summary";
import "./audit.css";

interface Filters {
  action: string;
  actor: string;
  targetType: string;
  targetId: string;
  from: string;
  to: string;
}
const NO_FILTERS: Filters = { action: "", actor: "", targetType: "", targetId: "", from: "", to: "" };

/** The filters as the procedure takes them: empty fields left out. */
function asInput(f: Filters) {
  return {
    action: f.action.trim() || undefined,
    actor: f.actor.trim() || undefined,
    targetType: f.targetType.trim() || undefined,
    targetId: f.targetId.trim() || undefined,
    from: f.from || undefined,
    to: f.to || undefined,
  };
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function AuditLog() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [exporting, setExporting] = useState<string | null>(null);
  const input = asInput(filters);
  const events = useInfiniteQuery(trpc.audit.list.infiniteQueryOptions({ limit: 50, ...input }, { getNextPageParam: (page) => page.nextCursor ?? undefined }));
  const rows = events.data?.pages.flatMap((page) => page.events) ?? [];
  const set = (field: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement>) => setDraft((d) => ({ ...d, [field]: e.target.value }));

  /** Every event matching the filters (pages of 200, at most 20 000 rows), as CSV. */
  async function exportCsv() {
    setExporting("Exporting…");
    try {
      const all: (typeof rows)[number][] = [];
      let cursor: string | undefined;
      do {
        const page = await queryClient.fetchQuery(trpc.audit.list.queryOptions({ limit: 200, cursor, ...input }));
        all.push(...page.events);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && all.length < 20_000);
      const header = ["id", "at", "actor", "actorId", "actorRole", "action", "targetType", "targetId", "target", "project", "details"];
      const lines = [header.join(","), ...all.map((e) => [e.id, e.at, e.actorLabel, e.actorId, e.actorRole, e.action, e.targetType, e.targetId, e.targetLabel, e.projectName, e.details].map(csvCell).join(","))];
      const url = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `audit-log-${new Date().toISOString().slice(0, 10)}.csv`;
      a.click();
      URL.revokeObjectURL(url);
      setExporting(`${all.length} events exported${cursor ? " (the first 20 000; narrow the filters for the rest)" : ""}.`);
    } catch (error) {
      setExporting(error instanceof Error ? error.message : "The export failed.");
    }
  }

  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">Append-only: the database refuses any change or deletion of these events.</p>
      <form
        className="panel audit-filters"
        data-testid="audit-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setExporting(null);
          setFilters(draft);
        }}
      >
        <label>
          Actor (name, e-mail or &quot;system&quot;)
          <input value={draft.actor} onChange={set("actor")} placeholder="e.g. reviewer@ or system" />
        </label>
        <label>
          Action starts with
          <input value={draft.action} onChange={set("action")} placeholder="e.g. model." />
        </label>
        <label>
          Target type
          <input value={draft.targetType} onChange={set("targetType")} placeholder="e.g. ModelVersion" />
        </label>
        <label>
          Target id
          <input value={draft.targetId} onChange={set("targetId")} />
        </label>
        <label>
          From
          <input type="date" value={draft.from} onChange={set("from")} />
        </label>
        <label>
          To
          <input type="date" value={draft.to} onChange={set("to")} />
        </label>
        <div className="form-row">
          <button type="submit">Apply filters</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
              setExporting(null);
            }}
          >
            Clear
          </button>
          <button type="button" className="secondary" onClick={() => void exportCsv()} data-testid="audit-export">
            Export CSV
          </button>
          {exporting && <span className="muted" role="status">{exporting}</span>}
        </div>
      </form>
      <section className="panel">
        {events.error && <p className="error">{events.error.message}</p>}
        {events.isSuccess && rows.length === 0 && <p className="muted">No event matches these filters.</p>}
        <table className="audit-table">
          <thead><tr><th>When</th><th>Action</th><th>Actor</th><th>Target</th><th>Details</th></tr></thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>{e.action}</td>
                <td title={e.actorId ?? "no user: the worker or the command line"} data-testid="audit-actor">
                  {e.actorLabel}
                  {e.actorRole && <span className="muted small"> ({e.actorRole})</span>}
                </td>
                <td title={e.targetId ?? undefined}>
                  {e.targetType}
                  {e.targetLabel ? `: ${e.targetLabel}` : ""}
                  {e.projectName && e.targetType !== "Project" && <div className="muted small">in {e.projectName}</div>}
                </td>
                <td className="audit-details">
                  <details>
                    <summary>{auditDetailsSummary(e.details)}</summary>
                    <pre>{JSON.stringify(e.details, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.hasNextPage && <button className="secondary" onClick={() => events.fetchNextPage()}>Load more</button>}
      </section>
    </>
  );
}
