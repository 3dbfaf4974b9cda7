import { agreementRouter } from "./routers/agreement";
import { goldRouter } from "./routers/gold";
import { auditRouter } from "./routers/audit";
import { casesRouter } from "./routers/cases";
import { importsRouter } from "./routers/imports";
import { jobsRouter, predictionsRouter } from "./routers/loop";
import { projectAdminRouter } from "./routers/project-admin";
import { healthRouter, meRouter, modelsRouter, projectsRouter } from "./routers/overview";
import { annotationsRouter, queueRouter } from "./routers/workspace";
import { usersRouter } from "./routers/users";
import { accountRouter } from "./routers/account";
import { membersRouter } from "./routers/members";
import { encoderRouter, projectSettingsRouter } from "./routers/project-settings";
import { reviewRouter } from "./routers/review";
import { selectionStatsRouter } from "./routers/selection-stats";
import { createCallerFactory, createRouter } from "./trpc";

export const appRouter = createRouter({
  health: healthRouter,
  me: meRouter,
  projects: projectsRouter,
  models: modelsRouter,
  queue: queueRouter,
  annotations: annotationsRouter,
  users: usersRouter,
  account: accountRouter,
  members: membersRouter,
  projectSettings: projectSettingsRouter,
  encoder: encoderRouter,
  audit: auditRouter,
  imports: importsRouter,
  jobs: jobsRouter,
  predictions: predictionsRouter,
  review: reviewRouter,
  selectionStats: selectionStatsRouter,
  cases: casesRouter,
  agreement: agreementRouter,
  gold: goldRouter,
  projectAdmin: projectAdminRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
