"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../../_components/providers";

export function AuditLog() {
  const trpc = useTRPC();
  const [action, setAction] = useState("");
  const events = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions({ limit: 50, action: action || undefined }, { getNextPageParam: (page) => page.nextCursor ?? undefined }),
  );
  const rows = events.data?.pages.flatMap((page) => page.events) ?? [];
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">Append-only: the database refuses any change or deletion of these events.</p>
      <div className="form-row" style={{ marginBottom: 12 }}>
        <label>
          Action starts with
          <input value={action} onChange={(e) => setAction(e.target.value)} placeholder="e.g. user." />
        </label>
      </div>
      <section className="panel">
        {events.error && <p className="error">{events.error.message}</p>}
        <table>
          <thead><tr><th>When</th><th>Action</th><th>Actor</th><th>Target</th><th>Details</th></tr></thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>{e.action}</td>
                <td>{e.actorId ? `${e.actorId} (${e.actorRole})` : "—"}</td>
                <td>{e.targetType} {e.targetId ?? ""}</td>
                <td><code>{JSON.stringify(e.details)}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.hasNextPage && <button className="secondary" onClick={() => events.fetchNextPage()}>Load more</button>}
      </section>
    </>
  );
}
