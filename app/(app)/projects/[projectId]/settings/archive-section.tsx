"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../../../_components/providers";

/** Archive (read-only, out of every queue; nothing is deleted) and unarchive. */
export function ArchiveSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const setArchived = useMutation(trpc.projectAdmin.setArchived.mutationOptions());
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!project.data) return null;
  const archived = project.data.archived;

  async function change(next: boolean) {
    setError(null);
    try {
      await setArchived.mutateAsync({ projectId, archived: next });
      setConfirming(false);
      await queryClient.invalidateQueries({ queryKey: trpc.projectAdmin.get.queryKey({ projectId }) });
      await queryClient.invalidateQueries({ queryKey: trpc.projects.listMine.queryKey() });
    } catch (err) {
      setError(err instanceof Error ? err.message : "Something went wrong.");
    }
  }

  return (
    <section className="panel" aria-labelledby="archive-heading">
      <h2 id="archive-heading" style={{ marginTop: 0 }}>{archived ? "Archived" : "Archive"}</h2>
      {archived ? (
        <>
          <p className="muted">The project is read-only and out of every queue. Unarchiving makes it editable and brings its queue back.</p>
          <button type="button" onClick={() => change(false)} disabled={setArchived.isPending}>
            Unarchive project
          </button>
        </>
      ) : (
        <>
          <p className="muted">An archived project is read-only and out of every queue. Nothing is deleted, and it can be unarchived.</p>
          {confirming ? (
            <p className="form-row">
              <button type="button" className="danger" onClick={() => change(true)} disabled={setArchived.isPending}>
                Yes, archive it
              </button>
              <button type="button" className="secondary" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </p>
          ) : (
            <button type="button" className="secondary" onClick={() => setConfirming(true)}>
              Archive project…
            </button>
          )}
        </>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
