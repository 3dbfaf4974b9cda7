import { RoleGate } from "../../../_components/role-gate";
import { ModelReview } from "./model-review";

export default async function ModelReviewPage({ params }: { params: Promise<{ modelVersionId: string }> }) {
  const { modelVersionId } = await params;
  return (
    <RoleGate roles={["REVIEWER", "ADMIN"]}>
      <ModelReview modelVersionId={modelVersionId} />
    </RoleGate>
  );
}
