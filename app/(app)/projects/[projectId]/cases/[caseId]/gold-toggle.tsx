"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../../../../_components/providers";

/**
 * "Mark as gold" / "Unmark gold" under a case, for a member whose project role may manage gold cases
 * (DATA_SCIENTIST, ADMIN). Only a case imported with a label or adjudicated can be gold; the service says
 * why otherwise. Clinicians are never told which cases are gold.
 */
export function GoldToggle({ projectId, caseId }: { projectId: string; caseId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const allowed = !!project.data && !project.data.archived && project.data.permissions.includes("labels.gold");
  const gold = useQuery(trpc.gold.list.queryOptions({ projectId }, { retry: false, refetchOnWindowFocus: false, enabled: allowed }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.gold.list.pathKey() });
  const mark = useMutation(trpc.gold.mark.mutationOptions({ onSuccess: refresh }));
  const unmark = useMutation(trpc.gold.unmark.mutationOptions({ onSuccess: refresh }));
  if (!allowed || !gold.data) return null;
  const mine = gold.data.cases.find((c) => c.caseId === caseId);
  // The answer by its display name, as "Imported label" above shows it (the key for a class since removed).
  const nameOf = new Map(project.data.config.labelSchema.labels.map((l) => [l.key, l.name]));
  const error = mark.error ?? unmark.error;
  const busy = mark.isPending || unmark.isPending;
  return (
    <p data-testid="gold-toggle" style={{ marginTop: 16 }}>
      {mine ? (
        <>
          <span className="badge cb-gold">gold</span> Answer: <strong>{mine.labels.map((key) => nameOf.get(key) ?? key).join(", ")}</strong> ({mine.source}); given {mine.served} time{mine.served === 1 ? "" : "s"},
          answered {mine.answered}.{" "}
          <button type="button" className="secondary" disabled={busy} onClick={() => unmark.mutate({ projectId, caseIds: [caseId] })}>
            Unmark gold
          </button>
        </>
      ) : (
        <button type="button" className="secondary" disabled={busy} onClick={() => mark.mutate({ projectId, caseIds: [caseId] })} data-testid="mark-gold-one">
          Mark as gold
        </button>
      )}{" "}
      {error && <span className="error" role="alert">{error.message}</span>}
    </p>
  );
}
