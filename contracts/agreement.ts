/**
 * Input of the label-agreement page and procedure (issue 14), and the shapes of its report.
 * The statistics themselves are computed by server/services/agreement-service.ts with workers/ml/agreement.ts.
 */
import { z } from "zod";
import { limitedText } from "./text-limits";
import { safeText } from "./text-safety";

export const ZAgreementInput = z.object({ projectId: z.string().min(1, "Choose a project").max(64) });
export type AgreementInput = z.infer<typeof ZAgreementInput>;

/** A statistic with its bootstrap 95% interval (null where undefined, e.g. no pairable case) and the cases it rests on. */
export interface AgreementEstimate {
  value: number | null;
  low: number | null;
  high: number | null;
  /** Cases with at least two annotators' ratings. */
  cases: number;
}

/** The adjudication queue of a project (cases whose annotators disagree, or sent by a reviewer). */
export const ZAdjudicationQueueInput = z.object({ projectId: z.string().min(1, "Choose a project").max(64) });
export type AdjudicationQueueInput = z.infer<typeof ZAdjudicationQueueInput>;

/** The adjudicator's final label for a case, with the reason (kept as the ADJUDICATED version's comment). */
export const ZAdjudicateInput = z.object({
  projectId: z.string().min(1, "Choose a project").max(64),
  caseId: z.string().min(1, "Choose a case").max(64),
  labels: z.array(z.string().min(1).max(64)).min(1, "Choose the final label").max(100),
  reason: limitedText("adjudicationReason", safeText(z.string().trim().min(3, "Write a reason of at least 3 characters"))),
});
export type AdjudicateInput = z.infer<typeof ZAdjudicateInput>;

/** A reviewer sends any case to adjudication. */
export const ZRequestAdjudicationInput = z.object({
  projectId: z.string().min(1, "Choose a project").max(64),
  caseId: z.string().min(1, "Choose a case").max(64),
});
export type RequestAdjudicationInput = z.infer<typeof ZRequestAdjudicationInput>;
