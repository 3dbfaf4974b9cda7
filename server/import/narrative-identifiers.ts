/**
 * A scan of narratives for likely direct identifiers before they are imported: person names next to
 * a title or in a signature line, MRN-like numbers (labelled record/account/ID numbers, SSN-shaped
 * numbers, long bare digit runs), dates of birth, phone numbers, e-mail and street addresses.
 *
 * Rule-based (regular expressions with context words), not a model: it favours recall on the shapes
 * identifiers take in clinical notes and skips the placeholders de-identified corpora use ("Dr. XYZ",
 * "Mr. ABC", "MM/DD/YYYY"). Measured in docs/security.md ("Narratives": recall on seeded synthetic
 * notes, flag rate on mtsamples; `npm run scan:identifiers`).
 *
 * Findings carry kind and character span only. Callers report file, line and kind — never the
 * matched text (it is the identifier).
 */

export const IDENTIFIER_KINDS = ["name", "mrn", "dob", "phone", "email", "address"] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export interface IdentifierFinding {
  kind: IdentifierKind;
  /** Character offsets into the scanned text, [start, end). */
  start: number;
  end: number;
}

/** What masking writes in place of a finding. */
export const MASKS: Record<IdentifierKind, string> = {
  name: "[NAME]",
  mrn: "[ID]",
  dob: "[DOB]",
  phone: "[PHONE]",
  email: "[EMAIL]",
  address: "[ADDRESS]",
};

const NAME_WORD = String.raw`(?:[A-Z]['’])?[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?`;
const INITIAL = String.raw`[A-Z]\.`;
/** Placeholders of de-identified corpora and words that follow a title without being a name. */
const NOT_A_NAME = /^(?:[A-Z]{1,5}|X+|Xx+|Sample|Doe|Blank|Name|Patient|Practitioner|Office|Note|Visit|Assistant|Resident|Fellow|Staff|Team|On|Call|In|The|Of|And|Was|Is|Has|Had|At|To)$/;
const PLACEHOLDER_WORD = /^(?:[A-Z]{2,5}|A[Bb][Cc]\w*|X[Yy][Zz]\w*|[Xx]+|Sample|Blank)$/;

const MONTHS = "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
const DATE = String.raw`(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|${MONTHS}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(?:st|nd|rd|th)?\s+${MONTHS}\.?,?\s+\d{4})`;
const STREET_SUFFIX = "(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl)";

interface Rule {
  kind: IdentifierKind;
  pattern: RegExp;
  /** The capture group holding the identifier (0: the whole match). */
  group?: number;
  /** Refuses a candidate (placeholders, numbers that are measurements). */
  reject?: (value: string, match: RegExpExecArray) => boolean;
  /** Shortens a candidate (a sentence's first word after a name); "" refuses it. */
  trim?: (value: string) => string;
}

/** Words that start the next sentence or continue the text after a name, never part of it. */
const AFTER_NAME = new Set(["She", "He", "They", "The", "His", "Her", "It", "We", "I", "No", "Two", "All", "Again", "Then", "This", "That", "Also", "And", "On", "In", "At", "General", "Practitioner", "Office"]);

/** Drops trailing initials-less common words ("Dr. Smith. She" → "Smith"); "" when nothing name-like is left. */
function trimName(value: string): string {
  const tokens = value.split(" ");
  while (tokens.length && AFTER_NAME.has(tokens[tokens.length - 1]!.replace(/[.,]$/, ""))) tokens.pop();
  const kept = tokens.join(" ");
  return isPlaceholderName(kept) ? "" : kept;
}

/** A case-insensitive spelling of `text` for a pattern whose other parts must keep their case. */
function anyCase(text: string): string {
  return text.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

const SIGNATURE_LABELS = [
  "electronically signed by", "signed by", "dictated by", "transcribed by", "reviewed by", "attending physician", "attending", "referring physician",
  "primary care physician", "surgeon", "sincerely", "patient's name", "patient name", "name", "patient", "guardian", "next of kin", "emergency contact", "contact person",
]
  .map((label) => anyCase(label).replace(/ /g, String.raw`\s+`))
  .concat(["PCP", "cc"]);

function isPlaceholderName(value: string): boolean {
  const words = value.split(/[\s,]+/).filter((w) => w && !/^[A-Z]\.$/.test(w));
  return words.length === 0 || words.every((w) => PLACEHOLDER_WORD.test(w)) || NOT_A_NAME.test(words[0]!);
}

const RULES: Rule[] = [
  { kind: "email", pattern: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g },
  // NANP numbers with a separator or parentheses, optional +1 and extension; 7-digit numbers after a phone label.
  { kind: "phone", pattern: /(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?(?![\w/-])/g },
  { kind: "phone", pattern: /\b(?:phone|tel|telephone|cell|mobile|pager|fax|call(?:ed)? (?:at|on))\s*(?:number|no\.?|#)?\s*[:#]?\s*(\+?[\d(][\d\s().-]{6,16}\d)/gi, group: 1 },
  // Labelled record numbers: MRN 12345678, Medical record number: AB-123456, Acct #: 99812, SSN.
  {
    kind: "mrn",
    pattern: /\b(?:MRN|MR\s?#|MR\s+(?:number|no\.?)|medical\s+record(?:\s+(?:number|no\.?|#))?|patient\s+ID|pt\.?\s+ID|hospital\s+(?:number|no\.?|#)|account(?:\s+(?:number|no\.?|#))?|acct\.?(?:\s*(?:number|no\.?|#))?|chart(?:\s+(?:number|no\.?|#))|SSN|social\s+security(?:\s+(?:number|no\.?|#))?|ID\s*(?:number|no\.?|#))\s*(?:is\s+)?[:#.]?\s*([A-Z]{0,4}[-\s]?\d[\d-]{3,15}\d)/gi,
    group: 1,
    reject: (value) => /^[^1-9]*$/.test(value), // "0000000": a placeholder
  },
  { kind: "mrn", pattern: /(?<![\w.,/-])\d{3}-\d{2}-\d{4}(?![\w-])/g },
  // A bare run of 6–12 digits (not a decimal, not a measurement, not a phone number already found).
  {
    kind: "mrn",
    pattern: /(?<![\w.,/:-])\d{6,12}(?![\w.,/-])/g,
    reject: (_value, match) => /^\s*(?:mg|mcg|ml|mL|g|kg|units?|cc|mm|cm|%)/.test(match.input.slice(match.index + match[0].length, match.index + match[0].length + 8)),
  },
  // Date of birth: a label, then a date (numeric, ISO, or with a month name).
  { kind: "dob", pattern: new RegExp(String.raw`\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)\s*(?:is|was|of)?\s*[:\-]?\s*(${DATE})`, "gi"), group: 1 },
  // Street addresses: a number, optional direction, 1–3 capitalised words and a street suffix, optional unit, city, state and ZIP.
  {
    kind: "address",
    pattern: new RegExp(
      String.raw`\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}${STREET_SUFFIX}\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Unit|#)\.?\s*\w+)?(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?(?:,\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?)?`,
      "g",
    ),
  },
  { kind: "address", pattern: /\b(?:P\.?\s?O\.?\s+Box|Post\s+Office\s+Box)\s+\d+/gi },
  // Names after a title (case-sensitive title): Dr. Jane Smith, Mrs. O'Neil, Doctor Patel.
  {
    kind: "name",
    pattern: new RegExp(String.raw`\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Doctor|Nurse|Sister|Professor)\.?\s+((?:${NAME_WORD}|${INITIAL})(?: (?:${NAME_WORD}|${INITIAL})){0,2})`, "g"),
    group: 1,
    trim: trimName,
  },
  // Names in signature and header lines: "Electronically signed by: Jane Smith", "cc: John A. Doe", "Patient name: Smith, John".
  {
    kind: "name",
    pattern: new RegExp(
      String.raw`\b(?:${SIGNATURE_LABELS.join("|")})\s*[:,]+\s*(?:(?:Dr|Mr|Mrs|Ms)\.?\s+)?(${NAME_WORD}(?:,?\s+(?:${NAME_WORD}|${INITIAL})){1,3})`,
      "g",
    ),
    group: 1,
    reject: (value) => isPlaceholderName(value),
  },
  // "Firstname [I.] Lastname, MD" and other degrees.
  {
    kind: "name",
    pattern: new RegExp(String.raw`\b(${NAME_WORD}(?:\s+${INITIAL})?\s+${NAME_WORD}),?\s+(?:M\.D\.|MD|D\.O\.|DO|R\.N\.|RN|NP|N\.P\.|PA-C|P\.A\.|Ph\.D\.|PhD|MBBS|FRCS|DPM|CRNA)(?![A-Za-z])`, "g"),
    group: 1,
    reject: (value) => isPlaceholderName(value),
  },
];

/**
 * The likely identifiers of one text, sorted by position; overlapping findings are merged (the
 * earlier, longer one is kept).
 */
export function scanNarrative(text: string): IdentifierFinding[] {
  const found: IdentifierFinding[] = [];
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    for (let m = rule.pattern.exec(text); m; m = rule.pattern.exec(text)) {
      if (m[0].length === 0) {
        rule.pattern.lastIndex++;
        continue;
      }
      const group = rule.group ?? 0;
      const value = m[group];
      if (value === undefined) continue;
      if (rule.reject?.(value, m)) continue;
      const kept = rule.trim ? rule.trim(value) : value;
      if (kept === "") continue;
      const start = m.index + m[0].lastIndexOf(value);
      found.push({ kind: rule.kind, start, end: start + kept.length });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: IdentifierFinding[] = [];
  for (const f of found) {
    const last = merged[merged.length - 1];
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      continue;
    }
    merged.push({ ...f });
  }
  return merged;
}

/** The text with every finding replaced by its kind's mask ("[NAME]", "[PHONE]", …). */
export function maskIdentifiers(text: string, findings: readonly IdentifierFinding[] = scanNarrative(text)): string {
  let out = "";
  let at = 0;
  for (const f of [...findings].sort((a, b) => a.start - b.start)) {
    if (f.start < at) continue;
    out += text.slice(at, f.start) + MASKS[f.kind];
    at = f.end;
  }
  return out + text.slice(at);
}

/** Per-row result of a batch scan: where, and how many of each kind (never the values). */
export interface NarrativeFindingRow {
  file: string;
  line: number;
  kinds: Partial<Record<IdentifierKind, number>>;
}

/**
 * Scans the narratives of a batch's rows. With `mode` "mask" each row's narrative is replaced by its
 * masked text (in place); "keep" and absent leave the text as it is. Returns the rows with findings.
 */
export function scanNarrativeRows(rows: { file: string; line: number; narrative: string | null }[], mode?: "mask" | "keep"): NarrativeFindingRow[] {
  const out: NarrativeFindingRow[] = [];
  for (const row of rows) {
    if (!row.narrative) continue;
    const findings = scanNarrative(row.narrative);
    if (findings.length === 0) continue;
    const kinds: Partial<Record<IdentifierKind, number>> = {};
    for (const f of findings) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
    out.push({ file: row.file, line: row.line, kinds });
    if (mode === "mask") row.narrative = maskIdentifiers(row.narrative, findings);
  }
  return out;
}

/** Totals of a batch scan by kind, and the number of rows flagged. */
export function findingTotals(rows: readonly NarrativeFindingRow[]): { rows: number; byKind: Partial<Record<IdentifierKind, number>> } {
  const byKind: Partial<Record<IdentifierKind, number>> = {};
  for (const row of rows) for (const [kind, n] of Object.entries(row.kinds) as [IdentifierKind, number][]) byKind[kind] = (byKind[kind] ?? 0) + n;
  return { rows: rows.length, byKind };
}
