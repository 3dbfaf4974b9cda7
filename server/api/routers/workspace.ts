import { ZCaseInput, ZProjectQueueInput, ZProjectQueueListInput, ZSaveDraftInput, ZSkipInput, ZSubmitInput } from "@/contracts/annotations";
import { getCaseView, saveDraft, submitAnnotation } from "../../services/annotation-service";
import { myQueueSummary } from "../../services/project-service";
import { myQueues, projectQueue, upcoming } from "../../services/queue-read-service";
import { leaseNext, skipCase } from "../../services/queue-service";
import { createRouter, procedure } from "../trpc";

export const queueRouter = createRouter({
  summary: procedure("queue.summary").query(({ ctx }) => myQueueSummary(ctx.service)),
  mine: procedure("queue.mine").query(({ ctx }) => myQueues(ctx.service)),
  project: procedure("queue.project").input(ZProjectQueueListInput).query(({ ctx, input }) => projectQueue(ctx.service, input)),
  upcoming: procedure("queue.upcoming").input(ZProjectQueueInput).query(({ ctx, input }) => upcoming(ctx.service, input)),
  next: procedure("queue.next").input(ZProjectQueueInput).mutation(({ ctx, input }) => leaseNext(ctx.service, input)),
  skip: procedure("queue.skip").input(ZSkipInput).mutation(({ ctx, input }) => skipCase(ctx.service, input)),
});

export const annotationsRouter = createRouter({
  case: procedure("annotations.case").input(ZCaseInput).query(({ ctx, input }) => getCaseView(ctx.service, input)),
  saveDraft: procedure("annotations.saveDraft").input(ZSaveDraftInput).mutation(({ ctx, input }) => saveDraft(ctx.service, input)),
  submit: procedure("annotations.submit").input(ZSubmitInput).mutation(({ ctx, input }) => submitAnnotation(ctx.service, input)),
});
