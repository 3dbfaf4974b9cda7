-- A candidate older than a model approved after it is SUPERSEDED: it was trained on older labels and never
-- evaluated on the TEST split the newer model was judged on, so approving it would retire a better-checked
-- model on no evidence. Set by the approval of the newer model (server/services/review-service.ts decideModel);
-- rows already in that state are moved by migration 0020 (a new enum value cannot be used in the transaction
-- that adds it).
ALTER TYPE "ModelStatus" ADD VALUE 'SUPERSEDED';
