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
import { listSubmittedAnnotationsOfCases } from "../db/label-quality-repo";
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
