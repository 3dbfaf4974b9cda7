import { listMyModelVersions, listMyProjects } from "../../services/project-service";
import { createRouter, procedure } from "../trpc";

export const healthRouter = createRouter({
  ping: procedure("health.ping").query(() => ({ ok: true as const })),
});

export const meRouter = createRouter({
  get: procedure("me.get").query(({ ctx }) => ctx.service.actor),
});

export const projectsRouter = createRouter({
  listMine: procedure("projects.listMine").query(({ ctx }) => listMyProjects(ctx.service)),
});

export const modelsRouter = createRouter({
  listMine: procedure("models.listMine").query(({ ctx }) => listMyModelVersions(ctx.service)),
});
