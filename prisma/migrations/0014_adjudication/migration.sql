-- Adjudication (issue 14): an adjudicator's final label for a case is a new annotation version of kind
-- ADJUDICATED (author = the adjudicator, comment = the reason); the training label prefers it over the
-- annotators' majority (server/services/training-label.ts). A reviewer may send any case to adjudication.
ALTER TYPE "AnnotationKind" ADD VALUE IF NOT EXISTS 'ADJUDICATED';

ALTER TABLE "Case" ADD COLUMN "adjudicationRequestedAt" TIMESTAMP(3);
ALTER TABLE "Case" ADD COLUMN "adjudicationRequestedById" TEXT;
