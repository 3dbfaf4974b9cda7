/** Reading the audit trail (writing happens through AuditRecorder inside each service's transaction). */
import type { AuditListInput } from "@/contracts/users";
import { listAuditEvents } from "../db/audit-repo";
import type { ServiceContext } from "./context";

export async function listAudit(ctx: ServiceContext, input: AuditListInput) {
  const rows = await listAuditEvents(ctx.db, { limit: input.limit + 1, cursor: input.cursor ? BigInt(input.cursor) : undefined, action: input.action });
  const page = rows.slice(0, input.limit);
  return {
    events: page.map((row) => ({
      id: row.id.toString(),
      at: row.at.toISOString(),
      actorId: row.actorId,
      actorRole: row.actorRole,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      projectId: row.projectId,
      details: row.details,
    })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]?.id.toString() ?? null : null,
  };
}
