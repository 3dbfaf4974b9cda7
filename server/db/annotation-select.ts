/**
 * The annotation fields the readers of server/db select, named once: an annotation's answer
 * (ANNOTATION_ANSWER_SELECT: who wrote it — id and name —, which version, what kind, its labels,
 * spans, comment, "uncertain" flag and time) and the whole record (ANNOTATION_RECORD_SELECT: the
 * answer with its image regions, skip reason and time spent in ms), as the case view and the
 * export read it.
 */
import type { Prisma } from "./generated/client";

export const ANNOTATION_ANSWER_SELECT = {
  id: true,
  authorId: true,
  version: true,
  kind: true,
  labels: true,
  spans: true,
  comment: true,
  uncertain: true,
  createdAt: true,
  author: { select: { name: true } },
} as const satisfies Prisma.AnnotationSelect;

export const ANNOTATION_RECORD_SELECT = {
  ...ANNOTATION_ANSWER_SELECT,
  regions: true,
  skipReason: true,
  timeSpentMs: true,
} as const satisfies Prisma.AnnotationSelect;
