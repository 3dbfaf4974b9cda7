/**
 * Inputs of the project pages and procedures (create, edit, label schema, archive, config export),
 * one zod schema each, shared by the forms and the tRPC procedures. The shapes of a project's
 * configuration itself (label classes, ρ, settings …) live in contracts/project-config.ts; these
 * schemas only add which project and the checks that span fields of one form.
 *
 * Every issue carries the path of its field (e.g. `labelSchema.labels.2.key`, `minorityClasses.0`,
 * `rho.rare`, `mapping.old`), so a form shows the message beside the input it is about.
 */
import { z } from "zod";
import { LABEL_KEY_PATTERN, ZCaseContent, ZLabelSchema, ZNewProjectConfig, ZTargetMix, type ProjectConfigInput } from "./project-config";
import { limitedText } from "./text-limits";
import { safeText } from "./text-safety";

const ZProjectId = z.string().min(1).max(64);

export const ZProjectIdInput = z.object({ projectId: ZProjectId });
export type ProjectIdInput = z.infer<typeof ZProjectIdInput>;

/**
 * Creating a project: its whole configuration (the same document `npm run project -- create
 * --config file.json` reads and `export` prints), with the new-project defaults and the
 * encoder-fits-content check of ZNewProjectConfig. Duplicate names and ONNX paths outside
 * MODELS_DIR are refused by the service (fields `name`, `encoderConfig.path`), because only the
 * server knows the other names and the models folder.
 */
export const ZCreateProjectInput = ZNewProjectConfig;
/** What a form or file sends (the preprocess step takes `unknown`; this is the shape it expects). */
export type CreateProjectInput = ProjectConfigInput;

/** Name, description and what a case holds. */
export const ZUpdateProjectInput = z.object({
  projectId: ZProjectId,
  name: limitedText("projectName", safeText(z.string().trim().min(1, "Give the project a name"))),
  description: limitedText("projectDescription", safeText(z.string().trim())),
  caseContent: ZCaseContent,
  /**
   * The caller saw the warning that the new case content does not fit the project's cases or its
   * encoder (the service refuses such a change with CONFLICT, field "caseContent", until this is true).
   */
  acknowledgeContentMismatch: z.boolean().optional(),
});
export type UpdateProjectInput = z.infer<typeof ZUpdateProjectInput>;

/**
 * The label schema section: classes, single/multi-label, minority classes and the target mix ρ.
 * `rho` is optional (the stored one is kept and re-checked against the new minority classes).
 * `mapping` names, for each removed class that annotations or imported labels use, the kept class
 * its labels move to (the service refuses the removal of a used class without one).
 */
export const ZUpdateLabelSchemaInput = z
  .object({
    projectId: ZProjectId,
    labelSchema: ZLabelSchema,
    minorityClasses: z.array(z.string()).max(100),
    /** Left out: the stored ρ stays (so a page whose ρ is stale does not overwrite a newer one). */
    rho: ZTargetMix.optional(),
    mapping: z.record(z.string().regex(LABEL_KEY_PATTERN, "Not a label key"), z.string()).default({}),
  })
  .superRefine((input, ctx) => {
    const keys = new Set(input.labelSchema.labels.map((l) => l.key));
    const minority = new Set<string>();
    input.minorityClasses.forEach((key, i) => {
      if (!keys.has(key)) ctx.addIssue({ code: "custom", path: ["minorityClasses", i], message: `"${key}" is not a label key of the schema` });
      else if (minority.has(key)) ctx.addIssue({ code: "custom", path: ["minorityClasses", i], message: `"${key}" is listed twice` });
      minority.add(key);
    });
    if (keys.size > 0 && input.minorityClasses.length > 0 && [...keys].every((k) => minority.has(k))) {
      ctx.addIssue({ code: "custom", path: ["minorityClasses"], message: "At least one class must not be a minority class" });
    }
    if (typeof input.rho === "object") {
      for (const key of Object.keys(input.rho)) {
        if (!minority.has(key)) ctx.addIssue({ code: "custom", path: ["rho", key], message: `"${key}" is not a minority class` });
      }
    }
    for (const [from, to] of Object.entries(input.mapping)) {
      if (keys.has(from)) ctx.addIssue({ code: "custom", path: ["mapping", from], message: `"${from}" is still in the schema; only removed classes are mapped` });
      else if (!keys.has(to)) ctx.addIssue({ code: "custom", path: ["mapping", from], message: `Map "${from}" to a class of the schema` });
    }
  });
export type UpdateLabelSchemaInput = z.input<typeof ZUpdateLabelSchemaInput>;

export const ZSetArchivedInput = z.object({ projectId: ZProjectId, archived: z.boolean() });
export type SetArchivedInput = z.infer<typeof ZSetArchivedInput>;

/** Issues of a zod result as `{ "labelSchema.labels.2.key": "message" }` (first message per field), for forms. */
export function issuesByPath(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".") || "(form)";
    out[path] ??= issue.message;
  }
  return out;
}

/** A label key made from a value found in an import file ("Cardiovascular / Pulmonary" → "Cardiovascular_Pulmonary"). */
export function labelKeyFrom(value: string): string {
  const key = value
    .trim()
    .replace(/[^A-Za-z0-9_.-]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 64);
  return key || "label";
}
