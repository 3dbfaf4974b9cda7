/**
 * TEST-ONLY fixtures for the review and statistics tests: model versions with realistic metrics
 * (server/testing/synthetic-models.ts) inserted through the review repository, on a project whose
 * TEST split has known labels.
 */
import type { Prisma } from "../db/client";
import { insertModelVersion } from "../db/review-repo";
import { testDb } from "./fixtures";
import { syntheticMetrics } from "./synthetic-models";
import { TEST_LABEL_SCHEMA } from "./project-fixtures";

export const CLASSES = TEST_LABEL_SCHEMA.labels.map((l) => l.key);
/** 40 test cases: 24 normal, 10 benign, 6 suspicious (the minority class). */
export const TEST_LABELS = [...Array(24).fill(0), ...Array(10).fill(1), ...Array(6).fill(2)] as number[];

export interface ModelFixture {
  projectId: string;
  status: "CANDIDATE" | "APPROVED" | "REJECTED" | "RETIRED" | "SUPERSEDED";
  /** Per-class skill [normal, benign, suspicious]. */
  skill: number[];
  seed: number;
  labelCount: number;
  rounds: number[];
  triggeredById?: string | null;
}

export async function insertModelFixture(f: ModelFixture) {
  const metrics = syntheticMetrics({ labels: TEST_LABELS, numClasses: CLASSES.length, skill: f.skill, seed: f.seed }, CLASSES);
  return testDb().$transaction((tx) =>
    insertModelVersion(tx, {
      projectId: f.projectId,
      status: f.status,
      encoderVersion: "builtin-hashed-text-v1-64",
      metrics: metrics as unknown as Prisma.InputJsonValue,
      trainingSnapshot: { labelCount: f.labelCount, rounds: f.rounds },
      params: { head: { hidden: [32] }, classes: CLASSES },
      triggeredById: f.triggeredById ?? null,
    }),
  );
}
