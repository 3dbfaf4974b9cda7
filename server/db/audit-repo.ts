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
  /** Any of these actors; null in the list stands for "no user" (system events). */
  actorIn?: (string | null)[];
  targetType?: string;
  targetId?: string;
  /** at >= from and at < before. */
  from?: Date;
  before?: Date;
}

export async function listAuditEvents(db: DbOrTx, query: AuditQuery) {
  const rows = await db.auditEvent.findMany({
    where: {
      ...(query.action ? { action: { startsWith: query.action } } : {}),
      ...(query.actorId ? { actorId: query.actorId } : {}),
      ...(query.actorIn
        ? { OR: [{ actorId: { in: query.actorIn.filter((v): v is string => v !== null) } }, ...(query.actorIn.includes(null) ? [{ actorId: null }] : [])] }
        : {}),
      ...(query.targetType ? { targetType: query.targetType } : {}),
      ...(query.targetId ? { targetId: query.targetId } : {}),
      ...(query.from || query.before ? { at: { ...(query.from ? { gte: query.from } : {}), ...(query.before ? { lt: query.before } : {}) } } : {}),
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

/** Users whose id is given, or whose name or e-mail contains `text` (case-insensitive), for the audit log's actor filter. */
export function findAuditActors(db: DbOrTx, text: string) {
  return db.user.findMany({
    where: { OR: [{ id: text }, { name: { contains: text, mode: "insensitive" } }, { email: { contains: text, mode: "insensitive" } }] },
    select: { id: true },
    take: 500,
  });
}

/** Names and e-mails of the given users, and names of the given projects, to show beside audit ids. */
export async function findAuditNames(db: DbOrTx, userIds: string[], projectIds: string[]) {
  const [users, projects] = await Promise.all([
    userIds.length ? db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, name: true, email: true } }) : [],
    projectIds.length ? db.project.findMany({ where: { id: { in: projectIds } }, select: { id: true, name: true } }) : [],
  ]);
  return { users, projects };
}
