import type { CaseContent } from "@/contracts/project-config";

/** How the pages name what a case of the project holds. */
export const CASE_CONTENT_LABELS: Record<CaseContent, string> = {
  narrative: "Narrative (report text)",
  images: "Images (DICOM, PNG, JPEG)",
  both: "Narrative and images",
};
