import { RoleGate } from "../../../_components/role-gate";
import { UsersAdmin } from "./users-admin";

export default function UsersPage() {
  return (
    <RoleGate roles={["ADMIN"]}>
      <UsersAdmin />
    </RoleGate>
  );
}
