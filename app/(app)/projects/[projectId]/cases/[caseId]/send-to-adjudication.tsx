"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../../../../_components/providers";

/** "Send to adjudication" under a case, for a member whose project role may adjudicate (REVIEWER, ADMIN). */
export function SendToAdjudication({ projectId, caseId }: { projectId: string; caseId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const send = useMutation(trpc.agreement.requestAdjudication.mutationOptions());
  if (!project.data || project.data.archived || !project.data.permissions.includes("labels.adjudicate")) return null;
  return (
    <p data-testid="send-to-adjudication" style={{ marginTop: 16 }}>
      <button type="button" className="secondary" disabled={send.isPending || send.isSuccess} onClick={() => send.mutate({ projectId, caseId })}>
        Send to adjudication
      </button>{" "}
      {send.isSuccess && <span className="muted">In the <Link href={`/projects/${projectId}/adjudication`}>adjudication queue</Link>.</span>}
      {send.error && <span className="error" role="alert">{send.error.message}</span>}
    </p>
  );
}
