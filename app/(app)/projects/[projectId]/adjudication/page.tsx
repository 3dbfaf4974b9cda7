import Link from "next/link";
import { RoleGate } from "../../../../_components/role-gate";
import { AdjudicationQueue } from "./adjudication-queue";

/** Adjudication (issue 14): disagreeing or reviewer-sent cases, resolved by a REVIEWER (or ADMIN) with a reason. */
export default async function ProjectAdjudicationPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <RoleGate
      permission="labels.adjudicate"
      projectId={projectId}
      explain={
        <p data-testid="adjudication-who">
          Adjudication — recording the final label of a case whose annotators disagree, with a reason — is done by the project&apos;s <strong>reviewers</strong> (and admins).
          You can follow label quality on the <Link href={`/projects/${projectId}/agreement`}>Agreement</Link> page; a member who manages members can give someone the
          reviewer role on the <Link href={`/projects/${projectId}/members`}>Members</Link> page.
        </p>
      }
    >
      <AdjudicationQueue projectId={projectId} />
    </RoleGate>
  );
}
