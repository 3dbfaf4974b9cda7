-- Candidates left behind by approvals made before migration 0019: a CANDIDATE whose version is lower than that
-- of an APPROVED or RETIRED model of its project (a newer model was approved after it was trained) becomes
-- SUPERSEDED, with the time, the approver and the approved version of the newest such model as its review record.
-- The audit log is append-only; these rows carry their reason in reviewNote.
UPDATE "ModelVersion" AS stale
SET status = 'SUPERSEDED',
    "reviewedAt" = COALESCE(newer."reviewedAt", now()),
    "reviewedById" = newer."reviewedById",
    "reviewNote" = 'Superseded: v' || newer.version || ' was approved after this model was trained, and this model was never evaluated on the TEST split v' || newer.version || ' was judged on.'
FROM (
  SELECT DISTINCT ON ("projectId") "projectId", version, "reviewedAt", "reviewedById"
  FROM "ModelVersion"
  WHERE status IN ('APPROVED', 'RETIRED')
  ORDER BY "projectId", version DESC
) AS newer
WHERE stale."projectId" = newer."projectId" AND stale.status = 'CANDIDATE' AND stale.version < newer.version;
