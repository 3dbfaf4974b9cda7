import { RoleGate } from "../../_components/role-gate";
import { SelectionProjects } from "./selection-projects";

export default function SelectionIndexPage() {
  return (
    <RoleGate roles={["DATA_SCIENTIST", "ADMIN"]}>
      <SelectionProjects />
    </RoleGate>
  );
}
