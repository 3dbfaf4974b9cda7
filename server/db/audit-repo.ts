/** Audit events: insert and read only. The database trigger (migration 0002) refuses changes. */
import type { Prisma, Role } from "./generated/client";
import type { DbOrTx } from "./tx";

export interface AuditEventInput {
  actorId: string | null;
  actorRole: Role | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  projectId?: string | null;
  details?: Prisma.InputJsonValue;
}

export async function insertAuditEvent(db: DbOrTx, event: AuditEventInput): Promise<void> {
  await db.auditEvent.create({
    data: {
      actorId: event.actorId,
      actorRole: event.actorRole,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId ?? null,
      projectId: event.projectId ?? null,
      details: event.details ?? {},
    },
  });
}

export interface AuditQuery {
  limit: number;
  cursor?: bigint;
  action?: string;
  actorId?: string;
}

export async function listAuditEvents(db: DbOrTx, query: AuditQuery) {
  const rows = await db.auditEvent.findMany({
    where: {
      ...(query.action ? { action: { startsWith: query.action } } : {}),
      ...(query.actorId ? { actorId: query.actorId } : {}),
      ...(query.cursor !== undefined ? { id: { lt: query.cursor } } : {}),
    },
    orderBy: { id: "desc" },
    take: query.limit,
  });
  return rows;
}

/**
 * Whether `actorId` already has an event `action` on (targetType, targetId) since `since`: the
 * read audit writes one event per opening, not one per refetch (uses the (targetType, targetId) index).
 */
export async function hasRecentAuditEvent(db: DbOrTx, query: { actorId: string; action: string; targetType: string; targetId: string; since: Date }): Promise<boolean> {
  const found = await db.auditEvent.findFirst({
    where: { targetType: query.targetType, targetId: query.targetId, action: query.action, actorId: query.actorId, at: { gte: query.since } },
    select: { id: true },
  });
  return found !== null;
}
