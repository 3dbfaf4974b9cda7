"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "../../../../_components/providers";

/** The whole configuration as one JSON document (the same as `npm run project -- export`). */
export function ConfigFileSection({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);

  async function download() {
    setError(null);
    try {
      const config = await queryClient.fetchQuery(trpc.projectAdmin.exportConfig.queryOptions({ projectId }, { staleTime: 0 }));
      const blob = new Blob([JSON.stringify(config, null, 2) + "\n"], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${config.name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "") || "project"}.json`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setError(err instanceof Error ? err.message : "The download failed.");
    }
  }

  return (
    <section className="panel" aria-labelledby="config-heading">
      <h2 id="config-heading" style={{ marginTop: 0 }}>Configuration file</h2>
      <p className="muted">
        Name, description, labels, minority classes, selection parameters, encoder and settings as one JSON document, for review or to set
        up another project the same way (&quot;New project&quot; → from a configuration file, or <code>npm run project -- create --config</code>).
      </p>
      <button type="button" className="secondary" onClick={download}>
        Download configuration (JSON)
      </button>
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
