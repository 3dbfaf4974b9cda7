/**
 * The "Selection and loop" settings of a project (contracts/project-settings.ts): strategy, B, K,
 * RADS episodes, ρ, λ, annotations per case, lease minutes, retraining triggers, review tolerance,
 * four eyes, predictions shown to clinicians, generated case ids, the gold-case rate and accuracy threshold.
 *
 * Reads and writes go through the front door (`requireProject`, "project.configure"); a save is one
 * transaction under the project row's lock: the stored row is parsed (parseStoredProjectConfig), the
 * form's fields replace their counterparts, the result must parse again with the same schema the
 * worker reads it with, and one audit event "project.settings.update" records the changed fields
 * before and after. Bad input is a BAD_INPUT DomainError whose `field` names the form field.
 * Turning "Keep patient identifiers" off queues the de-identification pass over the project's stored images
 * (JobRun "deidentify-stored", workers/jobs/deidentify-stored.ts) in the same transaction, its id in the audit
 * event; until the pass has rewritten an image, image-service.ts refuses to serve it.
 */
import { parseStoredProjectConfig, ProjectConfigError, type ProjectConfig } from "@/contracts/project-config";
import { SELECTION_SETTINGS_HELP, type SelectionSettingsField, type UpdateSelectionSettingsInput } from "@/contracts/project-settings";
import type { Prisma } from "../db/client";
import { lockProjectRow } from "../db/project-admin-repo";
import { countSelectablePool, writeProjectConfigColumns } from "../db/project-settings-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { enqueueJobRun, type EnqueuedJob } from "./enqueue-job";
import { requireProject } from "./project-access";

export type SelectionSettingsValues = Omit<UpdateSelectionSettingsInput, "projectId">;

/** The worker's queue that rewrites a project's stored DICOM images without identifiers (workers/jobs/deidentify-stored.ts). */
export const DEIDENTIFY_STORED_KIND = "deidentify-stored";

/** The form's flat values from a parsed configuration. */
export function selectionSettingsValues(config: ProjectConfig): SelectionSettingsValues {
  const p = config.selectionParams;
  const s = config.settings;
  return {
    strategy: p.strategy,
    budget: p.budget,
    mcPasses: p.mcPasses,
    episodes: p.episodes,
    rho: p.rho,
    lambda: p.lambda,
    annotationsPerCase: s.annotationsPerCase,
    leaseMinutes: s.leaseMinutes,
    onRoundComplete: s.retrainTriggers.onRoundComplete,
    everyNLabels: s.retrainTriggers.everyNLabels,
    scheduleHours: s.retrainTriggers.scheduleHours,
    minTrainingIntervalMinutes: s.minTrainingIntervalMinutes,
    reviewTolerance: s.reviewTolerance,
    fourEyes: s.fourEyes,
    showPredictions: s.showPredictions,
    generateCaseIds: s.generateCaseIds,
    allowPatientIdentifiers: s.allowPatientIdentifiers,
    keepDateIntervals: s.keepDateIntervals,
    minTestSupport: s.minTestSupport,
    goldRate: s.goldRate,
    goldMinAccuracy: s.goldMinAccuracy,
  };
}

/** The section's current values, the minority classes ρ may name, and the selectable pool size B is checked against. */
export async function getSelectionSettings(ctx: ServiceContext, input: { projectId: string }) {
  const { project, config, archived } = await requireProject(ctx, input.projectId, "project.configure");
  return {
    projectId: project.id,
    projectName: project.name,
    archived,
    values: selectionSettingsValues(config),
    minorityClasses: config.minorityClasses,
    poolSize: await countSelectablePool(ctx.db, project.id),
    help: SELECTION_SETTINGS_HELP,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A stored-config issue path → the flat form field it belongs to. */
function fieldOfIssue(path: string): string {
  const parts = path.split(".");
  if (parts[0] === "selectionParams" || parts[0] === "settings") {
    const name = parts[1] === "retrainTriggers" ? parts[2] : parts[1];
    if (name && name in SELECTION_SETTINGS_HELP) return name;
  }
  return "form";
}

/**
 * Saves the section. Errors (BAD_INPUT, `field` = the form field): ρ naming a class that is not a
 * minority class, RADS without a minority class, B larger than the selectable pool (checked when B
 * changes and the pool is not empty), anything the stored-config schema refuses. CONFLICT on an
 * archived project, NOT_FOUND for a non-member, FORBIDDEN without "project.configure".
 * @returns the saved values, the fields that changed, and the de-identification JobRun queued by turning identifiers off (else null)
 */
export async function updateSelectionSettings(ctx: ServiceContext, input: UpdateSelectionSettingsInput) {
  const { project } = await requireProject(ctx, input.projectId, "project.configure", { write: true });
  const { projectId, ...values } = input;
  const outcome = await ctx.db.$transaction(async (tx) => {
    const row = await lockProjectRow(tx, projectId);
    if (!row) throw new DomainError("NOT_FOUND", "No such project.");
    const before = parseStoredProjectConfig(row);
    const minority = new Set(before.minorityClasses);
    if (typeof values.rho === "object") {
      const stray = Object.keys(values.rho).filter((key) => !minority.has(key));
      if (stray.length) throw new DomainError("BAD_INPUT", `ρ names ${stray.map((k) => `"${k}"`).join(", ")}, which ${stray.length === 1 ? "is not a minority class" : "are not minority classes"} of this project.`, { field: "rho" });
    }
    if (values.strategy === "rads" && minority.size === 0) {
      throw new DomainError("BAD_INPUT", "RADS needs at least one minority class: mark one on the label schema page, or choose another strategy.", { field: "strategy" });
    }
    if (values.budget !== before.selectionParams.budget) {
      const pool = await countSelectablePool(tx, projectId);
      if (pool > 0 && values.budget > pool) {
        throw new DomainError("BAD_INPUT", `B = ${values.budget} is larger than the pool: ${pool} case${pool === 1 ? "" : "s"} can still be selected.`, { field: "budget" });
      }
    }
    const selectionParams = { ...before.selectionParams, strategy: values.strategy, budget: values.budget, mcPasses: values.mcPasses, episodes: values.episodes, rho: values.rho, lambda: values.lambda };
    const settings = {
      ...before.settings,
      annotationsPerCase: values.annotationsPerCase,
      leaseMinutes: values.leaseMinutes,
      retrainTriggers: { onRoundComplete: values.onRoundComplete, everyNLabels: values.everyNLabels, scheduleHours: values.scheduleHours },
      minTrainingIntervalMinutes: values.minTrainingIntervalMinutes ?? before.settings.minTrainingIntervalMinutes,
      reviewTolerance: values.reviewTolerance,
      fourEyes: values.fourEyes,
      showPredictions: values.showPredictions,
      generateCaseIds: values.generateCaseIds,
      allowPatientIdentifiers: values.allowPatientIdentifiers ?? before.settings.allowPatientIdentifiers,
      keepDateIntervals: values.keepDateIntervals ?? before.settings.keepDateIntervals,
      minTestSupport: values.minTestSupport ?? before.settings.minTestSupport,
      goldRate: values.goldRate ?? before.settings.goldRate,
      goldMinAccuracy: values.goldMinAccuracy ?? before.settings.goldMinAccuracy,
    };
    let after: ProjectConfig;
    try {
      // The worker reads the row with this parser: what it cannot read is never saved.
      after = parseStoredProjectConfig({ ...row, selectionParams, settings });
    } catch (error) {
      if (!(error instanceof ProjectConfigError)) throw error;
      const first = error.issues[0];
      throw new DomainError("BAD_INPUT", first?.message ?? "The settings are not valid.", { field: fieldOfIssue(first?.path ?? "") });
    }
    const oldValues = selectionSettingsValues(before);
    const newValues = selectionSettingsValues(after);
    const changed = (Object.keys(newValues) as SelectionSettingsField[]).filter((key) => !same(oldValues[key], newValues[key]));
    // Identifiers no longer kept: the stored files that still hold them are rewritten now, not at the next worker start.
    let deidentify: EnqueuedJob | null = null;
    if (before.settings.allowPatientIdentifiers && !after.settings.allowPatientIdentifiers) {
      deidentify = await enqueueJobRun(tx, { kind: DEIDENTIFY_STORED_KIND, projectId, payload: { projectId }, dedupeKey: null, requestedById: ctx.actor?.id ?? null });
    }
    if (changed.length) {
      await writeProjectConfigColumns(tx, projectId, {
        selectionParams: after.selectionParams as unknown as Prisma.InputJsonValue,
        settings: after.settings as unknown as Prisma.InputJsonValue,
      });
    }
    await ctx.audit.record(tx, {
      action: "project.settings.update",
      targetType: "Project",
      targetId: projectId,
      projectId,
      details: {
        section: "selection",
        changed,
        before: Object.fromEntries(changed.map((key) => [key, oldValues[key]])),
        after: Object.fromEntries(changed.map((key) => [key, newValues[key]])),
        ...(deidentify ? { deidentifyJobRunId: deidentify.jobRunId } : {}),
      } as Prisma.InputJsonValue,
    });
    return { values: newValues, changed, deidentify };
  });
  // After the commit: the worker never picks up a JobRun whose row was rolled back.
  if (outcome.deidentify) await outcome.deidentify.send();
  return { projectId: project.id, values: outcome.values, changed: outcome.changed, deidentifyJobRunId: outcome.deidentify?.jobRunId ?? null };
}
