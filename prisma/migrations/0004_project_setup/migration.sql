-- Project setup (issue 10): per-project roles, archiving, what a case holds. Hand-written.

-- A project can be archived (read-only, out of every queue); nothing is deleted.
ALTER TABLE "Project" ADD COLUMN "archivedAt" TIMESTAMP(3);

-- What a case of the project holds: narrative, images or both (checked by contracts/project-config.ts).
ALTER TABLE "Project" ADD COLUMN "caseContent" TEXT NOT NULL DEFAULT 'both';

-- A member's role in the project; existing members keep the role they had on the platform.
ALTER TABLE "ProjectMember" ADD COLUMN "role" "Role";
UPDATE "ProjectMember" m SET "role" = u."role" FROM "User" u WHERE u."id" = m."userId";
ALTER TABLE "ProjectMember" ALTER COLUMN "role" SET NOT NULL;

-- An insert that names no role (older code paths, scripts) gets the user's platform role.
CREATE FUNCTION "project_member_default_role"() RETURNS trigger AS $$
BEGIN
  IF NEW."role" IS NULL THEN
    SELECT u."role" INTO NEW."role" FROM "User" u WHERE u."id" = NEW."userId";
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "ProjectMember_default_role"
  BEFORE INSERT ON "ProjectMember"
  FOR EACH ROW EXECUTE FUNCTION "project_member_default_role"();

