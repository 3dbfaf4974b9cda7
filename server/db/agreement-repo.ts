/**
 * Reads behind the label-agreement report (issue 14): every submitted annotation version of a
 * project's cases with its author, so the service can take each annotator's latest version per case.
 * The project id has come through the front door (server/services/project-access.ts).
 */
import type { DbOrTx } from "./tx";

/** Submitted annotations (every version) of the project's cases, with the author's name; oldest case first. */
export function listSubmittedAnnotations(db: DbOrTx, projectId: string) {
  return db.annotation.findMany({
    where: { kind: "SUBMITTED", case: { projectId } },
    orderBy: [{ caseId: "asc" }, { authorId: "asc" }, { version: "asc" }],
    select: { caseId: true, authorId: true, version: true, labels: true, spans: true, author: { select: { name: true } } },
  });
}

/** Every case with an annotation (submitted or adjudicated, every version) or an imported label, for the final-label export. */
export function listCasesWithLabelInputs(db: DbOrTx, projectId: string) {
  return db.case.findMany({
    where: { projectId, OR: [{ annotations: { some: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } } } }, { importedLabel: { not: null } }] },
    orderBy: { externalId: "asc" },
    select: {
      externalId: true,
      split: true,
      importedLabel: true,
      gold: { select: { caseId: true } },
      annotations: { where: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } }, select: { id: true, authorId: true, version: true, kind: true, labels: true, createdAt: true } },
    },
  });
}
