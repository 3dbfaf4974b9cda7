import { auditRouter } from "./routers/audit";
import { healthRouter, meRouter, modelsRouter, projectsRouter, queueRouter } from "./routers/overview";
import { usersRouter } from "./routers/users";
import { createCallerFactory, createRouter } from "./trpc";

export const appRouter = createRouter({
  health: healthRouter,
  me: meRouter,
  projects: projectsRouter,
  models: modelsRouter,
  queue: queueRouter,
  users: usersRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
