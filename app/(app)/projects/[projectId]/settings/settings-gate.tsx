"use client";

import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useTRPC } from "../../../../_components/providers";

/** Shows the settings to a member whose project role may configure the project; the procedures check again. */
export function SettingsGate({ projectId, children }: { projectId: string; children: ReactNode }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
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
    <>
      <h1>Settings</h1>
      {project.data.archived && (
        <p className="panel" role="status">
          This project is archived: it is read-only and out of every queue. Unarchive it at the bottom of this page to change anything.
        </p>
      )}
      {children}
    </>
  );
}
