import { RoleGate } from "../../../_components/role-gate";
import { ModelReview } from "./model-review";

export default async function ModelReviewPage({ params }: { params: Promise<{ modelVersionId: string }> }) {
  const { modelVersionId } = await params;
  return (
    <RoleGate permission="models.review">
      <ModelReview modelVersionId={modelVersionId} />
    </RoleGate>
  );
}
