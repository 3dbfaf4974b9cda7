/** Inputs of the loop's procedures: the jobs panel, the data scientist's retrain button, a case's prediction. */
import { z } from "zod";

const ZId = z.string().min(1, "An id is required").max(64);

export const ZProjectJobsInput = z.object({ projectId: ZId, limit: z.number().int().min(1).max(200).default(50) });
export type ProjectJobsInput = z.infer<typeof ZProjectJobsInput>;

export const ZRequestTrainingInput = z.object({ projectId: ZId });
export type RequestTrainingInput = z.infer<typeof ZRequestTrainingInput>;

export const ZCasePredictionInput = z.object({ caseId: ZId });
export type CasePredictionInput = z.infer<typeof ZCasePredictionInput>;

/**
 * The loop check's latest decision for a project that users must know about (stored by
 * workers/jobs/loop-triggers.ts, read by server/services/loop-service.ts): an automatic training
 * `deferred` to `until` (ISO time) by settings.minTrainingIntervalMinutes after model v`latestModelVersion`,
 * or a fully annotated round that added nothing trainable while `awaitingAdjudication` of its cases
 * split without a majority. `since`: when the check first decided it (ISO). Null when nothing waits.
 */
export const ZLoopStatus = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("deferred"),
    reason: z.enum(["round-complete", "n-labels", "schedule"]),
    until: z.string(),
    minIntervalMinutes: z.number(),
    latestModelVersion: z.number().int().nullable(),
    since: z.string(),
  }),
  z.object({ kind: z.literal("no-trainable-labels"), roundNumber: z.number().int(), awaitingAdjudication: z.number().int(), since: z.string() }),
]);
export type LoopStatus = z.infer<typeof ZLoopStatus>;
