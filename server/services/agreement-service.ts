/**
 * Inter-annotator agreement of a project (issue 14): on the cases with two or more annotators, each
 * annotator's LATEST submitted version per case (earlier versions were edits), percent agreement,
 * Fleiss' kappa and Krippendorff's nominal alpha overall and per class, Cohen's kappa for each pair of
 * annotators with an annotator×annotator matrix, each with a bootstrap 95% interval over cases (seeded,
 * so a page reload shows the same interval) and the number of cases it rests on; and the overlap F1 of
 * evidence spans where both annotators of a pair marked evidence.
 *
 * Categories: a single-label project rates each case by its (first) label; a multi-label project rates
 * the overall figures on the exact label set (each distinct set one nominal category) and each class as
 * a binary item (present/absent), as Krippendorff recommends for multi-valued coding.
 * Statistics: workers/ml/agreement.ts (sources there).
 */
import type { AgreementEstimate, AgreementInput } from "@/contracts/agreement";
import {
  MISSING,
  bootstrapEstimate,
  cohenKappa,
  fleissKappa,
  krippendorffAlphaNominal,
  pairMatrix,
  percentAgreement,
  spanOverlapF1,
  type Estimate,
  type Ratings,
  type SpanLike,
} from "@/workers/ml/agreement";
import { createRng, type Rng } from "@/workers/ml/rng";
import { listCasesWithLabelInputs, listSubmittedAnnotations } from "../db/agreement-repo";
import { TRAINING_LABEL_RULE, trainingLabel, type TrainingLabelSource } from "./training-label";
import type { ServiceContext } from "./context";
import { clientDetails } from "./context";
import { requireProject, requireProjectAsSystem } from "./project-access";

/** Bootstrap resamples per interval, and the seed (fixed: the same data give the same interval). */
export const AGREEMENT_REPLICATES = 1000;
export const AGREEMENT_SEED = 14;

export interface AgreementFigures {
  percentAgreement: AgreementEstimate;
  fleissKappa: AgreementEstimate;
  krippendorffAlpha: AgreementEstimate;
}

export interface AgreementReport {
  projectId: string;
  multiLabel: boolean;
  /** Cases with at least one submitted annotation, with two or more annotators, and among those with any disagreement. */
  casesAnnotated: number;
  casesWithTwoOrMore: number;
  casesInDisagreement: number;
  annotators: { id: string; name: string; cases: number; agreementWithOthers: number | null }[];
  /** Overall: single label per case, or the exact label set for a multi-label project. */
  overall: AgreementFigures;
  /** Each class as a binary item (present / absent) on the cases with two or more annotators. */
  perClass: ({ key: string; name: string } & AgreementFigures)[];
  /** Cohen's kappa of each annotator pair that shares a case, with percent agreement and the shared cases. */
  pairs: { a: string; b: string; cohenKappa: AgreementEstimate; agreement: number | null; shared: number }[];
  /** Annotator×annotator matrix in `annotators` order (diagonal: kappa 1, agreement 1, own cases). */
  matrix: { kappa: (number | null)[][]; agreement: (number | null)[][]; shared: number[][] };
  /** Evidence-span overlap F1 (character-level, per label), mean over cases of the mean over pairs where both marked evidence. */
  spans: { f1: AgreementEstimate; pairs: number };
  replicates: number;
  seed: number;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
const toView = (e: Estimate): AgreementEstimate => ({ value: finite(e.value), low: finite(e.low), high: finite(e.high), cases: e.cases });

interface CaseRatings {
  caseId: string;
  /** Latest label list and spans of each annotator (index into the annotator list). */
  byAnnotator: Map<number, { labels: string[]; spans: SpanLike[] }>;
}

function parseSpans(raw: unknown): SpanLike[] {
  if (!Array.isArray(raw)) return [];
  const out: SpanLike[] = [];
  for (const s of raw) {
    if (typeof s !== "object" || s === null) continue;
    const { start, end, label } = s as Record<string, unknown>;
    if (typeof start === "number" && typeof end === "number" && Number.isFinite(start) && Number.isFinite(end) && typeof label === "string") out.push({ start, end, label });
  }
  return out;
}

function figures(r: Ratings, rng: Rng, replicates: number): AgreementFigures {
  return {
    percentAgreement: toView(bootstrapEstimate(r, percentAgreement, rng.fork(), replicates)),
    fleissKappa: toView(bootstrapEstimate(r, fleissKappa, rng.fork(), replicates)),
    krippendorffAlpha: toView(bootstrapEstimate(r, krippendorffAlphaNominal, rng.fork(), replicates)),
  };
}

/**
 * The agreement report of pure rows (exported for tests and the export script): `rows` are submitted
 * annotation versions; each (case, author)'s highest version counts.
 */
export function computeAgreement(
  rows: readonly { caseId: string; authorId: string; authorName: string; version: number; labels: string[]; spans: unknown }[],
  classes: readonly { key: string; name: string }[],
  multiLabel: boolean,
  options: { replicates?: number; seed?: number } = {},
): Omit<AgreementReport, "projectId"> {
  const replicates = options.replicates ?? AGREEMENT_REPLICATES;
  const seed = options.seed ?? AGREEMENT_SEED;
  const latest = new Map<string, (typeof rows)[number]>();
  for (const row of rows) {
    const key = `${row.caseId}\u0000${row.authorId}`;
    const seen = latest.get(key);
    if (!seen || row.version > seen.version) latest.set(key, row);
  }
  const annotatorIndex = new Map<string, number>();
  const annotatorNames: string[] = [];
  const byCase = new Map<string, CaseRatings>();
  for (const row of latest.values()) {
    let a = annotatorIndex.get(row.authorId);
    if (a === undefined) {
      a = annotatorIndex.size;
      annotatorIndex.set(row.authorId, a);
      annotatorNames.push(row.authorName);
    }
    const entry = byCase.get(row.caseId) ?? { caseId: row.caseId, byAnnotator: new Map() };
    entry.byAnnotator.set(a, { labels: row.labels, spans: parseSpans(row.spans) });
    byCase.set(row.caseId, entry);
  }
  const annotatorIds = [...annotatorIndex.keys()];
  const nA = annotatorIds.length;
  const multi = [...byCase.values()].filter((c) => c.byAnnotator.size >= 2);
  const classIndex = new Map(classes.map((c, i) => [c.key, i]));

  // Overall categories: the class of a single-label case; the exact (sorted) label set of a multi-label case.
  const setIndex = new Map<string, number>();
  const category = (labels: string[]): number => {
    if (!multiLabel) {
      const i = labels[0] === undefined ? undefined : classIndex.get(labels[0]);
      return i ?? MISSING;
    }
    const key = [...new Set(labels.filter((l) => classIndex.has(l)))].sort().join("\u0000");
    let i = setIndex.get(key);
    if (i === undefined) {
      i = setIndex.size;
      setIndex.set(key, i);
    }
    return i;
  };
  const values = new Int32Array(multi.length * nA).fill(MISSING);
  multi.forEach((c, ci) => {
    for (const [a, r] of c.byAnnotator) values[ci * nA + a] = category(r.labels);
  });
  const overallRatings: Ratings = { values, cases: multi.length, annotators: nA, categories: Math.max(1, multiLabel ? setIndex.size : classes.length) };

  let casesInDisagreement = 0;
  for (let ci = 0; ci < multi.length; ci++) {
    const seen = new Set<number>();
    for (let a = 0; a < nA; a++) if (values[ci * nA + a] !== MISSING) seen.add(values[ci * nA + a]!);
    if (seen.size > 1) casesInDisagreement++;
  }

  const rng = createRng(seed);
  const overall = figures(overallRatings, rng.fork(), replicates);
  const perClass = classes.map((cls) => {
    const bin = new Int32Array(multi.length * nA).fill(MISSING);
    multi.forEach((c, ci) => {
      for (const [a, r] of c.byAnnotator) bin[ci * nA + a] = r.labels.includes(cls.key) ? 1 : 0;
    });
    return { key: cls.key, name: cls.name, ...figures({ values: bin, cases: multi.length, annotators: nA, categories: 2 }, rng.fork(), replicates) };
  });

  const m = pairMatrix(overallRatings);
  const pairs: AgreementReport["pairs"] = [];
  const pairRng = rng.fork();
  for (let a = 0; a < nA; a++) {
    for (let b = a + 1; b < nA; b++) {
      const shared = m.shared[a * nA + b]!;
      if (shared === 0) continue;
      // Bootstrap over the cases this pair shares.
      const sharedCases: number[] = [];
      for (let ci = 0; ci < multi.length; ci++) if (values[ci * nA + a] !== MISSING && values[ci * nA + b] !== MISSING) sharedCases.push(ci);
      const sub = new Int32Array(sharedCases.length * 2);
      sharedCases.forEach((ci, i) => { sub[i * 2] = values[ci * nA + a]!; sub[i * 2 + 1] = values[ci * nA + b]!; });
      const est = bootstrapEstimate({ values: sub, cases: sharedCases.length, annotators: 2, categories: overallRatings.categories }, (r, idx) => cohenKappa(r, 0, 1, idx), pairRng.fork(), replicates);
      pairs.push({ a: annotatorIds[a]!, b: annotatorIds[b]!, cohenKappa: toView(est), agreement: finite(m.agreement[a * nA + b]!), shared });
    }
  }
  const grid = <T>(f: (i: number) => T): T[][] => Array.from({ length: nA }, (_, a) => Array.from({ length: nA }, (_, b) => f(a * nA + b)));
  const annotators = annotatorIds.map((id, a) => {
    let agreeing = 0, total = 0;
    for (let b = 0; b < nA; b++) {
      if (b === a) continue;
      const s = m.shared[a * nA + b]!;
      if (s > 0) { agreeing += m.agreement[a * nA + b]! * s; total += s; }
    }
    let cases = 0;
    for (const c of byCase.values()) if (c.byAnnotator.has(a)) cases++;
    return { id, name: annotatorNames[a]!, cases, agreementWithOthers: total > 0 ? agreeing / total : null };
  });

  // Evidence spans: per case the mean F1 over pairs where both marked evidence; bootstrap over those cases.
  const spanCases: number[] = [];
  let spanPairs = 0;
  for (const c of multi) {
    const marked = [...c.byAnnotator.values()].filter((r) => r.spans.length > 0);
    let sum = 0, n = 0;
    for (let i = 0; i < marked.length; i++) for (let j = i + 1; j < marked.length; j++) {
      const f = spanOverlapF1(marked[i]!.spans, marked[j]!.spans);
      if (Number.isFinite(f)) { sum += f; n++; }
    }
    if (n > 0) { spanCases.push(sum / n); spanPairs += n; }
  }
  const spanF1 = bootstrapMean(spanCases, rng.fork(), replicates);

  return {
    multiLabel,
    casesAnnotated: byCase.size,
    casesWithTwoOrMore: multi.length,
    casesInDisagreement,
    annotators,
    overall,
    perClass,
    pairs,
    matrix: { kappa: grid((i) => finite(m.kappa[i]!)), agreement: grid((i) => finite(m.agreement[i]!)), shared: grid((i) => m.shared[i]!) },
    spans: { f1: spanF1, pairs: spanPairs },
    replicates,
    seed,
  };
}

/** Mean of per-case values with a bootstrap 95% percentile interval over the cases. */
function bootstrapMean(values: number[], rng: Rng, replicates: number): AgreementEstimate {
  const n = values.length;
  if (n === 0) return { value: null, low: null, high: null, cases: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const draws = new Float64Array(replicates);
  for (let b = 0; b < replicates; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)]!;
    draws[b] = s / n;
  }
  draws.sort();
  const q = (p: number) => { const pos = (replicates - 1) * p, lo = Math.floor(pos), hi = Math.ceil(pos); return draws[lo]! + (draws[hi]! - draws[lo]!) * (pos - lo); };
  return { value: mean, low: q(0.025), high: q(0.975), cases: n };
}

/**
 * The agreement report of a project for a member whose project role may see it (`labels.agreement`).
 * @throws DomainError NOT_FOUND (not a member / no such project), FORBIDDEN (role)
 */
export async function getAgreement(ctx: ServiceContext, input: AgreementInput): Promise<AgreementReport> {
  const { project, config } = await requireProject(ctx, input.projectId, "labels.agreement");
  return { projectId: project.id, ...(await agreementOfProject(ctx, project.id, config.labelSchema.labels, config.labelSchema.multiLabel)) };
}

/** The report for a project already through the front door (the export script uses it as a system action). */
export async function agreementOfProject(ctx: Pick<ServiceContext, "db">, projectId: string, classes: readonly { key: string; name: string }[], multiLabel: boolean): Promise<Omit<AgreementReport, "projectId">> {
  const rows = await listSubmittedAnnotations(ctx.db, projectId);
  return computeAgreement(
    rows.map((r) => ({ caseId: r.caseId, authorId: r.authorId, authorName: r.author.name, version: r.version, labels: r.labels, spans: r.spans })),
    classes,
    multiLabel,
  );
}

export interface FinalLabelRow {
  caseId: string;
  split: string;
  /** The training label (null when excluded) and the branch of the rule that gave it. */
  label: string | null;
  source: TrainingLabelSource;
  voters: number;
  votes: number;
}

/**
 * The agreement report as an export (`npm run export -- --agreement`), with every labelled case's final
 * label under the training-label rule (`rule`, server/services/training-label.ts): the caller needs
 * `labels.agreement` (or it is a system action of the CLI without --as); audited as `export.agreement`.
 * @throws DomainError NOT_FOUND, FORBIDDEN
 */
export async function exportAgreement(ctx: ServiceContext, input: AgreementInput, opts: { system?: boolean } = {}): Promise<AgreementReport & { projectName: string; generatedAt: string; rule: string; finalLabels: FinalLabelRow[] }> {
  const { project, config } = !ctx.actor && opts.system ? await requireProjectAsSystem(ctx, input.projectId) : await requireProject(ctx, input.projectId, "labels.agreement");
  const report = await agreementOfProject(ctx, project.id, config.labelSchema.labels, config.labelSchema.multiLabel);
  const finalLabels = (await listCasesWithLabelInputs(ctx.db, project.id)).map((c): FinalLabelRow => {
    const decided = trainingLabel(c.annotations, c.importedLabel, { gold: c.gold !== null });
    return { caseId: c.externalId, split: c.split, label: decided.label, source: decided.source, voters: decided.voters, votes: decided.votes };
  });
  await ctx.audit.record(ctx.db, {
    action: "export.agreement",
    targetType: "Project",
    targetId: project.id,
    projectId: project.id,
    details: { casesWithTwoOrMore: report.casesWithTwoOrMore, annotators: report.annotators.length, ...clientDetails(ctx) },
  });
  return { projectId: project.id, projectName: project.name, generatedAt: new Date().toISOString(), ...report, rule: TRAINING_LABEL_RULE, finalLabels };
}
