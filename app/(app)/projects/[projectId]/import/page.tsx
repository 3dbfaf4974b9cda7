import { RoleGate } from "../../../../_components/role-gate";
import { ImportForm } from "./import-form";

export default async function ProjectImportPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="cases.import" projectId={projectId}>
      <ImportForm projectId={projectId} />
    </RoleGate>
  );
}
