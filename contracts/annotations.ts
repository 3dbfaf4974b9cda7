/** Inputs of the annotation workspace (queue, case view, drafts, submit), shared by the page and the procedures. */
import { z } from "zod";
import { limitedText } from "./text-limits";
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

/** Most points of one freehand outline (a slow two-minute trace at 60 Hz, thinned, fits easily). */
export const MAX_FREEHAND_POINTS = 2000;
/** Most image regions of one annotation. */
export const MAX_REGIONS = 200;
/** Most freehand points over all regions of one annotation (keeps a draft far below the request limit). */
export const MAX_TOTAL_POINTS = 20_000;

/** A coordinate in image pixels: finite (zod 4 refuses NaN and ±Infinity), bounded before the server checks the image's size. */
const ZPixel = z.number().min(-1e6).max(1e6);

const regionBase = {
  /** The CaseImage id (the case's image; checked on the server). */
  imageId: ZId,
  /** DICOM frame number, 1-based (1 for a single-frame image or a PNG/JPEG). */
  frame: z.number().int().min(1).max(100_000),
  label: safeText(z.string().min(1).max(80)),
  /** The image's SOP Instance UID; set by the server from the stored file (null for PNG/JPEG), whatever the client sends. */
  sopInstanceUid: z.string().max(64).nullable().optional(),
};
const ZBox = { x: ZPixel, y: ZPixel, width: ZPixel.positive(), height: ZPixel.positive() };

/**
 * Image evidence for a label: a rectangle or an ellipse (its bounding box) or a closed freehand
 * outline, on one frame of one of the case's images. Coordinates are image pixels: x along the
 * columns, y down the rows, (0, 0) the top-left corner of the first pixel, so a region lies within
 * [0, columns] × [0, rows]. Independent of zoom, pan and window.
 */
export const ZImageRegion = z.discriminatedUnion("shape", [
  z.object({ shape: z.literal("rectangle"), ...regionBase, ...ZBox }),
  z.object({ shape: z.literal("ellipse"), ...regionBase, ...ZBox }),
  z.object({
    shape: z.literal("freehand"),
    ...regionBase,
    points: z
      .array(z.tuple([ZPixel, ZPixel]))
      .min(3, "A freehand outline needs at least 3 points")
      .max(MAX_FREEHAND_POINTS, `A freehand outline has at most ${MAX_FREEHAND_POINTS} points`),
  }),
]);
export type ImageRegion = z.infer<typeof ZImageRegion>;
export type RegionShape = ImageRegion["shape"];

/** [minX, minY, maxX, maxY] of a region, in image pixels. */
export function regionBounds(region: ImageRegion): [number, number, number, number] {
  if (region.shape !== "freehand") return [region.x, region.y, region.x + region.width, region.y + region.height];
  const xs = region.points.map((p) => p[0]);
  const ys = region.points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** What a clinician fills in for one case (a draft and a submission carry the same content). */
export const ZAnnotationContent = z.object({
  labels: z.array(safeText(z.string().min(1).max(80))).max(50),
  spans: z.array(ZEvidenceSpan).max(200).default([]),
  /** Image evidence (absent = none; optional so content written before regions existed still reads). */
  regions: z
    .array(ZImageRegion)
    .max(MAX_REGIONS)
    .refine((regions) => regions.reduce((n, r) => n + (r.shape === "freehand" ? r.points.length : 0), 0) <= MAX_TOTAL_POINTS, {
      message: `At most ${MAX_TOTAL_POINTS} freehand points in all`,
    })
    .optional(),
  uncertain: z.boolean().default(false),
  comment: limitedText("comment", safeText()).default(""),
});
export type AnnotationContent = z.infer<typeof ZAnnotationContent>;

export const ZProjectQueueInput = z.object({ projectId: ZId });
export type ProjectQueueInput = z.infer<typeof ZProjectQueueInput>;

/** Rows of the queue list per page (queue.project): default and most. */
export const QUEUE_PAGE_SIZE = 50;
export const MAX_QUEUE_PAGE_SIZE = 200;

/**
 * queue.project: the caller's queue list of one project — one page of its rows (`itemsOffset`, 0-based, and
 * `itemsLimit` rows), and the row of `caseId` (the case on screen) wherever it is, for its rank and reason.
 */
export const ZProjectQueueListInput = ZProjectQueueInput.extend({
  itemsOffset: z.number().int("The queue list's offset is a whole number").min(0, "The queue list's offset is 0 or more").max(10_000_000).default(0),
  itemsLimit: z.number().int("The queue list's page size is a whole number").min(1).max(MAX_QUEUE_PAGE_SIZE, `At most ${MAX_QUEUE_PAGE_SIZE} rows of the queue list per page`).default(QUEUE_PAGE_SIZE),
  caseId: ZId.optional(),
});
export type ProjectQueueListInput = z.input<typeof ZProjectQueueListInput>;

export const ZSkipInput = z.object({
  projectId: ZId,
  caseId: ZId,
  reason: limitedText("skipReason", safeText(z.string().trim().min(3, "Say why you skip this case (at least 3 characters)"))),
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
  theirs: { version: number; authorName: string; /** The caller wrote it (another tab or window of theirs). */ byYou: boolean; createdAt: string; labels: string[]; spans: EvidenceSpan[]; regions?: ImageRegion[]; uncertain: boolean; comment: string } | null;
  yours: AnnotationContent;
}
