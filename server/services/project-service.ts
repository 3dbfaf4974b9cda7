/** Read models of the overview pages; every query is scoped to the caller's projects through the front door. */
import { countCasesBySplit, countOpenQueueItems, listModelVersions, listProjectsByIds } from "../db/projects-repo";
import type { ServiceContext } from "./context";
import { memberProjectIds, requireActor } from "./project-access";
import { parseStoredProjectConfig } from "@/contracts/project-config";

/** The caller's projects (archived ones too, marked), with their project role and counts. */
export async function listMyProjects(ctx: ServiceContext) {
  requireActor(ctx);
  const ids = await memberProjectIds(ctx, "project.view", { includeArchived: true });
  const projects = await listProjectsByIds(ctx.db, ids, ctx.actor!.id);
  const splits = await countCasesBySplit(ctx.db, projects.map((p) => p.id));
  return projects.map((project) => {
    let labelCount = 0;
    try {
      labelCount = parseStoredProjectConfig(project).labelSchema.labels.length;
    } catch {
      labelCount = 0; // an unreadable configuration still lists the project; opening it says what is wrong
    }
    return {
      id: project.id,
      name: project.name,
      description: project.description,
      minorityClasses: project.minorityClasses,
      labelCount,
      members: project._count.members,
      cases: project._count.cases,
      casesBySplit: Object.fromEntries(splits.filter((s) => s.projectId === project.id).map((s) => [s.split, s.count])) as Record<string, number>,
      role: project.members[0]?.role ?? null,
      archived: project.archivedAt !== null,
      createdAt: project.createdAt.toISOString(),
    };
  });
}

/** Model versions of the projects where the caller's role may list models. */
export async function listMyModelVersions(ctx: ServiceContext) {
  const rows = await listModelVersions(ctx.db, await memberProjectIds(ctx, "models.list", { includeArchived: true }));
  return rows.map((row) => ({ id: row.id, projectId: row.projectId, projectName: row.project.name, version: row.version, status: row.status, createdAt: row.createdAt.toISOString() }));
}

/** Pending items of the current rounds of the projects the caller annotates in (archived projects are out of every queue). */
export async function myQueueSummary(ctx: ServiceContext) {
  return { openItems: await countOpenQueueItems(ctx.db, await memberProjectIds(ctx, "annotate")) };
}
