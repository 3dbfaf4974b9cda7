/**
 * Who may annotate a case here, as a service answer: the rule is annotations-repo.ts annotationRefusal (a TEST case
 * never; the caller's lease, a free slot of a PENDING item of the latest round, a gold case served to them, or their
 * own earlier answer). Used by submit, autosave (annotation-service.ts) and skip (queue-service.ts); tests
 * annotation-access.int.test.ts, skip-access.int.test.ts.
 */
import { annotationRefusal } from "../db/annotations-repo";
import { DomainError } from "../errors";

/**
 * Refuses a caller who may not annotate the case: BAD_INPUT on `caseId` with the rule's reason (FORBIDDEN stays the
 * role's and membership's answer, which the page rechecks). Thrown inside a transaction, nothing is written.
 */
export function requireMayAnnotate(found: Parameters<typeof annotationRefusal>[0], annotationsPerCase: number): void {
  const refusal = annotationRefusal(found, annotationsPerCase);
  if (refusal) throw new DomainError("BAD_INPUT", refusal, { field: "caseId", split: found.split });
}
