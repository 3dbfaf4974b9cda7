/**
 * THE selectable pool: the cases a new round may queue for annotation. One definition for every
 * reader — the cold start (server/services/selection-rounds.ts via rounds-repo `listSelectableCases`),
 * the select job's candidates (loop-repo `listSelectableCaseIds`, workers/jobs/select.ts), the loop
 * check's "is there anything to select" (rounds-repo `hasSelectableCase`) and the pool size the
 * budget B is checked against (project-settings-repo `countSelectablePool`).
 *
 * A case is selectable when it is in the POOL split, is not waiting in an open round (no PENDING
 * queue item), and its label is not already known: no imported label and no SUBMITTED or
 * ADJUDICATED annotation (the sources server/services/training-label.ts trains on). Exception: a
 * case a data scientist put into the next round with priority (case browser, `priorityRequestedAt`)
 * stays selectable whatever its label, so it can be deliberately re-labelled.
 */
import type { Prisma } from "./generated/client";

/** The Prisma where-clause of the selectable pool of `projectId` (see the file comment). */
export function selectablePoolWhere(projectId: string): Prisma.CaseWhereInput {
  return {
    projectId,
    split: "POOL",
    queueItems: { none: { status: "PENDING" } },
    OR: [{ priorityRequestedAt: { not: null } }, { importedLabel: null, annotations: { none: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } } } }],
  };
}
