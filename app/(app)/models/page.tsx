"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../../_components/providers";

export default function ModelsPage() {
  const trpc = useTRPC();
  const models = useQuery(trpc.models.listMine.queryOptions());
  return (
    <>
      <h1>Models</h1>
      {models.isPending && <p className="muted">Loading…</p>}
      {models.error && <p className="error">{models.error.message}</p>}
      {models.data?.length === 0 && <p className="muted">No model has been trained yet. Selection runs in cold-start mode until a model is approved.</p>}
      {models.data && models.data.length > 0 && (
        <table className="panel">
          <thead><tr><th>Project</th><th>Version</th><th>Status</th><th>Created</th></tr></thead>
          <tbody>
            {models.data.map((m) => (
              <tr key={m.id}><td>{m.projectName}</td><td>v{m.version}</td><td><span className="badge">{m.status}</span></td><td>{new Date(m.createdAt).toLocaleString()}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
