import { afterAll, describe, expect, it } from "vitest";
import { labelledSets, projectClasses } from "@/workers/jobs/loop-data";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject, TEST_LABEL_SCHEMA } from "../testing/project-fixtures";
import { adjudicate, adjudicationQueue, requestAdjudication } from "./adjudication-service";
import { getAgreement } from "./agreement-service";
import { createServiceContext } from "./context";
import { goldReport, listGold, markGold } from "./gold-service";

afterAll(async () => {
  await testDb().$disconnect();
});

describe("adjudication", () => {
  it("two clinicians disagree on 3 of 10 cases → 3 in the queue; the reviewer resolves them; training takes the adjudicated labels", async () => {
    const [reviewer, scientist, clinician] = [await createTestUser("REVIEWER"), await createTestUser("DATA_SCIENTIST"), await createTestUser("CLINICIAN")];
    const [a, b] = [await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
    const { projectId, caseIds } = await createTestProject({ memberIds: [reviewer.id, scientist.id, clinician.id, a.id, b.id], cases: 12 });
    const byA = ["normal", "normal", "normal", "normal", "benign", "benign", "benign", "suspicious", "suspicious", "suspicious"];
    const byB = ["normal", "normal", "normal", "benign", "benign", "benign", "suspicious", "suspicious", "suspicious", "normal"];
    for (let i = 0; i < 10; i++) {
      await testDb().annotation.create({ data: { caseId: caseIds[i]!, authorId: a.id, version: 1, labels: [byA[i]!], kind: "SUBMITTED" } });
      await testDb().annotation.create({ data: { caseId: caseIds[i]!, authorId: b.id, version: 1, labels: [byB[i]!], kind: "SUBMITTED" } });
    }
    const asReviewer = createServiceContext(testDb(), reviewer);
    const queue = await adjudicationQueue(asReviewer, { projectId });
    expect(queue.cases.map((c) => c.caseId).sort()).toEqual([caseIds[3]!, caseIds[6]!, caseIds[9]!].sort());
    expect(queue.cases.every((c) => c.reason === "disagreement" && c.annotations.length === 2 && c.current.source === "excluded")).toBe(true);
    expect(queue.rule).toMatch(/adjudicated label, else/);

    // Before adjudication the 1–1 cases are excluded from training.
    const classes = projectClasses({ labelSchema: { ...TEST_LABEL_SCHEMA, labels: TEST_LABEL_SCHEMA.labels.map((l) => ({ ...l, color: "#123456" })) }, minorityClasses: ["suspicious"] });
    const before = await labelledSets(testDb(), projectId, classes);
    expect(before.training).toHaveLength(7);
    expect(before.excluded).toBe(3);

    const finalLabel: Record<number, string> = { 3: "benign", 6: "suspicious", 9: "normal" };
    for (const i of [3, 6, 9]) await adjudicate(asReviewer, { projectId, caseId: caseIds[i]!, labels: [finalLabel[i]!], reason: `Discussed case ${i} with both readers` });
    expect((await adjudicationQueue(asReviewer, { projectId })).cases).toHaveLength(0);
    expect(await testDb().auditEvent.count({ where: { projectId, action: "annotation.adjudicate" } })).toBe(3);

    const after = await labelledSets(testDb(), projectId, classes);
    expect(after.training).toHaveLength(10);
    expect(after.excluded).toBe(0);
    for (const i of [3, 6, 9]) {
      const e = after.training.find((x) => x.caseId === caseIds[i])!;
      expect(e.source).toBe("adjudicated");
      expect(classes.keys[e.label]).toBe(finalLabel[i]);
    }
    // The agreement statistics are of the annotators, not the adjudicator: unchanged.
    const report = await getAgreement(createServiceContext(testDb(), scientist), { projectId });
    expect(report.casesInDisagreement).toBe(3);
    expect(report.annotators).toHaveLength(2);

    // A reviewer may send an agreed case; a new annotation after an adjudication reopens nothing unless they disagree.
    await requestAdjudication(asReviewer, { projectId, caseId: caseIds[0]! });
    const requested = await adjudicationQueue(asReviewer, { projectId });
    expect(requested.cases.map((c) => [c.caseId, c.reason])).toEqual([[caseIds[0]!, "requested"]]);
    await adjudicate(asReviewer, { projectId, caseId: caseIds[0]!, labels: ["benign"], reason: "Second look: a benign finding" });
    expect((await adjudicationQueue(asReviewer, { projectId })).cases).toHaveLength(0);
    // The reviewer's two versions on case 0 do not collide.
    await adjudicate(asReviewer, { projectId, caseId: caseIds[0]!, labels: ["normal"], reason: "Third look: normal after all" });
    expect((await labelledSets(testDb(), projectId, classes)).training.find((x) => x.caseId === caseIds[0])).toMatchObject({ source: "adjudicated", label: classes.index.get("normal") });

    // Refusals: a label not in the schema, two labels in a single-label project, a case of another project, a clinician.
    expect((await refusal(adjudicate(asReviewer, { projectId, caseId: caseIds[1]!, labels: ["nope"], reason: "bad label" }))).field).toBe("labels");
    expect((await refusal(adjudicate(asReviewer, { projectId, caseId: caseIds[1]!, labels: ["normal", "benign"], reason: "two labels" }))).field).toBe("labels");
    const other = await createTestProject({ memberIds: [reviewer.id], cases: 1 });
    expect((await refusal(adjudicate(asReviewer, { projectId, caseId: other.caseIds[0]!, labels: ["normal"], reason: "wrong project" }))).kind).toBe("NOT_FOUND");
    expect((await refusal(adjudicationQueue(createServiceContext(testDb(), clinician), { projectId }))).kind).toBe("FORBIDDEN");
  });

  it("adjudicating a gold case makes the adjudicated label its gold answer, so the gold report scores against it", async () => {
    const [reviewer, scientist, clinician] = [await createTestUser("REVIEWER"), await createTestUser("DATA_SCIENTIST"), await createTestUser("CLINICIAN")];
    const { projectId, caseIds } = await createTestProject({ memberIds: [reviewer.id, scientist.id, clinician.id], cases: 2 });
    await testDb().case.update({ where: { id: caseIds[0]! }, data: { importedLabel: "benign", split: "SEED" } });
    const asScientist = createServiceContext(testDb(), scientist);
    await markGold(asScientist, { projectId, caseIds: [caseIds[0]!] });
    // The clinician answered the gold case "suspicious"; the reviewer then rules the case suspicious.
    const round = await testDb().selectionRound.create({ data: { projectId, number: 1, strategy: "cold-start", coldStart: true } });
    await testDb().goldServing.create({ data: { projectId, caseId: caseIds[0]!, userId: clinician.id, roundId: round.id, position: 0, servedAt: new Date(Date.now() - 60_000), expiresAt: new Date(Date.now() + 60_000) } });
    await testDb().annotation.create({ data: { caseId: caseIds[0]!, authorId: clinician.id, version: 1, labels: ["suspicious"], kind: "SUBMITTED" } });
    const asReviewer = createServiceContext(testDb(), reviewer);
    await adjudicate(asReviewer, { projectId, caseId: caseIds[0]!, labels: ["suspicious"], reason: "Spiculated margin: suspicious" });
    expect((await listGold(asScientist, { projectId })).cases.map((c) => [c.caseId, c.labels, c.source])).toEqual([[caseIds[0]!, ["suspicious"], "adjudicated"]]);
    expect((await goldReport(asScientist, { projectId })).annotators.map((a) => [a.name, a.correct, a.answers])).toEqual([[clinician.name, 1, 1]]);
    const event = await testDb().auditEvent.findFirst({ where: { projectId, action: "annotation.adjudicate" }, orderBy: { id: "desc" } });
    expect((event!.details as { goldAnswer?: unknown }).goldAnswer).toEqual({ before: { labels: ["benign"], source: "imported" }, after: { labels: ["suspicious"], source: "adjudicated" } });
    // A case that is not gold stays out of the gold table.
    await adjudicate(asReviewer, { projectId, caseId: caseIds[1]!, labels: ["normal"], reason: "Plainly normal" });
    expect((await listGold(asScientist, { projectId })).cases).toHaveLength(1);
  });
});
