/**
 * Turns the files of one import batch into the cases it would create, or the list of everything
 * wrong with it. Pure (no database, no blob store): the service decides what to write.
 *
 * Files: .csv/.jsonl tables (a table with a file column is an image manifest, otherwise a
 * narrative file), DICOM, PNG/JPEG (recognised by their bytes, not their extension) and .zip
 * archives of those (one level). Grouping of images into cases:
 *   1. a manifest row maps the image to a case id (or, without an id column, its file stem);
 *   2. without a manifest a DICOM image joins the case of its StudyInstanceUID (file stem if absent);
 *   3. a PNG/JPEG without a manifest is one case named by its file stem.
 * Images and narratives with the same case id form one case.
 */
import crypto from "node:crypto";
import { deidentifyDicom, type DeidentifyOptions } from "./deidentify-dicom";
import { checkDicom, DicomRejection } from "./dicom";
import { scanNarrativeRows, type NarrativeFindingRow } from "./narrative-identifiers";
import type { ImportIssue } from "./issues";
import { checkRaster, sniffRaster } from "./raster";
import { readTable, resolveColumns, tableToCaseRows, type CaseRow, type ColumnMapping, type Table, type LabelResolver, type Split } from "./tables";

/**
 * Maps a label as written in a file to the project's label key: `{ key }`, `{ error }` (a per-row
 * problem), or `{ unknown }` for a value the schema does not hold — those are not reported per row
 * but once per distinct value with its row count (ImportPlan.unknownLabels and one grouped issue).
 */
export type PlanLabelResolver = (raw: string) => ReturnType<LabelResolver> | { unknown: string };

/** A label value of the batch that is not in the project's schema, and how many rows carry it. */
export interface UnknownLabel {
  value: string;
  rows: number;
}

/** Values shown in the grouped issue's message (every value is in ImportPlan.unknownLabels). */
const UNKNOWN_LABELS_SHOWN = 25;

/** "4 labels not in the schema: Orthopedic (120 rows), Neurology (1 row), …" — most frequent first. */
export function unknownLabelsMessage(unknown: readonly UnknownLabel[]): string {
  const shown = unknown.slice(0, UNKNOWN_LABELS_SHOWN).map((u) => `${u.value} (${u.rows} row${u.rows === 1 ? "" : "s"})`);
  const more = unknown.length > UNKNOWN_LABELS_SHOWN ? `, and ${unknown.length - UNKNOWN_LABELS_SHOWN} more` : "";
  return `${unknown.length} label${unknown.length === 1 ? "" : "s"} not in the schema: ${shown.join(", ")}${more}. Add them to the label schema or map each to an existing class, then import again.`;
}
import { DEFAULT_ZIP_LIMITS, readZip, type ZipLimits } from "./zip";

export interface InputFile {
  /** The name the user gave it (upload file name or CLI path relative to its argument). */
  name: string;
  bytes: Uint8Array;
}

export interface PlannedImage {
  file: string;
  bytes: Uint8Array;
  sha256: string;
  mimeType: string;
  extension: string;
  frames: number;
  attributes: Record<string, unknown>;
}

export interface PlannedCase {
  externalId: string;
  narrative: string | null;
  label: string | null;
  split: Split;
  metadata: Record<string, unknown>;
  images: PlannedImage[];
}

export interface PlanCounts {
  files: number;
  cases: number;
  narratives: number;
  images: number;
  dicom: number;
  raster: number;
  duplicateImagesSkipped: number;
  bySplit: Record<Split, number>;
}

export interface ImportPlan {
  cases: PlannedCase[];
  issues: ImportIssue[];
  /** Label values not in the schema with their row counts, most frequent first (also one grouped issue). */
  unknownLabels: UnknownLabel[];
  /** Rows whose narrative holds likely identifiers (file, line, counts by kind; never the values). */
  identifierFindings: NarrativeFindingRow[];
  counts: PlanCounts;
  /** Identifies the batch's content: the same files with the same mapping give the same hash. */
  sha256: string;
  totalBytes: number;
}

export interface PlanOptions {
  mapping: ColumnMapping;
  resolveLabel: PlanLabelResolver;
  allowIdentifiers: boolean;
  zipLimits?: ZipLimits;
  /** Project setting "generate case ids": a narrative table without a case-id column gets ids from its rows (withGeneratedCaseIds). */
  generateCaseIds?: boolean;
  /** De-identify every DICOM file (server/import/deidentify-dicom.ts); absent when the project keeps patient identifiers. */
  deidentify?: DeidentifyOptions;
  /** Narratives with likely identifiers: "mask" imports them masked, "keep" as written; absent only reports them (ImportPlan.identifierFindings). */
  narrativeIdentifiers?: "mask" | "keep";
}

/** The name of the column withGeneratedCaseIds adds (never a real column: parentheses and spaces). */
export const GENERATED_ID_COLUMN = "(generated case id)";

/**
 * A narrative table without a case-id column, with one added: "row-" + the first 16 hex digits of
 * the sha256 of the row's values (every column, in column order), and "-2", "-3", … for repeats
 * of an identical row. Importing the same file again gives the same ids, so the re-import rule
 * (one case per id) still holds.
 */
export function withGeneratedCaseIds(table: Table): Table {
  const seen = new Map<string, number>();
  const rows = table.rows.map((row) => {
    const content = JSON.stringify(table.columns.map((c) => row.values.get(c) ?? null));
    const base = `row-${crypto.createHash("sha256").update(content).digest("hex").slice(0, 16)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const values = new Map(row.values);
    values.set(GENERATED_ID_COLUMN, n === 1 ? base : `${base}-${n}`);
    return { ...row, values };
  });
  return { ...table, columns: [...table.columns, GENERATED_ID_COLUMN], rows };
}

const sha256 = (bytes: Uint8Array) => crypto.createHash("sha256").update(bytes).digest("hex");

function basename(path: string): string {
  return path.split("/").pop() ?? path;
}
function stem(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}
function isZip(file: InputFile): boolean {
  const b = file.bytes;
  return /\.zip$/i.test(file.name) || (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04);
}
const isTable = (name: string) => /\.(csv|jsonl|ndjson)$/i.test(name);
const isDicomBytes = (b: Uint8Array) => b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;

/** The content hash of a batch: independent of file order and names, dependent on the mapping. */
export function batchHash(files: InputFile[], mapping: ColumnMapping): string {
  const parts = files.map((f) => sha256(f.bytes)).sort();
  const normalised = Object.fromEntries(Object.entries(mapping).filter(([, v]) => v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0)).sort(([a], [b]) => a.localeCompare(b)));
  return crypto.createHash("sha256").update(JSON.stringify({ files: parts, mapping: normalised })).digest("hex");
}

interface ImageFile extends PlannedImage {
  studyInstanceUid: string | null;
  kind: "dicom" | "raster";
}

/**
 * Plans a batch (async only because archives are read with yauzl's streams). File names and
 * manifest references are compared in Unicode NFC, so a name typed or zipped on macOS (NFD)
 * matches the same name written by other tools.
 */
export async function planImport(input: InputFile[], options: PlanOptions): Promise<ImportPlan> {
  const issues: ImportIssue[] = [];
  const zipLimits = options.zipLimits ?? DEFAULT_ZIP_LIMITS;
  const totalBytes = input.reduce((n, f) => n + f.bytes.length, 0);

  // 1. Unpack archives (one level).
  const files: InputFile[] = [];
  for (const file of input) {
    if (isZip(file)) {
      const unpacked = await readZip(file.name, file.bytes, zipLimits);
      issues.push(...unpacked.issues);
      for (const entry of unpacked.files) files.push({ name: `${file.name}/${entry.path}`, bytes: entry.bytes });
    } else {
      files.push({ name: file.name.normalize("NFC"), bytes: file.bytes });
    }
  }

  // 2. Read tables, check images. Unknown labels are counted per value, not reported per row.
  const unknownLabels = new Map<string, number>();
  const unknownLabelFiles = new Map<string, string | null>();
  const labelsOf = (fileName: string, labelColumn: string | null): LabelResolver => (raw) => {
    const resolved = options.resolveLabel(raw);
    if (!("unknown" in resolved)) return resolved;
    unknownLabels.set(resolved.unknown, (unknownLabels.get(resolved.unknown) ?? 0) + 1);
    unknownLabelFiles.set(fileName, labelColumn);
    // A placeholder: the batch is rejected below, so this key is never written.
    return { key: resolved.unknown };
  };
  const narrativeRows: CaseRow[] = [];
  const manifestRows: CaseRow[] = [];
  const images: ImageFile[] = [];
  for (const file of files) {
    const base = basename(file.name);
    if (base.startsWith(".")) continue; // .DS_Store and friends inside archives
    if (isTable(file.name)) {
      const { table, issues: readIssues } = readTable(file.name, file.bytes);
      if (table.columns.length === 0) {
        issues.push(...readIssues);
        continue;
      }
      const { columns, issues: columnIssues } = resolveColumns(table, options.mapping, options.allowIdentifiers);
      if (columnIssues.length) {
        issues.push(...readIssues, ...columnIssues);
        continue;
      }
      const generate = options.generateCaseIds === true && !columns.id && !columns.file;
      const parsed = generate
        ? tableToCaseRows(withGeneratedCaseIds(table), { ...columns, id: GENERATED_ID_COLUMN }, labelsOf(file.name, columns.label))
        : tableToCaseRows(table, columns, labelsOf(file.name, columns.label));
      // One list per file in line order, whichever check found the problem.
      issues.push(...[...readIssues, ...parsed.issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
      (parsed.kind === "manifest" ? manifestRows : narrativeRows).push(...parsed.rows);
      continue;
    }
    const raster = sniffRaster(file.bytes);
    const looksDicom = isDicomBytes(file.bytes) || /\.(dcm|dicom)$/i.test(base) || (!raster && !base.includes("."));
    if (looksDicom && !raster) {
      try {
        let info = checkDicom(file.bytes, options.allowIdentifiers);
        let bytes = file.bytes;
        let review: Record<string, unknown> = {};
        if (options.deidentify) {
          // What is stored and served is the de-identified file (pixels byte-identical), checked again.
          const clean = deidentifyDicom(file.bytes, options.deidentify);
          bytes = clean.bytes;
          info = checkDicom(bytes, false);
          review = { deidentified: true, ...(clean.burnedInReview ? { burnedInReview: clean.burnedInReview } : {}) };
        }
        images.push({
          file: file.name,
          bytes,
          sha256: sha256(bytes),
          mimeType: info.mimeType,
          extension: ".dcm",
          frames: info.frames,
          attributes: { ...info.attributes, ...review } as Record<string, unknown>,
          studyInstanceUid: info.studyInstanceUid,
          kind: "dicom",
        });
      } catch (error) {
        if (!(error instanceof DicomRejection)) throw error;
        issues.push({ file: file.name, message: error.message });
      }
      continue;
    }
    if (raster || /\.(png|jpe?g)$/i.test(base)) {
      try {
        // The bytes decide the type: a PNG named .jpg is common in exported data sets.
        const info = checkRaster(file.bytes);
        images.push({
          file: file.name,
          bytes: file.bytes,
          sha256: sha256(file.bytes),
          mimeType: info.mimeType,
          extension: info.kind === "png" ? ".png" : ".jpg",
          frames: 1,
          attributes: { rows: info.height, columns: info.width, frames: 1, format: info.kind.toUpperCase() },
          studyInstanceUid: null,
          kind: "raster",
        });
      } catch (error) {
        issues.push({ file: file.name, message: (error as Error).message });
      }
      continue;
    }
    issues.push({ file: file.name, message: "unsupported file type: expected .csv, .jsonl, .dcm (DICOM), .png, .jpg or .zip" });
  }

  // Narratives: the identifier scan, masking the rows when the user chose so.
  const identifierFindings = scanNarrativeRows([...narrativeRows, ...manifestRows], options.narrativeIdentifiers);

  // 3. Match manifest rows to images.
  const byPath = new Map<string, ImageFile>();
  const byBase = new Map<string, ImageFile[]>();
  for (const image of images) {
    byPath.set(image.file, image);
    const list = byBase.get(basename(image.file)) ?? [];
    list.push(image);
    byBase.set(basename(image.file), list);
  }
  const imageCase = new Map<ImageFile, CaseRow>();
  for (const row of manifestRows) {
    const ref = row.imageRef!.replace(/\\/g, "/").replace(/^\.\//, "").normalize("NFC");
    let match = byPath.get(ref) ?? images.find((image) => image.file.endsWith(`/${ref}`));
    if (!match) {
      const candidates = byBase.get(basename(ref)) ?? [];
      if (candidates.length > 1) {
        issues.push({ file: row.file, line: row.line, message: `"${ref}" matches ${candidates.length} uploaded files; give its path inside the upload` });
        continue;
      }
      match = candidates[0];
    }
    if (!match) {
      // An image that was rejected above is already reported under its own name.
      if (!issues.some((issue) => basename(issue.file) === basename(ref))) {
        issues.push({ file: row.file, line: row.line, message: `the image "${ref}" is not in the upload` });
      }
      continue;
    }
    if (imageCase.has(match)) {
      issues.push({ file: row.file, line: row.line, message: `the image "${ref}" is listed twice (also on line ${imageCase.get(match)!.line})` });
      continue;
    }
    imageCase.set(match, row);
  }
  if (manifestRows.length > 0) {
    for (const image of images) {
      if (!imageCase.has(image)) issues.push({ file: image.file, message: "the image is not listed in the manifest (with a manifest, every image needs a row)" });
    }
  }

  // 4. Build cases.
  const cases = new Map<string, PlannedCase & { labelFrom?: string; splitFrom?: string; narrativeFrom?: CaseRow }>();
  for (const row of narrativeRows) {
    const earlier = cases.get(row.externalId!)?.narrativeFrom;
    if (earlier) {
      // Within one file tables.ts already says so; across files of one batch it is said here, naming both.
      issues.push({ file: row.file, line: row.line, field: row.idColumn ?? undefined, message: `case id "${row.externalId}" is also on line ${earlier.line} of ${earlier.file}: a batch may hold each case once (remove one of the two rows)` });
      continue;
    }
    cases.set(row.externalId!, {
      narrativeFrom: row,
      externalId: row.externalId!,
      narrative: row.narrative,
      label: row.label,
      split: row.split ?? "POOL",
      metadata: row.metadata,
      images: [],
      labelFrom: row.label ? `${row.file} line ${row.line}` : undefined,
      splitFrom: row.split ? `${row.file} line ${row.line}` : undefined,
    });
  }
  let duplicateImagesSkipped = 0;
  for (const image of images) {
    const row = imageCase.get(image);
    if (manifestRows.length > 0 && !row) continue;
    const externalId = row ? (row.externalId ?? stem(image.file)) : image.kind === "dicom" ? (image.studyInstanceUid ?? stem(image.file)) : stem(image.file);
    let target = cases.get(externalId);
    if (!target) {
      target = { externalId, narrative: null, label: null, split: "POOL", metadata: {}, images: [] };
      cases.set(externalId, target);
    }
    if (row) {
      const where = `${row.file} line ${row.line}`;
      if (row.label) {
        if (target.label && target.label !== row.label) {
          issues.push({ file: row.file, line: row.line, message: `case "${externalId}" gets label "${row.label}" here but "${target.label}" from ${target.labelFrom}` });
        } else {
          target.label = row.label;
          target.labelFrom = where;
        }
      }
      if (row.split) {
        if (target.splitFrom && target.split !== row.split) {
          issues.push({ file: row.file, line: row.line, message: `case "${externalId}" gets split ${row.split} here but ${target.split} from ${target.splitFrom}` });
        } else {
          target.split = row.split;
          target.splitFrom = where;
        }
      }
      if (row.narrative && !target.narrative) target.narrative = row.narrative;
      target.metadata = { ...row.metadata, ...target.metadata };
    }
    if (target.images.some((existing) => existing.sha256 === image.sha256)) {
      duplicateImagesSkipped++;
      continue;
    }
    target.images.push(image);
  }

  const planned: PlannedCase[] = [...cases.values()].map((c) => ({
    externalId: c.externalId,
    narrative: c.narrative,
    label: c.label,
    split: c.split,
    metadata: c.metadata,
    // Stable order inside a case: by file name (series files are usually numbered).
    images: c.images
      .sort((a, b) => a.file.localeCompare(b.file, undefined, { numeric: true }))
      .map(({ file, bytes, sha256: hash, mimeType, extension, frames, attributes }) => ({ file, bytes, sha256: hash, mimeType, extension, frames, attributes })),
  }));
  const unknown = [...unknownLabels].map(([value, rows]) => ({ value, rows })).sort((a, b) => b.rows - a.rows || a.value.localeCompare(b.value));
  if (unknown.length > 0) {
    const columns = [...new Set(unknownLabelFiles.values())].filter((c): c is string => c !== null);
    issues.unshift({ file: [...unknownLabelFiles.keys()].join(", "), field: columns.join(", ") || undefined, message: unknownLabelsMessage(unknown) });
  }
  if (issues.length === 0 && planned.length === 0) issues.push({ file: input.map((f) => f.name).join(", ") || "(no files)", message: "nothing to import: the upload holds no cases" });

  return {
    cases: planned,
    issues,
    unknownLabels: unknown,
    identifierFindings,
    counts: countsOf(planned, files.length, duplicateImagesSkipped),
    sha256: batchHash(input, options.mapping),
    totalBytes,
  };
}

function countsOf(cases: PlannedCase[], files: number, duplicateImagesSkipped: number): PlanCounts {
  const bySplit: Record<Split, number> = { POOL: 0, TEST: 0, SEED: 0 };
  for (const c of cases) bySplit[c.split]++;
  const allImages = cases.flatMap((c) => c.images);
  return {
    files,
    cases: cases.length,
    narratives: cases.filter((c) => c.narrative !== null).length,
    images: allImages.length,
    dicom: allImages.filter((i) => i.mimeType === "application/dicom").length,
    raster: allImages.filter((i) => i.mimeType !== "application/dicom").length,
    duplicateImagesSkipped,
    bySplit,
  };
}

/**
 * The plan without the images whose content hash is in `sha256s` (images already in the project,
 * skipped at the user's request); a case left with neither a narrative nor an image is dropped.
 * Counted in counts.duplicateImagesSkipped.
 */
export function withoutImages(plan: ImportPlan, sha256s: ReadonlySet<string>): ImportPlan {
  let skipped = 0;
  const cases = plan.cases
    .map((c) => {
      const images = c.images.filter((image) => !sha256s.has(image.sha256));
      skipped += c.images.length - images.length;
      return { ...c, images };
    })
    .filter((c) => c.images.length > 0 || c.narrative !== null);
  return { ...plan, cases, counts: countsOf(cases, plan.counts.files, plan.counts.duplicateImagesSkipped + skipped) };
}
