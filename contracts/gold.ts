/**
 * Gold cases (issue 14 item 3): inputs of marking, listing and the gold-accuracy report. A gold case is a
 * case with a known answer (imported with a label, or adjudicated) that the queue mixes into clinicians'
 * work at the project's `settings.goldRate` (contracts/project-config.ts) without telling them which;
 * server/services/gold-service.ts holds the rules.
 */
import { z } from "zod";
import { MAX_BULK_CASES } from "./case-browser";

const ZId = z.string().min(1, "Choose a project").max(64);

/** Fewest gold answers an annotator's accuracy must rest on before the report may flag them. */
export const GOLD_MIN_ANSWERS = 5;
/** Gold answers per point of the report's accuracy-over-time series (the default batch). */
export const DEFAULT_GOLD_BATCH = 10;

const ZGoldCaseIds = z
  .array(z.string().min(1).max(64))
  .min(1, "Select at least one case")
  .max(MAX_BULK_CASES, `Select at most ${MAX_BULK_CASES} cases at once`)
  .refine((ids) => new Set(ids).size === ids.length, "A case is selected twice");

/** Mark cases as gold (their answer: the newest adjudicated label, else the imported label). */
export const ZMarkGoldInput = z.object({ projectId: ZId, caseIds: ZGoldCaseIds });
export type MarkGoldInput = z.infer<typeof ZMarkGoldInput>;

/** Stop using cases as gold (their servings and answers are kept, but no longer reported). */
export const ZUnmarkGoldInput = z.object({ projectId: ZId, caseIds: ZGoldCaseIds });
export type UnmarkGoldInput = z.infer<typeof ZUnmarkGoldInput>;

export const ZGoldListInput = z.object({ projectId: ZId });
export type GoldListInput = z.infer<typeof ZGoldListInput>;

/** The per-annotator accuracy report; `batchSize` gold answers make one point of the series over time. */
export const ZGoldReportInput = z.object({
  projectId: ZId,
  batchSize: z.number().int("A whole number of answers").min(2, "At least 2 answers per batch").max(500, "At most 500 answers per batch").default(DEFAULT_GOLD_BATCH),
});
export type GoldReportInput = z.input<typeof ZGoldReportInput>;
