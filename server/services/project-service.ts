/** Read models of the overview pages; every query is scoped to the caller's projects through the front door. */
import { parseStoredProjectConfig } from "@/contracts/project-config";
import type { RoleName } from "@/contracts/roles";
import { countCasesBySplit, countOpenQueueItems, listMembershipRoles, listModelVersions, listProjectsByIds } from "../db/projects-repo";
import type { Db } from "../db/client";
import { createServiceContext, type Actor, type ServiceContext } from "./context";
import { memberProjectIds, requireActor } from "./project-access";

/** The caller's projects (archived ones too, marked), with their project role and counts. */
export async function listMyProjects(ctx: ServiceContext) {
  requireActor(ctx);
  const ids = await memberProjectIds(ctx, "project.view", { includeArchived: true });
  const projects = await listProjectsByIds(ctx.db, ids, ctx.actor!.id);
  const splits = await countCasesBySplit(ctx.db, projects.map((p) => p.id));
  return projects.map((project) => {
    let labelCount = 0;
    let names = new Map<string, string>();
    try {
      const labels = parseStoredProjectConfig(project).labelSchema.labels;
      labelCount = labels.length;
      names = new Map(labels.map((l) => [l.key, l.name]));
    } catch {
      labelCount = 0; // an unreadable configuration still lists the project; opening it says what is wrong
    }
    return {
      id: project.id,
      name: project.name,
      description: project.description,
      minorityClasses: project.minorityClasses,
      /** The minority classes' display names (the key where the schema has none), in the same order. */
      minorityClassNames: project.minorityClasses.map((key) => names.get(key) ?? key),
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

/** The caller's role in each of their projects (navigation and page gates; the procedures check on their own). */
export async function myProjectRoles(ctx: ServiceContext): Promise<{ projectId: string; role: RoleName; archived: boolean }[]> {
  const actor = requireActor(ctx);
  return listMembershipRoles(ctx.db, actor.id);
}

/** The distinct roles `user` holds in their projects (for navItemsFor next to the platform role). */
export async function projectRoleNames(db: Db, user: Actor): Promise<RoleName[]> {
  return [...new Set((await myProjectRoles(createServiceContext(db, user))).map((m) => m.role))];
}
