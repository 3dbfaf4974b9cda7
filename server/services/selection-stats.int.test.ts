import { afterAll, describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { insertAnnotationForFixture } from "../db/stats-repo";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { CLASSES, insertModelFixture } from "../testing/review-fixtures";
import { baldFeatures } from "@/workers/ml/bald";
import { radsStrategy } from "@/workers/ml/rads/rads-strategy";
import { createRng } from "@/workers/ml/rng";
import type { McLogProbs } from "@/workers/ml/types";
import { createServiceContext } from "./context";
import { writeSelectionRound } from "./selection-rounds";
import { getSelectionStats } from "./selection-stats";
import { equalWidthEdges, histogram } from "./stats-math";

afterAll(async () => {
  await testDb().$disconnect();
});

/** MC-dropout log-probs [n, k, 3] of a model that is unsure about a few cases. */
function mcPool(n: number, k: number, seed: number): McLogProbs {
  const rng = createRng(seed);
  const data = new Float32Array(n * k * 3);
  for (let i = 0; i < n; i++) {
    const centre = [1.5 * rng.normal(), 1.5 * rng.normal(), i % 4 === 0 ? 1 : -1.5];
    const spread = i % 3 === 0 ? 1.5 : 0.2;
    for (let kk = 0; kk < k; kk++) {
      const z = centre.map((c) => c + spread * rng.normal());
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
      z.forEach((v, c) => (data[(i * k + kk) * 3 + c] = v - lse));
    }
  }
  return { data, n, k, c: 3 };
}

describe("selection statistics", () => {
  it("reports a RADS round's parameters, return curve, feature histograms against the pool, and the hit rate once annotated", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const [a, b] = [await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id, a.id, b.id], cases: 16 });
    const v1 = await insertModelFixture({ projectId, status: "APPROVED", skill: [0.9, 0.7, 0.5], seed: 1, labelCount: 20, rounds: [1] });
    await insertModelFixture({ projectId, status: "CANDIDATE", skill: [0.9, 0.8, 0.7], seed: 2, labelCount: 26, rounds: [1, 2] });

    // Round 1: a cold start (no model features).
    await writeSelectionRound(testDb(), {
      projectId, strategy: "cold-start", coldStart: true, modelVersionId: null,
      params: { budget: 2 }, stats: { coldStart: true, method: "k-means strata" },
      items: caseIds.slice(0, 2).map((caseId, i) => ({ caseId, rank: i + 1, features: { clusterSize: 5 - i } })),
    });

    // Round 2: the real RADS strategy on MC-dropout predictions, stored as the select job stores it.
    const pool = caseIds.slice(2);
    const mc = mcPool(pool.length, 6, 7);
    const result = radsStrategy({ agent: { episodes: 25 } }).select({ poolSize: pool.length, budget: 5, mc, embeddings: null, labelledEmbeddings: null, minorityClasses: [2], rng: createRng(3) });
    const bald = baldFeatures(mc);
    const poolHistograms = {
      bald: histogram(Array.from(bald.mutualInformation), equalWidthEdges(Array.from(bald.mutualInformation), 8)),
      entropy: histogram(Array.from(bald.entropy), equalWidthEdges(Array.from(bald.entropy), 8)),
    };
    const names = Object.keys(result.features);
    const round2 = await writeSelectionRound(testDb(), {
      projectId, strategy: "rads", coldStart: false, modelVersionId: v1.id,
      params: { strategy: "rads", budget: 5, rho: 0.9, lambda: 0.01 },
      stats: { ...result.stats, classes: CLASSES, poolHistograms },
      items: Array.from(result.selected, (poolIndex, rank) => ({
        caseId: pool[poolIndex]!,
        rank: rank + 1,
        features: Object.fromEntries(names.map((n) => [n, result.features[n]![rank]!])),
      })),
    });
    const selected = Array.from(result.selected, (i) => pool[i]!);

    // Annotations: rank 1 minority; rank 2 edited from normal to minority (latest version counts);
    // rank 3 split between two clinicians (no majority: no training label until adjudicated); rank 4 normal twice.
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await insertAnnotationForFixture(testDb(), { caseId: selected[0]!, authorId: a.id, version: 1, labels: ["suspicious"], createdAt: twoDaysAgo });
    await insertAnnotationForFixture(testDb(), { caseId: selected[1]!, authorId: a.id, version: 1, labels: ["normal"] });
    await insertAnnotationForFixture(testDb(), { caseId: selected[1]!, authorId: a.id, version: 2, labels: ["suspicious"] });
    await insertAnnotationForFixture(testDb(), { caseId: selected[2]!, authorId: a.id, version: 1, labels: ["benign"] });
    await insertAnnotationForFixture(testDb(), { caseId: selected[2]!, authorId: b.id, version: 1, labels: ["suspicious"] });
    await insertAnnotationForFixture(testDb(), { caseId: selected[3]!, authorId: a.id, version: 1, labels: ["normal"] });
    await insertAnnotationForFixture(testDb(), { caseId: selected[3]!, authorId: b.id, version: 1, labels: ["normal"] });

    const stats = await getSelectionStats(createServiceContext(testDb(), scientist), { projectId });
    expect(stats.rounds.map((r) => r.number)).toEqual([round2.number, round2.number - 1]);
    const rads = stats.rounds[0]!;
    const prior = result.stats.prior as number[];
    expect(rads.summary.poolPrior).toBeCloseTo(prior[2]!, 12);
    expect(rads.summary.rho).toBeCloseTo(0.9, 12);
    expect(rads.summary).toMatchObject({ lambda: 0.01, budget: 5, k: 6, episodes: 25 });
    expect(rads.summary.priorPerClass.map((p) => p.label)).toEqual(["Normal", "Benign finding", "Suspicious"]);
    expect(rads.returnCurve).toHaveLength(25);
    expect(rads.returnCurve[0]!.value).toBeCloseTo((result.stats.returnCurve as number[])[0]!, 12);
    expect(rads.params).toEqual(expect.arrayContaining([{ key: "rho", value: "0.9000" }, { key: "strategy", value: "rads" }]));

    const baldHist = rads.histograms.find((h) => h.feature === "bald")!;
    expect(baldHist.poolSource).toBe("recorded");
    expect(baldHist.bins.reduce((s, x) => s + (x.pool ?? 0), 0)).toBe(pool.length);
    expect(baldHist.bins.reduce((s, x) => s + x.selected, 0)).toBe(5);
    expect(baldHist.bins.reduce((s, x) => s + x.selectedShare, 0)).toBeCloseTo(1, 12);
    const utilityHist = rads.histograms.find((h) => h.feature === "utility")!;
    expect(utilityHist.poolSource).toBeNull();

    expect(rads.selected.map((s) => s.caseId)).toEqual(selected);
    expect(rads.selected[0]!.bald).toBeCloseTo(result.features.bald![0]!, 12);
    expect(rads.selected.every((s) => s.pseudoLabel !== null && s.byPolicy !== null)).toBe(true);
    expect(rads.selected[1]!.labels).toEqual(["Suspicious"]);
    // Minority by the training-label rule (server/services/training-label.ts), the one training uses.
    expect(rads.selected.map((s) => s.minority)).toEqual([true, true, null, false, null]);
    expect(rads.selected[2]!.awaitingAdjudication).toBe(true);
    expect(rads.outcome).toEqual({ total: 5, annotated: 3, minorityHits: 2, hitRate: 2 / 3, awaitingAdjudication: 1 });

    const cold = stats.rounds[1]!;
    expect(cold).toMatchObject({ strategy: "cold-start", coldStart: true, returnCurve: [], histograms: [] });
    expect(cold.outcome.hitRate).toBeNull();

    expect(stats.labelsOverTime.map((d) => d.labels)).toEqual([1, 4]);
    expect(stats.learningCurve.map((p) => [p.version, p.labelCount])).toEqual([[1, 20], [2, 26]]);
    expect(stats.learningCurve.every((p) => p.minorityRecall !== null && p.minorityAuprc !== null)).toBe(true);
  });

  it("is scoped to members and refused to clinicians and reviewers by the server", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 2 });
    const outsider = await createTestUser("DATA_SCIENTIST");
    await expect(getSelectionStats(createServiceContext(testDb(), outsider), { projectId })).rejects.toMatchObject({ kind: "NOT_FOUND" });
    expect((await createCaller({ db: testDb(), actor: outsider }).selectionStats.projects()).some((p) => p.id === projectId)).toBe(false);
    // Members whose project role may not see selection statistics are refused; outside the project the same roles find nothing.
    for (const role of ["CLINICIAN", "REVIEWER"] as const) {
      const actor = await createTestUser(role);
      await expect(createCaller({ db: testDb(), actor }).selectionStats.get({ projectId })).rejects.toMatchObject({ code: "NOT_FOUND" });
      await testDb().projectMember.create({ data: { projectId, userId: actor.id, role } });
      await expect(createCaller({ db: testDb(), actor }).selectionStats.get({ projectId })).rejects.toMatchObject({ code: "FORBIDDEN" });
      expect((await createCaller({ db: testDb(), actor }).selectionStats.projects()).some((p) => p.id === projectId)).toBe(false);
    }
    const empty = await createCaller({ db: testDb(), actor: scientist }).selectionStats.get({ projectId });
    expect(empty).toMatchObject({ rounds: [], labelsOverTime: [], learningCurve: [] });
  });
});
