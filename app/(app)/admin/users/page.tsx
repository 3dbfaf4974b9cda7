import { RoleGate } from "../../../_components/role-gate";
import { UsersAdmin } from "./users-admin";

export default function UsersPage() {
  return (
    <RoleGate permission="users.manage">
      <UsersAdmin />
    </RoleGate>
  );
}
