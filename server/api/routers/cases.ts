import {
  ZCaseBrowserProjectInput,
  ZCaseCountInput,
  ZCaseDetailInput,
  ZCaseListInput,
  ZMoveCasesInput,
  ZPrioritizeCasesInput,
  ZUnprioritizeCasesInput,
} from "@/contracts/case-browser";
import { caseBrowserOptions, countCases, getCaseDetail, listCases, moveCases, prioritizeCases, unprioritizeCases } from "../../services/case-browser-service";
import { createRouter, procedure } from "../trpc";

/** The case browser (data manager): list, count, filter options, one case read-only, bulk actions. */
export const casesRouter = createRouter({
  list: procedure("cases.list").input(ZCaseListInput).query(({ ctx, input }) => listCases(ctx.service, input)),
  count: procedure("cases.count").input(ZCaseCountInput).query(({ ctx, input }) => countCases(ctx.service, input)),
  options: procedure("cases.options").input(ZCaseBrowserProjectInput).query(({ ctx, input }) => caseBrowserOptions(ctx.service, input)),
  get: procedure("cases.get").input(ZCaseDetailInput).query(({ ctx, input }) => getCaseDetail(ctx.service, input)),
  move: procedure("cases.move").input(ZMoveCasesInput).mutation(({ ctx, input }) => moveCases(ctx.service, input)),
  prioritize: procedure("cases.prioritize").input(ZPrioritizeCasesInput).mutation(({ ctx, input }) => prioritizeCases(ctx.service, input)),
  unprioritize: procedure("cases.unprioritize").input(ZUnprioritizeCasesInput).mutation(({ ctx, input }) => unprioritizeCases(ctx.service, input)),
});
