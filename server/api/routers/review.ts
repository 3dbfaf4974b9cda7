import { ZModelVersionIdInput, ZReviewDecisionInput } from "@/contracts/model-review";
import { decideModel, getModelReview, listModelsForReview } from "../../services/review-service";
import { createRouter, procedure } from "../trpc";

/** Model review: the candidate beside the active model, and the reviewer's decision. */
export const reviewRouter = createRouter({
  list: procedure("review.list").query(({ ctx }) => listModelsForReview(ctx.service)),
  get: procedure("review.get").input(ZModelVersionIdInput).query(({ ctx, input }) => getModelReview(ctx.service, input)),
  decide: procedure("review.decide").input(ZReviewDecisionInput).mutation(({ ctx, input }) => decideModel(ctx.service, input)),
});
