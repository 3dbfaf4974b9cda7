/**
 * Adjudication (issue 14): the queue of cases whose annotators disagree (their latest submitted label
 * sets differ) or that a reviewer sent to adjudication, until an adjudication newer than every annotation
 * and the request resolves them; the adjudicator (project role REVIEWER or ADMIN, permission
 * `labels.adjudicate`) sees every annotation side by side and records the final label with a reason as a
 * new annotation version of kind ADJUDICATED, which the training label prefers
 * (server/services/training-label.ts `trainingLabel`).
 */
import type { AdjudicateInput, AdjudicationQueueInput, RequestAdjudicationInput } from "@/contracts/agreement";
import { findCaseForAdjudication, insertAdjudication, listAdjudicationCandidates, setAdjudicationRequested } from "../db/adjudication-repo";
import { refreshGoldAnswerFromAdjudication } from "../db/gold-repo";
import { DomainError } from "../errors";
import type { ServiceContext } from "./context";
import { requireProject } from "./project-access";
import { TRAINING_LABEL_RULE, annotatorsDisagree, latestSubmittedPerAnnotator, trainingLabel } from "./training-label";

export interface AdjudicationCase {
  caseId: string;
  externalId: string;
  narrative: string | null;
  /** Why the case is in the queue. */
  reason: "disagreement" | "requested";
  requestedAt: string | null;
  /** Each annotator's latest submitted version, side by side. */
  annotations: { annotationId: string; authorId: string; authorName: string; version: number; labels: string[]; spans: unknown; comment: string; uncertain: boolean; createdAt: string }[];
  /** Earlier adjudications of the case (superseded by a newer annotation or request). */
  adjudications: { annotationId: string; authorName: string; labels: string[]; reason: string; createdAt: string }[];
  /** What the training label would be now. */
  current: { label: string | null; source: string };
}

/**
 * The project's adjudication queue, by external id.
 * @throws DomainError NOT_FOUND, FORBIDDEN
 */
export async function adjudicationQueue(ctx: ServiceContext, input: AdjudicationQueueInput): Promise<{ rule: string; classes: { key: string; name: string }[]; multiLabel: boolean; cases: AdjudicationCase[] }> {
  const { project, config } = await requireProject(ctx, input.projectId, "labels.adjudicate");
  const rows = await listAdjudicationCandidates(ctx.db, project.id);
  const cases: AdjudicationCase[] = [];
  for (const row of rows) {
    const votes = row.annotations.map((a) => ({ ...a, kind: a.kind }));
    const latest = latestSubmittedPerAnnotator(votes);
    const adjudications = row.annotations.filter((a) => a.kind === "ADJUDICATED");
    const lastAdjudication = adjudications.at(-1)?.createdAt.getTime() ?? -Infinity;
    const newestInput = Math.max(row.adjudicationRequestedAt?.getTime() ?? -Infinity, ...latest.map((a) => a.createdAt.getTime()));
    const requested = row.adjudicationRequestedAt !== null;
    const disagree = annotatorsDisagree(votes);
    if (!(requested || disagree) || lastAdjudication >= newestInput) continue;
    const byId = new Map(row.annotations.map((a) => [a.id, a]));
    const decided = trainingLabel(votes, null);
    cases.push({
      caseId: row.id,
      externalId: row.externalId,
      narrative: row.narrative,
      reason: requested ? "requested" : "disagreement",
      requestedAt: row.adjudicationRequestedAt?.toISOString() ?? null,
      annotations: latest.map((v) => {
        const a = byId.get(v.id)!;
        return { annotationId: a.id, authorId: a.authorId, authorName: a.author.name, version: a.version, labels: a.labels, spans: a.spans, comment: a.comment, uncertain: a.uncertain, createdAt: a.createdAt.toISOString() };
      }),
      adjudications: adjudications.map((a) => ({ annotationId: a.id, authorName: a.author.name, labels: a.labels, reason: a.comment, createdAt: a.createdAt.toISOString() })),
      current: { label: decided.label, source: decided.source },
    });
  }
  const classes = config.labelSchema.labels.map((l) => ({ key: l.key, name: l.name }));
  return { rule: TRAINING_LABEL_RULE, classes, multiLabel: config.labelSchema.multiLabel, cases };
}

/**
 * Records the final label of a case as a new ADJUDICATED version by the caller (their highest version on
 * the case + 1), with the reason as its comment, and clears a pending request. A gold case's answer becomes
 * the adjudicated labels (source "adjudicated"), as re-marking it would. Audited `annotation.adjudicate`
 * (with the gold answer before/after for a gold case).
 * @throws DomainError NOT_FOUND (no such case in the project), BAD_INPUT (label not in the schema, or
 *   several labels in a single-label project; field `labels`), CONFLICT (archived project; a concurrent adjudication)
 */
export async function adjudicate(ctx: ServiceContext, input: AdjudicateInput) {
  const { project, config } = await requireProject(ctx, input.projectId, "labels.adjudicate", { write: true });
  const actor = ctx.actor!;
  const keys = new Set(config.labelSchema.labels.map((l) => l.key));
  const unknown = input.labels.filter((l) => !keys.has(l));
  if (unknown.length) throw new DomainError("BAD_INPUT", `Not a label of this project: ${unknown.join(", ")}.`, { field: "labels" });
  if (!config.labelSchema.multiLabel && input.labels.length !== 1) throw new DomainError("BAD_INPUT", "This project takes exactly one label per case.", { field: "labels" });
  const labels = [...new Set(input.labels)];
  return ctx.db.$transaction(async (tx) => {
    const found = await findCaseForAdjudication(tx, project.id, input.caseId, actor.id);
    if (!found) throw new DomainError("NOT_FOUND", "No such case in this project.");
    let created;
    try {
      created = await insertAdjudication(tx, { caseId: found.id, authorId: actor.id, version: found.adjudicatorVersion + 1, labels, reason: input.reason });
    } catch (error) {
      if (typeof error === "object" && error !== null && (error as { code?: string }).code === "P2002") throw new DomainError("CONFLICT", "This case was adjudicated at the same moment; reload the queue.");
      throw error;
    }
    // A gold case's answer follows its adjudication (the label training takes, training-label.ts), so the gold
    // report never scores clinicians against an answer the reviewer overruled.
    const goldBefore = await refreshGoldAnswerFromAdjudication(tx, found.id, labels);
    await ctx.audit.record(tx, {
      action: "annotation.adjudicate",
      targetType: "Case",
      targetId: found.id,
      projectId: project.id,
      details: { externalId: found.externalId, annotationId: created.id, version: created.version, labels, reason: input.reason, requestCleared: found.adjudicationRequestedAt !== null, ...(goldBefore ? { goldAnswer: { before: goldBefore, after: { labels, source: "adjudicated" } } } : {}) },
    });
    return { annotationId: created.id, version: created.version };
  });
}

/**
 * Sends any case of the project to adjudication (kept when already sent). Audited `annotation.adjudication-requested`.
 * @throws DomainError NOT_FOUND, FORBIDDEN, CONFLICT (archived)
 */
export async function requestAdjudication(ctx: ServiceContext, input: RequestAdjudicationInput) {
  const { project } = await requireProject(ctx, input.projectId, "labels.adjudicate", { write: true });
  const actor = ctx.actor!;
  return ctx.db.$transaction(async (tx) => {
    const found = await findCaseForAdjudication(tx, project.id, input.caseId, actor.id);
    if (!found) throw new DomainError("NOT_FOUND", "No such case in this project.");
    const { count } = await setAdjudicationRequested(tx, found.id, actor.id);
    await ctx.audit.record(tx, {
      action: "annotation.adjudication-requested",
      targetType: "Case",
      targetId: found.id,
      projectId: project.id,
      details: { externalId: found.externalId, alreadyRequested: count === 0 },
    });
    return { requested: count === 1 };
  });
}
