import { RoleGate } from "../../_components/role-gate";
import { SelectionProjects } from "./selection-projects";

export default function SelectionIndexPage() {
  return (
    <RoleGate permission="selection.view">
      <SelectionProjects />
    </RoleGate>
  );
}
