/**
 * Data access for creating and configuring projects (server/services/project-admin-service.ts):
 * inserting a project with its first members, read-modify-write of the configuration columns
 * under a row lock, archiving, and the label usage / label remapping a schema edit needs.
 */
import type { Prisma, Role } from "./generated/client";
import { PROJECT_ACCESS_SELECT } from "./projects-repo";
import type { DbOrTx } from "./tx";


/** Whether a Prisma error is a unique-constraint violation (two creators racing for one name). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}

/** Another project with this name, compared without case ("Neurology" and "neurology" clash). */
export function findProjectByNameInsensitive(db: DbOrTx, name: string, exceptId?: string) {
  return db.project.findFirst({
    where: { name: { equals: name, mode: "insensitive" }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { id: true, name: true },
  });
}

export interface NewProject {
  name: string;
  description: string;
  caseContent: string;
  labelSchema: Prisma.InputJsonValue;
  minorityClasses: string[];
  selectionParams: Prisma.InputJsonValue;
  encoderConfig: Prisma.InputJsonValue;
  settings: Prisma.InputJsonValue;
}

export function insertProject(tx: DbOrTx, project: NewProject, members: { userId: string; role: Role }[]) {
  return tx.project.create({
    data: { ...project, members: { create: members } },
    select: PROJECT_ACCESS_SELECT,
  });
}

/** CLI (system action): a project by id or by its unique name, with its configuration. */
export function findProjectConfigByIdOrName(db: DbOrTx, ref: string) {
  return db.project.findFirst({ where: { OR: [{ id: ref }, { name: ref }] }, select: PROJECT_ACCESS_SELECT });
}

/** Locks the project row until the transaction ends and returns it: concurrent edits of its JSON columns serialise. */
export async function lockProjectRow(tx: Prisma.TransactionClient, projectId: string) {
  await tx.$queryRaw`SELECT id FROM "Project" WHERE id = ${projectId} FOR UPDATE`;
  return tx.project.findUnique({ where: { id: projectId }, select: PROJECT_ACCESS_SELECT });
}

export function updateProjectColumns(
  tx: DbOrTx,
  projectId: string,
  data: {
    name?: string;
    description?: string;
    caseContent?: string;
    labelSchema?: Prisma.InputJsonValue;
    minorityClasses?: string[];
    selectionParams?: Prisma.InputJsonValue;
    archivedAt?: Date | null;
  },
) {
  return tx.project.update({ where: { id: projectId }, data, select: PROJECT_ACCESS_SELECT });
}

/** Active admins (a project created as a system action gets them as members, so someone can manage it). */
export function listActiveAdminIds(db: DbOrTx) {
  return db.user.findMany({ where: { role: "ADMIN", active: true }, select: { id: true }, orderBy: { createdAt: "asc" } });
}

/** Projects for `npm run project -- list`: every project (userId null, a system action) or the user's. */
export function listProjectsForCli(db: DbOrTx, userId: string | null) {
  return db.project.findMany({
    where: userId ? { members: { some: { userId } } } : {},
    orderBy: { createdAt: "asc" },
    select: { id: true, name: true, caseContent: true, archivedAt: true, createdAt: true, _count: { select: { cases: true, members: true } } },
  });
}

export interface LabelUsageRow {
  key: string;
  /** Annotation versions (any author, any version) whose labels hold the key. */
  annotations: number;
  /** Cases whose imported label is the key. */
  importedLabels: number;
}

/** How often each label key is used in the project: annotations (every version) and imported labels. */
export async function labelUsage(db: DbOrTx, projectId: string): Promise<LabelUsageRow[]> {
  const [annotations, imported] = await Promise.all([
    db.$queryRaw<{ key: string; count: bigint }[]>`
      SELECT l AS key, count(*) AS count
      FROM "Annotation" a JOIN "Case" c ON c.id = a."caseId", unnest(a.labels) AS l
      WHERE c."projectId" = ${projectId}
      GROUP BY l`,
    db.case.groupBy({ by: ["importedLabel"], where: { projectId, importedLabel: { not: null } }, _count: { _all: true } }),
  ]);
  const byKey = new Map<string, LabelUsageRow>();
  const row = (key: string) => {
    let r = byKey.get(key);
    if (!r) byKey.set(key, (r = { key, annotations: 0, importedLabels: 0 }));
    return r;
  };
  for (const a of annotations) row(a.key).annotations = Number(a.count);
  for (const i of imported) if (i.importedLabel !== null) row(i.importedLabel).importedLabels = i._count._all;
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

export interface RemapResult {
  /** New annotation versions written (one per (case, author) whose latest submitted annotation used a mapped key). */
  annotationVersions: number;
  /** Cases whose imported label was changed, with the label they had. */
  importedLabelCases: { caseId: string; from: string }[];
  /** Drafts whose labels/spans were mapped in place. */
  drafts: number;
}

interface LatestAnnotation {
  id: string;
  caseId: string;
  authorId: string;
  labels: string[];
  spans: unknown;
  regions: unknown;
  uncertain: boolean;
  comment: string;
  createdAt: Date;
  maxVersion: number;
}

function mapLabelList(labels: string[], mapping: ReadonlyMap<string, string>): string[] {
  return [...new Set(labels.map((l) => mapping.get(l) ?? l))];
}

function mapLabelField(items: unknown, mapping: ReadonlyMap<string, string>): Prisma.InputJsonValue {
  if (!Array.isArray(items)) return [];
  return items.map((item) => {
    if (typeof item === "object" && item !== null && typeof (item as { label?: unknown }).label === "string") {
      const label = (item as { label: string }).label;
      return { ...(item as Record<string, unknown>), label: mapping.get(label) ?? label };
    }
    return item;
  }) as Prisma.InputJsonValue;
}

/**
 * Moves every use of the `mapping` keys (removed class → kept class) to the kept class, inside the
 * caller's transaction. Annotations are never updated: for each (case, author) whose LATEST
 * submitted annotation holds a removed key, a new version (author's highest + 1) is inserted with
 * the labels, spans and regions mapped and everything else copied. Its createdAt is the
 * original's, so which annotation is current for a case (latest by createdAt, then version) and
 * which opinions count stays exactly as before; the time of the change is in the audit event.
 * Older versions keep the removed key as history. Imported labels (Case.importedLabel, not
 * versioned) are changed in place and returned with their old value for the audit event; drafts
 * (working copies) are mapped in place.
 */
export async function remapLabels(tx: Prisma.TransactionClient, projectId: string, mappingRecord: Record<string, string>): Promise<RemapResult> {
  const mapping = new Map(Object.entries(mappingRecord));
  const removed = [...mapping.keys()];
  if (removed.length === 0) return { annotationVersions: 0, importedLabelCases: [], drafts: 0 };
  const latest = await tx.$queryRaw<LatestAnnotation[]>`
    SELECT * FROM (
      SELECT DISTINCT ON (a."caseId", a."authorId")
        a.id, a."caseId", a."authorId", a.labels, a.spans, a.regions, a.uncertain, a.comment, a."createdAt",
        (SELECT max(b.version) FROM "Annotation" b WHERE b."caseId" = a."caseId" AND b."authorId" = a."authorId")::int AS "maxVersion"
      FROM "Annotation" a JOIN "Case" c ON c.id = a."caseId"
      WHERE c."projectId" = ${projectId} AND a.kind = 'SUBMITTED'
      ORDER BY a."caseId", a."authorId", a."createdAt" DESC, a.version DESC
    ) latest
    WHERE latest.labels && ${removed}::text[]`;
  const CHUNK = 1000;
  for (let i = 0; i < latest.length; i += CHUNK) {
    await tx.annotation.createMany({
      data: latest.slice(i, i + CHUNK).map((a) => ({
        caseId: a.caseId,
        authorId: a.authorId,
        version: a.maxVersion + 1,
        kind: "SUBMITTED" as const,
        labels: mapLabelList(a.labels, mapping),
        spans: mapLabelField(a.spans, mapping),
        regions: mapLabelField(a.regions, mapping),
        uncertain: a.uncertain,
        comment: a.comment,
        timeSpentMs: 0,
        createdAt: a.createdAt,
      })),
    });
  }

  const importedLabelCases = (
    await tx.case.findMany({ where: { projectId, importedLabel: { in: removed } }, select: { id: true, importedLabel: true }, orderBy: { id: "asc" } })
  ).map((c) => ({ caseId: c.id, from: c.importedLabel! }));
  for (const from of removed) {
    await tx.case.updateMany({ where: { projectId, importedLabel: from }, data: { importedLabel: mapping.get(from)! } });
  }

  let drafts = 0;
  const draftRows = await tx.annotationDraft.findMany({ where: { case: { projectId } }, select: { caseId: true, authorId: true, content: true } });
  for (const d of draftRows) {
    const content = d.content as { labels?: unknown; spans?: unknown } | null;
    const labels = Array.isArray(content?.labels) ? (content.labels as unknown[]).filter((l): l is string => typeof l === "string") : [];
    const spans = Array.isArray(content?.spans) ? (content.spans as { label?: unknown }[]) : [];
    if (!labels.some((l) => mapping.has(l)) && !spans.some((s) => typeof s?.label === "string" && mapping.has(s.label))) continue;
    await tx.annotationDraft.update({
      where: { caseId_authorId: { caseId: d.caseId, authorId: d.authorId } },
      data: { content: { ...(content as Record<string, unknown>), labels: mapLabelList(labels, mapping), spans: mapLabelField(spans, mapping) } },
    });
    drafts++;
  }
  return { annotationVersions: latest.length, importedLabelCases, drafts };
}

/** How many of the project's cases hold a narrative only, images only, both, or neither. */
export async function caseContentCounts(db: DbOrTx, projectId: string): Promise<{ narrativeOnly: number; imagesOnly: number; both: number; neither: number }> {
  const [row] = await db.$queryRaw<{ narrativeOnly: number; imagesOnly: number; both: number; neither: number }[]>`
    SELECT count(*) FILTER (WHERE t AND NOT i)::int AS "narrativeOnly",
           count(*) FILTER (WHERE i AND NOT t)::int AS "imagesOnly",
           count(*) FILTER (WHERE t AND i)::int AS "both",
           count(*) FILTER (WHERE NOT t AND NOT i)::int AS "neither"
    FROM (
      SELECT coalesce(btrim(c.narrative), '') <> '' AS t, EXISTS (SELECT 1 FROM "CaseImage" im WHERE im."caseId" = c.id) AS i
      FROM "Case" c WHERE c."projectId" = ${projectId}
    ) s`;
  return row ?? { narrativeOnly: 0, imagesOnly: 0, both: 0, neither: 0 };
}
