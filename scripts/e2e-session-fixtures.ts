/**
 * TEST-ONLY seeding for playwright/session-end.spec.ts, run by the spec against the e2e platform's
 * temporary database (DATABASE_URL given by the spec). Refuses any database that is not the embedded one
 * on loopback.
 *
 *   tsx scripts/e2e-session-fixtures.ts → JSON { projectId, otherProjectId, password, users: { clinA, clinB, clinC, scientist } }
 *
 * Users of its own (the spec deactivates and removes them; no other spec uses them), password `password`:
 * three clinicians and a data scientist. A project with 2 unlabelled POOL cases in one selection round
 * (the real `writeSelectionRound`), one annotation per case, every retraining trigger off (no worker job
 * writes a new round under the spec); members: the three clinicians and the data scientist. A second
 * project with the data scientist alone (they are a member of two projects, annotating in neither).
 */
import crypto from "node:crypto";
import { hashPassword } from "../server/auth/password";
import { createDb } from "../server/db/client";
import { insertFixtureCases, insertFixtureProject, insertFixtureUsers, listFixtureCases } from "../server/db/fixtures-repo";
import { writeSelectionRound } from "../server/services/selection-rounds";

const url = process.env.DATABASE_URL ?? "";
if (!/^postgres(ql)?:\/\/rads_app:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/rads$/.test(url)) {
  console.error("e2e-session-fixtures: refusing to seed a database that is not the embedded e2e one (DATABASE_URL).");
  process.exit(2);
}
const db = createDb(url);

async function main() {
  const tag = crypto.randomBytes(3).toString("hex");
  const password = `session-end-${tag}-password`;
  const passwordHash = await hashPassword(password);
  const [clinA, clinB, clinC, scientist] = await insertFixtureUsers(db, [
    { email: `clin-a-${tag}@session.test`, name: `Carl ClinA ${tag}`, role: "CLINICIAN", passwordHash },
    { email: `clin-b-${tag}@session.test`, name: `Cora ClinB ${tag}`, role: "CLINICIAN", passwordHash },
    { email: `clin-c-${tag}@session.test`, name: `Cole ClinC ${tag}`, role: "CLINICIAN", passwordHash },
    { email: `lead-${tag}@session.test`, name: `Dana Lead ${tag}`, role: "DATA_SCIENTIST", passwordHash },
  ]);
  const config = {
    labelSchema: {
      labels: [
        { key: "normal", name: "Normal", color: "#4e79a7", shortcut: "1" },
        { key: "finding", name: "Finding", color: "#e15759", shortcut: "2" },
      ],
      multiLabel: false,
    },
    minorityClasses: ["finding"],
    selectionParams: { strategy: "random", budget: 2 },
    encoderConfig: { kind: "builtin", dim: 64 },
    settings: { annotationsPerCase: 1, leaseMinutes: 30, retrainTriggers: { onRoundComplete: false, everyNLabels: null, scheduleHours: null } },
  };
  const project = await insertFixtureProject(db, { name: `Session end ${tag}`, ...config, memberIds: [clinA!.id, clinB!.id, clinC!.id, scientist!.id] });
  const other = await insertFixtureProject(db, { name: `Session end other ${tag}`, ...config, memberIds: [scientist!.id] });
  const projectId = project.id;
  const cases = [0, 1].map((i) => ({ projectId, externalId: `s-${i}`, narrative: `Session report ${i}: patient narrative text ${tag}.`, split: "POOL" as const }));
  await insertFixtureCases(db, cases);
  const byExternal = new Map((await listFixtureCases(db, projectId)).map((c) => [c.externalId, c.id]));
  await writeSelectionRound(db, {
    projectId,
    strategy: "random",
    coldStart: true,
    modelVersionId: null,
    params: {},
    stats: {},
    items: cases.map((c, i) => ({ caseId: byExternal.get(c.externalId)!, rank: i + 1, features: {} })),
  });
  const user = (u: { id: string; email: string }) => ({ id: u.id, email: u.email });
  return { projectId, otherProjectId: other.id, tag, password, users: { clinA: user(clinA!), clinB: user(clinB!), clinC: user(clinC!), scientist: user(scientist!) } };
}

main()
  .then((out) => {
    console.log(JSON.stringify(out));
    return db.$disconnect();
  })
  .catch(async (error: unknown) => {
    console.error(error);
    await db.$disconnect();
    process.exit(1);
  });
