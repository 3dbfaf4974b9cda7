import { afterAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject, TEST_LABEL_SCHEMA } from "../testing/project-fixtures";
import { createServiceContext } from "./context";
import { listMyProjects, myQueueSummary } from "./project-service";
import { writeSelectionRound } from "./selection-rounds";

afterAll(async () => {
  await testDb().$disconnect();
});

describe("queue summary", () => {
  it("counts the pending items of each project's current round only, and only in member projects", async () => {
    const clinician = await createTestUser("CLINICIAN");
    const outsider = await createTestUser("CLINICIAN");
    const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id], cases: 5 });
    const round = (ids: string[]) =>
      writeSelectionRound(testDb(), { projectId, strategy: "random", coldStart: false, modelVersionId: null, params: {}, stats: {}, items: ids.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
    await round([caseIds[0]!, caseIds[1]!, caseIds[2]!]);
    expect(await myQueueSummary(createServiceContext(testDb(), clinician))).toEqual({ openItems: 3 });
    // A new round replaces the old one as the queue, even while the old one still has pending items.
    await round([caseIds[3]!]);
    expect(await myQueueSummary(createServiceContext(testDb(), clinician))).toEqual({ openItems: 1 });
    expect(await myQueueSummary(createServiceContext(testDb(), outsider))).toEqual({ openItems: 0 });
  });
});

describe("projects list", () => {
  it("names the minority classes by their display names, keeping the keys", async () => {
    const ds = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [ds.id], cases: 1 });
    const mine = await listMyProjects(createServiceContext(testDb(), ds));
    const row = mine.find((p) => p.id === projectId)!;
    expect(row.minorityClasses).toEqual(["suspicious"]);
    expect(row.minorityClassNames).toEqual([TEST_LABEL_SCHEMA.labels.find((l) => l.key === "suspicious")!.name]);
    expect(row.minorityClassNames[0]).not.toBe("suspicious");
  });
});
