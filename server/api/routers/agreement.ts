import { ZAgreementInput } from "@/contracts/agreement";
import { getAgreement } from "../../services/agreement-service";
import { createRouter, procedure } from "../trpc";

/** Label quality (issue 14): inter-annotator agreement of a project. */
export const agreementRouter = createRouter({
  get: procedure("agreement.get").input(ZAgreementInput).query(({ ctx, input }) => getAgreement(ctx.service, input)),
});
