/**
 * TEST-ONLY seeding for playwright/model-decisions.spec.ts, run through scripts/e2e-superseded-fixtures.ts
 * against the e2e platform's temporary database: the new-user tryout's model history in a project of
 * its own, whose only members are a reviewer and a data scientist made for it (so that the demo users' model
 * lists, which other specs read by version, do not change) —
 * - v1 APPROVED (the active model, test metrics on the review fixtures' 40 TEST labels);
 * - v2 CANDIDATE without test metrics (trained before any TEST case was labelled);
 * - v3 CANDIDATE trained after, with test metrics; started by the data scientist, so the reviewer may approve it.
 */
import crypto from "node:crypto";
import { hashPassword } from "../auth/password";
import { insertUser } from "../db/users-repo";
import { testDb } from "./fixtures";
import { createTestProject } from "./project-fixtures";
import { insertModelFixture } from "./review-fixtures";

/** The password of the fixture's reviewer and data scientist (a test database only). */
export const SUPERSEDED_FIXTURE_PASSWORD = "superseded-fixture-password";

export async function seedSupersededProject() {
  const db = testDb();
  const tag = crypto.randomBytes(3).toString("hex");
  const passwordHash = await hashPassword(SUPERSEDED_FIXTURE_PASSWORD);
  const reviewer = await insertUser(db, { email: `stale-reviewer-${tag}@test.local`, name: `Stale Reviewer ${tag}`, role: "REVIEWER", passwordHash });
  const scientist = (await insertUser(db, { email: `stale-scientist-${tag}@test.local`, name: `Stale Scientist ${tag}`, role: "DATA_SCIENTIST", passwordHash })).id;
  const { projectId } = await createTestProject({ memberIds: [reviewer.id, scientist], cases: 4 });
  const name = `Stale candidate ${tag}`;
  await db.project.update({ where: { id: projectId }, data: { name } });
  const v1 = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.8, 0.85], seed: 31, labelCount: 8, rounds: [], triggeredById: scientist });
  await db.modelVersion.update({ where: { id: v1.id }, data: { reviewedById: reviewer.id, reviewNote: "First model (e2e fixture).", reviewedAt: new Date() } });
  const v2 = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.85], seed: 32, labelCount: 10, rounds: [1], triggeredById: null });
  await db.modelVersion.update({ where: { id: v2.id }, data: { metrics: {} } });
  const v3 = await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.85], seed: 31, labelCount: 20, rounds: [1, 2], triggeredById: scientist });
  return { projectId, name, reviewer: { email: reviewer.email, name: reviewer.name, password: SUPERSEDED_FIXTURE_PASSWORD }, v1: { id: v1.id, version: v1.version }, v2: { id: v2.id, version: v2.version }, v3: { id: v3.id, version: v3.version } };
}
