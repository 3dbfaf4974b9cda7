import { RoleGate } from "../../../_components/role-gate";
import { AuditLog } from "./audit-log";

export default function AuditPage() {
  return (
    <RoleGate permission="audit.view">
      <AuditLog />
    </RoleGate>
  );
}
