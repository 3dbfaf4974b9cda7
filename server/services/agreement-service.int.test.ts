import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createServiceContext } from "./context";
import { exportAgreement, getAgreement } from "./agreement-service";

afterAll(async () => {
  await testDb().$disconnect();
});

async function annotate(caseId: string, authorId: string, version: number, labels: string[], spans: unknown[] = []) {
  await testDb().annotation.create({ data: { caseId, authorId, version, labels, spans: spans as object[], kind: "SUBMITTED" } });
}

describe("agreement report", () => {
  it("two clinicians who disagree on 3 of 10 cases: figures match the hand computation", async () => {
    const [scientist, reviewer, clinician] = [await createTestUser("DATA_SCIENTIST"), await createTestUser("REVIEWER"), await createTestUser("CLINICIAN")];
    const [a, b] = [await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id, reviewer.id, clinician.id, a.id, b.id], cases: 11 });
    // N = normal, B = benign, S = suspicious. They disagree on cases 3, 6 and 9.
    const byA = ["normal", "normal", "normal", "normal", "benign", "benign", "benign", "suspicious", "suspicious", "suspicious"];
    const byB = ["normal", "normal", "normal", "benign", "benign", "benign", "suspicious", "suspicious", "suspicious", "normal"];
    for (let i = 0; i < 10; i++) {
      if (i === 0) {
        // A's first version said suspicious and was edited: only the latest version counts.
        await annotate(caseIds[i]!, a.id, 1, ["suspicious"]);
        await annotate(caseIds[i]!, a.id, 2, [byA[i]!], [{ start: 0, end: 10, label: "normal", text: "x" }]);
        await annotate(caseIds[i]!, b.id, 1, [byB[i]!], [{ start: 5, end: 15, label: "normal", text: "y" }]);
      } else {
        await annotate(caseIds[i]!, a.id, 1, [byA[i]!], i === 1 ? [{ start: 0, end: 4, label: "normal", text: "z" }] : []);
        await annotate(caseIds[i]!, b.id, 1, [byB[i]!]);
      }
    }
    // Case 10 has one annotator: counted as annotated, not in any statistic.
    await annotate(caseIds[10]!, a.id, 1, ["benign"]);
    // A skipped annotation is not a rating.
    await testDb().annotation.create({ data: { caseId: caseIds[10]!, authorId: b.id, version: 1, labels: [], kind: "SKIPPED", skipReason: "unreadable" } });

    const report = await getAgreement(createServiceContext(testDb(), scientist), { projectId });
    expect(report.casesAnnotated).toBe(11);
    expect(report.casesWithTwoOrMore).toBe(10);
    expect(report.casesInDisagreement).toBe(3);

    // Hand computation. p_o = 7/10. Marginals A: N4 B3 S3, B: N4 B3 S3 → p_e = (16 + 9 + 9)/100 = 0.34.
    const kappa = (0.7 - 0.34) / (1 - 0.34);
    expect(report.overall.percentAgreement.value).toBeCloseTo(0.7, 10);
    expect(report.overall.fleissKappa.value).toBeCloseTo(kappa, 10); // equal marginals: Fleiss = Cohen
    // Krippendorff: n = 20 values, Σ_{c≠k} o_ck = 3 cases × 2 = 6, Σ n_c² = 8² + 6² + 6² = 136 → α = 1 − 19·6/(400 − 136).
    expect(report.overall.krippendorffAlpha.value).toBeCloseTo(1 - (19 * 6) / 264, 10);
    for (const e of [report.overall.percentAgreement, report.overall.fleissKappa, report.overall.krippendorffAlpha]) {
      expect(e.cases).toBe(10);
      expect(e.low!).toBeLessThanOrEqual(e.value!);
      expect(e.high!).toBeGreaterThanOrEqual(e.value!);
    }

    expect(report.pairs).toHaveLength(1);
    expect(report.pairs[0]!.cohenKappa.value).toBeCloseTo(kappa, 10);
    expect(report.pairs[0]!.shared).toBe(10);
    expect(report.pairs[0]!.agreement).toBeCloseTo(0.7, 10);
    expect(report.matrix.kappa[0]![1]).toBeCloseTo(kappa, 10);
    expect(report.matrix.shared).toEqual([[10, 10], [10, 10]]); // cases with two or more annotators

    // Suspicious as a binary item: A says present on 7, 8, 9; B on 6, 7, 8 → p_o = 0.8, p_e = 0.3² + 0.7² = 0.58.
    const suspicious = report.perClass.find((c) => c.key === "suspicious")!;
    expect(suspicious.percentAgreement.value).toBeCloseTo(0.8, 10);
    expect(suspicious.fleissKappa.value).toBeCloseTo((0.8 - 0.58) / (1 - 0.58), 10);

    // Evidence: only case 0 has spans from both: [0,10) vs [5,15) of the same label → F1 = 2·5/20.
    expect(report.spans.pairs).toBe(1);
    expect(report.spans.f1.value).toBeCloseTo(0.5, 10);
    expect(report.spans.f1.cases).toBe(1);

    const annA = report.annotators.find((x) => x.id === a.id)!;
    expect(annA.cases).toBe(11);
    expect(annA.agreementWithOthers).toBeCloseTo(0.7, 10);

    // The reviewer may see it (same seeded intervals); a clinician may not.
    expect(await getAgreement(createServiceContext(testDb(), reviewer), { projectId })).toEqual(report);
    expect((await refusal(getAgreement(createServiceContext(testDb(), clinician), { projectId }))).kind).toBe("FORBIDDEN");
  });

  it("exports the report (the CLI's --agreement) with an audit event, as the system or a permitted member", async () => {
    const [scientist, clinician, a, b] = [await createTestUser("DATA_SCIENTIST"), await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN"), await createTestUser("CLINICIAN")];
    const { projectId, caseIds } = await createTestProject({ memberIds: [scientist.id, clinician.id, a.id, b.id], cases: 4 });
    for (const [i, la, lb] of [[0, "normal", "normal"], [1, "suspicious", "benign"], [2, "benign", "benign"], [3, "suspicious", "suspicious"]] as const) {
      await annotate(caseIds[i]!, a.id, 1, [la]);
      await annotate(caseIds[i]!, b.id, 1, [lb]);
    }
    const asSystem = await exportAgreement(createServiceContext(testDb(), null), { projectId }, { system: true });
    expect(asSystem.projectId).toBe(projectId);
    expect(asSystem.casesWithTwoOrMore).toBe(4);
    expect(asSystem.overall.percentAgreement.value).toBeCloseTo(0.75, 10);
    // Final labels under the rule: the 1–1 case (index 1) is excluded until adjudicated.
    expect(asSystem.rule).toMatch(/^adjudicated label, else/);
    expect(asSystem.finalLabels.map((r) => [r.caseId, r.label, r.source])).toEqual([
      ["case-0000", "normal", "consensus"],
      ["case-0001", null, "excluded"],
      ["case-0002", "benign", "consensus"],
      ["case-0003", "suspicious", "consensus"],
    ]);
    const events = await testDb().auditEvent.findMany({ where: { projectId, action: "export.agreement" } });
    expect(events).toHaveLength(1);
    const asMember = await exportAgreement(createServiceContext(testDb(), scientist), { projectId });
    expect(asMember.overall).toEqual(asSystem.overall);
    expect((await refusal(exportAgreement(createServiceContext(testDb(), clinician), { projectId }))).kind).toBe("FORBIDDEN");
    expect(await testDb().auditEvent.count({ where: { projectId, action: "export.agreement" } })).toBe(2);
  });
});
