/** Inputs of the import page, upload route, batch list and label export (shared by forms and server). */
import { z } from "zod";
import { LABEL_KEY_PATTERN } from "./project-config";

const optionalColumn = z
  .string()
  .trim()
  .max(200, "Column names have at most 200 characters")
  .optional()
  .transform((value) => (value ? value : undefined));

/** Which column holds what; empty fields fall back to the defaults (id|case_id|note_id, text|narrative|transcription, label, split, file). */
export const ZColumnMapping = z.object({
  idCol: optionalColumn,
  textCol: optionalColumn,
  labelCol: optionalColumn,
  splitCol: optionalColumn,
  fileCol: optionalColumn,
  /** Comma-separated in the form; empty keeps every other column as metadata. */
  metadataCols: z
    .union([z.array(z.string().trim().min(1).max(200)).max(500), z.string().max(20_000)])
    .optional()
    .transform((value) => {
      const list = typeof value === "string" ? value.split(",").map((c) => c.trim()).filter(Boolean) : value;
      return list && list.length ? list : undefined;
    }),
  /**
   * Narratives in which the identifier scan found likely identifiers: "mask" imports them with the
   * findings masked, "keep" as written (audited with counts); absent, the import reports them and
   * writes nothing (server/import/narrative-identifiers.ts).
   */
  narrativeIdentifiers: z.enum(["mask", "keep"]).optional(),
  /**
   * Labels of the file that are not in the schema → the class key they import as (the import
   * page's answer to "N labels not in the schema"). Keys must be classes of the schema.
   */
  labelMap: z
    .record(z.string().min(1).max(500), z.string().regex(LABEL_KEY_PATTERN, "Not a label key"))
    .refine((map) => Object.keys(map).length <= 5000, "At most 5,000 mapped labels")
    .optional(),
  /**
   * Labels of the file that are not in the schema and are to be ADDED to it as new classes (the
   * import page's "add to the schema"): the classes are written in the same transaction as the
   * batch (key, display name, colour and a free shortcut derived by the server), so a batch that is
   * not imported adds nothing. Only for a caller who may configure the project.
   */
  addLabels: z
    .array(z.string().trim().min(1, "A label to add must not be empty").max(100, "A label to add has at most 100 characters"))
    .max(100, "At most 100 labels can be added to the schema")
    .optional()
    .transform((list) => (list && list.length ? [...new Set(list)] : undefined)),
});
export type ColumnMappingInput = z.input<typeof ZColumnMapping>;

/** What to do with images already in the project (identical bytes): refuse naming them, leave them out, or import them again. */
export const ZDuplicateImagesChoice = z.enum(["ask", "skip", "import"]).default("ask");
export type DuplicateImagesChoice = z.infer<typeof ZDuplicateImagesChoice>;

export const ZListImportBatchesInput = z.object({ projectId: z.string().min(1).max(64) });
export type ListImportBatchesInput = z.infer<typeof ZListImportBatchesInput>;

export const ZExportQuery = z.object({
  format: z.enum(["jsonl", "csv"]).default("jsonl"),
  history: z
    .enum(["0", "1", "true", "false"])
    .optional()
    .transform((value) => value === "1" || value === "true"),
});
export type ExportQuery = z.infer<typeof ZExportQuery>;

/** The file types the upload form offers (the server decides by content, not by extension). */
export const IMPORT_ACCEPT = ".csv,.jsonl,.ndjson,.dcm,.dicom,.zip,.png,.jpg,.jpeg";

/** Words for each kind of likely identifier the narrative scan reports (server/import/narrative-identifiers.ts IDENTIFIER_KINDS), singular and plural. */
const IDENTIFIER_KIND_WORDS: Record<string, readonly [string, string]> = {
  name: ["name", "names"],
  mrn: ["medical record number", "medical record numbers"],
  dob: ["date of birth", "dates of birth"],
  phone: ["phone number", "phone numbers"],
  email: ["e-mail address", "e-mail addresses"],
  address: ["address", "addresses"],
};

/** "20 names, 1 address" — identifier counts by kind in words, most frequent first (import page and row messages). */
export function identifierCountsText(byKind: Readonly<Partial<Record<string, number>>>): string {
  return Object.entries(byKind)
    .filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([kind, n]) => {
      const [one, many] = IDENTIFIER_KIND_WORDS[kind] ?? [kind, kind];
      return `${n} ${n === 1 ? one : many}`;
    })
    .join(", ");
}

/**
 * The one warning an import gives when cases of its batch do not fit what the project's cases hold
 * (its caseContent, Settings → General): image-only cases in a narrative project, narrative-only
 * cases in a project of images. The cases are still imported; null when every case fits (always
 * for "both"). Counts are of the batch's cases.
 * @param caseContent the project's "narrative" | "images" | "both"
 * @param counts the batch's cases: `total`, `narrativeOnly` (text, no image), `imagesOnly` (images, no text)
 */
export function caseContentWarning(caseContent: string, counts: { total: number; narrativeOnly: number; imagesOnly: number }): string | null {
  const unfit = caseContent === "narrative" ? counts.imagesOnly : caseContent === "images" ? counts.narrativeOnly : 0;
  if (unfit <= 0) return null;
  const of = `${unfit.toLocaleString("en-US")} of ${counts.total.toLocaleString("en-US")} ${counts.total === 1 ? "case" : "cases"} ${unfit === 1 ? "holds" : "hold"}`;
  return caseContent === "narrative"
    ? `${of} only images, but this project's cases are narratives — see Settings → General`
    : `${of} only a narrative, but this project's cases are images — see Settings → General`;
}
