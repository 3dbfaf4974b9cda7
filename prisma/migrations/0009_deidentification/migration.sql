-- De-identification on import (issue 12): a per-project secret that keys the replacement DICOM
-- UIDs (HMAC-SHA256 → "2.25.<128 bits>", the same original UID → the same new UID within the
-- project) and the per-patient date offsets. 256 random bits from gen_random_uuid's strong source;
-- existing projects each get their own (a volatile default is evaluated per row).
ALTER TABLE "Project" ADD COLUMN "deidSecret" TEXT NOT NULL DEFAULT (replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''));
