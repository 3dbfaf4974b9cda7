/**
 * TEST-ONLY seeding for playwright/honest-screens.spec.ts against the e2e platform's temporary
 * database (DATABASE_URL given by the spec); refuses any database that is not the embedded e2e one.
 *
 *   tsx scripts/e2e-honest-fixtures.ts blind            → JSON { projectId, name, activeId, candidateId, ... }
 *   tsx scripts/e2e-honest-fixtures.ts next-round <id>  → JSON { number, cases }
 */
import { testDb } from "../server/testing/fixtures";
import { seedBlindProject, seedNextRound } from "../server/testing/honest-screens-fixtures";

const url = process.env.DATABASE_URL ?? "";
if (!/^postgres(ql)?:\/\/rads_app:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/rads$/.test(url)) {
  console.error("e2e-honest-fixtures: refusing to seed a database that is not the embedded e2e one (DATABASE_URL).");
  process.exit(2);
}

const [command, arg] = process.argv.slice(2);
const run = command === "blind" ? seedBlindProject() : command === "next-round" && arg ? seedNextRound(arg) : Promise.reject(new Error("usage: e2e-honest-fixtures.ts blind | next-round <projectId>"));
run
  .then((out) => console.log(JSON.stringify(out)))
  .catch((error) => {
    console.error(`e2e-honest-fixtures: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => testDb().$disconnect());
