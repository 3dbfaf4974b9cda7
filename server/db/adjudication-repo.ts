/**
 * Reads and writes of adjudication (issue 14). Project ids have come through the front door
 * (server/services/project-access.ts); a case id is always matched together with its project.
 */
import { ANNOTATION_ANSWER_SELECT } from "./annotation-select";
import type { DbOrTx } from "./tx";

/**
 * Candidates for the adjudication queue: cases with a submitted annotation from two or more annotators
 * or sent to adjudication, with their submitted and adjudicated versions (oldest first).
 */
export async function listAdjudicationCandidates(db: DbOrTx, projectId: string) {
  const multi = await db.annotation.groupBy({
    by: ["caseId"],
    where: { kind: "SUBMITTED", case: { projectId } },
    _count: { authorId: true },
  });
  const annotated = multi.filter((g) => g._count.authorId >= 2).map((g) => g.caseId);
  return db.case.findMany({
    where: { projectId, OR: [{ id: { in: annotated } }, { adjudicationRequestedAt: { not: null } }] },
    orderBy: { externalId: "asc" },
    select: {
      id: true,
      externalId: true,
      narrative: true,
      adjudicationRequestedAt: true,
      annotations: { where: { kind: { in: ["SUBMITTED", "ADJUDICATED"] } }, orderBy: [{ createdAt: "asc" }, { version: "asc" }], select: ANNOTATION_ANSWER_SELECT },
    },
  });
}

/** The case of the project (null when it is not one of its cases), with the adjudicator's highest version on it. */
export async function findCaseForAdjudication(db: DbOrTx, projectId: string, caseId: string, adjudicatorId: string) {
  const found = await db.case.findFirst({ where: { id: caseId, projectId }, select: { id: true, externalId: true, adjudicationRequestedAt: true } });
  if (!found) return null;
  const top = await db.annotation.findFirst({ where: { caseId, authorId: adjudicatorId }, orderBy: { version: "desc" }, select: { version: true } });
  return { ...found, adjudicatorVersion: top?.version ?? 0 };
}

/** Writes the adjudicated version and clears the case's adjudication request. */
export async function insertAdjudication(db: DbOrTx, row: { caseId: string; authorId: string; version: number; labels: string[]; reason: string }) {
  const created = await db.annotation.create({
    data: { caseId: row.caseId, authorId: row.authorId, version: row.version, kind: "ADJUDICATED", labels: row.labels, comment: row.reason },
    select: { id: true, version: true, createdAt: true },
  });
  await db.case.update({ where: { id: row.caseId }, data: { adjudicationRequestedAt: null, adjudicationRequestedById: null } });
  return created;
}

/** Marks a case as sent to adjudication by `userId` (kept when already set). */
export function setAdjudicationRequested(db: DbOrTx, caseId: string, userId: string) {
  return db.case.updateMany({ where: { id: caseId, adjudicationRequestedAt: null }, data: { adjudicationRequestedAt: new Date(), adjudicationRequestedById: userId } });
}
