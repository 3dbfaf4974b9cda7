import { RoleGate } from "../../../../_components/role-gate";
import { AdjudicationQueue } from "./adjudication-queue";

/** Adjudication (issue 14): disagreeing or reviewer-sent cases, resolved by a REVIEWER (or ADMIN) with a reason. */
export default async function ProjectAdjudicationPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate permission="labels.adjudicate" projectId={projectId}>
      <AdjudicationQueue projectId={projectId} />
    </RoleGate>
  );
}
