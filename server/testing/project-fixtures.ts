/** Test projects with members and cases in the real test database (integration tests only). */
import crypto from "node:crypto";
import type { RoleName } from "@/contracts/roles";
import { writeSelectionRound } from "../services/selection-rounds";
import { testDb } from "./fixtures";

export const TEST_LABEL_SCHEMA = {
  labels: [
    { key: "normal", name: "Normal", shortcut: "1" },
    { key: "benign", name: "Benign finding", shortcut: "2" },
    { key: "suspicious", name: "Suspicious", shortcut: "3" },
  ],
  multiLabel: false,
};

const TOPICS = ["lungs clear no effusion", "small calcified granuloma benign", "spiculated nodule suspicious for malignancy", "apical pneumothorax with pleural line", "stable postoperative changes"];

export interface TestProjectOptions {
  /** Members with their platform role as project role (the ProjectMember trigger's default, migration 0004). */
  memberIds: string[];
  /** Members with an explicit project role. */
  members?: { userId: string; role: RoleName }[];
  cases?: number;
  settings?: Record<string, unknown>;
  selectionParams?: Record<string, unknown>;
  split?: "POOL" | "TEST" | "SEED";
}

/** A project with `cases` POOL cases whose narratives vary by topic, so embeddings have structure. */
export async function createTestProject(options: TestProjectOptions) {
  const db = testDb();
  const project = await db.project.create({
    data: {
      name: `Test project ${crypto.randomBytes(5).toString("hex")}`,
      labelSchema: TEST_LABEL_SCHEMA,
      minorityClasses: ["suspicious"],
      selectionParams: { strategy: "rads", budget: 5, ...options.selectionParams },
      encoderConfig: { kind: "builtin", dim: 64 },
      settings: { annotationsPerCase: 1, leaseMinutes: 30, ...options.settings },
      members: { create: [...options.memberIds.map((userId) => ({ userId })), ...(options.members ?? [])] },
    },
    select: { id: true },
  });
  const count = options.cases ?? 12;
  await db.case.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      projectId: project.id,
      externalId: `case-${String(i).padStart(4, "0")}`,
      narrative: `Report ${i}: ${TOPICS[i % TOPICS.length]}. Follow-up ${i % 3 === 0 ? "recommended" : "not needed"}.`,
      split: options.split ?? "POOL",
    })),
  });
  const cases = await db.case.findMany({ where: { projectId: project.id }, orderBy: { externalId: "asc" }, select: { id: true, externalId: true } });
  return { projectId: project.id, caseIds: cases.map((c) => c.id) };
}

/** A cold-start round of the project queueing `caseIds` in that order (writeSelectionRound): the latest round. */
export async function queueCases(projectId: string, caseIds: string[]) {
  return writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
}

/**
 * Makes `caseId` an imported gold case (label "normal") served to `userId` in round `roundId`, lease time an hour
 * (gold-service.ts: a gold case stays the clinician's once served).
 */
export async function serveGoldCase(input: { projectId: string; caseId: string; userId: string; roundId: string }) {
  const db = testDb();
  await db.case.update({ where: { id: input.caseId }, data: { importedLabel: "normal" } });
  await db.goldCase.create({ data: { caseId: input.caseId, projectId: input.projectId, labels: ["normal"], source: "imported" } });
  await db.goldServing.create({ data: { projectId: input.projectId, caseId: input.caseId, userId: input.userId, roundId: input.roundId, position: 1, expiresAt: new Date(Date.now() + 3_600_000) } });
}
