/**
 * Creating and configuring projects: create (platform DATA_SCIENTIST / ADMIN, or the CLI as a
 * system action), name/description/case content, the label schema with minority classes and ρ,
 * archive/unarchive, and the configuration as one JSON document (contracts/project-config.ts
 * ZProjectConfig) for `npm run project -- export/create`.
 *
 * Every project-scoped call goes through the front door (`requireProject`): a non-member gets
 * NOT_FOUND, a role without the permission FORBIDDEN, a write on an archived project is refused.
 * Every change is one transaction under a lock on the project row, audited with before/after.
 * Bad input is a DomainError BAD_INPUT/CONFLICT whose `details.field` is the path of the field
 * ("name", "labelSchema.labels.2.key", "mapping.old", "rho.rare"): nothing is half-saved.
 */
import { ZCreateProjectInput, ZUpdateLabelSchemaInput, ZUpdateProjectInput, type SetArchivedInput } from "@/contracts/project-admin";
import { encoderContentMismatch, parseStoredProjectConfig, ZProjectConfig, type CaseContent, type ProjectConfig } from "@/contracts/project-config";
import { can, PROJECT_PERMISSION_NAMES } from "@/contracts/permissions";
import type { z } from "zod";
import type { Prisma } from "../db/client";
import {
  caseContentCounts,
  findProjectByNameInsensitive,
  findProjectConfigByIdOrName,
  insertProject,
  isUniqueViolation,
  labelUsage,
  listActiveAdminIds,
  listProjectsForCli,
  lockProjectRow,
  remapLabels,
  updateProjectColumns,
} from "../db/project-admin-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { encoderConfigForFile, resolveEncoderConfig, type EncoderDeps } from "./encoder-service";
import { NO_SUCH_PROJECT, requireProject, requireProjectAsSystem } from "./project-access";

type Row = NonNullable<Awaited<ReturnType<typeof lockProjectRow>>>;

const json = (value: unknown) => value as Prisma.InputJsonValue;

/**
 * A refused input as a field-level BAD_INPUT: the first issue is the message and `details.field`
 * (path as the form names the field); `details.fields` lists every issue as `{ field, message }`
 * in order, so a caller that shows them all (the CLI, a file upload) can.
 */
function badInput(error: z.ZodError, rename: (path: string) => string = (p) => p): DomainError {
  const fields = error.issues.map((issue) => ({ field: rename(issue.path.map(String).join(".")) || null, message: issue.message }));
  return new DomainError("BAD_INPUT", fields[0]!.message, { field: fields[0]!.field, fields });
}

/** An encoder-service refusal (field "path", "preprocess.cropSize", …) re-keyed under `encoderConfig.`. */
function encoderFieldError(error: unknown): unknown {
  if (!(error instanceof DomainError) || error.kind !== "BAD_INPUT") return error;
  const inner = typeof error.details?.field === "string" && error.details.field !== "form" ? error.details.field : null;
  const field = inner ? `encoderConfig.${inner}` : "encoderConfig";
  return new DomainError("BAD_INPUT", error.message, { field, fields: [{ field, message: error.message }] });
}

function nameTaken(name: string): DomainError {
  return new DomainError("CONFLICT", `A project named "${name}" already exists. Choose another name.`, { field: "name" });
}

function configOf(row: Row): ProjectConfig {
  return parseStoredProjectConfig(row);
}

function projectView(row: Row) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    caseContent: row.caseContent,
    archivedAt: row.archivedAt ? row.archivedAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

async function lockedRow(tx: Prisma.TransactionClient, projectId: string): Promise<Row> {
  const row = await lockProjectRow(tx, projectId);
  if (!row) throw new DomainError("NOT_FOUND", NO_SUCH_PROJECT);
  return row;
}

/**
 * Creates a project from its whole configuration (input shape: ZCreateProjectInput =
 * ZNewProjectConfig: the new-project defaults of `withNewProjectDefaults` — LSA for a project whose
 * cases hold a narrative, no default for images-only — then ZProjectConfig's checks and the
 * encoder-fits-content check). An ONNX encoder gets the same checks as the encoder settings
 * (encoder-service `resolveEncoderConfig`: inside MODELS_DIR also through symlinks, exists, an ONNX
 * model of the right kind) and is stored as they store it (MODELS_DIR joined with the path). The
 * creator becomes a member with their platform role; a system action (CLI without --as,
 * `ctx.actor` null and `opts.system`) makes every active admin a member so that someone can manage it.
 * Nothing is saved when any check fails.
 * @param opts.via "cli" for `npm run project` (recorded in the audit event)
 * @param opts.modelsDir the models folder (default: env MODELS_DIR), for tests
 * @returns `{ project: { id, name, … }, config }`
 * @throws FORBIDDEN (platform role may not create), BAD_INPUT (`details.field` the first field path,
 *   `details.fields` every `{ field, message }`; encoder refusals under "encoderConfig.…"),
 *   CONFLICT field "name" (name taken, ignoring case)
 */
export async function createProject(ctx: ServiceContext, input: unknown, opts: { system?: boolean; via?: "cli" } & EncoderDeps = {}) {
  if (!ctx.actor && !opts.system) throw new DomainError("UNAUTHORIZED", "Sign in first.");
  if (ctx.actor && !can(ctx.actor.role, "projects.create")) throw new DomainError("FORBIDDEN", "Your role may not create projects.");
  // ZCreateProjectInput applies the new-project defaults itself (encoder by case content, logistic head, ρ).
  const parsed = ZCreateProjectInput.safeParse(input);
  if (!parsed.success) throw badInput(parsed.error);
  const resolved = await resolveEncoderConfig(parsed.data.encoderConfig, opts).catch((error: unknown) => {
    throw encoderFieldError(error);
  });
  const config: ProjectConfig = { ...parsed.data, encoderConfig: resolved.config };
  if (await findProjectByNameInsensitive(ctx.db, config.name)) throw nameTaken(config.name);
  const members = ctx.actor ? [{ userId: ctx.actor.id, role: ctx.actor.role }] : (await listActiveAdminIds(ctx.db)).map((u) => ({ userId: u.id, role: "ADMIN" as const }));
  try {
    return await ctx.db.$transaction(async (tx) => {
      const row = await insertProject(
        tx,
        {
          name: config.name,
          description: config.description,
          caseContent: config.caseContent,
          labelSchema: json(config.labelSchema),
          minorityClasses: config.minorityClasses,
          selectionParams: json(config.selectionParams),
          encoderConfig: json(config.encoderConfig),
          settings: json(config.settings),
        },
        members,
      );
      await ctx.audit.record(tx, {
        action: "project.create",
        targetType: "Project",
        targetId: row.id,
        projectId: row.id,
        // via "cli": the audit log names the command line, with or without a --as user (audit-service actorLabel).
        details: json({ before: null, after: config, members: members.map((m) => m.userId), ...(opts.via ? { via: opts.via } : {}) }),
      });
      return { project: projectView(row), config: configOf(row) };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(config.name);
    throw error;
  }
}

/**
 * The project as its settings and overview pages need it: state, the caller's role in it and what
 * that role may do there (the page's tabs), and the parsed configuration.
 */
export async function getProjectAdmin(ctx: ServiceContext, input: { projectId: string }) {
  const access = await requireProject(ctx, input.projectId, "project.view");
  return {
    id: access.project.id,
    name: access.config.name || access.project.name,
    archived: access.archived,
    role: access.role,
    permissions: PROJECT_PERMISSION_NAMES.filter((p) => can(access.role, p)),
    config: access.config,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/**
 * What changing a project's case content to `next` would leave unfit: the cases that hold only
 * what the new content ignores (narrative-only cases in an images-only project and the reverse)
 * and whether the current encoder can still embed the cases. `warning` is the sentence shown to
 * the person (null when everything fits).
 */
async function contentChangeImpact(ctx: ServiceContext, projectId: string, next: CaseContent, encoderKind: string) {
  const counts = await caseContentCounts(ctx.db, projectId);
  const total = counts.narrativeOnly + counts.imagesOnly + counts.both + counts.neither;
  const unfit = next === "images" ? counts.narrativeOnly : next === "narrative" ? counts.imagesOnly : 0;
  const encoder = encoderContentMismatch(next, encoderKind);
  const parts: string[] = [];
  if (unfit > 0) {
    parts.push(
      next === "images"
        ? `${plural(unfit, "case")} of ${total.toLocaleString("en-US")} hold${unfit === 1 ? "s" : ""} only a narrative, which a project of images does not show or embed.`
        : `${plural(unfit, "case")} of ${total.toLocaleString("en-US")} hold${unfit === 1 ? "s" : ""} only images, which a narrative project does not show or embed.`,
    );
  }
  if (encoder) parts.push(`The encoder no longer fits: ${encoder} Change it under Settings → Encoder.`);
  return { counts, unfit, encoderFits: encoder === null, warning: parts.length ? parts.join(" ") : null };
}

/**
 * Name, description and what a case holds (project.configure; not on an archived project). A
 * change of case content that leaves cases or the encoder unfit (`contentChangeImpact`: e.g.
 * "Images" on a project of 700 narratives with a text encoder) is refused with CONFLICT on field
 * "caseContent" whose message names the counts, until the input says
 * `acknowledgeContentMismatch: true`; the audit event then records the warning that was accepted.
 * @throws BAD_INPUT (field), CONFLICT field "name", CONFLICT field "caseContent" (unacknowledged mismatch)
 */
export async function updateProject(ctx: ServiceContext, input: unknown) {
  const parsed = ZUpdateProjectInput.safeParse(input);
  if (!parsed.success) throw badInput(parsed.error);
  const { projectId, acknowledgeContentMismatch, ...change } = parsed.data;
  const access = await requireProject(ctx, projectId, "project.configure", { write: true });
  if (await findProjectByNameInsensitive(ctx.db, change.name, projectId)) throw nameTaken(change.name);
  let acceptedWarning: string | null = null;
  if (change.caseContent !== access.config.caseContent) {
    const impact = await contentChangeImpact(ctx, projectId, change.caseContent, access.config.encoderConfig.kind);
    if (impact.warning && !acknowledgeContentMismatch) {
      throw new DomainError("CONFLICT", `${impact.warning} Save again to change it anyway.`, { field: "caseContent", impact: { counts: impact.counts, unfit: impact.unfit, encoderFits: impact.encoderFits } });
    }
    acceptedWarning = impact.warning;
  }
  try {
    return await ctx.db.$transaction(async (tx) => {
      const before = await lockedRow(tx, projectId);
      const row = await updateProjectColumns(tx, projectId, change);
      await ctx.audit.record(tx, {
        action: "project.update",
        targetType: "Project",
        targetId: projectId,
        projectId,
        details: {
          before: { name: before.name, description: before.description, caseContent: before.caseContent },
          after: { name: row.name, description: row.description, caseContent: row.caseContent },
          ...(acceptedWarning ? { acceptedWarning } : {}),
        },
      });
      return projectView(row);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(change.name);
    throw error;
  }
}

/** Label keys → how often annotations (every version) and imported labels use them (project.configure). */
export async function getLabelUsage(ctx: ServiceContext, input: { projectId: string }) {
  const access = await requireProject(ctx, input.projectId, "project.configure");
  return labelUsage(ctx.db, access.project.id);
}

/** Where ZProjectConfig names a field of the whole config, the label form names it (selectionParams.rho → rho). */
const labelFormPath = (path: string) => (path.startsWith("selectionParams.rho") ? path.slice("selectionParams.".length) : path);

/**
 * Replaces the label schema, the minority classes and (when given) ρ (project.configure; not on an archived
 * project), in one transaction under the project row lock, audited as "project.labels" with
 * before/after.
 *
 * Renaming keeps the key (classes are matched by key). Removing a class that annotations (any
 * version) or imported labels use is refused (BAD_INPUT, field "mapping.<key>") unless
 * `input.mapping[key]` names a kept class; then the mapping WRITES NEW ANNOTATION VERSIONS: each
 * (case, author) whose latest submitted annotation holds the key gets version n+1 with the kept
 * class (server/db/project-admin-repo.ts remapLabels; older versions keep their history), imported
 * labels are changed in place (their old values listed in the audit event), and the mapping itself
 * is recorded in the audit event.
 * @returns `{ config, remapped: { annotationVersions, importedLabels, drafts } }`
 */
export async function updateLabelSchema(ctx: ServiceContext, input: unknown) {
  const parsed = ZUpdateLabelSchemaInput.safeParse(input);
  if (!parsed.success) throw badInput(parsed.error);
  const { projectId, labelSchema, minorityClasses, rho, mapping } = parsed.data;
  await requireProject(ctx, projectId, "project.configure", { write: true });
  return ctx.db.$transaction(
    async (tx) => {
      const row = await lockedRow(tx, projectId);
      const before = configOf(row);
      const kept = new Set(labelSchema.labels.map((l) => l.key));
      const removed = before.labelSchema.labels.map((l) => l.key).filter((key) => !kept.has(key));
      for (const from of Object.keys(mapping)) {
        if (!removed.includes(from)) throw new DomainError("BAD_INPUT", `"${from}" is not a class this change removes.`, { field: `mapping.${from}` });
      }
      const usage = new Map((await labelUsage(tx, projectId)).map((u) => [u.key, u]));
      for (const key of removed) {
        const used = usage.get(key);
        if (used && (used.annotations > 0 || used.importedLabels > 0) && !Object.hasOwn(mapping, key)) {
          const what = [used.annotations ? `${used.annotations} annotation${used.annotations === 1 ? "" : "s"}` : null, used.importedLabels ? `${used.importedLabels} imported label${used.importedLabels === 1 ? "" : "s"}` : null]
            .filter(Boolean)
            .join(" and ");
          throw new DomainError("BAD_INPUT", `The class "${key}" is used by ${what}: choose the class they move to, or keep it.`, { field: `mapping.${key}` });
        }
      }
      const merged = ZProjectConfig.safeParse({ ...before, labelSchema, minorityClasses, selectionParams: { ...before.selectionParams, rho: rho ?? before.selectionParams.rho } });
      if (!merged.success) throw badInput(merged.error, labelFormPath);
      const after = merged.data;
      const remap = await remapLabels(tx, projectId, mapping);
      await updateProjectColumns(tx, projectId, { labelSchema: json(after.labelSchema), minorityClasses: after.minorityClasses, selectionParams: json(after.selectionParams) });
      await ctx.audit.record(tx, {
        action: "project.labels",
        targetType: "Project",
        targetId: projectId,
        projectId,
        details: json({
          before: { labelSchema: before.labelSchema, minorityClasses: before.minorityClasses, rho: before.selectionParams.rho },
          after: { labelSchema: after.labelSchema, minorityClasses: after.minorityClasses, rho: after.selectionParams.rho },
          mapping,
          remapped: { annotationVersions: remap.annotationVersions, drafts: remap.drafts, importedLabels: remap.importedLabelCases },
        }),
      });
      return { config: after, remapped: { annotationVersions: remap.annotationVersions, importedLabels: remap.importedLabelCases.length, drafts: remap.drafts } };
    },
    { timeout: 120_000 },
  );
}

/**
 * Archives (read-only, out of every queue; nothing is deleted) or unarchives a project
 * (project.configure). Archiving an archived project, or unarchiving an active one, changes nothing
 * but is still audited.
 */
export async function setProjectArchived(ctx: ServiceContext, input: SetArchivedInput) {
  // Unarchiving is the one change allowed on an archived project.
  await requireProject(ctx, input.projectId, "project.configure", { write: input.archived });
  return ctx.db.$transaction(async (tx) => {
    const before = await lockedRow(tx, input.projectId);
    const archivedAt = input.archived ? (before.archivedAt ?? new Date()) : null;
    const row = await updateProjectColumns(tx, input.projectId, { archivedAt });
    await ctx.audit.record(tx, {
      action: input.archived ? "project.archive" : "project.unarchive",
      targetType: "Project",
      targetId: input.projectId,
      projectId: input.projectId,
      details: { before: { archivedAt: before.archivedAt?.toISOString() ?? null }, after: { archivedAt: row.archivedAt?.toISOString() ?? null } },
    });
    return projectView(row);
  });
}

/**
 * The project's whole configuration as one JSON document (ZProjectConfig; project.view), as
 * `createProject` reads it back: ONNX encoder paths relative to MODELS_DIR.
 */
export async function exportProjectConfig(ctx: ServiceContext, input: { projectId: string }, deps: EncoderDeps = {}): Promise<ProjectConfig> {
  const access = await requireProject(ctx, input.projectId, "project.view");
  return { ...access.config, name: access.project.name, encoderConfig: encoderConfigForFile(access.config.encoderConfig, deps) };
}

/**
 * CLI: a project's configuration by id or name — as the named user (front door: member with
 * project.view) or, with no actor, as a system action.
 * @throws NOT_FOUND "No such project."
 */
export async function exportProjectConfigByRef(ctx: ServiceContext, ref: string): Promise<{ id: string; config: ProjectConfig }> {
  const row = await findProjectConfigByIdOrName(ctx.db, ref);
  if (!row) throw new DomainError("NOT_FOUND", NO_SUCH_PROJECT);
  if (ctx.actor) return { id: row.id, config: await exportProjectConfig(ctx, { projectId: row.id }) };
  const access = await requireProjectAsSystem(ctx, row.id);
  return { id: row.id, config: { ...access.config, name: access.project.name, encoderConfig: encoderConfigForFile(access.config.encoderConfig) } };
}

/** CLI: every project (system action) or the named user's, with counts. */
export async function listProjectsForCommandLine(ctx: ServiceContext) {
  const rows = await listProjectsForCli(ctx.db, ctx.actor?.id ?? null);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    caseContent: r.caseContent,
    archived: r.archivedAt !== null,
    cases: r._count.cases,
    members: r._count.members,
    createdAt: r.createdAt.toISOString(),
  }));
}
