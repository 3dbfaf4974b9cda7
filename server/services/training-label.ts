/**
 * THE rule that turns a case's annotations into its training label (issue 14), used by training, the
 * select job and the what-if simulation, shown on the adjudication page and recorded in each model's
 * training snapshot (`TRAINING_LABEL_RULE`):
 *
 * 1. adjudicated — the newest ADJUDICATED version (an adjudicator's final label with a reason) wins;
 * 2. else consensus — each annotator's latest SUBMITTED version votes with its first label; a label
 *    held by a strict majority of the annotators is the label (one annotator: their label);
 * 3. else imported — no annotation at all: the label the case was imported with;
 * 4. else excluded — annotators without a majority (e.g. 1–1), or nothing: not trained on until
 *    adjudicated (such a case is in the adjudication queue).
 *
 * Gold cases (`{ gold: true }`, server/services/gold-service.ts) already have their label: clinicians' answers
 * to them measure the clinicians and never vote, so a gold case is trained on once, with its adjudicated
 * label, else its imported label (the answer it was marked gold with).
 *
 * Pure: no I/O. Annotations are `{ id, authorId, version, kind, labels, createdAt }` rows.
 */

export const TRAINING_LABEL_RULE =
  "adjudicated label, else the label of a strict majority of the annotators (each annotator's latest submitted version, first label), else the imported label when nobody annotated, else excluded; gold cases: adjudicated, else imported (their annotators' gold answers never vote)";

export interface AnnotationVote {
  id: string;
  authorId: string;
  version: number;
  kind: "SUBMITTED" | "SKIPPED" | "ADJUDICATED";
  labels: readonly string[];
  createdAt: Date;
}

export type TrainingLabelSource = "adjudicated" | "consensus" | "imported" | "excluded";

export interface TrainingLabel {
  /** The label key, null when excluded. */
  label: string | null;
  source: TrainingLabelSource;
  /** The annotation the label is taken from (adjudicated: that version; consensus: the newest annotation of the majority); null otherwise. */
  annotationId: string | null;
  annotationVersion: number | null;
  /** Annotators whose latest submitted version voted, and how many voted for the label. */
  voters: number;
  votes: number;
}

const newer = (a: AnnotationVote, b: AnnotationVote) => a.createdAt.getTime() - b.createdAt.getTime() || a.version - b.version;

/** Each annotator's latest SUBMITTED version (by version number: later versions are edits). */
export function latestSubmittedPerAnnotator(annotations: readonly AnnotationVote[]): AnnotationVote[] {
  const latest = new Map<string, AnnotationVote>();
  for (const a of annotations) {
    if (a.kind !== "SUBMITTED") continue;
    const seen = latest.get(a.authorId);
    if (!seen || a.version > seen.version) latest.set(a.authorId, a);
  }
  return [...latest.values()];
}

/** The training label of one case under `TRAINING_LABEL_RULE`. */
export function trainingLabel(annotations: readonly AnnotationVote[], importedLabel: string | null, opts: { gold?: boolean } = {}): TrainingLabel {
  const adjudicated = annotations.filter((a) => a.kind === "ADJUDICATED" && a.labels.length > 0).sort(newer).at(-1);
  const latest = latestSubmittedPerAnnotator(annotations).filter((a) => a.labels.length > 0);
  if (opts.gold && !adjudicated) {
    // A gold case's annotations are gold answers: they are scored against its label, not counted as votes.
    return importedLabel
      ? { label: importedLabel, source: "imported", annotationId: null, annotationVersion: null, voters: latest.length, votes: latest.filter((a) => a.labels[0] === importedLabel).length }
      : { label: null, source: "excluded", annotationId: null, annotationVersion: null, voters: latest.length, votes: 0 };
  }
  if (adjudicated) {
    return { label: adjudicated.labels[0]!, source: "adjudicated", annotationId: adjudicated.id, annotationVersion: adjudicated.version, voters: latest.length, votes: latest.filter((a) => a.labels[0] === adjudicated.labels[0]).length };
  }
  if (latest.length === 0) {
    return importedLabel ? { label: importedLabel, source: "imported", annotationId: null, annotationVersion: null, voters: 0, votes: 0 } : { label: null, source: "excluded", annotationId: null, annotationVersion: null, voters: 0, votes: 0 };
  }
  const byLabel = new Map<string, AnnotationVote[]>();
  for (const a of latest) byLabel.set(a.labels[0]!, [...(byLabel.get(a.labels[0]!) ?? []), a]);
  for (const [label, group] of byLabel) {
    if (group.length * 2 > latest.length) {
      const source = [...group].sort(newer).at(-1)!;
      return { label, source: "consensus", annotationId: source.id, annotationVersion: source.version, voters: latest.length, votes: group.length };
    }
  }
  return { label: null, source: "excluded", annotationId: null, annotationVersion: null, voters: latest.length, votes: Math.max(...[...byLabel.values()].map((g) => g.length)) };
}

/**
 * Whether the annotators of a case disagree: two or more annotators' latest submitted versions whose
 * label sets differ. The adjudication queue holds such cases until an adjudication newer than every one of them.
 */
export function annotatorsDisagree(annotations: readonly AnnotationVote[]): boolean {
  const sets = new Set(latestSubmittedPerAnnotator(annotations).map((a) => [...a.labels].sort().join("\u0000")));
  return sets.size > 1;
}
