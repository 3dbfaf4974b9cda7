import { RoleGate } from "../../../_components/role-gate";
import { NewProjectForm } from "./new-project-form";

/** Creating a project: data scientists and admins (platform role; PLATFORM_PERMISSIONS "projects.create"). */
export default function NewProjectPage() {
  return (
    <RoleGate permission="projects.create">
      <NewProjectForm />
    </RoleGate>
  );
}
