/**
 * The case reads (case view, autosave, submit) answer the project's row only when this process does not hold that
 * version of it (annotations-repo.ts projectOfRow, issue 16), and the submission's case read locks the case, then its
 * queue item, in one statement (submitLockStatements). What stays true:
 *  - any change to the project row is seen at the very next call, also one written in raw SQL that leaves updatedAt
 *    as it was (the version is the row's xmin with its updatedAt);
 *  - an unchanged project is the same frozen row, its configuration parsed once;
 *  - a non-member's submission answers NOT_FOUND and locks neither the case nor its queue item;
 *  - a submission with spans is checked against the narrative the lock statement read (it reads the narrative only then).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCaseForMember } from "../db/annotations-repo";
import { createDb, type Db } from "../db/client";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject, TEST_LABEL_SCHEMA } from "../testing/project-fixtures";
import { getCaseView, submitAnnotation } from "./annotation-service";
import { createServiceContext } from "./context";
import { writeSelectionRound } from "./selection-rounds";

let db: Db;

beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!);
});
afterAll(async () => {
  await db.$disconnect();
  await testDb().$disconnect();
});

async function projectWithRound(cases: number) {
  const a = await createTestUser("CLINICIAN");
  const { projectId, caseIds } = await createTestProject({ memberIds: [a.id], cases });
  await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
  return { a, projectId, caseIds };
}

/** The row lock of the row is free: another transaction takes it at once (NOWAIT fails while anyone holds it). */
function lockIsFree(table: "Case" | "QueueItem", column: "id" | "caseId", value: string): Promise<boolean> {
  return testDb()
    .$transaction((tx) => tx.$queryRawUnsafe(`SELECT id FROM "${table}" WHERE "${column}" = $1 FOR UPDATE NOWAIT`, value))
    .then(() => true, () => false);
}

describe("the case reads' project row", () => {
  it("is the same frozen row while the project is unchanged, and the changed row at the next call — also after a raw UPDATE that leaves updatedAt", async () => {
    const { a, projectId, caseIds } = await projectWithRound(3);
    const first = await findCaseForMember(db, caseIds[0]!, a.id);
    const again = await findCaseForMember(db, caseIds[1]!, a.id);
    expect(again!.membership.project).toBe(first!.membership.project);
    expect(Object.isFrozen(first!.membership.project)).toBe(true);
    expect(first!.membership.project).toMatchObject({ id: projectId, archivedAt: null });
    expect(first!.membership.project.updatedAt).toBeInstanceOf(Date);

    const ctx = () => createServiceContext(db, a);
    const content = (labels: string[]) => ({ labels, spans: [], uncertain: false, comment: "" });
    expect(await refusal(submitAnnotation(ctx(), { caseId: caseIds[0]!, expectedVersion: 0, content: content(["extra"]), timeSpentMs: 1 }))).toMatchObject({ kind: "BAD_INPUT", field: "labels" });
    const { updatedAt } = await testDb().project.findUniqueOrThrow({ where: { id: projectId } });
    const schema = { ...TEST_LABEL_SCHEMA, labels: [...TEST_LABEL_SCHEMA.labels, { key: "extra", name: "Extra", shortcut: "4" }] };
    await testDb().$executeRawUnsafe(`UPDATE "Project" SET "labelSchema" = $1::jsonb WHERE id = $2`, JSON.stringify(schema), projectId);
    expect((await testDb().project.findUniqueOrThrow({ where: { id: projectId } })).updatedAt).toEqual(updatedAt);
    expect(await submitAnnotation(ctx(), { caseId: caseIds[0]!, expectedVersion: 0, content: content(["extra"]), timeSpentMs: 1 })).toMatchObject({ version: 1, caseVersion: 1 });
    const view = await getCaseView(ctx(), { caseId: caseIds[1]! });
    expect(view.project.labelSchema.labels.map((l) => l.key)).toEqual(["normal", "benign", "suspicious", "extra"]);

    // Archived through Prisma: refused at the next call, and writable again once unarchived.
    await testDb().project.update({ where: { id: projectId }, data: { archivedAt: new Date() } });
    expect(await refusal(submitAnnotation(ctx(), { caseId: caseIds[1]!, expectedVersion: 0, content: content(["normal"]), timeSpentMs: 1 }))).toMatchObject({ kind: "CONFLICT" });
    expect((await getCaseView(ctx(), { caseId: caseIds[1]! })).project.archived).toBe(true);
    await testDb().project.update({ where: { id: projectId }, data: { archivedAt: null } });
    expect(await submitAnnotation(ctx(), { caseId: caseIds[1]!, expectedVersion: 0, content: content(["normal"]), timeSpentMs: 1 })).toMatchObject({ version: 1 });
  });
});

describe("the submission's lock statement", () => {
  it("locks nothing for a non-member (NOT_FOUND) and checks spans against the narrative it read", async () => {
    const { a, caseIds } = await projectWithRound(2);
    const stranger = await createTestUser("CLINICIAN");
    await createTestProject({ memberIds: [stranger.id], cases: 1 });
    const content = { labels: ["normal"], spans: [], uncertain: false, comment: "" };
    expect(await refusal(submitAnnotation(createServiceContext(db, stranger), { caseId: caseIds[0]!, expectedVersion: 0, content, timeSpentMs: 1 }))).toMatchObject({ kind: "NOT_FOUND" });
    expect(await lockIsFree("Case", "id", caseIds[0]!)).toBe(true);
    expect(await lockIsFree("QueueItem", "caseId", caseIds[0]!)).toBe(true);
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0] } })).toBe(0);

    const { narrative } = await testDb().case.findUniqueOrThrow({ where: { id: caseIds[0]! } });
    const span = { label: "normal", start: 0, end: 6, text: narrative!.slice(0, 6) };
    const ctx = createServiceContext(db, a);
    expect(await refusal(submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content: { ...content, spans: [{ ...span, text: "Xeport" }] }, timeSpentMs: 1 }))).toMatchObject({
      kind: "BAD_INPUT",
      field: "spans",
    });
    expect(await submitAnnotation(ctx, { caseId: caseIds[0]!, expectedVersion: 0, content: { ...content, spans: [span] }, timeSpentMs: 1 })).toMatchObject({ version: 1 });
    const stored = await testDb().annotation.findFirstOrThrow({ where: { caseId: caseIds[0], authorId: a.id } });
    expect(stored.spans).toEqual([span]);
    expect((await testDb().queueItem.findFirstOrThrow({ where: { caseId: caseIds[0] } })).status).toBe("DONE");
  });
});
