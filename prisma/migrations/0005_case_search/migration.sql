-- The case browser (issue 10, item 6). Hand-written.

-- Full-text search in narratives: a stored tsvector kept by a trigger, with a GIN index.
-- Stored, not an expression index: a page of 50 matches walks the case-id index and tests each
-- row, and recomputing to_tsvector per row there costs ~0.25 ms a case (measured: 300 ms a page).
-- A trigger, not a GENERATED column: backups restore rows with INSERT … SELECT * (a generated
-- column would refuse the value), and the trigger recomputes it on restore anyway.
-- Only the first 100,000 characters are indexed (a tsvector holds at most 1 MB).
ALTER TABLE "Case" ADD COLUMN "searchVector" tsvector;

CREATE FUNCTION "case_search_vector"() RETURNS trigger AS $$
BEGIN
  NEW."searchVector" := to_tsvector('english'::regconfig, left(coalesce(NEW."narrative", ''), 100000));
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Case_search_vector"
  BEFORE INSERT OR UPDATE OF "narrative", "searchVector" ON "Case"
  FOR EACH ROW EXECUTE FUNCTION "case_search_vector"();

UPDATE "Case" SET "searchVector" = to_tsvector('english'::regconfig, left(coalesce("narrative", ''), 100000));

CREATE INDEX "Case_searchVector_idx" ON "Case" USING GIN ("searchVector");

-- "Put into the next round with priority": the select job queues such POOL cases first (before
-- its strategy's picks) and clears the request when it writes the round.
ALTER TABLE "Case" ADD COLUMN "priorityRequestedAt" TIMESTAMP(3),
ADD COLUMN "priorityRequestedById" TEXT;

CREATE INDEX "Case_projectId_priorityRequestedAt_idx" ON "Case"("projectId", "priorityRequestedAt");

-- The browser pages in externalId order (keyset): the split and import-batch filters walk these
-- indexes in that order instead of skipping over the rest of the project (an import batch or a
-- TEST split is usually one contiguous run of case ids). The first replaces (projectId, split).
DROP INDEX "Case_projectId_split_idx";
CREATE INDEX "Case_projectId_split_externalId_idx" ON "Case"("projectId", "split", "externalId");
CREATE INDEX "Case_projectId_importBatchId_externalId_idx" ON "Case"("projectId", "importBatchId", "externalId");
