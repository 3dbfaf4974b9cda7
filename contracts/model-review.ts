/**
 * Inputs of the model-review pages and procedures (one schema each, shared by the form and the
 * procedure), plus the review settings a project may carry in its `settings` JSON.
 */
import { z } from "zod";

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
  note: z.string().trim().min(3, "Write a note of at least 3 characters explaining the decision").max(2000, "Keep the note under 2000 characters"),
});
export type ReviewDecisionInput = z.infer<typeof ZReviewDecisionInput>;

/** Default worst-case drop of minority recall / AUPRC (absolute) tolerated before the guard flags a candidate. */
export const DEFAULT_REVIEW_TOLERANCE = 0.02;

/**
 * Review-related project settings with their defaults. `settings` is free JSON, so a missing or
 * malformed value falls back to the default instead of failing the page.
 */
export const ZReviewSettings = z.object({
  reviewTolerance: z.number().min(0).max(1).catch(DEFAULT_REVIEW_TOLERANCE).default(DEFAULT_REVIEW_TOLERANCE),
  fourEyes: z.boolean().catch(false).default(false),
});
export type ReviewSettings = z.infer<typeof ZReviewSettings>;

export function readReviewSettings(settings: unknown): ReviewSettings {
  const source = settings && typeof settings === "object" ? settings : {};
  return ZReviewSettings.parse(source);
}
