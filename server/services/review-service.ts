/**
 * Model review: a candidate beside the project's active (APPROVED) model on the same test split,
 * the minority guard, and the approve/reject decision (four-eyes rule, required note, audit,
 * retire the previous model, start the next selection round).
 */
import type { ModelVersionIdInput, ReviewDecisionInput } from "@/contracts/model-review";
import { can } from "@/contracts/permissions";
import { parseStoredProjectConfig, type ProjectConfig } from "@/contracts/project-config";
import {
  findApprovedModel,
  findModelVersionForMember,
  findNewerApprovedModel,
  findUserNames,
  listModelVersionsWithMetrics,
  listRoundNumbers,
  lockProjectModels,
  retireApprovedModels,
  setModelReview,
  supersedeOlderCandidates,
} from "../db/review-repo";
import { DomainError } from "../errors";
import { logger } from "../log";
import type { ServiceContext } from "./context";
import { enqueueJobRun, type EnqueuedJob } from "./enqueue-job";
import { guardVerdict, metricDeltas, minorityMinSupport, toMetricsView, toTrainingSummary, type LabelInfo, type MetricsView, type TrainingSummary } from "./model-metrics";
import { minorityWatch } from "./minority-watch";
import { memberProjectRoles, requireActor, requireProject } from "./project-access";
import { suspectedLabelErrors, trainingLabelQuality } from "./training-label-quality";

function labelsOf(config: Pick<ProjectConfig, "labelSchema">): LabelInfo[] {
  return config.labelSchema.labels.map((l) => ({ key: l.key, name: l.name }));
}

/**
 * Training-snapshot rounds may be recorded as round numbers or as round ids; the page shows
 * numbers, so ids are translated with the project's rounds.
 */
function resolveRounds(snapshot: unknown, summary: TrainingSummary, roundIds: Map<string, number>): number[] {
  const out = new Set(summary.rounds);
  const raw = (snapshot as { rounds?: unknown; roundIds?: unknown } | null) ?? {};
  for (const list of [raw.rounds, raw.roundIds]) {
    if (!Array.isArray(list)) continue;
    for (const v of list) {
      const id = typeof v === "string" ? v : typeof v === "object" && v && typeof (v as { id?: unknown }).id === "string" ? (v as { id: string }).id : null;
      if (id && roundIds.has(id)) out.add(roundIds.get(id)!);
    }
  }
  const cases = (raw as { cases?: unknown }).cases;
  if (Array.isArray(cases)) {
    for (const c of cases) {
      const id = (c as { roundId?: unknown })?.roundId;
      if (typeof id === "string" && roundIds.has(id)) out.add(roundIds.get(id)!);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The supersede rule: once a model is approved, every CANDIDATE older than it (a lower version,
 * trained on older labels) becomes SUPERSEDED in the same transaction and can no longer be approved
 * or rejected. Approving it would retire the newer, approved model in favour of one trained on less,
 * whose test metrics — if any — may predate the TEST split the newer model was judged on; nothing
 * re-evaluates it (the `evaluate` job is not queued by any path), so the safe rule is "retrain",
 * never "approve the older one". Each supersession is audited (model.supersede).
 */
function supersededNote(version: number): string {
  return (
    `Superseded: v${version}, trained after this model, was approved. An older candidate cannot be approved after a newer model: ` +
    `it was trained on older labels and was not judged on the TEST split v${version} was judged on. Retrain for a candidate on the current labels.`
  );
}

function supersededMessage(version: number, newer: number | null): string {
  return `Model v${version} is superseded${newer !== null ? `: v${newer}, trained after it, was approved` : ""}. It can no longer be approved or rejected; retrain for a candidate on the current labels.`;
}

export async function listModelsForReview(ctx: ServiceContext) {
  const roles = await memberProjectRoles(ctx, "models.list", { includeArchived: true });
  const rows = await listModelVersionsWithMetrics(ctx.db, [...roles.keys()]);
  // Parsed once per project; a project whose stored configuration is unreadable lists its models without metrics.
  const configs = new Map<string, ProjectConfig | null>();
  const configOf = (project: (typeof rows)[number]["project"]) => {
    if (!configs.has(project.id)) {
      try {
        configs.set(project.id, parseStoredProjectConfig(project));
      } catch {
        configs.set(project.id, null);
      }
    }
    return configs.get(project.id)!;
  };
  return rows.map((row) => {
    const config = configOf(row.project);
    const view = config ? toMetricsView(row.metrics, row.params, labelsOf(config), config.minorityClasses) : null;
    const training = toTrainingSummary(row.trainingSnapshot);
    return {
      id: row.id,
      projectId: row.projectId,
      projectName: row.project.name,
      version: row.version,
      status: row.status,
      createdAt: row.createdAt.toISOString(),
      reviewedAt: row.reviewedAt?.toISOString() ?? null,
      labelCount: training.labelCount,
      macroF1: view?.macroF1 ?? null,
      minorityRecall: view?.minorityRecall ?? null,
      minorityAuprc: view?.minorityAuprc ?? null,
      /** The fewest TEST cases of a minority class the minority metrics rest on (integer; null: none evaluated). */
      minoritySupport: view ? minorityMinSupport(view) : null,
      /** The project's threshold below which a metric is "too few cases to judge". */
      minTestSupport: config?.settings.minTestSupport ?? null,
      /** Whether the caller's role in this project may open the review page. */
      canOpen: can(roles.get(row.projectId), "models.review"),
    };
  });
}

export interface ModelSide {
  id: string;
  version: number;
  status: string;
  createdAt: string;
  encoderVersion: string;
  metrics: MetricsView | null;
  labelCount: number | null;
  rounds: number[];
  triggeredBy: string | null;
  reviewedBy: string | null;
  reviewNote: string | null;
  reviewedAt: string | null;
}

export async function getModelReview(ctx: ServiceContext, input: ModelVersionIdInput) {
  const actor = requireActor(ctx);
  const model = await findModelVersionForMember(ctx.db, actor.id, input.modelVersionId);
  if (!model) throw new DomainError("NOT_FOUND", "No such model version in your projects.");
  const { project: row, config, role, archived } = await requireProject(ctx, model.projectId, "models.review");
  const project = { id: row.id, name: row.name, minorityClasses: config.minorityClasses };
  const labels = labelsOf(config);
  const settings = config.settings;
  const active = await findApprovedModel(ctx.db, project.id, model.id);
  // A candidate (or a superseded model) with a newer model approved after it: superseded (file comment of supersededNote).
  const newer = model.status === "CANDIDATE" || model.status === "SUPERSEDED" ? await findNewerApprovedModel(ctx.db, project.id, model.version) : null;
  const rounds = new Map((await listRoundNumbers(ctx.db, project.id)).map((r) => [r.id, r.number]));
  const names = new Map(
    (await findUserNames(ctx.db, [model.triggeredById, model.reviewedById, active?.triggeredById, active?.reviewedById].filter((v): v is string => !!v))).map((u) => [u.id, u.name]),
  );

  const side = (m: NonNullable<typeof active>): ModelSide => {
    const training = toTrainingSummary(m.trainingSnapshot);
    return {
      id: m.id,
      version: m.version,
      status: m.status,
      createdAt: m.createdAt.toISOString(),
      encoderVersion: m.encoderVersion,
      metrics: toMetricsView(m.metrics, m.params, labels, project.minorityClasses),
      labelCount: training.labelCount,
      rounds: resolveRounds(m.trainingSnapshot, training, rounds),
      triggeredBy: m.triggeredById ? (names.get(m.triggeredById) ?? "unknown user") : null,
      reviewedBy: m.reviewedById ? (names.get(m.reviewedById) ?? "unknown user") : null,
      reviewNote: m.reviewNote,
      reviewedAt: m.reviewedAt?.toISOString() ?? null,
    };
  };
  const candidate = side(model);
  const current = active ? side(active) : null;

  const verdict = candidate.metrics ? guardVerdict(candidate.metrics, current?.metrics ?? null, settings.reviewTolerance, settings.minTestSupport) : null;
  const sameTestSet = candidate.metrics && current?.metrics ? candidate.metrics.n === current.metrics.n : null;
  const fourEyesBlocked = settings.fourEyes && model.triggeredById === actor.id;
  const open = model.status === "CANDIDATE" && !newer;
  return {
    project: { id: project.id, name: project.name, minorityClasses: project.minorityClasses, labels },
    candidate,
    active: current,
    changes: {
      labelDelta: candidate.labelCount !== null && current?.labelCount != null ? candidate.labelCount - current.labelCount : null,
      newRounds: current ? candidate.rounds.filter((r) => !current.rounds.includes(r)) : candidate.rounds,
      deltas: candidate.metrics ? metricDeltas(candidate.metrics, current?.metrics ?? null, settings.minTestSupport) : [],
      sameTestSet,
    },
    // Without recorded metrics nothing can be judged: "insufficient", never "passed".
    minorityWatch: await minorityWatch(ctx.db, project.id, config),
    /** Agreement of the candidate's training labels and how many were adjudicated / majority / imported (issue 14). */
    labelQuality: await trainingLabelQuality(ctx.db, project.id, model.trainingSnapshot, model.createdAt, config.labelSchema.labels, config.labelSchema.multiLabel),
    /** Cases whose given label the candidate contradicts out of fold (confident learning, issue 14), and whether this member may send them to adjudication. */
    labelErrors: { ...(await suspectedLabelErrors(ctx.db, project.id, model.metrics)), canSendToAdjudication: can(role, "labels.adjudicate") && !archived },
    guard: {
      ...(verdict ?? { status: "insufficient" as const, tolerance: settings.reviewTolerance, minSupport: settings.minTestSupport, findings: [], floors: [], thin: [], support: [] }),
      /** A drop beyond the tolerance or a class below the floor (the guard failed). */
      flagged: verdict?.status === "failed",
    },
    /** Set when a newer model was approved after this one was trained: it can no longer be decided on (supersededNote). */
    superseded:
      model.status === "SUPERSEDED" || newer
        ? {
            byVersion: newer?.version ?? null,
            at: (model.status === "SUPERSEDED" ? model.reviewedAt : newer?.reviewedAt)?.toISOString() ?? null,
            by: model.status === "SUPERSEDED" ? candidate.reviewedBy : null,
            reason: model.status === "SUPERSEDED" && model.reviewNote ? model.reviewNote : supersededNote(newer?.version ?? model.version + 1),
          }
        : null,
    decision: {
      // What the page offers; the decision itself re-checks everything on the server.
      open,
      canDecide: open && can(role, "models.decide") && !archived,
      fourEyes: settings.fourEyes,
      fourEyesBlocked,
    },
  };
}

/**
 * Approves or rejects a CANDIDATE. Approval, in one transaction under the project's model lock:
 * candidate → APPROVED, the previous APPROVED → RETIRED, older CANDIDATEs → SUPERSEDED (audited,
 * supersededNote), reviewer/note/time recorded, an audit event, and a `select` JobRun for the next
 * round (its pg-boss message is sent after commit). A candidate older than a model approved after
 * it is refused (CONFLICT), whatever its stored status.
 */
export async function decideModel(ctx: ServiceContext, input: ReviewDecisionInput) {
  const actor = requireActor(ctx);
  const model = await findModelVersionForMember(ctx.db, actor.id, input.modelVersionId);
  if (!model) throw new DomainError("NOT_FOUND", "No such model version in your projects.");
  const { config } = await requireProject(ctx, model.projectId, "models.decide", { write: true });
  if (model.status === "SUPERSEDED") {
    throw new DomainError("CONFLICT", supersededMessage(model.version, (await findNewerApprovedModel(ctx.db, model.projectId, model.version))?.version ?? null));
  }
  const settings = config.settings;
  if (input.decision === "approve" && settings.fourEyes && model.triggeredById === actor.id) {
    throw new DomainError(
      "FORBIDDEN",
      `Four-eyes rule: you started the training of model v${model.version}, so another reviewer must approve it.`,
    );
  }
  const review = await getModelReview(ctx, { modelVersionId: model.id });
  const note = input.note.trim();
  const now = new Date();

  let job: EnqueuedJob | null = null;
  const outcome = await ctx.db.$transaction(async (tx) => {
    await lockProjectModels(tx, model.projectId);
    // Under the lock: a newer model approved meanwhile (or before migration 0020) supersedes this one.
    const newer = await findNewerApprovedModel(tx, model.projectId, model.version);
    if (newer) throw new DomainError("CONFLICT", supersededMessage(model.version, newer.version));
    const moved = await setModelReview(tx, model.id, "CANDIDATE", {
      status: input.decision === "approve" ? "APPROVED" : "REJECTED",
      reviewedById: actor.id,
      reviewNote: note,
      reviewedAt: now,
    });
    if (!moved) {
      throw new DomainError("CONFLICT", `Model v${model.version} is no longer a candidate: someone decided on it already.`);
    }
    let retired: { id: string; version: number }[] = [];
    let superseded: { id: string; version: number }[] = [];
    if (input.decision === "approve") {
      retired = await retireApprovedModels(tx, model.projectId, model.id);
      superseded = await supersedeOlderCandidates(tx, model.projectId, model.version, { reviewedById: actor.id, reviewedAt: now, reviewNote: supersededNote(model.version) });
      for (const old of superseded) {
        await ctx.audit.record(tx, {
          action: "model.supersede",
          targetType: "ModelVersion",
          targetId: old.id,
          projectId: model.projectId,
          details: { version: old.version, supersededBy: { id: model.id, version: model.version }, reason: supersededNote(model.version) },
        });
      }
      job = await enqueueJobRun(tx, {
        kind: "select",
        projectId: model.projectId,
        payload: { projectId: model.projectId, modelVersionId: model.id, reason: "model-approved" },
        // One follow-up round per approval, however often the request is retried.
        dedupeKey: `select:${model.projectId}:approved:${model.id}`,
        requestedById: actor.id,
      });
    }
    await ctx.audit.record(tx, {
      action: input.decision === "approve" ? "model.approve" : "model.reject",
      targetType: "ModelVersion",
      targetId: model.id,
      projectId: model.projectId,
      details: {
        version: model.version,
        note,
        retired: retired.map((r) => ({ id: r.id, version: r.version })),
        superseded: superseded.map((r) => ({ id: r.id, version: r.version })),
        guardFlagged: review.guard.flagged,
        guardStatus: review.guard.status,
        guardFloors: review.guard.floors.map((f) => `${f.classKey} recall ${f.candidate.toFixed(3)} on ${f.support} TEST cases`),
        guardTooFew: review.guard.thin.map((t) => `${t.classKey}: ${t.support} TEST cases`),
        guardFindings: review.guard.findings.map((f) => `${f.classKey} ${f.metric} ${f.active.toFixed(3)}→${f.candidate.toFixed(3)}`),
        tolerance: review.guard.tolerance,
        selectJobRunId: (job as EnqueuedJob | null)?.jobRunId ?? null,
      },
    });
    return { retired, superseded };
  });
  const enqueued = job as EnqueuedJob | null;
  const sent = enqueued ? await enqueued.send() : false;
  logger.info("model reviewed", { modelVersionId: model.id, projectId: model.projectId, decision: input.decision, selectJobRunId: enqueued?.jobRunId ?? null, sent });
  return {
    id: model.id,
    version: model.version,
    status: input.decision === "approve" ? ("APPROVED" as const) : ("REJECTED" as const),
    retiredVersions: outcome.retired.map((r) => r.version),
    supersededVersions: outcome.superseded.map((r) => r.version),
    selectJobRunId: enqueued?.jobRunId ?? null,
  };
}
