/**
 * Importing cases (narratives, images, or both) into a project — DATA_SCIENTIST and ADMIN members,
 * or a system action from the CLI.
 *
 * All-or-nothing: every file and row is checked first (server/import/plan.ts); if anything is
 * wrong, nothing is written and every problem is returned. Otherwise the images go to the
 * content-addressed blob store, and the batch, its cases and images are written in ONE transaction
 * together with the audit event (counts only, no content).
 *
 * Re-import rule:
 *   - the same files with the same column mapping (ImportBatch.sha256) → "already-imported", nothing
 *     written;
 *   - a batch in which ANY case id already exists in the project is rejected as a whole, naming the
 *     existing ids: an import never updates or extends existing cases (corrections are annotations,
 *     not silent overwrites).
 *
 * Labels not in the schema: the caller answers with `mapping.labelMap` (value → existing class) and
 * `mapping.addLabels` (values to add as new classes). The added classes are written in the SAME
 * transaction as the batch, under the project row's lock, and audited as a schema edit
 * ("project.labels", before/after, `via: "import"`): a batch that is not imported adds nothing.
 */
import crypto from "node:crypto";
import { caseContentWarning, identifierCountsText } from "@/contracts/imports";
import { labelKeyFrom } from "@/contracts/project-admin";
import { DEFAULT_LABEL_COLORS, parseStoredProjectConfig, RESERVED_SHORTCUTS, ZProjectConfig, type LabelClass, type ProjectConfig } from "@/contracts/project-config";
import type { Prisma } from "../db/client";
import { lockProjectRow, updateProjectColumns } from "../db/project-admin-repo";
import { DomainError } from "../errors";
import type { ColumnMapping } from "../import/tables";
import { groupIssues, type ImportIssue, type IssueGroup } from "../import/issues";
import { planImport, withoutImages, type ImportPlan, type InputFile, type PlanCounts, type PlanLabelResolver, type UnknownLabel } from "../import/plan";
import type { ZipLimits } from "../import/zip";
import { findingTotals, type NarrativeFindingRow } from "../import/narrative-identifiers";
import { findProjectDeidSecret } from "../db/deidentify-repo";
import {
  findBatchBySha,
  findExistingExternalIds,
  findImagesBySha,
  insertImportBatch,
  listBatchesOfProject,
  lockProjectImports,
} from "../db/import-repo";
import { logger } from "../log";
import { contentKey, type BlobStore } from "../storage/blob-store";
import type { ServiceContext } from "./context";
import { requireProject, requireProjectAsSystem } from "./project-access";

export interface ImportInput {
  projectId: string;
  files: InputFile[];
  /**
   * Column mapping, plus `labelMap`: labels of the file that are not in the schema → the class key
   * they import as, and `addLabels`: labels of the file to add to the schema as new classes (written
   * with the batch, in its transaction).
   */
  mapping: ColumnMapping & { labelMap?: Record<string, string>; addLabels?: string[]; narrativeIdentifiers?: "mask" | "keep" };
  /** Where the batch came from, shown in the batch list ("upload", "cli"). */
  via: "upload" | "cli";
  /**
   * Images whose bytes are already in the project (the same files imported again, e.g. under new
   * case ids through a manifest): "ask" (default) rejects the batch naming them, "skip" leaves them
   * out (and a case left with nothing), "import" imports them again.
   */
  duplicateImages?: "ask" | "skip" | "import";
}

export interface ImportDeps {
  blobs: BlobStore;
  zipLimits?: ZipLimits;
  /** The CLI runs as a system action: no signed-in actor, no membership check (still audited). */
  system?: boolean;
}

/** Narratives with likely identifiers, and no choice made yet: the rows (file, line, counts by kind) and the totals. */
export interface IdentifierOffer {
  rows: NarrativeFindingRow[];
  totals: ReturnType<typeof findingTotals>;
}

export type ImportResult =
  | {
      status: "imported";
      batchId: string;
      counts: PlanCounts;
      /** Set when cases of the batch do not fit the project's caseContent (imported all the same): caseContentWarning. */
      contentWarning?: string;
    }
  | { status: "already-imported"; batchId: string; importedAt: string; caseCount: number }
  | {
      status: "rejected";
      /** The first 1,000 issues in the order found. */
      issues: ImportIssue[];
      /** EVERY issue grouped by cause, with its count and first lines (what the page and the CLI show). */
      groups: IssueGroup[];
      /** All issues, also beyond the 1,000 listed. */
      issueCount: number;
      counts: PlanCounts | null;
      unknownLabels?: UnknownLabel[];
      /** Set when narratives hold likely identifiers: import again with mapping.narrativeIdentifiers "mask" or "keep". */
      identifiers?: IdentifierOffer;
      /** Set when the only problem is images already in the project: import again with duplicateImages "skip" or "import". */
      duplicateImages?: { file: string; existingCase: string }[];
    };

/** Issues shown at most: a 5,000-row file with a systematic fault would otherwise flood the page. */
const MAX_ISSUES = 1000;

/**
 * Maps a label as written in a file to the project's label key: `labelMap` first (the import page's
 * answer for labels not in the schema; exact, else ignoring case), then the exact key, else key or
 * name ignoring case. A value found nowhere is `{ unknown }`, which the plan reports ONCE per
 * distinct value with its row count ("4 labels not in the schema: Orthopedic (120 rows), …"), not
 * once per row. A project without labels accepts any label as written.
 */
export function labelResolverFor(labels: readonly { key: string; name?: string }[], labelMap: Readonly<Record<string, string>> = {}): PlanLabelResolver {
  const exact = new Set(labels.map((l) => l.key));
  const loose = new Map<string, string>();
  for (const l of labels) {
    loose.set(l.key.toLowerCase(), l.key);
    if (l.name) loose.set(l.name.toLowerCase(), l.key);
  }
  const mapped = new Map(Object.entries(labelMap));
  const mappedLoose = new Map(Object.entries(labelMap).map(([from, to]) => [from.toLowerCase(), to]));
  return (raw) => {
    const to = mapped.get(raw) ?? mappedLoose.get(raw.toLowerCase());
    if (to !== undefined) return { key: to };
    if (labels.length === 0) return { key: raw };
    if (exact.has(raw)) return { key: raw };
    const key = loose.get(raw.toLowerCase());
    if (key) return { key };
    return { unknown: raw };
  };
}

/** Shortcut keys given to classes added by an import, in this order (digits first; never a key the case view reserves). */
const FREE_SHORTCUTS = "1234567890abdefgijklmopqrtvwxyz".split("").filter((k) => !(RESERVED_SHORTCUTS as readonly string[]).includes(k));

/**
 * The classes that `values` (labels of a file) become when added to a schema holding `labels`: key
 * from the value (`labelKeyFrom`, "_2", "_3", … when taken), display name = the value, a colour of
 * DEFAULT_LABEL_COLORS in turn and the first shortcut key no class uses (none when all are taken).
 * A value that already names a class (key or display name, ignoring case) is left out: it imports as
 * that class. Pure.
 * @returns `{ added, labelMap }` — the new classes, and value → new key for the import's resolver
 */
export function classesToAdd(labels: readonly LabelClass[], values: readonly string[]): { added: LabelClass[]; labelMap: Record<string, string> } {
  const keys = new Set(labels.map((l) => l.key));
  const names = new Set(labels.flatMap((l) => [l.key.toLowerCase(), l.name.toLowerCase()]));
  const shortcuts = new Set(labels.map((l) => l.shortcut?.toLowerCase()).filter((k): k is string => k !== undefined));
  const added: LabelClass[] = [];
  const labelMap: Record<string, string> = {};
  for (const value of values) {
    if (names.has(value.toLowerCase())) continue;
    const base = labelKeyFrom(value);
    let key = base;
    for (let n = 2; keys.has(key); n++) key = `${base.slice(0, 60)}_${n}`;
    keys.add(key);
    names.add(value.toLowerCase());
    const shortcut = FREE_SHORTCUTS.find((k) => !shortcuts.has(k));
    if (shortcut) shortcuts.add(shortcut);
    added.push({ key, name: value.slice(0, 100), color: DEFAULT_LABEL_COLORS[(labels.length + added.length) % DEFAULT_LABEL_COLORS.length]!, ...(shortcut ? { shortcut } : {}) });
    labelMap[value] = key;
  }
  return { added, labelMap };
}

/** The project to import into: through the front door for a signed-in caller (also from the CLI with --as), else as the system. */
async function projectToImportInto(ctx: ServiceContext, projectId: string, system: boolean | undefined) {
  if (!ctx.actor && system) return requireProjectAsSystem(ctx, projectId, { write: true });
  return requireProject(ctx, projectId, "cases.import", { write: true });
}

function sourceText(input: ImportInput): string {
  const names = input.files.map((f) => f.name.split("/").pop() ?? f.name);
  const shown = names.slice(0, 3).join(", ");
  return `${input.via}: ${shown}${names.length > 3 ? ` (+${names.length - 3} more)` : ""}`;
}

/** The upload route asks before it reads a byte of the body: refused callers upload nothing. */
export async function assertCanImport(ctx: ServiceContext, projectId: string): Promise<void> {
  await requireProject(ctx, projectId, "cases.import", { write: true });
}

/**
 * Imports a batch (see the file comment). Bad input is a "rejected" result, audited as
 * import.rejected; an unexpected failure (a bug, the database gone mid-import) is audited as
 * import.rejected too (`crashed: true` and an error id, when the database still answers) and
 * rethrown as an Error whose message holds only that id — never the database's text.
 */
export async function importCases(ctx: ServiceContext, input: ImportInput, deps: ImportDeps): Promise<ImportResult> {
  const { project, config } = await projectToImportInto(ctx, input.projectId, deps.system);
  try {
    return await importChecked(ctx, input, deps, project, config);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const errorId = crypto.randomUUID();
    logger.error("import failed", { projectId: project.id, errorId, error: error instanceof Error ? error.message : String(error) });
    await ctx.audit
      .record(ctx.db, { action: "import.rejected", targetType: "Project", targetId: project.id, projectId: project.id, details: { via: input.via, files: input.files.length, crashed: true, errorId } })
      .catch(() => undefined);
    throw new Error(`the import failed unexpectedly and nothing was imported (error id ${errorId}; the server log has the details)`);
  }
}

type ProjectOfImport = Awaited<ReturnType<typeof projectToImportInto>>;

/** A batch refused before its files are read (one issue), audited as import.rejected. */
async function rejectEarly(ctx: ServiceContext, input: ImportInput, projectId: string, issue: ImportIssue): Promise<ImportResult> {
  await ctx.audit.record(ctx.db, { action: "import.rejected", targetType: "Project", targetId: projectId, projectId, details: { via: input.via, files: input.files.length, issues: 1 } });
  return { status: "rejected", issues: [issue], groups: groupIssues([issue]), issueCount: 1, counts: null };
}

async function importChecked(ctx: ServiceContext, input: ImportInput, deps: ImportDeps, project: ProjectOfImport["project"], config: ProjectOfImport["config"]): Promise<ImportResult> {
  const started = Date.now();
  // Classes to add with the batch: a schema edit, so the caller must be allowed to configure the project.
  const additions = classesToAdd(config.labelSchema.labels, input.mapping.addLabels ?? []);
  if (input.mapping.addLabels?.length && ctx.actor) await requireProject(ctx, project.id, "project.configure", { write: true });
  let extended: ProjectConfig = config;
  if (additions.added.length > 0) {
    const merged = ZProjectConfig.safeParse({ ...config, labelSchema: { ...config.labelSchema, labels: [...config.labelSchema.labels, ...additions.added] } });
    if (!merged.success) {
      const issue = merged.error.issues[0]!;
      return rejectEarly(ctx, input, project.id, { file: input.files.map((f) => f.name).join(", "), field: "addLabels", message: `the labels to add cannot join the schema: ${issue.message}` });
    }
    extended = merged.data;
  }
  let plan: ImportPlan = await planImport(input.files, {
    mapping: input.mapping,
    resolveLabel: labelResolverFor(extended.labelSchema.labels, { ...input.mapping.labelMap, ...additions.labelMap }),
    allowIdentifiers: config.settings.allowPatientIdentifiers,
    zipLimits: deps.zipLimits,
    generateCaseIds: config.settings.generateCaseIds,
    // De-identified unless the project keeps identifiers (settings.allowPatientIdentifiers, an audited setting).
    deidentify: config.settings.allowPatientIdentifiers ? undefined : { secret: (await findProjectDeidSecret(ctx.db, project.id))!, keepIntervals: config.settings.keepDateIntervals },
    // A project that keeps patient identifiers (its audited opt-out) imports narratives as written, still counted in the audit.
    narrativeIdentifiers: config.settings.allowPatientIdentifiers ? "keep" : input.mapping.narrativeIdentifiers,
  });

  const reject = async (issues: ImportIssue[], counts: PlanCounts | null, unknownLabels?: UnknownLabel[], duplicateImages?: { file: string; existingCase: string }[]): Promise<ImportResult> => {
    await ctx.audit.record(ctx.db, {
      action: "import.rejected",
      targetType: "Project",
      targetId: project.id,
      projectId: project.id,
      details: { via: input.via, files: input.files.length, issues: issues.length },
    });
    logger.info("import rejected", { projectId: project.id, issues: issues.length, userId: ctx.actor?.id ?? null });
    return {
      status: "rejected",
      issues: issues.slice(0, MAX_ISSUES),
      groups: groupIssues(issues),
      issueCount: issues.length,
      counts,
      ...(unknownLabels?.length ? { unknownLabels } : {}),
      ...(duplicateImages?.length ? { duplicateImages } : {}),
    };
  };

  // A label map may only send labels to classes of the schema (checked once, not per row).
  const classKeys = new Set(extended.labelSchema.labels.map((l) => l.key));
  const badTargets = Object.entries(input.mapping.labelMap ?? {}).filter(([, key]) => classKeys.size > 0 && !classKeys.has(key));
  if (badTargets.length) {
    const shown = [...classKeys].slice(0, 12).join(", ") + (classKeys.size > 12 ? ", …" : "");
    return reject(
      [{ file: input.files.map((f) => f.name).join(", "), field: "labelMap", message: `the label map sends ${badTargets.map(([from, to]) => `"${from}" to "${to}"`).join(", ")}, which ${badTargets.length === 1 ? "is" : "are"} not a class of the schema (${shown})` }],
      null,
    );
  }

  const earlier = await findBatchBySha(ctx.db, project.id, plan.sha256);
  if (earlier) {
    await ctx.audit.record(ctx.db, { action: "import.repeat", targetType: "ImportBatch", targetId: earlier.id, projectId: project.id, details: { via: input.via } });
    return { status: "already-imported", batchId: earlier.id, importedAt: earlier.createdAt.toISOString(), caseCount: earlier.caseCount };
  }
  if (plan.issues.length) return reject(plan.issues, null, plan.unknownLabels);
  // Likely identifiers in narratives: nothing is written until the data scientist chooses mask or keep (or drops the batch).
  if (plan.identifierFindings.length > 0 && !input.mapping.narrativeIdentifiers && !config.settings.allowPatientIdentifiers) {
    const totals = findingTotals(plan.identifierFindings);
    const rejected = await reject(
      plan.identifierFindings.map((row) => ({ file: row.file, line: row.line, field: "narrative", message: `likely identifiers in the narrative: ${identifierCountsText(row.kinds)}; import with them masked, import as is, or fix the file` })),
      plan.counts,
    );
    return rejected.status === "rejected" ? { ...rejected, identifiers: { rows: plan.identifierFindings.slice(0, MAX_ISSUES), totals } } : rejected;
  }

  const existsIssue = (existing: string[]): ImportIssue[] => [
    {
      file: input.files.map((f) => f.name).join(", "),
      message:
        `${existing.length} case id(s) already exist in this project, so nothing was imported (an import never changes existing cases): ` +
        existing.slice(0, 20).map((id) => `"${id}"`).join(", ") +
        (existing.length > 20 ? `, and ${existing.length - 20} more` : ""),
    },
  ];
  let ids = plan.cases.map((c) => c.externalId);
  const existing = await findExistingExternalIds(ctx.db, project.id, ids);
  if (existing.length) return reject(existsIssue(existing), plan.counts);

  // The same images imported before (identical bytes): say so and let the user skip them.
  const choice = input.duplicateImages ?? "ask";
  if (choice !== "import") {
    const planned = plan.cases.flatMap((c) => c.images);
    const already = new Map((await findImagesBySha(ctx.db, project.id, [...new Set(planned.map((i) => i.sha256))])).map((r) => [r.sha256, r.externalId]));
    if (already.size > 0 && choice === "ask") {
      const duplicates = planned.filter((i) => already.has(i.sha256)).map((i) => ({ file: i.file, existingCase: already.get(i.sha256)! }));
      return reject(
        duplicates.map((d) => ({ file: d.file, message: `the same image (identical bytes) is already in this project, in case "${d.existingCase}": import again choosing to skip duplicate images, or to import them anyway` })),
        plan.counts,
        undefined,
        duplicates,
      );
    }
    if (already.size > 0) {
      plan = withoutImages(plan, new Set(already.keys()));
      ids = plan.cases.map((c) => c.externalId);
      if (plan.cases.length === 0) {
        return reject([{ file: input.files.map((f) => f.name).join(", "), message: "nothing to import: every image of the batch is already in this project (duplicates skipped)" }], plan.counts);
      }
    }
  }

  // Blobs first: content-addressed, so a file left behind by a failed transaction is harmless and
  // is simply reused by the next import of the same bytes.
  const keyed = new Map<string, string>();
  for (const image of plan.cases.flatMap((c) => c.images)) {
    if (keyed.has(image.sha256)) continue;
    const key = contentKey("images", image.bytes, image.extension);
    if (!(await deps.blobs.exists(key))) await deps.blobs.put(key, image.bytes);
    keyed.set(image.sha256, key);
  }

  const outcome = await ctx.db.$transaction(
    async (tx) => {
      await lockProjectImports(tx, project.id);
      // Checked again under the lock: another import may have committed since the checks above.
      const raced = await findBatchBySha(tx, project.id, plan.sha256);
      if (raced) return { kind: "repeat" as const, batch: raced };
      const nowExisting = await findExistingExternalIds(tx, project.id, ids);
      if (nowExisting.length) return { kind: "exists" as const, ids: nowExisting };
      // The classes to add: the schema must still be the one the batch was checked against.
      let schemaBefore: ProjectConfig | null = null;
      if (additions.added.length > 0) {
        const row = await lockProjectRow(tx, project.id);
        schemaBefore = row ? parseStoredProjectConfig(row) : null;
        if (!schemaBefore || JSON.stringify(schemaBefore.labelSchema) !== JSON.stringify(config.labelSchema)) return { kind: "schema-changed" as const };
        await updateProjectColumns(tx, project.id, { labelSchema: extended.labelSchema as unknown as Prisma.InputJsonValue });
      }
      const written = await insertImportBatch(
        tx,
        { projectId: project.id, createdById: ctx.actor?.id ?? null, source: sourceText(input), sha256: plan.sha256 },
        plan.cases.map((c) => ({
          externalId: c.externalId,
          narrative: c.narrative,
          split: c.split,
          metadata: c.metadata as never,
          importedLabel: c.label,
          images: c.images.map((image) => ({
            storageKey: keyed.get(image.sha256)!,
            mimeType: image.mimeType,
            sha256: image.sha256,
            frames: image.frames,
            attributes: image.attributes as never,
          })),
        })),
      );
      await ctx.audit.record(tx, {
        action: "import.batch",
        targetType: "ImportBatch",
        targetId: written.batchId,
        projectId: project.id,
        details: {
          via: input.via,
          files: plan.counts.files,
          cases: plan.counts.cases,
          narratives: plan.counts.narratives,
          images: written.images,
          bySplit: plan.counts.bySplit,
          bytes: plan.totalBytes,
          // Counts only: the choice for narratives with likely identifiers, and the DICOM files de-identified / flagged for burned-in text.
          ...(plan.identifierFindings.length ? { narrativeIdentifiers: { choice: config.settings.allowPatientIdentifiers ? "project-allows-identifiers" : input.mapping.narrativeIdentifiers, ...findingTotals(plan.identifierFindings) } } : {}),
          ...(plan.counts.dicom === 0 ? {} : config.settings.allowPatientIdentifiers ? { dicomIdentifiersKept: plan.counts.dicom } : { dicomDeidentified: plan.counts.dicom, burnedInReview: plan.cases.flatMap((c) => c.images).filter((i) => i.attributes.burnedInReview).length }),
          ...(additions.added.length ? { labelsAdded: additions.added.map((l) => l.key) } : {}),
          ...(input.mapping.labelMap && Object.keys(input.mapping.labelMap).length ? { labelMap: input.mapping.labelMap } : {}),
        },
      });
      if (schemaBefore) {
        // Audited as every schema edit is (project-admin-service updateLabelSchema): before/after.
        await ctx.audit.record(tx, {
          action: "project.labels",
          targetType: "Project",
          targetId: project.id,
          projectId: project.id,
          details: {
            before: { labelSchema: schemaBefore.labelSchema, minorityClasses: schemaBefore.minorityClasses, rho: schemaBefore.selectionParams.rho },
            after: { labelSchema: extended.labelSchema, minorityClasses: schemaBefore.minorityClasses, rho: schemaBefore.selectionParams.rho },
            mapping: {},
            via: "import",
            batchId: written.batchId,
            added: additions.added.map((l) => ({ key: l.key, value: Object.keys(additions.labelMap).find((v) => additions.labelMap[v] === l.key) ?? l.name })),
          } as unknown as Prisma.InputJsonValue,
        });
      }
      return { kind: "imported" as const, batchId: written.batchId };
    },
    { maxWait: 30_000, timeout: 600_000 },
  );
  if (outcome.kind === "repeat") {
    return { status: "already-imported", batchId: outcome.batch.id, importedAt: outcome.batch.createdAt.toISOString(), caseCount: outcome.batch.caseCount };
  }
  if (outcome.kind === "exists") return reject(existsIssue(outcome.ids), plan.counts);
  if (outcome.kind === "schema-changed") {
    return reject([{ file: input.files.map((f) => f.name).join(", "), field: "addLabels", message: "the label schema was changed by someone else while this batch was checked, so nothing was imported: import again" }], plan.counts);
  }
  logger.info("import done", { projectId: project.id, batchId: outcome.batchId, cases: plan.counts.cases, images: plan.counts.images, ms: Date.now() - started });
  const hasText = (c: (typeof plan.cases)[number]) => (c.narrative ?? "").trim() !== "";
  const contentWarning = caseContentWarning(config.caseContent, {
    total: plan.cases.length,
    narrativeOnly: plan.cases.filter((c) => hasText(c) && c.images.length === 0).length,
    imagesOnly: plan.cases.filter((c) => !hasText(c) && c.images.length > 0).length,
  });
  return { status: "imported", batchId: outcome.batchId, counts: plan.counts, ...(contentWarning ? { contentWarning } : {}) };
}

export async function listImportBatches(ctx: ServiceContext, input: { projectId: string }) {
  // A non-member (or a guessed id) gets NOT_FOUND like every other project-scoped procedure, not an
  // empty list that looks like "a project of yours with no imports".
  const { project } = await requireProject(ctx, input.projectId, "cases.import");
  const rows = await listBatchesOfProject(ctx.db, project.id);
  return rows.map((b) => ({
    id: b.id,
    source: b.source,
    sha256: b.sha256,
    caseCount: b.caseCount,
    casesNow: b._count.cases,
    imageCount: b.imageCount,
    createdAt: b.createdAt.toISOString(),
    createdBy: b.createdByName ?? (b.createdById ? "(unknown user)" : "system (CLI)"),
  }));
}
