import { RoleGate } from "../../../../_components/role-gate";
import { SelectionStats } from "./selection-stats";
import { WhatIf } from "./what-if";

export default async function ProjectSelectionPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="selection.view" projectId={projectId}>
      <SelectionStats projectId={projectId} />
      <WhatIf projectId={projectId} />
    </RoleGate>
  );
}
