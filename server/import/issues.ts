/**
 * What an import reports about bad input: which file, which line (for tables) and field, and why.
 * Every check in server/import returns these instead of throwing, so one run lists every problem
 * of a batch at once and the user can fix them all before trying again.
 */
export interface ImportIssue {
  /** The file as the user named it; entries of a zip are "archive.zip/inner/path.dcm". */
  file: string;
  /** 1-based line of the record in a CSV/JSONL file. */
  line?: number;
  /** Column or DICOM attribute concerned. */
  field?: string;
  message: string;
}

export function issueText(issue: ImportIssue): string {
  const where = [issue.file, issue.line !== undefined ? `line ${issue.line}` : null, issue.field ? `field ${issue.field}` : null].filter(Boolean).join(", ");
  return `${where}: ${issue.message}`;
}
