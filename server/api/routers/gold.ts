import { ZGoldListInput, ZGoldReportInput, ZMarkGoldInput, ZUnmarkGoldInput } from "@/contracts/gold";
import { goldReport, listGold, markGold, unmarkGold } from "../../services/gold-service";
import { createRouter, procedure } from "../trpc";

/** Gold cases (issue 14): mark / unmark cases with a known answer, list them, per-annotator accuracy on them. */
export const goldRouter = createRouter({
  mark: procedure("gold.mark").input(ZMarkGoldInput).mutation(({ ctx, input }) => markGold(ctx.service, input)),
  unmark: procedure("gold.unmark").input(ZUnmarkGoldInput).mutation(({ ctx, input }) => unmarkGold(ctx.service, input)),
  list: procedure("gold.list").input(ZGoldListInput).query(({ ctx, input }) => listGold(ctx.service, input)),
  report: procedure("gold.report").input(ZGoldReportInput).query(({ ctx, input }) => goldReport(ctx.service, input)),
});
