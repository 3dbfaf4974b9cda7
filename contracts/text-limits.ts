/**
 * The most characters of every free-text field a clinician or data scientist fills in: ONE table,
 * read by the zod schema of each input (contracts/annotations.ts, agreement.ts, model-review.ts,
 * project-admin.ts, project-config.ts, users.ts, case-browser.ts) — so the procedure refuses longer
 * text with BAD_REQUEST and a message on that field ("content.comment: The comment is at most 5,000
 * characters (this one has 200,000).") — and by the forms, which set `maxLength` on the input and
 * show a counter near the limit (app/_components/char-count.tsx).
 *
 * Characters are Unicode code points, as zod's `.max` counts them (an emoji is one). An input's
 * `maxLength` counts UTF-16 units (an emoji is two), so a form never lets through more than the
 * server takes.
 *
 * Limits of fields stored in a project's configuration (project name and description, label name
 * and guideline) are only ever raised: `parseStoredProjectConfig` re-validates stored rows with them.
 */
import { z } from "zod";

export const TEXT_LIMITS = {
  /** A clinician's comment on an annotation (submission and draft alike). */
  comment: 5000,
  /** Why a clinician skips a case (kept as the SKIPPED version's reason). */
  skipReason: 1000,
  /** Why an adjudicator chose the final label (kept as the ADJUDICATED version's comment, so at most `comment`). */
  adjudicationReason: 2000,
  /** A reviewer's note on approving or rejecting a model (kept in the audit log). */
  reviewNote: 2000,
  projectName: 100,
  projectDescription: 2000,
  /** A label's display name. */
  labelName: 100,
  /** A label's guideline, shown to clinicians beside the label. */
  labelGuideline: 1000,
  /** A user's display name. */
  personName: 120,
  /** The case browser's full-text search. */
  caseSearch: 200,
} as const;
export type TextField = keyof typeof TEXT_LIMITS;

/** What each field is called in its message. */
const FIELD_NAMES: Record<TextField, string> = {
  comment: "comment",
  skipReason: "reason for skipping",
  adjudicationReason: "reason",
  reviewNote: "note",
  projectName: "project name",
  projectDescription: "description",
  labelName: "label name",
  labelGuideline: "guideline",
  personName: "name",
  caseSearch: "search",
};

const count = (n: number) => n.toLocaleString("en-US");

/** "The comment is at most 5,000 characters (this one has 200,000)." — `length` left out when unknown. */
export function tooLongMessage(field: TextField, length?: number): string {
  const has = length === undefined ? "" : ` (this one has ${count(length)})`;
  return `The ${FIELD_NAMES[field]} is at most ${count(TEXT_LIMITS[field])} characters${has}.`;
}

/**
 * `schema` with the field's maximum: longer text is refused with `tooLongMessage` (its length
 * included). Apply after `.trim()` so surrounding blanks do not count.
 */
export function limitedText(field: TextField, schema: z.ZodString = z.string()): z.ZodString {
  return schema.max(TEXT_LIMITS[field], { error: (issue) => tooLongMessage(field, typeof issue.input === "string" ? codePoints(issue.input) : undefined) });
}

/** Length in Unicode code points (what the limits count). */
export function codePoints(text: string): number {
  return [...text].length;
}

/** From this share of the limit a form shows its counter ("4,120 / 5,000"). */
export const COUNTER_FROM = 0.8;

/** Whether a form shows the counter of `field` for text of `length` characters. */
export function showsCounter(field: TextField, length: number): boolean {
  return length >= TEXT_LIMITS[field] * COUNTER_FROM;
}
