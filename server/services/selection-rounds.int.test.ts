import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { parseStoredProjectConfig } from "@/contracts/project-config";
import { createColdStartRound, projectEncoderVersion, writeSelectionRound } from "./selection-rounds";

afterAll(async () => {
  await testDb().$disconnect();
});

function float32Bytes(values: number[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(new ArrayBuffer(values.length * 4));
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

describe("writeSelectionRound", () => {
  it("numbers rounds previous max + 1, queues items PENDING in rank order and audits the write", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 6 });
    const first = await writeSelectionRound(testDb(), {
      projectId,
      strategy: "random",
      coldStart: false,
      modelVersionId: null,
      params: { budget: 2 },
      stats: { poolSize: 6 },
      items: [
        { caseId: caseIds[3]!, rank: 1, features: { score: 0.9 } },
        { caseId: caseIds[1]!, rank: 2, features: { score: 0.4 } },
      ],
    });
    expect(first.number).toBe(1);
    const second = await writeSelectionRound(testDb(), { projectId, strategy: "bald", coldStart: false, modelVersionId: null, params: {}, stats: {}, items: [{ caseId: caseIds[0]!, rank: 1, features: {} }] });
    expect(second.number).toBe(2);

    const items = await testDb().queueItem.findMany({ where: { roundId: first.roundId }, orderBy: { rank: "asc" } });
    expect(items.map((i) => [i.caseId, i.rank, i.status])).toEqual([
      [caseIds[3], 1, "PENDING"],
      [caseIds[1], 2, "PENDING"],
    ]);
    expect(items[0]!.features).toEqual({ score: 0.9 });
    const audit = await testDb().auditEvent.findFirstOrThrow({ where: { action: "selection.round-created", targetId: first.roundId } });
    expect(audit.projectId).toBe(projectId);
  });

  it("gives concurrent writers distinct consecutive numbers", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 8 });
    const written = await Promise.all(
      caseIds.map((caseId) => writeSelectionRound(testDb(), { projectId, strategy: "random", coldStart: false, modelVersionId: null, params: {}, stats: {}, items: [{ caseId, rank: 1, features: {} }] })),
    );
    expect(written.map((w) => w.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("refuses duplicate cases, bad ranks, non-finite stats and other projects' cases, writing nothing", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 3 });
    const other = await createTestProject({ memberIds: [clinician.id], cases: 1 });
    const base = { projectId, strategy: "random", coldStart: false, modelVersionId: null, params: {}, stats: {} };
    await expect(writeSelectionRound(testDb(), { ...base, items: [{ caseId: caseIds[0]!, rank: 1, features: {} }, { caseId: caseIds[0]!, rank: 2, features: {} }] })).rejects.toThrow(/queued twice/);
    await expect(writeSelectionRound(testDb(), { ...base, items: [{ caseId: caseIds[0]!, rank: 0, features: {} }] })).rejects.toThrow(/rank must be a positive integer/);
    await expect(writeSelectionRound(testDb(), { ...base, stats: { pi: Number.NaN }, items: [] })).rejects.toThrow(/stats\.pi is NaN/);
    await expect(writeSelectionRound(testDb(), { ...base, items: [{ caseId: other.caseIds[0]!, rank: 1, features: {} }] })).rejects.toThrow(/own project/);
    expect(await testDb().selectionRound.count({ where: { projectId } })).toBe(0);
  });
});

describe("createColdStartRound", () => {
  it("queues budget diverse POOL cases with the built-in featuriser, then writes nothing while the round is open", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 20, selectionParams: { budget: 5 } });
    // A case someone already labelled and a TEST case are not candidates.
    await testDb().annotation.create({ data: { caseId: caseIds[0]!, authorId: clinician.id, version: 1, labels: ["normal"] } });
    await testDb().case.update({ where: { id: caseIds[1]! }, data: { split: "TEST" } });

    const result = await createColdStartRound(testDb(), projectId, { seed: 7 });
    expect(result.created).toBe(true);
    if (!result.created) return;
    expect(result.number).toBe(1);
    const round = await testDb().selectionRound.findUniqueOrThrow({ where: { id: result.roundId }, include: { items: { orderBy: { rank: "asc" } } } });
    expect(round.strategy).toBe("cold-start");
    expect(round.coldStart).toBe(true);
    expect(round.modelVersionId).toBeNull();
    expect(round.stats).toMatchObject({ coldStart: true, selectedCount: 5, poolSize: 18, embeddings: expect.stringMatching(/built-in/) });
    expect(round.items.map((i) => i.rank)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(round.items.map((i) => i.caseId)).size).toBe(5);
    expect(round.items.some((i) => i.caseId === caseIds[0] || i.caseId === caseIds[1])).toBe(false);
    expect(round.items[0]!.features).toMatchObject({ clusterSize: expect.any(Number), distanceToCentroid: expect.any(Number) });

    const again = await createColdStartRound(testDb(), projectId, { seed: 7 });
    expect(again).toEqual({ created: false, reason: "open-round", roundId: result.roundId, number: 1 });
    expect(await testDb().selectionRound.count({ where: { projectId } })).toBe(1);
  });

  it("writes exactly one round when two processes start at once", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const { projectId } = await createTestProject({ memberIds: [clinician.id], cases: 15 });
    const results = await Promise.all([createColdStartRound(testDb(), projectId, { seed: 1 }), createColdStartRound(testDb(), projectId, { seed: 1 })]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await testDb().selectionRound.count({ where: { projectId } })).toBe(1);
  });

  it("uses the stored embeddings of the project's encoder when every candidate has one", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 6, selectionParams: { budget: 2 } });
    const project = await testDb().project.findUniqueOrThrow({ where: { id: projectId } });
    const version = projectEncoderVersion(parseStoredProjectConfig(project).encoderConfig);
    expect(version).toBe("builtin-hashed-text-v1-64");
    // Two tight groups of three far apart: one representative of each must be chosen.
    const points = [[0, 0], [0.1, 0], [0, 0.1], [10, 10], [10.1, 10], [10, 10.1]];
    await testDb().embedding.createMany({ data: caseIds.map((caseId, i) => ({ caseId, encoderVersion: version, dim: 2, vector: float32Bytes(points[i]!) })) });
    const result = await createColdStartRound(testDb(), projectId, { seed: 3 });
    expect(result.created).toBe(true);
    if (!result.created) return;
    const round = await testDb().selectionRound.findUniqueOrThrow({ where: { id: result.roundId }, include: { items: true } });
    expect(round.stats).toMatchObject({ embeddings: `stored embeddings (${version})` });
    const groups = round.items.map((item) => (caseIds.indexOf(item.caseId) < 3 ? "a" : "b")).sort();
    expect(groups).toEqual(["a", "b"]);
  });

  it("refuses a project whose budget is not a positive integer, reports an empty pool, and leaves archived projects alone", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const bad = await createTestProject({ memberIds: [clinician.id], cases: 3, selectionParams: { budget: "ten" } });
    await expect(createColdStartRound(testDb(), bad.projectId, { seed: 1 })).rejects.toThrow(/invalid configuration: selectionParams\.budget: /);
    const empty = await createTestProject({ memberIds: [clinician.id], cases: 2, split: "TEST" });
    expect(await createColdStartRound(testDb(), empty.projectId, { seed: 1 })).toEqual({ created: false, reason: "empty-pool" });
    const archived = await createTestProject({ memberIds: [clinician.id], cases: 4 });
    await testDb().project.update({ where: { id: archived.projectId }, data: { archivedAt: new Date() } });
    expect(await createColdStartRound(testDb(), archived.projectId, { seed: 1 })).toEqual({ created: false, reason: "archived" });
    expect(await testDb().selectionRound.count({ where: { projectId: archived.projectId } })).toBe(0);
  });
});
