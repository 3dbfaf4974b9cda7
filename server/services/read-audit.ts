/**
 * The audit of reads of patient data (issue 12, fault 7): who opened which case or fetched which
 * image, when, and from where (the request's client address and User-Agent when the call came over
 * HTTP). A page refetches a case after every autosave and the viewer re-fetches images, so a read
 * is recorded once per user and target per READ_AUDIT_WINDOW_MINUTES: one event per opening, not
 * one per refetch. Exports are audited by export-service itself (every export, with the client).
 */
import { hasRecentAuditEvent } from "../db/audit-repo";
import { clientDetails, type ServiceContext } from "./context";

/** Within this window a second read of the same target by the same user is not recorded again. */
export const READ_AUDIT_WINDOW_MINUTES = 30;

export interface ReadEvent {
  /** e.g. "case.viewed", "image.read". */
  action: string;
  targetType: "Case" | "CaseImage";
  targetId: string;
  projectId: string;
  details?: Record<string, string | number | boolean | null>;
}

/** Records the read unless the same user read the same target within the window; returns whether it wrote one. */
export async function recordRead(ctx: ServiceContext, event: ReadEvent, now: Date = new Date()): Promise<boolean> {
  if (ctx.actor) {
    const since = new Date(now.getTime() - READ_AUDIT_WINDOW_MINUTES * 60_000);
    if (await hasRecentAuditEvent(ctx.db, { actorId: ctx.actor.id, action: event.action, targetType: event.targetType, targetId: event.targetId, since })) return false;
  }
  await ctx.audit.record(ctx.db, {
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    projectId: event.projectId,
    details: { ...(event.details ?? {}), ...clientDetails(ctx) },
  });
  return true;
}
