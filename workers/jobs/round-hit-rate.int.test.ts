/**
 * One minority rule (issue 14): a selected case counts as a minority hit when its TRAINING label (the
 * rule of server/services/training-label.ts: adjudicated, else a strict majority) is a minority class —
 * in the loop's stored hit rate (loop-triggers `computeRoundHitRate`) and on the selection page alike.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { writeSelectionRound } from "@/server/services/selection-rounds";
import { getSelectionStats } from "@/server/services/selection-stats";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";
import { computeRoundHitRate } from "./loop-triggers";

afterAll(async () => {
  await testDb().$disconnect();
});

describe("round hit rate by the training-label rule", () => {
  it("counts adjudicated and majority labels, leaves a split vote out until adjudicated, and the page agrees", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const [a, b, c] = [await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
    const reviewer = await createTestUser("REVIEWER");
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id, a.id, b.id, c.id, reviewer.id], cases: 5 });
    const round = await writeSelectionRound(testDb(), { projectId, strategy: "random", coldStart: false, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute));
    const vote = (caseId: string, authorId: string, label: string, minute: number, kind: "SUBMITTED" | "ADJUDICATED" = "SUBMITTED") =>
      testDb().annotation.create({ data: { caseId, authorId, version: 1, kind, labels: [label], createdAt: at(minute) } });
    const [hitOne, split, adjudicated, outvoted] = caseIds;
    await vote(hitOne!, a.id, "suspicious", 1); // one annotator: minority
    await vote(split!, a.id, "normal", 2); // 1–1, nobody adjudicated: no label yet
    await vote(split!, b.id, "suspicious", 3);
    await vote(adjudicated!, a.id, "normal", 4); // 1–1, adjudicated minority
    await vote(adjudicated!, b.id, "suspicious", 5);
    await vote(adjudicated!, reviewer.id, "suspicious", 6, "ADJUDICATED");
    await vote(outvoted!, a.id, "normal", 7); // 2 of 3 say normal; the NEWEST annotation says suspicious
    await vote(outvoted!, b.id, "normal", 8);
    await vote(outvoted!, c.id, "suspicious", 9);
    // caseIds[4]: nobody annotated it.

    const hit = await computeRoundHitRate(testDb(), round.roundId);
    expect(hit).toMatchObject({ selected: 5, annotated: 3, minorityHits: 2, hitRate: 2 / 3, awaitingAdjudication: 1 });

    const stats = await getSelectionStats(createServiceContext(testDb(), scientist), { projectId });
    const view = stats.rounds.find((r) => r.id === round.roundId)!;
    expect(view.selected.map((s) => s.minority)).toEqual([true, null, true, false, null]);
    expect(view.outcome).toEqual({ total: 5, annotated: 3, minorityHits: 2, hitRate: 2 / 3, awaitingAdjudication: 1 });
  });
});
