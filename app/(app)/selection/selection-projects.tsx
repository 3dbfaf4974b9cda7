"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../_components/providers";

/** The projects whose selection statistics the caller may open. */
export function SelectionProjects() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.selectionStats.projects.queryOptions());
  return (
    <>
      <h1>Selection statistics</h1>
      {projects.isPending && <p className="muted">Loading…</p>}
      {projects.error && <p className="error">{projects.error.message}</p>}
      {projects.data?.length === 0 && <p className="muted">You are not a member of any project yet.</p>}
      <ul>
        {projects.data?.map((p) => (
          <li key={p.id}><Link href={`/projects/${p.id}/selection`}>{p.name}</Link></li>
        ))}
      </ul>
    </>
  );
}
