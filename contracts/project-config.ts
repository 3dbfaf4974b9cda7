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
import { choiceField, numberField, wholeNumberField, yesNoField } from "./number-fields";
import { limitedText } from "./text-limits";

// ---------------------------------------------------------------------------------------------
// Label schema

/** Keys the case view reserves for itself (skip, next, uncertain, comment, help, shortcuts list). */
export const RESERVED_SHORTCUTS = ["s", "n", "u", "c", "h", "?"] as const;

/** Colours given to labels of older rows that have none, in label order. */
export const DEFAULT_LABEL_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"] as const;

export const LABEL_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** One class of the label schema. The key is the stable id stored in annotations; the name may change. */
const KEY_MESSAGE = "Use 1–64 letters, digits, '_', '.' or '-' for the key";
export const ZLabelClass = z.object(
  {
    key: z.string({ error: KEY_MESSAGE }).regex(LABEL_KEY_PATTERN, KEY_MESSAGE),
  name: limitedText("labelName", z.string({ error: "Give the label a display name" }).trim().min(1, "Give the label a display name")),
  color: z.string({ error: "Use a colour like #1f77b4" }).regex(/^#[0-9a-fA-F]{6}$/, "Use a colour like #1f77b4"),
  /** One key pressed in the case view to apply the label (not one of RESERVED_SHORTCUTS). */
  shortcut: z
    .string({ error: "A shortcut is one key" })
    .length(1, "A shortcut is one key")
    .refine((k) => k.trim() === k && !(RESERVED_SHORTCUTS as readonly string[]).includes(k.toLowerCase()), "This key is taken by the case view (S, N, U, C, H, ?) or is blank")
    .optional(),
  /** Shown to clinicians beside the label. */
  guideline: limitedText("labelGuideline", z.string({ error: "A guideline is text" })).optional(),
  },
  { error: "A label is an object with key, name and colour" },
);
export type LabelClass = z.infer<typeof ZLabelClass>;

/** Keys of rows written before the key rule (e.g. imported specialty names with spaces and slashes). */
const ZLegacyLabelClass = ZLabelClass.extend({ key: z.string().min(1, "A label key must not be empty").max(200) });

function labelSchemaWith(minLabels: number, labelClass: typeof ZLabelClass | typeof ZLegacyLabelClass = ZLabelClass) {
  return z
    .object({
      labels: z.array(labelClass, { error: "The labels must be a list" }).min(minLabels, "A project needs at least two labels").max(100, "At most 100 labels"),
      multiLabel: yesNoField("Multi-label").default(false),
    }, { error: "The label schema must be an object with labels" })
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
export const ZSelectionStrategy = choiceField("The strategy", SELECTION_STRATEGIES);
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

const ZShare = numberField("ρ", { gt: 0, lt: 1 });

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
], { error: "ρ must be a number above 0 and below 1, or one share per minority class (e.g. {\"rare\": 0.3})" });
export type TargetMix = z.infer<typeof ZTargetMix>;

export const ZSelectionParams = z.object(
  {
  strategy: ZSelectionStrategy.default("rads"),
  /** B: cases per round. */
  budget: wholeNumberField("B", { min: 1, max: 10_000 }),
  /** K: MC-dropout passes per case (BALD, RADS). */
  mcPasses: wholeNumberField("K", { min: 2, max: 100 }).default(10),
  /** RADS agent training episodes per round. */
  episodes: wholeNumberField("RADS episodes", { min: 1, max: 5000 }).default(300),
  rho: ZTargetMix.default(0.9),
  /** λ: weight of the distribution-matching penalty in the RADS reward. */
  lambda: numberField("λ", { min: 0, max: 10 }).default(0.01),
  /** RADS walk: exact (whole pool per episode), scaled (bounded walk for large pools), auto. */
  mode: choiceField("The RADS mode", ["auto", "exact", "scaled"]).default("auto"),
  /** Seed of the selection's randomness (default: derived from project and round). */
  seed: wholeNumberField("The seed").optional(),
  },
  { error: "The selection parameters must be an object with at least the budget B" },
);
export type SelectionParams = z.infer<typeof ZSelectionParams>;

// ---------------------------------------------------------------------------------------------
// Settings

/** The heads the train job can fit over the embeddings (models/trainers). */
export const HEAD_KINDS = ["logistic", "mlp"] as const;

/** Head hyper-parameters a project may override (the train job's defaults otherwise). */
export const ZHeadConfig = z.object(
  {
  /**
   * logistic: class-balanced logistic regression, c by cross-validation, bootstrap uncertainty
   * (workers/ml/heads/logistic.ts; the default of new projects); mlp: the MLP head with MC dropout
   * (the other fields). Absent: mlp, as for projects created before the logistic head existed.
   */
  kind: choiceField("The head kind", HEAD_KINDS).optional(),
  hidden: z.array(wholeNumberField("A hidden layer width", { min: 1, max: 65_536 }), { error: "The hidden layers must be a list of widths" }).max(4, "At most 4 hidden layers").optional(),
  dropout: numberField("The dropout", { min: 0, max: 0.9 }).optional(),
  maxEpochs: wholeNumberField("The maximum epochs", { min: 1, max: 10_000 }).optional(),
  patience: wholeNumberField("The patience", { min: 1, max: 10_000 }).optional(),
  learningRate: numberField("The learning rate", { gt: 0, max: 10 }).optional(),
  loss: choiceField("The loss", ["cross-entropy", "weighted-cross-entropy", "focal"]).optional(),
  },
  { error: "The head settings must be an object" },
);

/** Default of settings.minTrainingIntervalMinutes: a reviewer's pace, not the labels' (docs/benchmarks.md, issue 16 soak). */
export const DEFAULT_MIN_TRAINING_INTERVAL_MINUTES = 10;

export const ZRetrainTriggers = z.object(
  {
  /** Retrain when the current round is fully annotated. */
  onRoundComplete: yesNoField("Retrain when a round is complete").default(true),
  /** Retrain after this many new submitted labels (null: off). */
  everyNLabels: wholeNumberField("Every N labels", { min: 1, max: 100_000 }).nullable().default(20),
  /** Retrain every so many hours when there are new labels (null: off). */
  scheduleHours: numberField("Every so many hours", { gt: 0, max: 24 * 365 }).nullable().default(null),
  },
  { error: "The retraining triggers must be an object" },
);
export type RetrainTriggers = z.infer<typeof ZRetrainTriggers>;

export const DEFAULT_REVIEW_TOLERANCE = 0.02;
/** TEST cases per class below which a metric is "too few cases to judge" (issue 15). */
export const DEFAULT_MIN_TEST_SUPPORT = 10;

export const ZProjectSettings = z.object(
  {
  /** N different clinicians label each selected case. */
  annotationsPerCase: wholeNumberField("Annotations per case", { min: 1, max: 10 }).default(1),
  /** A clinician's claim on a case expires after this many minutes. */
  leaseMinutes: wholeNumberField("Lease minutes", { min: 1, max: 24 * 60 }).default(30),
  retrainTriggers: ZRetrainTriggers.default({ onRoundComplete: true, everyNLabels: 20, scheduleHours: null }),
  /**
   * Fewest minutes from the latest model to an automatic training (issue 16; 0: no minimum): the
   * retrain triggers that fire sooner are folded into one training when the interval ends
   * (workers/jobs/loop-triggers.ts). "Retrain now" is not held back.
   */
  minTrainingIntervalMinutes: wholeNumberField("The minutes between automatic trainings", { min: 0, max: 7 * 24 * 60 }).default(DEFAULT_MIN_TRAINING_INTERVAL_MINUTES),
  /** Worst drop of minority recall / AUPRC (absolute) tolerated before the review guard flags a candidate. */
  reviewTolerance: numberField("The review tolerance", { min: 0, max: 1 }).default(DEFAULT_REVIEW_TOLERANCE),
  /** The person who started a training may not approve its model. */
  fourEyes: yesNoField("Four eyes").default(false),
  /**
   * Fewest TEST cases of a class a metric may rest on before the review calls it "too few cases to
   * judge" (the guard cannot pass on such a metric).
   */
  minTestSupport: wholeNumberField("The fewest TEST cases", { min: 1, max: 100_000 }).default(DEFAULT_MIN_TEST_SUPPORT),
  /**
   * Share of the cases served to a clinician that are gold cases with a known answer (issue 14; 0 = off,
   * at most 0.5), mixed in without telling the clinician (server/services/gold-mixing.ts).
   */
  goldRate: numberField("The gold rate", { min: 0, max: 0.5 }).default(0),
  /** An annotator whose accuracy on gold (with at least GOLD_MIN_ANSWERS answers) is below this is flagged to the data scientist. */
  goldMinAccuracy: numberField("The gold accuracy threshold", { min: 0, max: 1 }).default(0.8),
  /** Show the active model's prediction to clinicians. */
  showPredictions: yesNoField("Show predictions").default(false),
  /** Imports without a case-id column get generated ids. */
  generateCaseIds: yesNoField("Generate case ids").default(false),
  /**
   * Keep patient identifiers: DICOM files are stored as uploaded and identifying attributes are kept.
   * Off (the default): every DICOM file is de-identified on import (PS3.15 Basic Profile, server/import/deidentify-dicom.ts).
   */
  allowPatientIdentifiers: yesNoField("Keep patient identifiers").default(false),
  /**
   * De-identified DICOM keeps date intervals: every date of a patient moves back by one per-patient
   * offset (PS3.15 Retain Longitudinal Temporal Information with Modified Dates) instead of being removed.
   */
  keepDateIntervals: yesNoField("Keep date intervals").default(false),
  /** Trainer name (models/trainers), default cpu-mlp-head. */
  trainer: z.string({ error: "The trainer must be a name" }).min(1, "The trainer must be a name").max(64, "The trainer name must be at most 64 characters").optional(),
  head: ZHeadConfig.optional(),
  },
  { error: "The settings must be an object" },
);
export type ProjectSettings = z.infer<typeof ZProjectSettings>;

// ---------------------------------------------------------------------------------------------
// The whole configuration

export const CASE_CONTENTS = ["narrative", "images", "both"] as const;
export const ZCaseContent = choiceField("What a case holds (caseContent)", CASE_CONTENTS);
export type CaseContent = z.infer<typeof ZCaseContent>;

const configFields = {
  name: limitedText("projectName", z.string({ error: "Give the project a name" }).trim().min(1, "Give the project a name")),
  description: limitedText("projectDescription", z.string({ error: "The description must be text" }).trim()).default(""),
  caseContent: ZCaseContent.default("narrative"),
  labelSchema: ZLabelSchema,
  /** Label keys the selection hunts for. */
  minorityClasses: z.array(z.string({ error: "A minority class is a label key" }), { error: "The minority classes must be a list of label keys" }).max(100, "At most 100 minority classes").default([]),
  selectionParams: ZSelectionParams,
  encoderConfig: ZEncoderConfig.default({ kind: "builtin", dim: 384 }),
  settings: ZProjectSettings.default(ZProjectSettings.parse({})),
};

/** The encoder a new project whose cases hold a narrative gets when its configuration names none. */
export const NEW_PROJECT_TEXT_ENCODER = { kind: "lsa", dim: 100 } as const;

/**
 * The defaults of a NEW project, over the stored-config defaults above (which keep reading old rows
 * as they were written): a project whose cases hold a narrative ("narrative", "both", or no
 * caseContent) and that names no encoderConfig gets the LSA encoder (`NEW_PROJECT_TEXT_ENCODER`,
 * fitted on its narratives); an images-only project gets NO default encoder, because there is no
 * built-in image encoder (ZNewProjectConfig then asks for an ONNX image model). A project whose
 * settings name no head kind gets the logistic head (`settings.head.kind = "logistic"`) — the
 * learner measured in docs/simulation.md, "The learner" — and ρ = 0.3. Anything the input gives is
 * kept. Returns `input` unchanged when it is not an object.
 */
export function withNewProjectDefaults(input: unknown): unknown {
  if (!input || typeof input !== "object" || Array.isArray(input)) return input;
  const config = input as Record<string, unknown>;
  const hasNarrative = config.caseContent === undefined || config.caseContent === "narrative" || config.caseContent === "both";
  const settings = config.settings && typeof config.settings === "object" && !Array.isArray(config.settings) ? (config.settings as Record<string, unknown>) : config.settings === undefined ? {} : null;
  const head = settings?.head && typeof settings.head === "object" && !Array.isArray(settings.head) ? (settings.head as Record<string, unknown>) : settings?.head === undefined ? {} : null;
  const params = config.selectionParams && typeof config.selectionParams === "object" && !Array.isArray(config.selectionParams) ? (config.selectionParams as Record<string, unknown>) : config.selectionParams === undefined ? {} : null;
  return {
    ...config,
    ...(hasNarrative && config.encoderConfig === undefined ? { encoderConfig: { ...NEW_PROJECT_TEXT_ENCODER } } : {}),
    // ρ = 0.3 measured best for the platform's RADS variant on mtsamples (workers/ml/rads/README.md); stored projects keep theirs.
    ...(params && params.rho === undefined ? { selectionParams: { ...params, rho: 0.3 } } : {}),
    ...(settings && head && head.kind === undefined ? { settings: { ...settings, head: { ...head, kind: "logistic" } } } : {}),
  };
}

/** Encoder kinds that read the narrative / the images of a case. */
const TEXT_ENCODERS: readonly string[] = ["builtin", "lsa", "onnx-text"];

/**
 * Whether an encoder can embed what a project's cases hold: null when it fits, else the sentence
 * that says why not ("images" needs onnx-image; "narrative" needs a text encoder; "both" takes any).
 */
export function encoderContentMismatch(caseContent: CaseContent, encoderKind: string): string | null {
  if (caseContent === "images" && TEXT_ENCODERS.includes(encoderKind)) {
    return `The cases of this project hold only images, but the "${encoderKind}" encoder reads the narrative: every case would get the same vector. Choose an ONNX image encoder ("onnx-image").`;
  }
  if (caseContent === "narrative" && encoderKind === "onnx-image") {
    return 'The cases of this project hold only a narrative, but an image encoder embeds images: choose a text encoder ("lsa", "builtin" or "onnx-text").';
  }
  return null;
}

/** What an images-only project without an encoder is told (there is no built-in image encoder). */
export const IMAGE_ENCODER_REQUIRED =
  'A project whose cases hold only images needs an image encoder, and there is no built-in one: name an ONNX image model in the models folder (MODELS_DIR), e.g. { "kind": "onnx-image", "path": "resnet/model.onnx" }.';

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

/**
 * A NEW project's configuration (the "New project" form, its configuration-file upload, `npm run
 * project -- create --config`, the create procedure): `withNewProjectDefaults` first (so the encoder
 * default depends on what a case holds), then ZProjectConfig's checks, and the encoder must fit the
 * content (`encoderContentMismatch`; an images-only project must name an image encoder,
 * IMAGE_ENCODER_REQUIRED at `encoderConfig`). Whether an ONNX path exists inside MODELS_DIR is the
 * server's check (server/services/encoder-service.ts resolveEncoderConfig).
 */
export const ZNewProjectConfig = z.preprocess(
  withNewProjectDefaults,
  z
    .object({ ...configFields, encoderConfig: ZEncoderConfig.optional() })
    .superRefine((config, ctx) => {
      checkAcrossFields(config, ctx);
      if (!config.encoderConfig) {
        ctx.addIssue({ code: "custom", path: ["encoderConfig"], message: IMAGE_ENCODER_REQUIRED });
        return;
      }
      const mismatch = encoderContentMismatch(config.caseContent, config.encoderConfig.kind);
      if (mismatch) ctx.addIssue({ code: "custom", path: ["encoderConfig", "kind"], message: mismatch });
    })
    // Refined above: every config that gets here names its encoder.
    .transform((config): ProjectConfig => ({ ...config, encoderConfig: config.encoderConfig ?? { ...NEW_PROJECT_TEXT_ENCODER } })),
);

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
