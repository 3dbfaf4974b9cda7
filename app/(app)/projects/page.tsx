"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../_components/providers";

export default function ProjectsPage() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.projects.listMine.queryOptions());
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
        </section>
      ))}
    </>
  );
}
