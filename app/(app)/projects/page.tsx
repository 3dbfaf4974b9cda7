"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import Link from "next/link";
import { can } from "@/contracts/permissions";
import { ROLE_LABELS } from "@/contracts/roles";
import { useTRPC } from "../../_components/providers";

export default function ProjectsPage() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.projects.listMine.queryOptions());
  const me = useQuery(trpc.me.get.queryOptions());
  // Creating is a platform permission; everything inside a project follows the role there.
  const mayCreate = can(me.data?.role, "projects.create");
  // A platform admin sees every project and may join one as its Admin (PLATFORM_PERMISSIONS "projects.administer").
  const administers = can(me.data?.role, "projects.administer");
  return (
    <>
      <div style={{ display: "flex", justifyContent: "space-between", alignItems: "baseline", gap: 12 }}>
        <h1>Projects</h1>
        {mayCreate && (
          <Link className="button" href="/projects/new">
            New project
          </Link>
        )}
      </div>
      {projects.isPending && <p className="muted">Loading…</p>}
      {projects.error && <p className="error">{projects.error.message}</p>}
      {projects.data?.length === 0 && (
        <p className="muted">
          You are not a member of any project yet.
          {administers ? " Every project of the platform is listed below: join one as its Admin to manage its members." : ""}
        </p>
      )}
      {projects.data?.map((project) => {
        const role = project.role;
        const canImport = !project.archived && can(role, "cases.import");
        const canExport = can(role, "labels.export");
        const canJobs = can(role, "jobs.view");
        return (
          <section key={project.id} className="panel" data-testid="project" data-archived={project.archived ? "true" : undefined} style={project.archived ? { opacity: 0.75 } : undefined}>
            <h2 style={{ marginTop: 0 }}>
              <Link href={`/projects/${project.id}`}>{project.name}</Link>
              {project.archived && (
                <span className="badge inactive" data-testid="archived-badge" style={{ marginLeft: 10, verticalAlign: "middle" }}>
                  Archived — read-only
                </span>
              )}
            </h2>
            <p className="muted">{project.description}</p>
            <table>
              <tbody>
                <tr><th>Cases</th><td>{project.cases} (pool {project.casesBySplit.POOL ?? 0}, test {project.casesBySplit.TEST ?? 0}, seed {project.casesBySplit.SEED ?? 0})</td></tr>
                <tr><th>Labels</th><td>{project.labelCount}</td></tr>
                <tr><th>Minority classes</th><td>{project.minorityClassNames.join(", ") || "—"}</td></tr>
                <tr><th>Members</th><td>{project.members}</td></tr>
                {role && <tr><th>Your role here</th><td>{ROLE_LABELS[role]}</td></tr>}
              </tbody>
            </table>
            <p style={{ display: "flex", gap: 12, flexWrap: "wrap", marginBottom: 0 }}>
              <Link className="button" href={`/projects/${project.id}`}>Open</Link>
              {canImport && <Link className="button" href={`/projects/${project.id}/import`}>Import data</Link>}
              {canJobs && <Link className="button" href={`/projects/${project.id}/jobs`}>Jobs</Link>}
              {canExport && (
                <>
                  {/* POST forms, not links: an export is an audited read that another site must not trigger (same-origin check). */}
                  <form method="post" action={`/api/projects/${project.id}/export?format=csv`} style={{ margin: 0 }}><button type="submit">Export labels (CSV)</button></form>
                  <form method="post" action={`/api/projects/${project.id}/export?format=jsonl`} style={{ margin: 0 }}><button type="submit">Export labels (JSONL)</button></form>
                  <form method="post" action={`/api/projects/${project.id}/export?format=jsonl&history=1`} style={{ margin: 0 }}><button type="submit">Full history (JSONL)</button></form>
                </>
              )}
            </p>
          </section>
        );
      })}
      {administers && <OtherProjects />}
    </>
  );
}

/** For platform admins: the projects they are not a member of, who manages each, and "Join as Admin". */
function OtherProjects() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const all = useQuery(trpc.members.allProjects.queryOptions());
  const join = useMutation(trpc.members.joinAsAdmin.mutationOptions());
  const [message, setMessage] = useState<{ kind: "error" | "notice"; text: string } | null>(null);
  if (all.isPending) return null;
  if (all.error) return <p className="error">{all.error.message}</p>;
  const others = all.data.filter((p) => p.yourRole === null);
  return (
    <section className="panel" aria-labelledby="other-projects-heading" data-testid="other-projects">
      <h2 id="other-projects-heading" style={{ marginTop: 0 }}>Other projects on this platform</h2>
      <p className="muted">
        As a platform admin you see every project. To help a team (add people, change roles), join the project as its Admin; the join is
        recorded in the audit log and the project&apos;s managers see you among its members.
      </p>
      {message && <p className={message.kind} role={message.kind === "error" ? "alert" : "status"}>{message.text}</p>}
      {others.length === 0 ? (
        <p className="muted">You are a member of every project.</p>
      ) : (
        <table>
          <thead>
            <tr><th>Project</th><th>State</th><th>Cases</th><th>Members</th><th>Managed by</th><th /></tr>
          </thead>
          <tbody>
            {others.map((p) => (
              <tr key={p.id} data-testid={`other-project-${p.name}`}>
                <td>{p.name}</td>
                <td>{p.archived ? "archived — read-only" : "active"}</td>
                <td>{p.cases}</td>
                <td>{p.members}</td>
                <td>{p.managers.length ? p.managers.map((m) => `${m.name} <${m.email}>`).join(", ") : "nobody"}</td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    disabled={join.isPending}
                    onClick={async () => {
                      setMessage(null);
                      try {
                        await join.mutateAsync({ projectId: p.id });
                        setMessage({ kind: "notice", text: `You joined "${p.name}" as Admin.` });
                        await Promise.all([
                          queryClient.invalidateQueries({ queryKey: trpc.members.allProjects.queryKey() }),
                          queryClient.invalidateQueries({ queryKey: trpc.projects.listMine.queryKey() }),
                        ]);
                      } catch (error) {
                        setMessage({ kind: "error", text: error instanceof Error ? error.message : "Joining failed." });
                      }
                    }}
                  >
                    Join as Admin
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
