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

/** Issues of one cause: how many, and the first few in full (file, line, field, message). */
export interface IssueGroup {
  /**
   * The cause as shown: the field and the message, with each quoted value or number that differs
   * between the group's issues generalised ("…", N) and the ones they share kept as written
   * ("U+0000 at position N", "split "HOLDOUT" is not one of …").
   */
  cause: string;
  count: number;
  /** Distinct files the group's issues name (the first 20). */
  files: string[];
  /** The first `examples` issues of the group, in the order they were found. */
  examples: ImportIssue[];
}

/** Quoted values and numbers: what varies from row to row within one cause. */
const VARYING = /"[^"]*"|\b\d+(?:\.\d+)?\b/g;

/** The key an issue shares with others: field + message without the row's own values. */
export function issueCause(issue: ImportIssue): string {
  const message = issue.message.replace(VARYING, (token) => (token.startsWith('"') ? '"…"' : "N"));
  return issue.field ? `${issue.field}: ${message}` : message;
}

/**
 * Groups issues by cause (first-seen order), so 300 rows with the same fault are one entry with
 * a count and the first few lines, not 300 rows of a table.
 */
export function groupIssues(issues: readonly ImportIssue[], examples = 5): IssueGroup[] {
  const groups = new Map<string, IssueGroup & { first: ImportIssue; shared: (string | null)[] }>();
  for (const issue of issues) {
    const key = issueCause(issue);
    const values = issue.message.match(VARYING) ?? [];
    let group = groups.get(key);
    if (!group) {
      group = { cause: key, count: 0, files: [], examples: [], first: issue, shared: [...values] };
      groups.set(key, group);
    } else {
      group.shared = group.shared.map((value, k) => (value !== null && value === values[k] ? value : null));
    }
    group.count++;
    if (group.files.length < 20 && !group.files.includes(issue.file)) group.files.push(issue.file);
    if (group.examples.length < examples) group.examples.push(issue);
  }
  return [...groups.values()].map(({ first, shared, ...group }) => {
    let k = 0;
    const message = first.message.replace(VARYING, (token) => shared[k++] ?? (token.startsWith('"') ? '"…"' : "N"));
    return { ...group, cause: first.field ? `${first.field}: ${message}` : message };
  });
}
