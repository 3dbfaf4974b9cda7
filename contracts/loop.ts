/** Inputs of the loop's procedures: the jobs panel, the data scientist's retrain button, a case's prediction. */
import { z } from "zod";

const ZId = z.string().min(1, "An id is required").max(64);

export const ZProjectJobsInput = z.object({ projectId: ZId, limit: z.number().int().min(1).max(200).default(50) });
export type ProjectJobsInput = z.infer<typeof ZProjectJobsInput>;

export const ZRequestTrainingInput = z.object({ projectId: ZId });
export type RequestTrainingInput = z.infer<typeof ZRequestTrainingInput>;

export const ZCasePredictionInput = z.object({ caseId: ZId });
export type CasePredictionInput = z.infer<typeof ZCasePredictionInput>;
