"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { LoopStatusNote } from "../../../_components/loop-status";
import { useTRPC } from "../../../_components/providers";
import { CASE_CONTENT_LABELS } from "../_components/case-content";

export function ProjectOverview({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.projectAdmin.get.queryOptions({ projectId }, { retry: false }));
  const list = useQuery(trpc.projects.listMine.queryOptions());
  // What the loop waits for (a deferred training, a round with nothing trainable): for roles that see the jobs.
  const seesJobs = project.data?.permissions.includes("jobs.view") === true;
  const jobs = useQuery({ ...trpc.jobs.list.queryOptions({ projectId, limit: 1 }), enabled: seesJobs, retry: false });
  if (project.isPending) return <p className="muted">Loading…</p>;
  if (project.error) return <p className="error">{project.error.message}</p>;
  const { config, permissions, archived } = project.data;
  const counts = list.data?.find((p) => p.id === projectId);
  const rho = config.selectionParams.rho;
  const minority = new Set(config.minorityClasses);
  return (
    <>
      <h1>{config.name}</h1>
      {config.description && <p>{config.description}</p>}
      <LoopStatusNote status={jobs.data?.loopStatus} projectId={projectId} retrainLink={permissions.includes("jobs.train") && !archived} />
      <section className="panel">
        <table>
          <tbody>
            <tr><th>A case holds</th><td>{CASE_CONTENT_LABELS[config.caseContent]}</td></tr>
            {counts && (
              <tr>
                <th>Cases</th>
                <td>
                  {counts.cases} (pool {counts.casesBySplit.POOL ?? 0}, test {counts.casesBySplit.TEST ?? 0}, seed {counts.casesBySplit.SEED ?? 0})
                </td>
              </tr>
            )}
            {counts && <tr><th>Members</th><td>{counts.members}</td></tr>}
            <tr><th>Labels</th><td>{config.labelSchema.multiLabel ? "several per case (multi-label)" : "one per case"}</td></tr>
            <tr>
              <th>Target mix ρ</th>
              <td>{typeof rho === "number" ? rho : Object.entries(rho).map(([k, v]) => `${k} ${v}`).join(", ")}</td>
            </tr>
            <tr><th>Cases per round (B)</th><td>{config.selectionParams.budget}</td></tr>
            <tr><th>State</th><td>{archived ? <span className="badge inactive">Archived — read-only</span> : "Active"}</td></tr>
          </tbody>
        </table>
      </section>
      <section className="panel">
        <h2 style={{ marginTop: 0 }}>Label classes</h2>
        <table>
          <thead>
            <tr><th>Label</th><th>Key</th><th>Shortcut</th><th>Guideline</th></tr>
          </thead>
          <tbody>
            {config.labelSchema.labels.map((l) => (
              <tr key={l.key} data-testid="overview-label">
                <td>
                  <span aria-hidden style={{ display: "inline-block", width: 12, height: 12, borderRadius: 3, background: l.color, marginRight: 6, verticalAlign: "middle" }} />
                  {l.name} {minority.has(l.key) && <span className="badge">minority</span>}
                </td>
                <td><code>{l.key}</code></td>
                <td>{l.shortcut ? <kbd>{l.shortcut}</kbd> : "—"}</td>
                <td className="muted">{l.guideline ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {permissions.includes("project.configure") && !archived && (
        <p>
          <Link className="button" href={`/projects/${projectId}/settings`}>Edit settings</Link>
        </p>
      )}
    </>
  );
}
