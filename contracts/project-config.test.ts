import { describe, expect, it } from "vitest";
import { DEMO_ENCODER_CONFIG, DEMO_SELECTION_PARAMS, DEMO_SETTINGS } from "@/prisma/seed";
import { DEMO_LABEL_SCHEMA, DEMO_MINORITY_CLASSES } from "@/prisma/demo/narratives";
import { IMAGE_ENCODER_REQUIRED, parseStoredProjectConfig, ProjectConfigError, targetMixForMinority, withNewProjectDefaults, ZNewProjectConfig, ZProjectConfig, ZProjectSettings, ZSelectionParams, type ProjectConfigInput } from "./project-config";

const LABELS = [
  { key: "neuro", name: "Neurology", color: "#112233", shortcut: "1" },
  { key: "ortho", name: "Orthopedic", color: "#445566", shortcut: "2" },
  { key: "rest", name: "Other", color: "#778899", shortcut: "3" },
];

const valid: ProjectConfigInput = {
  name: "Neurology vs rest",
  caseContent: "narrative",
  labelSchema: { labels: LABELS, multiLabel: false },
  minorityClasses: ["neuro"],
  selectionParams: { strategy: "rads", budget: 10 },
};

function issuesOf(input: unknown): Record<string, string> {
  const parsed = ZProjectConfig.safeParse(input);
  if (parsed.success) return {};
  return Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), i.message]));
}

describe("ZProjectConfig", () => {
  it("fills every default of a minimal configuration", () => {
    const config = ZProjectConfig.parse(valid);
    expect(config.selectionParams).toEqual({ strategy: "rads", budget: 10, mcPasses: 10, episodes: 300, rho: 0.9, lambda: 0.01, mode: "auto" });
    expect(config.settings).toMatchObject({ annotationsPerCase: 1, leaseMinutes: 30, fourEyes: false, showPredictions: false, generateCaseIds: false, retrainTriggers: { onRoundComplete: true, everyNLabels: 20, scheduleHours: null } });
    expect(config.encoderConfig).toEqual({ kind: "builtin", dim: 384 });
  });

  it("names the field of each bad value", () => {
    expect(issuesOf({ ...valid, labelSchema: { labels: [LABELS[0], { ...LABELS[1], key: "neuro" }] } })).toHaveProperty(["labelSchema.labels.1.key"], 'The key "neuro" is used twice');
    expect(issuesOf({ ...valid, labelSchema: { labels: [LABELS[0], { ...LABELS[1], shortcut: "1" }] } })).toHaveProperty(["labelSchema.labels.1.shortcut"]);
    expect(issuesOf({ ...valid, labelSchema: { labels: [LABELS[0], { ...LABELS[1], shortcut: "s" }] } })).toHaveProperty(["labelSchema.labels.1.shortcut"]);
    expect(issuesOf({ ...valid, labelSchema: { labels: [{ ...LABELS[0], color: "red" }, LABELS[1]] } })).toHaveProperty(["labelSchema.labels.0.color"]);
    expect(issuesOf({ ...valid, minorityClasses: ["cardio"] })).toHaveProperty(["minorityClasses.0"], '"cardio" is not a label key of the schema');
    expect(issuesOf({ ...valid, minorityClasses: [] })).toHaveProperty(["minorityClasses"], "RADS needs at least one minority class");
    expect(issuesOf({ ...valid, selectionParams: { budget: 10, rho: 1 } })).toHaveProperty(["selectionParams.rho"]);
    expect(issuesOf({ ...valid, selectionParams: { budget: 10, rho: 0 } })).toHaveProperty(["selectionParams.rho"]);
    expect(issuesOf({ ...valid, minorityClasses: ["neuro", "ortho"], selectionParams: { budget: 10, rho: { neuro: 0.6, ortho: 0.5 } } })).toHaveProperty(["selectionParams.rho"]);
    expect(issuesOf({ ...valid, selectionParams: { budget: 10, rho: { rest: 0.5 } } })).toHaveProperty(["selectionParams.rho.rest"], '"rest" is not a minority class');
    expect(issuesOf({ ...valid, selectionParams: { budget: 0 } })).toHaveProperty(["selectionParams.budget"], "B must be a whole number between 1 and 10,000");
    expect(issuesOf({ ...valid, selectionParams: { budget: 5, strategy: "magic" } })).toHaveProperty(["selectionParams.strategy"]);
    expect(issuesOf({ ...valid, settings: { leaseMinutes: 0 } })).toHaveProperty(["settings.leaseMinutes"]);
    expect(issuesOf({ ...valid, name: "  " })).toHaveProperty(["name"]);
  });

  it("accepts a per-class ρ summing below 1 and hands it to workers/ml in minority order", () => {
    const config = ZProjectConfig.parse({ ...valid, minorityClasses: ["neuro", "ortho"], selectionParams: { budget: 10, rho: { ortho: 0.2, neuro: 0.5 } } });
    expect(targetMixForMinority(config.selectionParams.rho, config.minorityClasses)).toEqual([0.5, 0.2]);
    expect(targetMixForMinority(0.9, ["neuro"])).toBe(0.9);
  });
});

describe("parseStoredProjectConfig", () => {
  it("reads the demo project's row (older shapes) with defaults", () => {
    const config = parseStoredProjectConfig({ name: "Demo", labelSchema: DEMO_LABEL_SCHEMA, minorityClasses: DEMO_MINORITY_CLASSES, selectionParams: DEMO_SELECTION_PARAMS, encoderConfig: DEMO_ENCODER_CONFIG, settings: DEMO_SETTINGS });
    expect(config.labelSchema.labels.every((l) => /^#[0-9a-f]{6}$/.test(l.color))).toBe(true);
    expect(config.settings).toMatchObject({ fourEyes: true, leaseMinutes: 30, retrainTriggers: { onRoundComplete: true, everyNLabels: 20, scheduleHours: null } });
    expect(config.caseContent).toBe("both");
  });

  it("upgrades legacy values: strategy names of workers/ml, ρ arrays, autoRetrain off, missing budget and encoder", () => {
    const config = parseStoredProjectConfig({
      labelSchema: { labels: [{ key: "a", shortcut: "" }, { key: "b", name: "B", shortcut: "s" }] },
      minorityClasses: ["a"],
      selectionParams: { strategy: "max-entropy", rho: [0.4] },
      encoderConfig: null,
      settings: { autoRetrain: false, retrainEveryNLabels: 5 },
    });
    expect(config.selectionParams).toMatchObject({ strategy: "entropy", budget: 10, rho: { a: 0.4 } });
    expect(config.labelSchema.labels).toEqual([
      { key: "a", name: "a", color: "#4e79a7" },
      { key: "b", name: "B", color: "#f28e2b" },
    ]);
    expect(config.settings.retrainTriggers).toEqual({ onRoundComplete: false, everyNLabels: null, scheduleHours: null });
    expect(config.encoderConfig).toEqual({ kind: "builtin", dim: 384 });
  });

  it("throws a clear error on a row that is not a configuration", () => {
    const bad = () => parseStoredProjectConfig({ id: "p1", labelSchema: "labels", minorityClasses: [], selectionParams: { budget: "ten" }, encoderConfig: { kind: "gpu" }, settings: 3 });
    expect(bad).toThrow(ProjectConfigError);
    expect(bad).toThrow(/^Project p1 has an invalid configuration: labelSchema: .*selectionParams\.budget: /);
  });
});

describe("parseStoredProjectConfig on rows from before the schema editor", () => {
  it("keeps label keys written by imports (spaces, slashes) and a schema with no labels yet", () => {
    const row = { labelSchema: { labels: [{ key: "Cardiovascular / Pulmonary", name: "Cardio" }, { key: "Neurology" }] }, minorityClasses: ["Neurology"], selectionParams: {}, encoderConfig: { kind: "builtin" }, settings: {} };
    expect(parseStoredProjectConfig(row).labelSchema.labels.map((l) => l.key)).toEqual(["Cardiovascular / Pulmonary", "Neurology"]);
    expect(parseStoredProjectConfig({ ...row, labelSchema: { labels: [] }, minorityClasses: [] }).labelSchema.labels).toEqual([]);
    // ...but a person writing a configuration gets the key rule.
    expect(ZProjectConfig.safeParse({ ...valid, labelSchema: { labels: [{ ...LABELS[0], key: "Cardio / Pulm" }, LABELS[1]] } }).success).toBe(false);
  });
});

describe("withNewProjectDefaults", () => {
  it("gives a new narrative project the LSA encoder and the logistic head, keeping what the input says", () => {
    const filled = ZProjectConfig.parse(withNewProjectDefaults(valid));
    expect(filled.encoderConfig).toEqual({ kind: "lsa", dim: 100 });
    expect(filled.settings.head).toEqual({ kind: "logistic" });
    const explicit = ZProjectConfig.parse(withNewProjectDefaults({ ...valid, encoderConfig: { kind: "builtin", dim: 128 }, settings: { fourEyes: true, head: { kind: "mlp", hidden: [8] } } }));
    expect(explicit.encoderConfig).toEqual({ kind: "builtin", dim: 128 });
    expect(explicit.settings).toMatchObject({ fourEyes: true, head: { kind: "mlp", hidden: [8] } });
    // Narrative and images: LSA on the narratives. Images only: no default (there is no built-in image encoder).
    expect(ZProjectConfig.parse(withNewProjectDefaults({ ...valid, caseContent: "both" })).encoderConfig).toEqual({ kind: "lsa", dim: 100 });
    const images = withNewProjectDefaults({ ...valid, caseContent: "images" }) as Record<string, unknown>;
    expect(images.encoderConfig).toBeUndefined();
    expect(images.settings).toEqual({ head: { kind: "logistic" } });
    // Stored rows are read as written: no head kind is invented for an old project.
    expect(ZProjectConfig.parse(valid).encoderConfig.kind).toBe("builtin");
  });

  it("gives a new project the target mix ρ = 0.3 measured for the platform's RADS, unless the input sets one", () => {
    const noRho = { ...valid, selectionParams: { strategy: "rads" as const, budget: 10 } };
    expect(ZProjectConfig.parse(withNewProjectDefaults(noRho)).selectionParams.rho).toBe(0.3);
    expect(ZProjectConfig.parse(withNewProjectDefaults({ ...noRho, selectionParams: { ...noRho.selectionParams, rho: 0.6 } })).selectionParams.rho).toBe(0.6);
    expect(ZProjectConfig.parse(noRho).selectionParams.rho).toBe(0.9);
  });
});

describe("ZNewProjectConfig (what a new project is created from)", () => {
  const issues = (input: unknown) => {
    const parsed = ZNewProjectConfig.safeParse(input);
    return parsed.success ? {} : Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), i.message]));
  };

  it("picks the encoder by what a case holds: LSA for narratives (alone or with images); an images-only project must name an image encoder", () => {
    expect(ZNewProjectConfig.parse(valid).encoderConfig).toEqual({ kind: "lsa", dim: 100 });
    expect(ZNewProjectConfig.parse({ ...valid, caseContent: "both" }).encoderConfig).toEqual({ kind: "lsa", dim: 100 });
    expect(issues({ ...valid, caseContent: "images" })).toEqual({ encoderConfig: IMAGE_ENCODER_REQUIRED });
    expect(ZNewProjectConfig.parse({ ...valid, caseContent: "images", encoderConfig: { kind: "onnx-image", path: "resnet/model.onnx" } }).encoderConfig).toMatchObject({ kind: "onnx-image", path: "resnet/model.onnx" });
  });

  it("refuses an encoder that cannot read what a case holds", () => {
    expect(issues({ ...valid, caseContent: "images", encoderConfig: { kind: "builtin", dim: 384 } })["encoderConfig.kind"]).toMatch(/hold only images.*reads the narrative/);
    expect(issues({ ...valid, caseContent: "narrative", encoderConfig: { kind: "onnx-image", path: "a.onnx" } })["encoderConfig.kind"]).toMatch(/hold only a narrative/);
    expect(issues({ ...valid, caseContent: "both", encoderConfig: { kind: "onnx-image", path: "a.onnx" } })).toEqual({});
  });
});

describe("field messages a person can read (never zod's own text)", () => {
  const issue = (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown) =>
    Object.fromEntries((schema.safeParse(value).error?.issues ?? []).map((i) => [i.path.join("."), i.message]));

  it.each([
    ["λ from a form's Number('abc') (NaN)", ZSelectionParams, { budget: 5, lambda: Number.NaN }, "lambda", "λ must be a number between 0 and 10"],
    ["B as text", ZSelectionParams, { budget: "ten" }, "budget", "B must be a whole number between 1 and 10,000"],
    ["K of 1.5", ZSelectionParams, { budget: 5, mcPasses: 1.5 }, "mcPasses", "K must be a whole number between 2 and 100"],
    ["ρ as text", ZSelectionParams, { budget: 5, rho: "abc" }, "rho", 'ρ must be a number above 0 and below 1, or one share per minority class (e.g. {"rare": 0.3})'],
    ["Every N labels of 1.5", ZProjectSettings, { retrainTriggers: { everyNLabels: 1.5 } }, "retrainTriggers.everyNLabels", "Every N labels must be a whole number between 1 and 100,000"],
    ["lease minutes as a string in a file", ZProjectSettings, { leaseMinutes: "abc" }, "leaseMinutes", "Lease minutes must be a whole number between 1 and 1,440"],
    ["schedule of 0 hours", ZProjectSettings, { retrainTriggers: { scheduleHours: 0 } }, "retrainTriggers.scheduleHours", "Every so many hours must be a number above 0 and at most 8,760"],
    ["four eyes as 'yes'", ZProjectSettings, { fourEyes: "yes" }, "fourEyes", "Four eyes must be true or false"],
    ["an unknown strategy", ZSelectionParams, { budget: 5, strategy: "best" }, "strategy", "The strategy must be one of rads, rads-paper, bald, entropy, margin, random, coreset"],
  ])("%s", (_what, schema, value, path, message) => {
    const found = issue(schema, value);
    expect(found[path]).toBe(message);
    expect(Object.values(found).join(" ")).not.toMatch(/Invalid input|expected (number|int|string|boolean)/);
  });
});
