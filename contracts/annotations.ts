/** Inputs of the annotation workspace (queue, case view, drafts, submit), shared by the page and the procedures. */
import { z } from "zod";
import { safeText, unsafeTextReason } from "./text-safety";

const ZId = z.string().min(1).max(64);

/**
 * A span's quoted text: a boundary inside a surrogate pair (half an emoji) leaves an unpaired
 * surrogate at its start or end, which no database or client can store or show.
 */
const ZSpanText = z
  .string()
  .min(1)
  .max(10_000)
  .superRefine((text, ctx) => {
    const first = text.charCodeAt(0);
    const last = text.charCodeAt(text.length - 1);
    if ((first >= 0xdc00 && first <= 0xdfff) || (last >= 0xd800 && last <= 0xdbff)) {
      ctx.addIssue({ code: "custom", message: "The span starts or ends inside a character made of two UTF-16 units (an emoji, for instance): select whole characters." });
      return;
    }
    const reason = unsafeTextReason(text);
    if (reason) ctx.addIssue({ code: "custom", message: `The span's text ${reason}.` });
  });

/**
 * An evidence span in the narrative: [start, end) in UTF-16 code units, as the browser's selection
 * counts them (the export adds code-point offsets, see server/services/export-service.ts).
 */
export const ZEvidenceSpan = z
  .object({
    start: z.number().int().min(0),
    end: z.number().int().min(1),
    label: safeText(z.string().min(1).max(80)),
    text: ZSpanText,
  })
  .refine((span) => span.end > span.start, { message: "A span must end after it starts", path: ["end"] });
export type EvidenceSpan = z.infer<typeof ZEvidenceSpan>;

/** What a clinician fills in for one case (a draft and a submission carry the same content). */
export const ZAnnotationContent = z.object({
  labels: z.array(safeText(z.string().min(1).max(80))).max(50),
  spans: z.array(ZEvidenceSpan).max(200).default([]),
  uncertain: z.boolean().default(false),
  comment: safeText(z.string().max(4000)).default(""),
});
export type AnnotationContent = z.infer<typeof ZAnnotationContent>;

export const ZProjectQueueInput = z.object({ projectId: ZId });
export type ProjectQueueInput = z.infer<typeof ZProjectQueueInput>;

export const ZSkipInput = z.object({
  projectId: ZId,
  caseId: ZId,
  reason: safeText(z.string().trim().min(3, "Say why you skip this case (at least 3 characters)").max(500)),
});
export type SkipInput = z.infer<typeof ZSkipInput>;

export const ZCaseInput = z.object({ caseId: ZId });
export type CaseInput = z.infer<typeof ZCaseInput>;

export const ZSaveDraftInput = z.object({
  caseId: ZId,
  /** The case version the draft was started from (see ZSubmitInput.expectedVersion). */
  baseVersion: z.number().int().min(0),
  content: ZAnnotationContent,
});
export type SaveDraftInput = z.infer<typeof ZSaveDraftInput>;

export const ZSubmitInput = z.object({
  caseId: ZId,
  /**
   * The case version the clinician started from: the number of submitted annotations of the case
   * (annotationsPerCase = 1) or of the clinician's own on it (annotationsPerCase > 1). A newer one
   * in the database means someone else (or another tab) submitted meanwhile: CONFLICT.
   */
  expectedVersion: z.number().int().min(0),
  content: ZAnnotationContent,
  /** Visible time on the case, measured by the page. */
  timeSpentMs: z.number().int().min(0).max(24 * 3600 * 1000),
  /** Lease the caller's next queue case of this project in the same request (saves a round trip). */
  advanceInProject: ZId.optional(),
});
export type SubmitInput = z.infer<typeof ZSubmitInput>;

/** The part of a CONFLICT error the page needs for its compare view. */
export interface AnnotationConflict {
  currentVersion: number;
  theirs: { version: number; authorName: string; createdAt: string; labels: string[]; spans: EvidenceSpan[]; uncertain: boolean; comment: string } | null;
  yours: AnnotationContent;
}
