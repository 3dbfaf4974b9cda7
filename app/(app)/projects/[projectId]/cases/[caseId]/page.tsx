import { CaseView } from "./case-view";
import { GoldToggle } from "./gold-toggle";
import { SendToAdjudication } from "./send-to-adjudication";

/**
 * One case, read-only: for data scientists, reviewers and admins any case of the project; for a
 * clinician a case they annotated (the service decides; anyone else gets "No such case.").
 */
export default async function CaseDetailPage({ params }: { params: Promise<{ projectId: string; caseId: string }> }) {
  const { projectId, caseId } = await params;
  return (
    <>
      <CaseView projectId={projectId} caseId={caseId} />
      <SendToAdjudication projectId={projectId} caseId={caseId} />
      <GoldToggle projectId={projectId} caseId={caseId} />
    </>
  );
}
