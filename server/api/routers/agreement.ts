import { ZAdjudicateInput, ZAdjudicationQueueInput, ZAgreementInput, ZRequestAdjudicationInput } from "@/contracts/agreement";
import { adjudicate, adjudicationQueue, requestAdjudication } from "../../services/adjudication-service";
import { getAgreement } from "../../services/agreement-service";
import { createRouter, procedure } from "../trpc";

/** Label quality (issue 14): inter-annotator agreement of a project; adjudication of disagreements. */
export const agreementRouter = createRouter({
  get: procedure("agreement.get").input(ZAgreementInput).query(({ ctx, input }) => getAgreement(ctx.service, input)),
  adjudicationQueue: procedure("agreement.adjudicationQueue").input(ZAdjudicationQueueInput).query(({ ctx, input }) => adjudicationQueue(ctx.service, input)),
  adjudicate: procedure("agreement.adjudicate").input(ZAdjudicateInput).mutation(({ ctx, input }) => adjudicate(ctx.service, input)),
  requestAdjudication: procedure("agreement.requestAdjudication").input(ZRequestAdjudicationInput).mutation(({ ctx, input }) => requestAdjudication(ctx.service, input)),
});
