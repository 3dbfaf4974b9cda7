/**
 * Inputs of the model-review pages and procedures (one schema each, shared by the form and the
 * procedure). The review settings (reviewTolerance, fourEyes) are part of contracts/project-config.ts.
 */
import { z } from "zod";
import { limitedText } from "./text-limits";
import { safeText } from "./text-safety";

export const ZModelVersionIdInput = z.object({ modelVersionId: z.string().min(1, "Choose a model version").max(64) });
export type ModelVersionIdInput = z.infer<typeof ZModelVersionIdInput>;

export const REVIEW_DECISIONS = ["approve", "reject"] as const;

/**
 * A reviewer's decision. The note is required for both outcomes: an approval says why the
 * candidate is good enough, a rejection what was wrong — both end up in the audit log.
 */
export const ZReviewDecisionInput = z.object({
  modelVersionId: z.string().min(1, "Choose a model version").max(64),
  decision: z.enum(REVIEW_DECISIONS),
  note: limitedText("reviewNote", safeText(z.string().trim().min(3, "Write a note of at least 3 characters explaining the decision"))),
});
export type ReviewDecisionInput = z.infer<typeof ZReviewDecisionInput>;
