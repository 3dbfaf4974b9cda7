"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, Fragment, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { useTRPC } from "../../../../_components/providers";

/** Counts label-schema saves on this page, so sections holding their own copy of ρ / minority classes can start again. */
const LabelsRevision = createContext<{ revision: number; bump: () => void }>({ revision: 0, bump: () => undefined });

/** Called by the label schema section after a save. */
export function useLabelsSaved(): () => void {
  return useContext(LabelsRevision).bump;
}

/**
 * Mounts its children afresh after each label-schema save: a section that copies ρ or the minority
 * classes into its form when it loads (selection settings) then shows the saved values instead of
 * stale ones it would write back.
 */
export function RemountAfterLabelSave({ children }: { children: ReactNode }) {
  return <Fragment key={useContext(LabelsRevision).revision}>{children}</Fragment>;
}

/** Shows the settings to a member whose project role may configure the project; the procedures check again. */
export function SettingsGate({ projectId, children }: { projectId: string; children: ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const [revision, setRevision] = useState(0);
  const bump = useCallback(() => setRevision((r) => r + 1), []);
  // Any section's save may change what the others show (ρ is in two of them): the configuration is read again.
  useEffect(
    () =>
      queryClient.getMutationCache().subscribe((event) => {
        if (event.type === "updated" && event.action.type === "success") void queryClient.invalidateQueries({ queryKey: trpc.projectAdmin.get.queryKey({ projectId }) });
      }),
    [queryClient, trpc, projectId],
  );
  if (project.isPending) return <p className="muted">Loading…</p>;
  if (project.error) return <p className="error">{project.error.message}</p>;
  if (!project.data.permissions.includes("project.configure")) {
    return (
      <div className="panel">
        <h1>Not available</h1>
        <p className="muted">Your role in this project does not let you change its settings.</p>
      </div>
    );
  }
  return (
    <LabelsRevision.Provider value={{ revision, bump }}>
      <h1>Settings</h1>
      {project.data.archived && (
        <p className="panel" role="status">
          This project is archived: it is read-only and out of every queue. Unarchive it at the bottom of this page to change anything.
        </p>
      )}
      {children}
    </LabelsRevision.Provider>
  );
}
