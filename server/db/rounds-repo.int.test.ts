import { afterAll, describe, expect, it } from "vitest";
import { testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { countCasesInProject } from "./rounds-repo";

afterAll(async () => {
  await testDb().$disconnect();
});

describe("countCasesInProject (a round may only queue its own project's cases)", () => {
  it("counts a list of ids longer than PostgreSQL's 32,767 bind parameters (a round of 36,000 cases failed with P2029)", async () => {
    const db = testDb();
    const mine = await createTestProject({ memberIds: [], cases: 3 });
    const theirs = await createTestProject({ memberIds: [], cases: 2 });
    const unknown = Array.from({ length: 35_000 }, (_, i) => `missing-${i}`);
    // Ours spread over the chunks: first, in the middle, last; another project's cases never count.
    const ids = [mine.caseIds[0]!, ...unknown.slice(0, 17_000), mine.caseIds[1]!, ...theirs.caseIds, ...unknown.slice(17_000), mine.caseIds[2]!];
    expect(ids.length).toBeGreaterThan(32_767);
    expect(await countCasesInProject(db, mine.projectId, ids)).toBe(3);
    expect(await countCasesInProject(db, theirs.projectId, ids)).toBe(2);
    expect(await countCasesInProject(db, mine.projectId, [])).toBe(0);
  });
});
