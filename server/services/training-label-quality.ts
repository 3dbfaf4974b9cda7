/**
 * The quality of the labels a model was trained on (issue 14 item 5), for model review: the
 * inter-annotator agreement (percent agreement, Fleiss' kappa, Krippendorff's nominal alpha, each
 * with its bootstrap 95% interval and the number of cases it rests on) over the model's training
 * cases — annotations written up to the model's creation, so a later edit does not change the
 * figure of an old model — and how many training labels the training-label rule took from an
 * adjudication, a majority of annotators, or the import (recorded in the training snapshot by
 * workers/jobs/train.ts). Statistics: server/services/agreement-service.ts → workers/ml/agreement.ts.
 */
import type { AgreementEstimate } from "@/contracts/agreement";
import { findCaseExternalIds, listSubmittedAnnotationsOfCases } from "../db/label-quality-repo";
import type { DbOrTx } from "../db/tx";
import { computeAgreement } from "./agreement-service";

export interface TrainingLabelQuality {
  /** The training-label rule recorded in the snapshot (null: a model trained before it was recorded). */
  rule: string | null;
  /** Training labels by source (counts; null when the snapshot predates the record). */
  sources: { adjudicated: number; consensus: number; imported: number } | null;
  /** Training cases (from the snapshot) and those of them with two or more annotators. */
  trainingCases: number;
  casesWithTwoOrMore: number;
  percentAgreement: AgreementEstimate;
  fleissKappa: AgreementEstimate;
  krippendorffAlpha: AgreementEstimate;
}

const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * Label quality of one model's training set from its stored `trainingSnapshot` (shape written by
 * workers/jobs/train.ts: `cases[].caseId`, `labelRule`, `labelSources`); an unreadable snapshot gives
 * zero training cases and empty estimates (value null, cases 0), never an error.
 */
export async function trainingLabelQuality(
  db: DbOrTx,
  projectId: string,
  snapshot: unknown,
  trainedAt: Date,
  classes: readonly { key: string; name: string }[],
  multiLabel: boolean,
): Promise<TrainingLabelQuality> {
  const raw = (typeof snapshot === "object" && snapshot !== null ? snapshot : {}) as { cases?: unknown; labelRule?: unknown; labelSources?: unknown };
  const caseIds = Array.isArray(raw.cases)
    ? [...new Set(raw.cases.map((c) => (typeof c === "object" && c !== null ? (c as { caseId?: unknown }).caseId : null)).filter((id): id is string => typeof id === "string"))]
    : [];
  const src = typeof raw.labelSources === "object" && raw.labelSources !== null ? (raw.labelSources as Record<string, unknown>) : null;
  const rows = caseIds.length > 0 ? await listSubmittedAnnotationsOfCases(db, projectId, caseIds, trainedAt) : [];
  const report = computeAgreement(
    rows.map((r) => ({ caseId: r.caseId, authorId: r.authorId, authorName: r.author.name, version: r.version, labels: r.labels, spans: r.spans })),
    classes,
    multiLabel,
  );
  return {
    rule: typeof raw.labelRule === "string" ? raw.labelRule : null,
    sources: src ? { adjudicated: count(src.adjudicated), consensus: count(src.consensus), imported: count(src.imported) } : null,
    trainingCases: caseIds.length,
    casesWithTwoOrMore: report.casesWithTwoOrMore,
    percentAgreement: report.overall.percentAgreement,
    fleissKappa: report.overall.fleissKappa,
    krippendorffAlpha: report.overall.krippendorffAlpha,
  };
}

export interface SuspectedLabelErrorRow {
  caseId: string;
  externalId: string;
  given: string;
  suggested: string;
  /** Out-of-fold probabilities of the given and suggested class, and their difference (null: unreadable). */
  pGiven: number | null;
  pSuggested: number | null;
  margin: number | null;
  /** Already waiting in the adjudication queue. */
  inAdjudication: boolean;
}

export interface SuspectedLabelErrors {
  /** null: no list recorded (a model trained before it existed, or skipped: see `skipped`). */
  rows: SuspectedLabelErrorRow[] | null;
  flaggedCount: number;
  folds: number | null;
  skipped: string | null;
}

const finiteOr = <T,>(v: unknown, d: T): number | T => (typeof v === "number" && Number.isFinite(v) ? v : d);

/**
 * The suspected label errors a training stored with the model (`metrics.labelErrors`, written by
 * workers/jobs/train.ts via workers/ml/label-errors.ts), largest margin first, with each case's
 * external id; cases deleted since are left out. An unreadable record gives `rows: null`.
 */
export async function suspectedLabelErrors(db: DbOrTx, projectId: string, metrics: unknown): Promise<SuspectedLabelErrors> {
  const m = (typeof metrics === "object" && metrics !== null ? metrics : {}) as { labelErrors?: unknown; labelErrorsSkipped?: unknown };
  const skipped = typeof m.labelErrorsSkipped === "string" ? m.labelErrorsSkipped : null;
  const list = typeof m.labelErrors === "object" && m.labelErrors !== null ? (m.labelErrors as { cases?: unknown; flaggedCount?: unknown; folds?: unknown }) : null;
  if (!list || !Array.isArray(list.cases)) return { rows: null, flaggedCount: 0, folds: null, skipped };
  const raw = list.cases.filter((c): c is Record<string, unknown> => typeof c === "object" && c !== null && typeof (c as { caseId?: unknown }).caseId === "string");
  const found = new Map((await findCaseExternalIds(db, projectId, raw.map((c) => c.caseId as string))).map((c) => [c.id, c]));
  const rows: SuspectedLabelErrorRow[] = [];
  for (const c of raw) {
    const hit = found.get(c.caseId as string);
    if (!hit) continue;
    rows.push({
      caseId: hit.id,
      externalId: hit.externalId,
      given: String(c.given ?? ""),
      suggested: String(c.suggested ?? ""),
      pGiven: finiteOr(c.pGiven, null),
      pSuggested: finiteOr(c.pSuggested, null),
      margin: finiteOr(c.margin, null),
      inAdjudication: hit.adjudicationRequestedAt !== null,
    });
  }
  return { rows, flaggedCount: finiteOr(list.flaggedCount, rows.length), folds: typeof list.folds === "number" ? list.folds : null, skipped };
}
