/** replacePredictions (raw multi-row insert): rows as given, a replace leaves only the new set, across statement chunks. */
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { testDb } from "@/server/testing/fixtures";
import { replacePredictions } from "./loop-repo";

const db = testDb();

describe("replacePredictions", () => {
  it("stores every row as given and replaces the model's previous set", async () => {
    const project = await db.project.create({
      data: { name: `Predictions ${crypto.randomBytes(5).toString("hex")}`, labelSchema: { labels: [{ key: "a" }, { key: "b" }] }, minorityClasses: ["b"], selectionParams: {}, encoderConfig: { kind: "builtin" }, settings: {} },
      select: { id: true },
    });
    const n = 10_050;
    await db.case.createMany({ data: Array.from({ length: n }, (_, i) => ({ projectId: project.id, externalId: `p-${i}`, narrative: "" })) });
    const cases = await db.case.findMany({ where: { projectId: project.id }, orderBy: { id: "asc" }, select: { id: true } });
    const model = await db.modelVersion.create({
      data: { projectId: project.id, version: 1, encoderVersion: "v", metrics: {}, trainingSnapshot: {}, params: {}, status: "CANDIDATE" },
      select: { id: true },
    });
    const rows = (shift: number) =>
      cases.map((c, i) => {
        const p = ((i * 7 + shift) % 100) / 100 + 0.001 / 3;
        return { caseId: c.id, probabilities: [1 - p, p], predictedLabel: p > 0.5 ? "b" : "a", confidence: Math.max(p, 1 - p) };
      });
    await replacePredictions(db, model.id, rows(0));
    const expected = rows(13);
    await replacePredictions(db, model.id, expected);
    const stored = await db.prediction.findMany({ where: { modelVersionId: model.id }, orderBy: { caseId: "asc" }, select: { caseId: true, probabilities: true, predictedLabel: true, confidence: true } });
    expect(stored).toHaveLength(n);
    expect(stored).toEqual(expected);
  });
});
