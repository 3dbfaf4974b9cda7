"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "../../_components/providers";

export default function ProjectsPage() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.projects.listMine.queryOptions());
  const me = useQuery(trpc.me.get.queryOptions());
  const role = me.data?.role;
  const canImport = role === "DATA_SCIENTIST" || role === "ADMIN";
  const canExport = canImport || role === "REVIEWER";
  return (
    <>
      <h1>Projects</h1>
      {projects.isPending && <p className="muted">Loading…</p>}
      {projects.error && <p className="error">{projects.error.message}</p>}
      {projects.data?.length === 0 && <p className="muted">You are not a member of any project yet.</p>}
      {projects.data?.map((project) => (
        <section key={project.id} className="panel" data-testid="project">
          <h2 style={{ marginTop: 0 }}>{project.name}</h2>
          <p className="muted">{project.description}</p>
          <table>
            <tbody>
              <tr><th>Cases</th><td>{project.cases} (pool {project.casesBySplit.POOL ?? 0}, test {project.casesBySplit.TEST ?? 0}, seed {project.casesBySplit.SEED ?? 0})</td></tr>
              <tr><th>Labels</th><td>{project.labelCount}</td></tr>
              <tr><th>Minority classes</th><td>{project.minorityClasses.join(", ") || "—"}</td></tr>
              <tr><th>Members</th><td>{project.members}</td></tr>
            </tbody>
          </table>
          {(canImport || canExport) && (
            <p style={{ display: "flex", gap: 12, flexWrap: "wrap", marginBottom: 0 }}>
              {canImport && <Link className="button" href={`/projects/${project.id}/import`}>Import data</Link>}
              {canExport && <Link className="button" href={`/projects/${project.id}/jobs`}>Jobs</Link>}
              {canExport && (
                <>
                  <a className="button" href={`/api/projects/${project.id}/export?format=csv`} download>Export labels (CSV)</a>
                  <a className="button" href={`/api/projects/${project.id}/export?format=jsonl`} download>Export labels (JSONL)</a>
                  <a className="button" href={`/api/projects/${project.id}/export?format=jsonl&history=1`} download>Full history (JSONL)</a>
                </>
              )}
            </p>
          )}
        </section>
      ))}
    </>
  );
}
