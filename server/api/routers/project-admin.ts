import { ZCreateProjectInput, ZProjectIdInput, ZSetArchivedInput, ZUpdateLabelSchemaInput, ZUpdateProjectInput } from "@/contracts/project-admin";
import {
  createProject,
  exportProjectConfig,
  getLabelUsage,
  getProjectAdmin,
  setProjectArchived,
  updateLabelSchema,
  updateProject,
} from "../../services/project-admin-service";
import { createRouter, procedure } from "../trpc";

/** Creating and configuring projects (server/services/project-admin-service.ts). */
export const projectAdminRouter = createRouter({
  create: procedure("projectAdmin.create").input(ZCreateProjectInput).mutation(({ ctx, input }) => createProject(ctx.service, input)),
  get: procedure("projectAdmin.get").input(ZProjectIdInput).query(({ ctx, input }) => getProjectAdmin(ctx.service, input)),
  update: procedure("projectAdmin.update").input(ZUpdateProjectInput).mutation(({ ctx, input }) => updateProject(ctx.service, input)),
  labelUsage: procedure("projectAdmin.labelUsage").input(ZProjectIdInput).query(({ ctx, input }) => getLabelUsage(ctx.service, input)),
  updateLabels: procedure("projectAdmin.updateLabels").input(ZUpdateLabelSchemaInput).mutation(({ ctx, input }) => updateLabelSchema(ctx.service, input)),
  setArchived: procedure("projectAdmin.setArchived").input(ZSetArchivedInput).mutation(({ ctx, input }) => setProjectArchived(ctx.service, input)),
  exportConfig: procedure("projectAdmin.exportConfig").input(ZProjectIdInput).query(({ ctx, input }) => exportProjectConfig(ctx.service, input)),
});
