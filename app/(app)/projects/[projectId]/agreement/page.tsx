import { RoleGate } from "../../../../_components/role-gate";
import { AgreementReportView } from "./agreement-report";
import { GoldSection } from "./gold-section";

/** Label quality (issue 14): inter-annotator agreement, for DATA_SCIENTIST, REVIEWER and ADMIN members; the gold section for those who manage gold cases. */
export default async function ProjectAgreementPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="labels.agreement" projectId={projectId}>
      <AgreementReportView projectId={projectId} />
      <GoldSection projectId={projectId} />
    </RoleGate>
  );
}
