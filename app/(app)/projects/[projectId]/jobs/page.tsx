import { RoleGate } from "../../../../_components/role-gate";
import { JobsPanel } from "./jobs-panel";

export default async function ProjectJobsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="jobs.view" projectId={projectId}>
      <JobsPanel projectId={projectId} />
    </RoleGate>
  );
}
