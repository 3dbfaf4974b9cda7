/**
 * Inputs of the project settings sections "Selection and loop" and "Encoder" (one zod schema each,
 * shared by the form and the procedure). The fields are the ones of contracts/project-config.ts
 * (ZSelectionParams, ZProjectSettings, ZEncoderConfig), so the form, the procedure, the stored row
 * and the worker (parseStoredProjectConfig) validate with the same rules and messages.
 *
 * The selection/loop input is flat (budget, mcPasses, …, everyNLabels) so every message lands on
 * its own input: a failed parse's field errors are keyed by these names.
 */
import { z } from "zod";
import { ZEncoderConfig } from "./encoder-config";
import { ZProjectSettings, ZRetrainTriggers, ZSelectionParams } from "./project-config";

const ZId = z.string().min(1).max(64);

const selection = ZSelectionParams.shape;
const settings = ZProjectSettings.shape;
const triggers = ZRetrainTriggers.shape;

export const ZUpdateSelectionSettingsInput = z.object({
  projectId: ZId,
  strategy: selection.strategy,
  budget: selection.budget,
  mcPasses: selection.mcPasses,
  episodes: selection.episodes,
  rho: selection.rho,
  lambda: selection.lambda,
  annotationsPerCase: settings.annotationsPerCase,
  leaseMinutes: settings.leaseMinutes,
  onRoundComplete: triggers.onRoundComplete,
  everyNLabels: triggers.everyNLabels,
  scheduleHours: triggers.scheduleHours,
  reviewTolerance: settings.reviewTolerance,
  fourEyes: settings.fourEyes,
  showPredictions: settings.showPredictions,
  generateCaseIds: settings.generateCaseIds,
  // Optional: a caller that does not name them leaves them as they are (never silently flipped).
  allowPatientIdentifiers: z.boolean().optional(),
  keepDateIntervals: z.boolean().optional(),
  /** Optional in the input: a client that does not send it keeps the stored threshold. */
  minTestSupport: settings.minTestSupport.optional(),
  /** Gold cases (issue 14): optional, so a caller that does not name them keeps the stored values. */
  goldRate: settings.goldRate.optional(),
  goldMinAccuracy: settings.goldMinAccuracy.optional(),
  /** Optional: a caller that does not name it keeps the stored interval. */
  minTrainingIntervalMinutes: settings.minTrainingIntervalMinutes.optional(),
});
export type UpdateSelectionSettingsInput = z.infer<typeof ZUpdateSelectionSettingsInput>;
export type SelectionSettingsField = Exclude<keyof UpdateSelectionSettingsInput, "projectId">;

/** One line per field, shown beside it on the settings page. */
export const SELECTION_SETTINGS_HELP: Record<SelectionSettingsField, string> = {
  strategy: "How the next round is chosen: RADS hunts minority cases; BALD/entropy/margin take the most uncertain; random is the baseline; coreset covers the embedding space.",
  budget: "B — cases per round; at most the number of pool cases.",
  mcPasses: "K — MC-dropout passes per case for BALD and RADS (more is steadier and slower).",
  episodes: "RADS agent training episodes per round (more explores better, takes longer).",
  rho: "ρ — the share of a round you want from the minority classes (between 0 and 1).",
  lambda: "λ — weight of the RADS redundancy penalty (a case too like those already chosen earns less). rads-paper always uses it; rads uses it only when the pool has no stored embeddings (with embeddings it penalises cosine similarity at its own weight, 0.1).",
  annotationsPerCase: "How many different clinicians label each selected case.",
  leaseMinutes: "A clinician's claim on a case expires after this many minutes.",
  onRoundComplete: "Retrain as soon as every case of the current round is labelled.",
  everyNLabels: "Retrain after this many new labels (empty: off).",
  scheduleHours: "Retrain every so many hours when there are new labels (empty: off).",
  minTrainingIntervalMinutes: "At most one automatic training per this many minutes (0: no minimum): triggers that fire sooner are folded into one training when the time is up. \"Retrain now\" is not held back.",
  reviewTolerance: "The review flags a candidate whose minority recall or AUPRC dropped by more than this.",
  fourEyes: "The person who started a training may not approve its model.",
  showPredictions: "Clinicians see the active model's prediction beside a case.",
  generateCaseIds: "Imports without a case-id column get ids generated from each row's content.",
  allowPatientIdentifiers: "Off (recommended): DICOM files are de-identified on import (PS3.15 Basic Profile) and narratives with likely identifiers are held for your choice. On: files are stored as uploaded.",
  minTestSupport: "Fewest TEST cases of a class a metric may rest on; below it the review says \"too few cases to judge\" and the guard cannot pass.",
  goldRate: "Share of each clinician's cases that are gold cases with a known answer (0 = off, at most 0.5); clinicians are not told which. Each gold case goes to a clinician at most once.",
  goldMinAccuracy: "The agreement page flags an annotator whose accuracy on gold cases (at least 5 answers) is below this (0–1). Nobody is blocked.",
  keepDateIntervals: "De-identified DICOM keeps date intervals: each patient's dates move back by one secret offset instead of being removed.",
};

/** The encoder section: the config as contracts/encoder-config.ts defines it. ONNX paths are relative to MODELS_DIR. */
export const ZUpdateEncoderInput = z.object({ projectId: ZId, encoderConfig: ZEncoderConfig });
export type UpdateEncoderInput = z.input<typeof ZUpdateEncoderInput>;

/** "Try it": embeds a few cases with a config that is not saved yet. */
export const ZTryEncoderInput = ZUpdateEncoderInput;
export type TryEncoderInput = z.input<typeof ZTryEncoderInput>;

export const ZProjectSettingsGetInput = z.object({ projectId: ZId });
