/**
 * Free-text limits through the tRPC HTTP handler, as the pages call it (superjson over fetch): a
 * comment, a draft's comment, a skip reason and an adjudication reason one character over the limit
 * of contracts/text-limits.ts are answered 400 BAD_REQUEST with a message naming the field, and
 * nothing is stored; at the limit each is accepted and stored whole. The 200,000-character comment
 * of the new-user tryout is refused the same way.
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { afterAll, describe, expect, it } from "vitest";
import { TEXT_LIMITS, tooLongMessage } from "@/contracts/text-limits";
import type { Actor } from "../services/context";
import { writeSelectionRound } from "../services/selection-rounds";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { appRouter } from "./root";

afterAll(async () => {
  await testDb().$disconnect();
});

interface WireError {
  message: string;
  data: { code: string; httpStatus: number; fieldErrors: Record<string, string[]> | null };
}

async function call(actor: Actor, path: string, input: unknown): Promise<{ status: number; data?: unknown; error?: WireError }> {
  const request = new Request(`http://test/api/trpc/${path}`, { method: "POST", body: JSON.stringify(superjson.serialize(input)), headers: { "content-type": "application/json" } });
  const response = await fetchRequestHandler({ endpoint: "/api/trpc", req: request, router: appRouter, createContext: async () => ({ db: testDb(), actor }) });
  const body = (await response.json()) as { result?: { data: unknown }; error?: { json: WireError } };
  return { status: response.status, data: body.result ? superjson.deserialize(body.result.data as never) : undefined, error: body.error?.json };
}

const text = (n: number) => "x".repeat(n);

async function projectWithRound() {
  const clinician = await createTestUser("CLINICIAN");
  const reviewer = await createTestUser("REVIEWER");
  const { projectId, caseIds } = await createTestProject({ memberIds: [clinician.id, reviewer.id], cases: 3 });
  await writeSelectionRound(testDb(), { projectId, strategy: "cold-start", coldStart: true, modelVersionId: null, params: {}, stats: {}, items: caseIds.map((caseId, i) => ({ caseId, rank: i + 1, features: {} })) });
  return { clinician, reviewer, projectId, caseIds };
}

describe("free-text limits over HTTP", () => {
  it("refuses a comment, a draft's comment and a skip reason beyond the limit with a 400 naming the field; stores them whole at the limit", async () => {
    const { clinician, projectId } = await projectWithRound();
    const first = (await call(clinician, "queue.next", { projectId })).data as { caseId: string };
    const submit = (comment: string) => call(clinician, "annotations.submit", { caseId: first.caseId, expectedVersion: 0, timeSpentMs: 1000, content: { labels: ["normal"], spans: [], uncertain: false, comment } });

    for (const length of [TEXT_LIMITS.comment + 1, 200_000]) {
      const refused = await submit(text(length));
      expect(refused.status).toBe(400);
      expect(refused.error!.data.code).toBe("BAD_REQUEST");
      expect(refused.error!.message).toBe(`content.comment: ${tooLongMessage("comment", length)}`);
    }
    const draft = await call(clinician, "annotations.saveDraft", { caseId: first.caseId, baseVersion: 0, content: { labels: [], spans: [], uncertain: false, comment: text(TEXT_LIMITS.comment + 1) } });
    expect(draft.status).toBe(400);
    expect(draft.error!.message).toBe(`content.comment: ${tooLongMessage("comment", TEXT_LIMITS.comment + 1)}`);
    expect(await testDb().annotationDraft.count({ where: { caseId: first.caseId } })).toBe(0);
    expect(await testDb().annotation.count({ where: { caseId: first.caseId } })).toBe(0);

    expect((await submit(text(TEXT_LIMITS.comment))).status).toBe(200);
    const stored = await testDb().annotation.findFirstOrThrow({ where: { caseId: first.caseId, kind: "SUBMITTED" }, select: { comment: true } });
    expect(stored.comment).toHaveLength(TEXT_LIMITS.comment);

    const second = (await call(clinician, "queue.next", { projectId })).data as { caseId: string };
    const skip = (reason: string) => call(clinician, "queue.skip", { projectId, caseId: second.caseId, reason });
    const refused = await skip(text(TEXT_LIMITS.skipReason + 1));
    expect(refused.status).toBe(400);
    expect(refused.error!.message).toBe(`reason: ${tooLongMessage("skipReason", TEXT_LIMITS.skipReason + 1)}`);
    expect(refused.error!.data.fieldErrors).toEqual({ reason: [tooLongMessage("skipReason", TEXT_LIMITS.skipReason + 1)] });
    expect(await testDb().annotation.count({ where: { caseId: second.caseId } })).toBe(0);
    expect((await skip(text(TEXT_LIMITS.skipReason))).status).toBe(200);
    const skipped = await testDb().annotation.findFirstOrThrow({ where: { caseId: second.caseId, kind: "SKIPPED" }, select: { skipReason: true } });
    expect(skipped.skipReason).toHaveLength(TEXT_LIMITS.skipReason);
  });

  it("refuses an adjudication reason beyond the limit with a 400 naming the field, and records nothing", async () => {
    const { reviewer, projectId, caseIds } = await projectWithRound();
    const adjudicate = (reason: string) => call(reviewer, "agreement.adjudicate", { projectId, caseId: caseIds[0], labels: ["benign"], reason });
    const refused = await adjudicate(text(TEXT_LIMITS.adjudicationReason + 1));
    expect(refused.status).toBe(400);
    expect(refused.error!.message).toBe(`reason: ${tooLongMessage("adjudicationReason", TEXT_LIMITS.adjudicationReason + 1)}`);
    expect(await testDb().annotation.count({ where: { caseId: caseIds[0], kind: "ADJUDICATED" } })).toBe(0);
    expect(await testDb().auditEvent.count({ where: { projectId, action: "annotation.adjudicate" } })).toBe(0);

    expect((await adjudicate(text(TEXT_LIMITS.adjudicationReason))).status).toBe(200);
    const stored = await testDb().annotation.findFirstOrThrow({ where: { caseId: caseIds[0], kind: "ADJUDICATED" }, select: { comment: true } });
    expect(stored.comment).toHaveLength(TEXT_LIMITS.adjudicationReason);
  });
});
