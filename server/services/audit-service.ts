/**
 * Reading the audit trail (writing happens through AuditRecorder inside each service's transaction).
 * Rows carry ids; this adds what a reader needs (issue 15, item 7): the actor's and a User target's
 * name and e-mail, a Project target's or the event's project name, "system (worker)" for events
 * without a user, and filters by actor, action, target and date range.
 */
import type { AuditListInput } from "@/contracts/users";
import { findAuditActors, findAuditNames, listAuditEvents } from "../db/audit-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether an event's details say it came from a command-line tool (`via: "cli"`: npm run project, npm run import). */
function viaCommandLine(details: unknown): boolean {
  return typeof details === "object" && details !== null && (details as { via?: unknown }).via === "cli";
}

function day(value: string, field: string): Date {
  const date = new Date(`${value}T00:00:00.000Z`);
  if (Number.isNaN(date.getTime())) throw new DomainError("BAD_INPUT", `The ${field} date ${value} does not exist.`);
  return date;
}

export async function listAudit(ctx: ServiceContext, input: AuditListInput) {
  let actorIn: (string | null)[] | undefined;
  const actor = input.actor?.trim();
  if (actor) {
    const ids = (await findAuditActors(ctx.db, actor)).map((u) => u.id);
    actorIn = /^(system|worker|system \(worker\))$/i.test(actor) ? [...ids, null] : ids;
  }
  const from = input.from ? day(input.from, "from") : undefined;
  const before = input.to ? new Date(day(input.to, "to").getTime() + DAY_MS) : undefined;
  if (from && before && before <= from) throw new DomainError("BAD_INPUT", "The 'to' date is before the 'from' date.");
  const rows = await listAuditEvents(ctx.db, {
    limit: input.limit + 1,
    cursor: input.cursor ? BigInt(input.cursor) : undefined,
    action: input.action,
    actorIn,
    targetType: input.targetType || undefined,
    targetId: input.targetId || undefined,
    from,
    before,
  });
  const page = rows.slice(0, input.limit);
  const userIds = new Set<string>();
  const projectIds = new Set<string>();
  for (const row of page) {
    if (row.actorId) userIds.add(row.actorId);
    if (row.targetType === "User" && row.targetId) userIds.add(row.targetId);
    if (row.targetType === "Project" && row.targetId) projectIds.add(row.targetId);
    if (row.projectId) projectIds.add(row.projectId);
  }
  const names = await findAuditNames(ctx.db, [...userIds], [...projectIds]);
  const users = new Map(names.users.map((u) => [u.id, u]));
  const projects = new Map(names.projects.map((p) => [p.id, p.name]));
  return {
    events: page.map((row) => {
      const actorUser = row.actorId ? users.get(row.actorId) : undefined;
      const targetUser = row.targetType === "User" && row.targetId ? users.get(row.targetId) : undefined;
      const targetProject = row.targetType === "Project" && row.targetId ? projects.get(row.targetId) : undefined;
      return {
        id: row.id.toString(),
        at: row.at.toISOString(),
        actorId: row.actorId,
        actorRole: row.actorRole,
        /** "Name <e-mail>", "command line (no --as user)" for a CLI action without a user (details.via "cli"), "system (worker)" for other events without a user, or "unknown user" when the id is gone. */
        actorLabel: row.actorId ? (actorUser ? `${actorUser.name} <${actorUser.email}>` : "unknown user") : viaCommandLine(row.details) ? "command line (no --as user)" : "system (worker)",
        action: row.action,
        targetType: row.targetType,
        targetId: row.targetId,
        /** A readable name of the target where one exists (users, projects), else null. */
        targetLabel: targetUser ? `${targetUser.name} <${targetUser.email}>` : (targetProject ?? null),
        projectId: row.projectId,
        projectName: row.projectId ? (projects.get(row.projectId) ?? null) : null,
        details: row.details,
      };
    }),
    nextCursor: rows.length > input.limit ? (page[page.length - 1]?.id.toString() ?? null) : null,
  };
}
