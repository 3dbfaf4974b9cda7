/**
 * Reads behind "the agreement of the labels a model was trained on" (issue 14 item 5): the submitted
 * annotation versions of given cases, written up to a moment (the model's training time). The project
 * id has come through the front door (server/services/project-access.ts).
 */
import type { DbOrTx } from "./tx";

/** Submitted annotations (every version) of `caseIds` in the project created at or before `until`, with the author's name. */
export function listSubmittedAnnotationsOfCases(db: DbOrTx, projectId: string, caseIds: readonly string[], until: Date) {
  return db.annotation.findMany({
    where: { kind: "SUBMITTED", caseId: { in: [...caseIds] }, createdAt: { lte: until }, case: { projectId } },
    orderBy: [{ caseId: "asc" }, { authorId: "asc" }, { version: "asc" }],
    select: { caseId: true, authorId: true, version: true, labels: true, spans: true, author: { select: { name: true } } },
  });
}

/** External ids of the project's cases among `caseIds` (a case deleted since is absent). */
export function findCaseExternalIds(db: DbOrTx, projectId: string, caseIds: readonly string[]) {
  return db.case.findMany({ where: { projectId, id: { in: [...caseIds] } }, select: { id: true, externalId: true, adjudicationRequestedAt: true } });
}
