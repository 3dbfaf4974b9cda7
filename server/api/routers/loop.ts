import { ZCasePredictionInput, ZProjectJobsInput, ZRequestTrainingInput } from "@/contracts/loop";
import { getCasePrediction, listProjectJobs, requestTraining } from "../../services/loop-service";
import { createRouter, procedure } from "../trpc";

export const jobsRouter = createRouter({
  list: procedure("jobs.list").input(ZProjectJobsInput).query(({ ctx, input }) => listProjectJobs(ctx.service, input)),
  requestTraining: procedure("jobs.requestTraining").input(ZRequestTrainingInput).mutation(({ ctx, input }) => requestTraining(ctx.service, input)),
});

export const predictionsRouter = createRouter({
  forCase: procedure("predictions.forCase").input(ZCasePredictionInput).query(({ ctx, input }) => getCasePrediction(ctx.service, input)),
});
