import Link from "next/link";
import type { LoopStatus } from "@/contracts/loop";

/** The server's loop status (server/services/loop-service.ts projectLoopStatus), as the pages receive it. */
export type LoopStatusView = LoopStatus & { overdue: boolean };

const REASONS: Record<Extract<LoopStatus, { kind: "deferred" }>["reason"], string> = {
  "round-complete": "a round's queue is fully annotated",
  "n-labels": "enough new labels arrived",
  schedule: "the retraining schedule is due",
};

function clock(iso: string): string {
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
}

/**
 * What the loop waits for, on the jobs page and the project overview: an automatic training held
 * back by the minimum interval (when it starts, why, the setting, and — where `retrainLink` asks — a link to the
 * Jobs page, whose Retrain now button does not wait), or a fully annotated round whose labels add nothing trainable while cases of it
 * wait for adjudication (with the link). Renders nothing when the server says nothing waits.
 */
export function LoopStatusNote({ status, projectId, retrainLink = false }: { status: LoopStatusView | null | undefined; projectId: string; retrainLink?: boolean }) {
  if (!status) return null;
  if (status.kind === "deferred") {
    const after = status.latestModelVersion !== null ? `held back until ${status.minIntervalMinutes} minutes after model v${status.latestModelVersion} — ` : "held back — ";
    return (
      <div className="guard" role="status" data-testid="loop-status" data-kind="deferred">
        <strong>{status.overdue ? `Automatic training was due at ${clock(status.until)}` : `Next automatic training at ${clock(status.until)}`}</strong>
        {status.overdue ? " — the worker's next check (every minute) starts it." : "."} Triggered because {REASONS[status.reason]}; {after}at most one automatic training
        every {status.minIntervalMinutes} minutes (<Link href={`/projects/${projectId}/settings/selection`}>Settings → Selection → Retraining</Link>).{" "}
        {retrainLink && <Link href={`/projects/${projectId}/jobs`}>Retrain now on the Jobs page</Link>}
      </div>
    );
  }
  const n = status.awaitingAdjudication;
  return (
    <div className="guard flagged" role="status" data-testid="loop-status" data-kind="no-trainable-labels">
      <strong>Round {status.roundNumber} is fully annotated, but its labels add nothing the latest model was not trained on:</strong> {n} of its{" "}
      {n === 1 ? "cases splits" : "cases split"} without a majority and {n === 1 ? "waits" : "wait"} for adjudication, so no automatic training starts from this
      round. <Link href={`/projects/${projectId}/adjudication`}>Adjudicate {n === 1 ? "it" : "them"}</Link>
    </div>
  );
}
