"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { ProgressBar } from "../../../../_components/charts";
import { LoopStatusNote } from "../../../../_components/loop-status";
import { MinorityWarning } from "../../../../_components/minority-warning";
import { useTRPC } from "../../../../_components/providers";

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

function seconds(from: string | null, to: string | null): string {
  if (!from) return "—";
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime();
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A project's background jobs (embed, train, evaluate, select, simulate) with live progress, and the retrain button. */
export function JobsPanel({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The message of the last "Retrain now" is tied to its job, so it follows the job (no stale "queued").
  const [message, setMessage] = useState<{ text: string; jobRunId: string | null } | null>(null);
  const jobs = useQuery({
    ...trpc.jobs.list.queryOptions({ projectId, limit: 50 }),
    // Poll every second while anything is queued or running, so the bars move; then stop.
    // While a training is deferred, every 15 s, so the note clears when the worker starts it.
    refetchInterval: (q) => (q.state.data?.jobs.some((j) => j.status === "QUEUED" || j.status === "RUNNING") ? 1000 : q.state.data?.loopStatus?.kind === "deferred" ? 15_000 : false),
  });
  const train = useMutation(
    trpc.jobs.requestTraining.mutationOptions({
      onSuccess: async (result) => {
        setMessage({ text: result.created ? "Training queued." : "A training of exactly these labels was already requested; showing it.", jobRunId: result.jobRunId });
        await queryClient.invalidateQueries({ queryKey: trpc.jobs.list.queryKey({ projectId, limit: 50 }) });
      },
      onError: (error) => setMessage({ text: error.message, jobRunId: null }),
    }),
  );
  const canTrain = jobs.data?.canTrain === true;
  const trainJob = message?.jobRunId ? jobs.data?.jobs.find((j) => j.id === message.jobRunId) : undefined;
  const messageText = !message
    ? null
    : !trainJob
      ? message.text
      : trainJob.status === "QUEUED"
        ? message.text
        : trainJob.status === "RUNNING"
          ? `Training running: ${trainJob.stage} (${Math.round(trainJob.percent)}%).`
          : trainJob.status === "SUCCEEDED"
            ? "Training finished: the new model waits for a reviewer on the Models page."
            : "Training failed: the job below says why.";

  if (jobs.error) return <p className="error" role="alert">{jobs.error.message}</p>;
  return (
    <section data-testid="jobs-panel">
      <h1>Jobs{jobs.data ? ` — ${jobs.data.projectName}` : ""}</h1>
      <p className="muted">
        Background work of the worker for this project: embedding, training, evaluation, selection rounds and simulations. Training starts by itself
        when a round&apos;s queue is fully annotated or enough new labels have arrived
        {jobs.data && jobs.data.minTrainingIntervalMinutes > 0 ? `, at most once every ${jobs.data.minTrainingIntervalMinutes} minutes` : ""}; you can also start it here.
      </p>
      <p className="muted" data-testid="jobs-where">
        Where each happens: <strong>embed</strong> runs after an import and when the encoder changes (<Link href={`/projects/${projectId}/settings/encoder`}>Encoder settings</Link>);{" "}
        <strong>select</strong> builds the next round after a reviewer approves a model (<Link href="/models">Models</Link>), or the cold-start round before any model; its statistics are on the{" "}
        <Link href={`/projects/${projectId}/selection`}>Selection</Link> page; <strong>simulate</strong> is the what-if on that page.
      </p>
      <MinorityWarning watch={jobs.data?.minorityWatch} projectId={projectId} />
      {/* The page's own Retrain now button follows the note. */}
      <LoopStatusNote status={jobs.data?.loopStatus} projectId={projectId} />
      {canTrain && (
        <div className="form-row">
          <button type="button" onClick={() => train.mutate({ projectId })} disabled={train.isPending} data-testid="train-now">
            {train.isPending ? "Queuing…" : "Retrain now"}
          </button>
          {messageText && <span role="status" className="muted" data-testid="train-message">{messageText}</span>}
        </div>
      )}
      {jobs.isLoading ? (
        <p className="muted">Loading…</p>
      ) : jobs.data && jobs.data.jobs.length === 0 ? (
        <p className="muted">No jobs yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Job</th>
              <th>Status</th>
              <th style={{ width: "40%" }}>Progress</th>
              <th>Attempts</th>
              <th>Queued</th>
              <th>Took</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data?.jobs.map((job) => (
              <tr key={job.id} data-testid="job-row" data-kind={job.kind} data-status={job.status}>
                <td>{job.kind}</td>
                <td>
                  <span className="badge">{job.status.toLowerCase()}</span>
                </td>
                <td>
                  <ProgressBar percent={job.percent} label={job.stage} />
                  {job.error && <div className="error">{job.error}</div>}
                </td>
                <td>{job.attempts}</td>
                <td>{when(job.createdAt)}</td>
                <td>{job.status === "RUNNING" || job.finishedAt ? seconds(job.startedAt, job.finishedAt) : "—"}</td>
                <td className="muted">
                  {Object.entries(job.result)
                    .map(([k, v]) => `${k}: ${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`)
                    .join(", ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
