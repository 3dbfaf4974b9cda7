-- The case browser lists case ids in natural order: runs of digits compare as numbers, so
-- "case-2" comes before "case-10" (server/db/cases-repo.ts casePageQuery). Hand-written.
--
-- ICU's root collation with numeric ordering (BCP 47 "und-u-kn-true"). Deterministic (the default),
-- so two different ids never compare equal ("case-2" and "case-02" are ordered by their bytes):
-- keyset paging ("after the last id shown", in this collation) neither skips nor repeats a case.
-- Needs a PostgreSQL built with ICU (the embedded one is; PostgreSQL 16+ builds with ICU by default).
CREATE COLLATION "natural_order" (provider = icu, locale = 'und-u-kn-true');

-- The page query filters on the project (and often the split or the import batch) and walks the
-- ids in that order: the same three indexes as the plain-order ones of 0001/0005, in the collation.
CREATE INDEX "Case_projectId_externalId_natural_idx" ON "Case"("projectId", "externalId" COLLATE "natural_order");
CREATE INDEX "Case_projectId_split_externalId_natural_idx" ON "Case"("projectId", "split", "externalId" COLLATE "natural_order");
CREATE INDEX "Case_projectId_importBatchId_externalId_natural_idx" ON "Case"("projectId", "importBatchId", "externalId" COLLATE "natural_order");
