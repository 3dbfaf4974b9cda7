"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../_components/providers";
import { emptyQueueReason } from "./empty-queue-reason";

export default function QueuePage() {
  const trpc = useTRPC();
  const summary = useQuery(trpc.queue.summary.queryOptions());
  const queues = useQuery(trpc.queue.mine.queryOptions());
  // Only to say why the list is empty (see emptyQueueReason).
  const projects = useQuery({ ...trpc.projects.listMine.queryOptions(), enabled: queues.data?.length === 0 });
  return (
    <>
      <h1>My queue</h1>
      {(summary.isPending || queues.isPending) && <p className="muted">Loading…</p>}
      {summary.error && <p className="error">{summary.error.message}</p>}
      {queues.error && <p className="error">{queues.error.message}</p>}
      {summary.data && (
        <div className="cards">
          <div className="card">
            <div className="muted">Open cases in your projects' current rounds</div>
            <div className="value" data-testid="open-items">{summary.data.openItems}</div>
          </div>
        </div>
      )}
      {queues.data && (
        <div className="panel" style={{ marginTop: 18 }}>
          <table>
            <thead>
              <tr>
                <th>Project</th>
                <th>Current round</th>
                <th title="Cases of the round you answered or skipped, or that others finished (quality-check cases mixed into your queue included)">Done</th>
                <th title="Cases of the round you may still be served (quality-check cases mixed into your queue included)">Remaining for you</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {queues.data.map((q) => (
                <tr key={q.projectId} data-testid="project-queue">
                  <td>{q.projectName}</td>
                  <td>{q.round ? <>Round {q.round.number} <span className="badge">{q.round.coldStart ? "cold start" : q.round.strategy}</span></> : <span className="muted">no round yet</span>}</td>
                  <td>{q.done}</td>
                  <td>{q.remaining}</td>
                  <td>{q.round && q.remaining > 0 && <Link href={`/queue/${q.projectId}`}>Start labelling →</Link>}</td>
                </tr>
              ))}
              {queues.data.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted" data-testid="empty-queue-reason">
                    {projects.data ? (
                      <>
                        {emptyQueueReason(projects.data)} {projects.data.length > 0 && <Link href="/projects">Your projects</Link>}
                      </>
                    ) : projects.error ? (
                      projects.error.message
                    ) : (
                      "Loading…"
                    )}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
