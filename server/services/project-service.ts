/** Read models of the overview pages; every query is scoped to the caller's project memberships. */
import { countCasesBySplit, countOpenQueueItemsForMember, listModelVersionsForMember, listProjectsForMember } from "../db/projects-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";

function requireActor(ctx: ServiceContext) {
  if (!ctx.actor) throw new DomainError("UNAUTHORIZED", "Sign in first.");
  return ctx.actor;
}

export async function listMyProjects(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  const projects = await listProjectsForMember(ctx.db, actor.id);
  const splits = await countCasesBySplit(ctx.db, projects.map((p) => p.id));
  return projects.map((project) => ({
    id: project.id,
    name: project.name,
    description: project.description,
    minorityClasses: project.minorityClasses,
    labelCount: Array.isArray((project.labelSchema as { labels?: unknown[] }).labels) ? (project.labelSchema as { labels: unknown[] }).labels.length : 0,
    members: project._count.members,
    cases: project._count.cases,
    casesBySplit: Object.fromEntries(splits.filter((s) => s.projectId === project.id).map((s) => [s.split, s.count])) as Record<string, number>,
    createdAt: project.createdAt.toISOString(),
  }));
}

export async function listMyModelVersions(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  const rows = await listModelVersionsForMember(ctx.db, actor.id);
  return rows.map((row) => ({ id: row.id, projectId: row.projectId, projectName: row.project.name, version: row.version, status: row.status, createdAt: row.createdAt.toISOString() }));
}

export async function myQueueSummary(ctx: ServiceContext) {
  const actor = requireActor(ctx);
  return { openItems: await countOpenQueueItemsForMember(ctx.db, actor.id) };
}
