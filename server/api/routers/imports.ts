import { ZListImportBatchesInput } from "@/contracts/imports";
import { listImportBatches } from "../../services/import-service";
import { createRouter, procedure } from "../trpc";

/** Uploads and exports are route handlers (files); the batch list is a plain query. */
export const importsRouter = createRouter({
  listBatches: procedure("imports.listBatches").input(ZListImportBatchesInput).query(({ ctx, input }) => listImportBatches(ctx.service, input)),
});
