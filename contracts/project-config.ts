/**
 * A project's whole configuration — THE schema of the JSON columns of `Project` (labelSchema,
 * minorityClasses, selectionParams, encoderConfig, settings) plus its name, description and what a
 * case holds. One zod schema shared by the create/edit forms, the procedures, the JSON config
 * export/import and the worker, so every reader sees the same parsed `ProjectConfig`.
 *
 * - `ZProjectConfig` validates a configuration a person wrote (form, `npm run project -- create
 *   --config file.json`): every problem is a zod issue whose path names the field.
 * - `parseStoredProjectConfig(row)` reads a database row ONCE: rows written before this schema
 *   (labels without a colour, flat retrain settings, strategy names of workers/ml, ρ as an array)
 *   are brought to the current shape with defaults; a value that is not a configuration at all
 *   throws `ProjectConfigError` naming the project and the fields.
 */
import { z } from "zod";
import { ZEncoderConfig } from "./encoder-config";
import { limitedText } from "./text-limits";

// ---------------------------------------------------------------------------------------------
// Label schema

/** Keys the case view reserves for itself (skip, next, uncertain, comment, help, shortcuts list). */
export const RESERVED_SHORTCUTS = ["s", "n", "u", "c", "h", "?"] as const;

/** Colours given to labels of older rows that have none, in label order. */
export const DEFAULT_LABEL_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"] as const;

export const LABEL_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** One class of the label schema. The key is the stable id stored in annotations; the name may change. */
export const ZLabelClass = z.object({
  key: z.string().regex(LABEL_KEY_PATTERN, "Use 1–64 letters, digits, '_', '.' or '-' for the key"),
  name: limitedText("labelName", z.string().trim().min(1, "Give the label a display name")),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, "Use a colour like #1f77b4"),
  /** One key pressed in the case view to apply the label (not one of RESERVED_SHORTCUTS). */
  shortcut: z
    .string()
    .length(1, "A shortcut is one key")
    .refine((k) => k.trim() === k && !(RESERVED_SHORTCUTS as readonly string[]).includes(k.toLowerCase()), "This key is taken by the case view (S, N, U, C, H, ?) or is blank")
    .optional(),
  /** Shown to clinicians beside the label. */
  guideline: limitedText("labelGuideline").optional(),
});
export type LabelClass = z.infer<typeof ZLabelClass>;

/** Keys of rows written before the key rule (e.g. imported specialty names with spaces and slashes). */
const ZLegacyLabelClass = ZLabelClass.extend({ key: z.string().min(1, "A label key must not be empty").max(200) });

function labelSchemaWith(minLabels: number, labelClass: typeof ZLabelClass | typeof ZLegacyLabelClass = ZLabelClass) {
  return z
    .object({
      labels: z.array(labelClass).min(minLabels, "A project needs at least two labels").max(100, "At most 100 labels"),
      multiLabel: z.boolean().default(false),
    })
    .superRefine((schema, ctx) => {
      const keys = new Map<string, number>();
      const shortcuts = new Map<string, number>();
      schema.labels.forEach((label, i) => {
        if (keys.has(label.key)) ctx.addIssue({ code: "custom", path: ["labels", i, "key"], message: `The key "${label.key}" is used twice` });
        keys.set(label.key, i);
        if (label.shortcut !== undefined) {
          const k = label.shortcut.toLowerCase();
          if (shortcuts.has(k)) ctx.addIssue({ code: "custom", path: ["labels", i, "shortcut"], message: `The shortcut "${label.shortcut}" is used twice` });
          shortcuts.set(k, i);
        }
      });
    });
}

/** Classes (at least two, unique keys, unique shortcuts) and whether a case may take several. */
export const ZLabelSchema = labelSchemaWith(2);
export type LabelSchema = z.infer<typeof ZLabelSchema>;

// ---------------------------------------------------------------------------------------------
// Selection parameters

/** Strategies a project can choose. */
export const SELECTION_STRATEGIES = ["rads", "rads-paper", "bald", "entropy", "margin", "random", "coreset"] as const;
export const ZSelectionStrategy = z.enum(SELECTION_STRATEGIES);
export type SelectionStrategyName = z.infer<typeof ZSelectionStrategy>;

/** The workers/ml implementation of each strategy (RADS is its own module; the rest are baselines by name). */
export const STRATEGY_IMPLEMENTATION: Record<SelectionStrategyName, string> = {
  rads: "rads",
  "rads-paper": "rads-paper",
  bald: "bald",
  entropy: "max-entropy",
  margin: "margin",
  random: "random",
  coreset: "k-center",
};

/** Names older rows may hold (the workers/ml names) → the project strategy. */
const LEGACY_STRATEGY: Record<string, SelectionStrategyName> = { "max-entropy": "entropy", "k-center": "coreset" };

const ZShare = z.number().gt(0, "ρ must be above 0").lt(1, "ρ must be below 1");

/**
 * Target mix ρ: the share of a round the data scientist wants from the minority classes — one
 * number in (0, 1) split evenly over the minority classes, or one share per minority class key
 * (each in (0, 1), summing below 1).
 */
export const ZTargetMix = z.union([
  ZShare,
  z
    .record(z.string(), ZShare)
    .refine((mix) => Object.keys(mix).length > 0, "Give a share for at least one minority class")
    .refine((mix) => Object.values(mix).reduce((a, b) => a + b, 0) < 1, "The shares of ρ must sum to less than 1"),
]);
export type TargetMix = z.infer<typeof ZTargetMix>;

export const ZSelectionParams = z.object({
  strategy: ZSelectionStrategy.default("rads"),
  /** B: cases per round. */
  budget: z.number().int("B must be a whole number").min(1, "B must be at least 1").max(10_000, "B must be at most 10,000"),
  /** K: MC-dropout passes per case (BALD, RADS). */
  mcPasses: z.number().int().min(2, "K must be at least 2").max(100, "K must be at most 100").default(10),
  /** RADS agent training episodes per round. */
  episodes: z.number().int().min(1, "At least one episode").max(5000, "At most 5000 episodes").default(300),
  rho: ZTargetMix.default(0.9),
  /** λ: weight of the distribution-matching penalty in the RADS reward. */
  lambda: z.number().min(0, "λ must not be negative").max(10, "λ must be at most 10").default(0.01),
  /** RADS walk: exact (whole pool per episode), scaled (bounded walk for large pools), auto. */
  mode: z.enum(["auto", "exact", "scaled"]).default("auto"),
  /** Seed of the selection's randomness (default: derived from project and round). */
  seed: z.number().int().optional(),
});
export type SelectionParams = z.infer<typeof ZSelectionParams>;

// ---------------------------------------------------------------------------------------------
// Settings

/** The heads the train job can fit over the embeddings (models/trainers). */
export const HEAD_KINDS = ["logistic", "mlp"] as const;

/** Head hyper-parameters a project may override (the train job's defaults otherwise). */
export const ZHeadConfig = z.object({
  /**
   * logistic: class-balanced logistic regression, c by cross-validation, bootstrap uncertainty
   * (workers/ml/heads/logistic.ts; the default of new projects); mlp: the MLP head with MC dropout
   * (the other fields). Absent: mlp, as for projects created before the logistic head existed.
   */
  kind: z.enum(HEAD_KINDS).optional(),
  hidden: z.array(z.number().int().min(1)).max(4).optional(),
  dropout: z.number().min(0).max(0.9).optional(),
  maxEpochs: z.number().int().min(1).max(10_000).optional(),
  patience: z.number().int().min(1).optional(),
  learningRate: z.number().positive().optional(),
  loss: z.enum(["cross-entropy", "weighted-cross-entropy", "focal"]).optional(),
});

export const ZRetrainTriggers = z.object({
  /** Retrain when the current round is fully annotated. */
  onRoundComplete: z.boolean().default(true),
  /** Retrain after this many new submitted labels (null: off). */
  everyNLabels: z.number().int().min(1, "N must be at least 1").max(100_000).nullable().default(20),
  /** Retrain every so many hours when there are new labels (null: off). */
  scheduleHours: z.number().positive("Hours must be positive").max(24 * 365).nullable().default(null),
});
export type RetrainTriggers = z.infer<typeof ZRetrainTriggers>;

export const DEFAULT_REVIEW_TOLERANCE = 0.02;
/** TEST cases per class below which a metric is "too few cases to judge" (issue 15). */
export const DEFAULT_MIN_TEST_SUPPORT = 10;

export const ZProjectSettings = z.object({
  /** N different clinicians label each selected case. */
  annotationsPerCase: z.number().int().min(1, "At least one annotation per case").max(10, "At most 10 annotations per case").default(1),
  /** A clinician's claim on a case expires after this many minutes. */
  leaseMinutes: z.number().int().min(1, "At least one minute").max(24 * 60, "At most 24 hours").default(30),
  retrainTriggers: ZRetrainTriggers.default({ onRoundComplete: true, everyNLabels: 20, scheduleHours: null }),
  /** Worst drop of minority recall / AUPRC (absolute) tolerated before the review guard flags a candidate. */
  reviewTolerance: z.number().min(0, "Tolerance must be between 0 and 1").max(1, "Tolerance must be between 0 and 1").default(DEFAULT_REVIEW_TOLERANCE),
  /** The person who started a training may not approve its model. */
  fourEyes: z.boolean().default(false),
  /**
   * Fewest TEST cases of a class a metric may rest on before the review calls it "too few cases to
   * judge" (the guard cannot pass on such a metric).
   */
  minTestSupport: z.number().int("A whole number of cases").min(1, "At least one case").max(100_000).default(DEFAULT_MIN_TEST_SUPPORT),
  /**
   * Share of the cases served to a clinician that are gold cases with a known answer (issue 14; 0 = off,
   * at most 0.5), mixed in without telling the clinician (server/services/gold-mixing.ts).
   */
  goldRate: z.number().min(0, "The gold rate must be between 0 and 0.5").max(0.5, "The gold rate must be between 0 and 0.5").default(0),
  /** An annotator whose accuracy on gold (with at least GOLD_MIN_ANSWERS answers) is below this is flagged to the data scientist. */
  goldMinAccuracy: z.number().min(0, "The accuracy threshold must be between 0 and 1").max(1, "The accuracy threshold must be between 0 and 1").default(0.8),
  /** Show the active model's prediction to clinicians. */
  showPredictions: z.boolean().default(false),
  /** Imports without a case-id column get generated ids. */
  generateCaseIds: z.boolean().default(false),
  /**
   * Keep patient identifiers: DICOM files are stored as uploaded and identifying attributes are kept.
   * Off (the default): every DICOM file is de-identified on import (PS3.15 Basic Profile, server/import/deidentify-dicom.ts).
   */
  allowPatientIdentifiers: z.boolean().default(false),
  /**
   * De-identified DICOM keeps date intervals: every date of a patient moves back by one per-patient
   * offset (PS3.15 Retain Longitudinal Temporal Information with Modified Dates) instead of being removed.
   */
  keepDateIntervals: z.boolean().default(false),
  /** Trainer name (models/trainers), default cpu-mlp-head. */
  trainer: z.string().min(1).max(64).optional(),
  head: ZHeadConfig.optional(),
});
export type ProjectSettings = z.infer<typeof ZProjectSettings>;

// ---------------------------------------------------------------------------------------------
// The whole configuration

export const CASE_CONTENTS = ["narrative", "images", "both"] as const;
export const ZCaseContent = z.enum(CASE_CONTENTS);
export type CaseContent = z.infer<typeof ZCaseContent>;

const configFields = {
  name: limitedText("projectName", z.string().trim().min(1, "Give the project a name")),
  description: limitedText("projectDescription", z.string().trim()).default(""),
  caseContent: ZCaseContent.default("narrative"),
  labelSchema: ZLabelSchema,
  /** Label keys the selection hunts for. */
  minorityClasses: z.array(z.string()).max(100).default([]),
  selectionParams: ZSelectionParams,
  encoderConfig: ZEncoderConfig.default({ kind: "builtin", dim: 384 }),
  settings: ZProjectSettings.default(ZProjectSettings.parse({})),
};

/**
 * The defaults of a NEW project, over the stored-config defaults above (which keep reading old rows
 * as they were written): a narrative project without an encoderConfig gets the LSA encoder
 * (`{ kind: "lsa", dim: 100 }`), and a project whose settings name no head kind gets the logistic
 * head (`settings.head.kind = "logistic"`) — the learner measured in docs/simulation.md, "The
 * learner". Anything the input gives is kept. Returns `input` unchanged when it is not an object.
 */
export function withNewProjectDefaults(input: unknown): unknown {
  if (!input || typeof input !== "object" || Array.isArray(input)) return input;
  const config = input as Record<string, unknown>;
  const narrative = config.caseContent === undefined || config.caseContent === "narrative";
  const settings = config.settings && typeof config.settings === "object" && !Array.isArray(config.settings) ? (config.settings as Record<string, unknown>) : config.settings === undefined ? {} : null;
  const head = settings?.head && typeof settings.head === "object" && !Array.isArray(settings.head) ? (settings.head as Record<string, unknown>) : settings?.head === undefined ? {} : null;
  const params = config.selectionParams && typeof config.selectionParams === "object" && !Array.isArray(config.selectionParams) ? (config.selectionParams as Record<string, unknown>) : config.selectionParams === undefined ? {} : null;
  return {
    ...config,
    ...(narrative && config.encoderConfig === undefined ? { encoderConfig: { kind: "lsa", dim: 100 } } : {}),
    // ρ = 0.3 measured best for the platform's RADS variant on mtsamples (workers/ml/rads/README.md); stored projects keep theirs.
    ...(params && params.rho === undefined ? { selectionParams: { ...params, rho: 0.3 } } : {}),
    ...(settings && head && head.kind === undefined ? { settings: { ...settings, head: { ...head, kind: "logistic" } } } : {}),
  };
}

type ConfigShape = {
  labelSchema: LabelSchema;
  minorityClasses: string[];
  selectionParams: SelectionParams;
};

/** Checks across fields: minority classes are label keys (once each), ρ's keys are minority classes, RADS has a minority class. */
function checkAcrossFields(config: ConfigShape, ctx: z.RefinementCtx, radsNeedsMinority = true): void {
  const keys = new Set(config.labelSchema.labels.map((l) => l.key));
  const seen = new Set<string>();
  config.minorityClasses.forEach((key, i) => {
    if (!keys.has(key)) ctx.addIssue({ code: "custom", path: ["minorityClasses", i], message: `"${key}" is not a label key of the schema` });
    if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["minorityClasses", i], message: `"${key}" is listed twice` });
    seen.add(key);
  });
  if (seen.size >= keys.size && keys.size > 1) ctx.addIssue({ code: "custom", path: ["minorityClasses"], message: "At least one class must not be a minority class" });
  const rho = config.selectionParams.rho;
  if (typeof rho === "object") {
    for (const key of Object.keys(rho)) {
      if (!seen.has(key)) ctx.addIssue({ code: "custom", path: ["selectionParams", "rho", key], message: `"${key}" is not a minority class` });
    }
  }
  if (radsNeedsMinority && (config.selectionParams.strategy === "rads" || config.selectionParams.strategy === "rads-paper") && seen.size === 0) {
    ctx.addIssue({ code: "custom", path: ["minorityClasses"], message: "RADS needs at least one minority class" });
  }
}

/** A configuration a person wrote (form, JSON file). */
export const ZProjectConfig = z.object(configFields).superRefine((config, ctx) => checkAcrossFields(config, ctx));
export type ProjectConfig = z.infer<typeof ZProjectConfig>;
/** What a form or JSON file may send (defaults not yet applied). */
export type ProjectConfigInput = z.input<typeof ZProjectConfig>;

// ---------------------------------------------------------------------------------------------
// Reading a stored row

/** The columns of a Project row that hold its configuration (name/description/caseContent may be left out by narrow selects). */
export interface StoredProjectRow {
  id?: string;
  name?: string;
  description?: string;
  caseContent?: string;
  labelSchema: unknown;
  minorityClasses: string[];
  selectionParams: unknown;
  encoderConfig: unknown;
  settings: unknown;
}

/** A stored configuration that is not a configuration; the message names the project and the fields. */
export class ProjectConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = "ProjectConfigError";
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Older label rows: no colour (palette by position), empty shortcut, shortcut on a now-reserved key. */
function upgradeLabelSchema(raw: unknown): unknown {
  if (!isRecord(raw) || !Array.isArray(raw.labels)) return raw;
  return {
    ...raw,
    labels: raw.labels.map((label, i) => {
      if (!isRecord(label)) return label;
      const out: Record<string, unknown> = { ...label };
      if (out.name === undefined && typeof out.key === "string") out.name = out.key;
      if (out.color === undefined || out.color === null) out.color = DEFAULT_LABEL_COLORS[i % DEFAULT_LABEL_COLORS.length];
      // A shortcut the case view cannot use (blank, several keys, a reserved key) is dropped rather than failing the project.
      if (out.shortcut !== undefined && !ZLabelClass.shape.shortcut.safeParse(out.shortcut).success) delete out.shortcut;
      if (out.guideline === null) delete out.guideline;
      return out;
    }),
  };
}

/** Older selection rows: workers/ml strategy names, ρ as an array aligned with minorityClasses, budget missing. */
function upgradeSelectionParams(raw: unknown, minorityClasses: string[]): unknown {
  if (raw === null || raw === undefined) return { budget: 10 };
  if (!isRecord(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  if (typeof out.strategy === "string" && LEGACY_STRATEGY[out.strategy]) out.strategy = LEGACY_STRATEGY[out.strategy];
  if (Array.isArray(out.rho) && out.rho.length === minorityClasses.length) {
    out.rho = Object.fromEntries(minorityClasses.map((key, i) => [key, (out.rho as unknown[])[i]]));
  }
  if (out.budget === undefined) out.budget = 10;
  return out;
}

/** Older settings rows: flat retrain keys (retrainEveryNLabels, retrainIntervalHours, autoRetrain). */
function upgradeSettings(raw: unknown): unknown {
  if (raw === null || raw === undefined) return {};
  if (!isRecord(raw)) return raw;
  const { retrainEveryNLabels, retrainIntervalHours, autoRetrain, ...rest } = raw;
  if (rest.retrainTriggers !== undefined || (retrainEveryNLabels === undefined && retrainIntervalHours === undefined && autoRetrain === undefined)) return rest;
  const off = autoRetrain === false;
  return {
    ...rest,
    retrainTriggers: {
      onRoundComplete: !off,
      everyNLabels: off ? null : (retrainEveryNLabels ?? 20),
      scheduleHours: off ? null : (retrainIntervalHours ?? null),
    },
  };
}

/**
 * A stored row's configuration. Not the person-written checks on the name (a narrow select may
 * leave it out), the key pattern and two-label minimum of the schema editor, nor the "RADS needs a
 * minority class" rule (the worker reports those itself); every other check applies.
 */
const ZStoredProjectConfig = z
  .object({
    ...configFields,
    name: z.string().default(""),
    description: z.string().default(""),
    caseContent: ZCaseContent.default("both"),
    // Rows written before the schema editor may have fewer than two labels (an import then accepts any label).
    labelSchema: labelSchemaWith(0, ZLegacyLabelClass),
  })
  .superRefine((config, ctx) => checkAcrossFields(config, ctx, false));

/**
 * Parses a Project row's configuration columns once, with defaults for what older rows lack.
 * @param row the row's name/description/caseContent (optional), labelSchema, minorityClasses, selectionParams, encoderConfig, settings
 * @returns the parsed `ProjectConfig` (labels with colours, settings with every default, encoder with defaults)
 * @throws ProjectConfigError naming the project (id when given) and each bad field, e.g.
 *   "Project abc has an invalid configuration: selectionParams.budget: B must be at least 1"
 */
export function parseStoredProjectConfig(row: StoredProjectRow): ProjectConfig {
  const minority = Array.isArray(row.minorityClasses) ? row.minorityClasses : [];
  const parsed = ZStoredProjectConfig.safeParse({
    name: row.name,
    description: row.description,
    caseContent: row.caseContent,
    labelSchema: upgradeLabelSchema(row.labelSchema),
    minorityClasses: minority,
    selectionParams: upgradeSelectionParams(row.selectionParams, minority),
    encoderConfig: row.encoderConfig ?? undefined,
    settings: upgradeSettings(row.settings),
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(root)", message: issue.message }));
    const which = row.id ? `Project ${row.id}` : row.name ? `Project "${row.name}"` : "The project";
    throw new ProjectConfigError(`${which} has an invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  }
  return parsed.data;
}

/** The label keys in schema order and the indices of the minority classes among them. */
export function projectClassIndex(config: Pick<ProjectConfig, "labelSchema" | "minorityClasses">): { keys: string[]; minority: number[] } {
  const keys = config.labelSchema.labels.map((l) => l.key);
  return { keys, minority: config.minorityClasses.map((k) => keys.indexOf(k)).filter((i) => i >= 0) };
}

/** ρ as workers/ml takes it: a number, or one share per minority class in `minorityClasses` order (0 for a class not given). */
export function targetMixForMinority(rho: TargetMix, minorityClasses: readonly string[]): number | number[] {
  return typeof rho === "number" ? rho : minorityClasses.map((key) => rho[key] ?? 0);
}
