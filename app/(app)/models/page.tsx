import { RoleGate } from "../../_components/role-gate";
import { ModelsList } from "./models-list";

/**
 * Model versions with their metrics (models.list: reviewers, data scientists and admins of a project). Not in a
 * clinician's navigation; one who opens the address is told the page is not for their role instead of an empty list.
 */
export default function ModelsPage() {
  return (
    <RoleGate permission="models.list">
      <ModelsList />
    </RoleGate>
  );
}
