"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../_components/providers";

export default function QueuePage() {
  const trpc = useTRPC();
  const summary = useQuery(trpc.queue.summary.queryOptions());
  return (
    <>
      <h1>My queue</h1>
      {summary.isPending && <p className="muted">Loading…</p>}
      {summary.error && <p className="error">{summary.error.message}</p>}
      {summary.data && (
        <div className="cards">
          <div className="card">
            <div className="muted">Open cases in your projects' current rounds</div>
            <div className="value" data-testid="open-items">{summary.data.openItems}</div>
          </div>
        </div>
      )}
    </>
  );
}
