/**
 * TEST-ONLY seeding for playwright/model-decisions.spec.ts against the e2e platform's temporary
 * database (DATABASE_URL given by the spec); refuses any database that is not the embedded e2e one.
 *
 *   tsx scripts/e2e-superseded-fixtures.ts   → JSON { projectId, name, v1, v2, v3 }
 */
import { testDb } from "../server/testing/fixtures";
import { seedSupersededProject } from "../server/testing/superseded-fixtures";

const url = process.env.DATABASE_URL ?? "";
if (!/^postgres(ql)?:\/\/rads_app:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/rads$/.test(url)) {
  console.error("e2e-superseded-fixtures: refusing to seed a database that is not the embedded e2e one (DATABASE_URL).");
  process.exit(2);
}

seedSupersededProject()
  .then((out) => console.log(JSON.stringify(out)))
  .catch((error) => {
    console.error(`e2e-superseded-fixtures: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => testDb().$disconnect());
