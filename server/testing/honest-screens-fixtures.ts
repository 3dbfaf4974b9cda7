/**
 * TEST-ONLY seeding for playwright/honest-screens.spec.ts (issue 15), run through
 * scripts/e2e-honest-fixtures.ts against the e2e platform's temporary database: a project whose
 * active model predicts no minority case ("blind"), with the demo users as members.
 *
 * - 40 TEST cases are not needed as rows: the models' metrics are computed by the platform's own
 *   evaluateClassifier on synthetic predictions for the review fixtures' 40 TEST labels (6 of the
 *   minority class, fewer than the default threshold of 10), as server/testing/review-fixtures does.
 * - v1 APPROVED and v2 CANDIDATE both miss the minority (skill 0): recall 0.
 * - v1's stored predictions on the 12 POOL cases: never the minority class.
 * - Rounds #1–#3 chosen with v1, each recording π̂₊ = 0; #3 is the clinicians' current queue of 4
 *   cases, the first picked by the agent as a likely minority case.
 */
import crypto from "node:crypto";
import { testDb } from "./fixtures";
import { createTestProject } from "./project-fixtures";
import { insertModelFixture } from "./review-fixtures";

const DEMO_EMAILS = ["admin@demo.local", "clinician@demo.local", "clinician2@demo.local", "scientist@demo.local", "reviewer@demo.local"];

export async function seedBlindProject() {
  const db = testDb();
  const users = await db.user.findMany({ where: { email: { in: DEMO_EMAILS } }, select: { id: true, email: true } });
  const id = (email: string) => users.find((u) => u.email === email)!.id;
  const { projectId, caseIds } = await createTestProject({ memberIds: users.map((u) => u.id), cases: 12, settings: { annotationsPerCase: 1, leaseMinutes: 30, showPredictions: true } });
  const name = `Blind selector ${crypto.randomBytes(3).toString("hex")}`;
  await db.project.update({ where: { id: projectId }, data: { name, selectionParams: { strategy: "rads", budget: 4, rho: 0.3 } } });
  const active = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0], seed: 21, labelCount: 14, rounds: [], triggeredById: id("scientist@demo.local") });
  await db.modelVersion.update({ where: { id: active.id }, data: { reviewedById: id("reviewer@demo.local"), reviewNote: "First model (e2e fixture).", reviewedAt: new Date() } });
  const candidate = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0], seed: 22, labelCount: 22, rounds: [1, 2, 3], triggeredById: id("scientist@demo.local") });
  await db.prediction.createMany({
    data: caseIds.map((caseId, i) => ({ caseId, modelVersionId: active.id, probabilities: i === 0 ? [0.55, 0.07, 0.38] : [0.7, 0.28, 0.02], predictedLabel: i % 3 === 2 ? "benign" : "normal", confidence: i === 0 ? 0.55 : 0.7 })),
  });
  const stats = { pseudoMinorityPrior: 0, prior: [0.72, 0.28, 0], rho: 0.3, budget: 4, classes: ["normal", "benign", "suspicious"] };
  const feature = (i: number) =>
    i === 0 ? { bald: 0.31, entropy: 0.92, expectedEntropy: 0.61, utility: 0.5, classWeight: 2.4, pseudoLabel: 2, pseudoLabelKey: "suspicious", byPolicy: 1 } : { bald: 0.2 - i * 0.01, entropy: 0.7, expectedEntropy: 0.5, utility: 0.1, classWeight: 0.6, pseudoLabel: 0, pseudoLabelKey: "normal", byPolicy: 0 };
  const plan: { number: number; cases: string[]; done: boolean }[] = [
    { number: 1, cases: caseIds.slice(8, 10), done: true },
    { number: 2, cases: caseIds.slice(10, 12), done: true },
    { number: 3, cases: caseIds.slice(0, 4), done: false },
  ];
  for (const round of plan) {
    await db.selectionRound.create({
      data: {
        projectId,
        number: round.number,
        strategy: "rads",
        modelVersionId: active.id,
        params: { budget: round.cases.length },
        stats,
        createdAt: new Date(Date.now() - (4 - round.number) * 60_000),
        items: { create: round.cases.map((caseId, i) => ({ caseId, rank: i + 1, features: feature(i), status: round.done ? "DONE" : "PENDING" })) },
      },
    });
  }
  return { projectId, name, activeId: active.id, candidateId: candidate.id, candidateVersion: candidate.version, firstCaseId: caseIds[0]! };
}

/** A new round (#n+1) of the blind project's remaining POOL cases: what the select job would publish. */
export async function seedNextRound(projectId: string) {
  const db = testDb();
  const latest = await db.selectionRound.findFirstOrThrow({ where: { projectId }, orderBy: { number: "desc" }, select: { number: true, modelVersionId: true } });
  const cases = await db.case.findMany({ where: { projectId, split: "POOL", queueItems: { none: {} } }, orderBy: { externalId: "asc" }, take: 2, select: { id: true } });
  const round = await db.selectionRound.create({
    data: {
      projectId,
      number: latest.number + 1,
      strategy: "rads",
      modelVersionId: latest.modelVersionId,
      stats: { pseudoMinorityPrior: 0 },
      items: { create: cases.map((c, i) => ({ caseId: c.id, rank: i + 1, features: { bald: 0.2, entropy: 0.6, pseudoLabel: 0, pseudoLabelKey: "normal", byPolicy: 0 } })) },
    },
  });
  return { number: round.number, cases: cases.length };
}
