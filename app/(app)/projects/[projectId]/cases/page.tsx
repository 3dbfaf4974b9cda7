import { Suspense } from "react";
import { RoleGate } from "../../../../_components/role-gate";
import { CaseBrowser } from "./case-browser";

/** The case browser (data manager): every case of the project, filtered and searched on the server. */
export default async function ProjectCasesPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="cases.browse" projectId={projectId}>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <CaseBrowser projectId={projectId} />
      </Suspense>
    </RoleGate>
  );
}
