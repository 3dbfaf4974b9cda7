/**
 * TEST-ONLY seeding for playwright/label-quality.spec.ts, run by the spec against the e2e platform's
 * temporary database (DATABASE_URL given by the spec). Refuses any database that is not the embedded one
 * on loopback.
 *
 *   tsx scripts/e2e-gold-fixtures.ts → JSON { projectId, roundId, clinicianId, ... }
 *
 * A project of its own (the demo users as members: scientist, reviewer, both clinicians) with
 * - 20 unlabelled POOL cases q-00…q-19 in one selection round (written by the real `writeSelectionRound`);
 * - 6 SEED cases g-0…g-5 imported with a label (suspicious, the minority class, and benign in turn): the
 *   spec marks them gold in the case browser;
 * - 6 POOL cases a-0…a-5 both clinicians annotated: they agree on a-0…a-3 and disagree on a-4, a-5
 *   (the agreement figures and the adjudication queue).
 * Gold rate 0.2; every retraining trigger off, so no worker job writes a new round under the spec.
 */
import crypto from "node:crypto";
import { createDb } from "../server/db/client";
import { insertFixtureCases, insertFixtureProject, listFixtureCases, listUsersByEmailSuffix } from "../server/db/fixtures-repo";
import { insertAnnotationForFixture } from "../server/db/stats-repo";
import { writeSelectionRound } from "../server/services/selection-rounds";

const url = process.env.DATABASE_URL ?? "";
if (!/^postgres(ql)?:\/\/rads_app:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/rads$/.test(url)) {
  console.error("e2e-gold-fixtures: refusing to seed a database that is not the embedded e2e one (DATABASE_URL).");
  process.exit(2);
}
const db = createDb(url);

const GOLD_RATE = 0.2;

async function main() {
  const users = new Map((await listUsersByEmailSuffix(db, "@demo.local")).map((u) => [u.email, u.id]));
  const user = (email: string) => {
    const id = users.get(email);
    if (!id) throw new Error(`demo user ${email} is missing`);
    return id;
  };
  const clinician = user("clinician@demo.local");
  const clinician2 = user("clinician2@demo.local");
  const name = `Label quality ${crypto.randomBytes(3).toString("hex")}`;
  const project = await insertFixtureProject(db, {
    name,
    labelSchema: {
      labels: [
        { key: "normal", name: "Normal", color: "#4e79a7", shortcut: "1" },
        { key: "benign", name: "Benign finding", color: "#f28e2b", shortcut: "2" },
        { key: "suspicious", name: "Suspicious", color: "#e15759", shortcut: "3" },
      ],
      multiLabel: false,
    },
    minorityClasses: ["suspicious"],
    selectionParams: { strategy: "random", budget: 20 },
    encoderConfig: { kind: "builtin", dim: 64 },
    settings: { annotationsPerCase: 1, leaseMinutes: 30, goldRate: GOLD_RATE, goldMinAccuracy: 0.8, retrainTriggers: { onRoundComplete: false, everyNLabels: null, scheduleHours: null } },
    memberIds: [user("scientist@demo.local"), user("reviewer@demo.local"), clinician, clinician2],
  });
  const projectId = project.id;
  const q = Array.from({ length: 20 }, (_, i) => ({ projectId, externalId: `q-${String(i).padStart(2, "0")}`, narrative: `Queue report ${i}: small nodule in the ${i % 2 ? "left" : "right"} lung.`, split: "POOL" as const }));
  const g = Array.from({ length: 6 }, (_, i) => ({ projectId, externalId: `g-${i}`, narrative: `Known report ${i}: ${i % 2 === 0 ? "spiculated mass" : "calcified granuloma"}.`, split: "SEED" as const, importedLabel: i % 2 === 0 ? "suspicious" : "benign" }));
  const a = Array.from({ length: 6 }, (_, i) => ({ projectId, externalId: `a-${i}`, narrative: `Double-read report ${i}.`, split: "POOL" as const }));
  await insertFixtureCases(db, [...q, ...g, ...a]);
  const byExternal = new Map((await listFixtureCases(db, projectId)).map((c) => [c.externalId, c.id]));
  const round = await writeSelectionRound(db, {
    projectId,
    strategy: "random",
    coldStart: true,
    modelVersionId: null,
    params: {},
    stats: {},
    items: q.map((c, i) => ({ caseId: byExternal.get(c.externalId)!, rank: i + 1, features: {} })),
  });
  const pairs: [string, string][] = [["normal", "normal"], ["benign", "benign"], ["normal", "normal"], ["suspicious", "suspicious"], ["suspicious", "benign"], ["normal", "suspicious"]];
  const t0 = Date.now() - 3_600_000;
  for (const [i, [first, second]] of pairs.entries()) {
    const caseId = byExternal.get(`a-${i}`)!;
    await insertAnnotationForFixture(db, { caseId, authorId: clinician, version: 1, labels: [first], createdAt: new Date(t0 + i * 2000) });
    await insertAnnotationForFixture(db, { caseId, authorId: clinician2, version: 1, labels: [second], createdAt: new Date(t0 + i * 2000 + 1000) });
  }
  return { projectId, name, goldRate: GOLD_RATE, roundId: round.roundId, clinicianId: clinician, goldExternalIds: g.map((c) => c.externalId), goldCaseIds: g.map((c) => byExternal.get(c.externalId)!) };
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
