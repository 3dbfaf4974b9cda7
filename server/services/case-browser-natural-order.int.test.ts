/**
 * The case browser lists case ids in natural order (runs of digits compared as numbers: "case-2"
 * before "case-10"; migration 0016, server/db/cases-repo.ts), the same whatever the page size and
 * with the split and import-batch filters, with no case skipped or repeated across pages — also
 * for ids that differ only in leading zeros or letter case.
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CaseFilters } from "@/contracts/case-browser";
import { createCaller } from "../api/root";
import { casePageQuery } from "../db/cases-repo";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import type { Actor } from "./context";

afterAll(async () => {
  await testDb().$disconnect();
});

/**
 * In the order a person expects. Ids equal as numbers ("case-02", "case-2") are ordered by their
 * bytes (a deterministic collation never ties), so paging is exact. Inserted shuffled.
 */
const NATURAL = ["a", "b1", "case-1", "case-02", "case-2", "case-3", "CASE-4", "case-9", "case-10", "case-21", "case-100", "img-2-a", "img-2-b", "img-10-a", "img-10-b"];

let projectId: string;
let batchId: string;
let scientist: Actor;

beforeAll(async () => {
  scientist = await createTestUser("DATA_SCIENTIST");
  ({ projectId } = await createTestProject({ memberIds: [scientist.id], cases: 0 }));
  batchId = (await testDb().importBatch.create({ data: { projectId, source: "ids.csv", sha256: crypto.randomBytes(32).toString("hex") }, select: { id: true } })).id;
  const shuffled = NATURAL.map((_, i) => NATURAL[(i * 7) % NATURAL.length]!); // 7 is coprime to 15: a permutation
  await testDb().case.createMany({
    data: shuffled.map((externalId, i) => ({ projectId, externalId, narrative: `Report ${externalId}.`, split: i % 3 === 0 ? "TEST" : "POOL", importBatchId: i % 2 === 0 ? batchId : null })),
  });
});

async function walk(filters: CaseFilters, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page: { rows: { externalId: string }[]; nextCursor: string | null } = await createCaller({ db: testDb(), actor: scientist }).cases.list({ projectId, filters, cursor, limit });
    seen.push(...page.rows.map((r) => r.externalId));
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error("paging did not end");
}

describe("case browser: natural order of case ids", () => {
  it("sorts numeric runs as numbers, the same on every page size, without gaps or repeats", async () => {
    for (const limit of [1, 2, 4, 100]) expect(await walk({}, limit), `limit ${limit}`).toEqual(NATURAL);
  });

  it("keeps the order with the split and import-batch filters (their own indexes)", async () => {
    const rows = await testDb().case.findMany({ where: { projectId }, select: { externalId: true, split: true, importBatchId: true } });
    const pick = (keep: (r: (typeof rows)[number]) => boolean) => NATURAL.filter((id) => keep(rows.find((r) => r.externalId === id)!));
    expect(await walk({ split: "TEST" }, 2)).toEqual(pick((r) => r.split === "TEST"));
    expect(await walk({ split: "POOL" }, 3)).toEqual(pick((r) => r.split === "POOL"));
    expect(await walk({ importBatchId: batchId }, 2)).toEqual(pick((r) => r.importBatchId === batchId));
  });

  it("walks the natural-order index rather than sorting the project's cases", async () => {
    const explain = (await testDb().$queryRaw<{ "QUERY PLAN": string }[]>`EXPLAIN ${casePageQuery(projectId, {}, "case-2", 3)}`).map((r) => r["QUERY PLAN"]).join("\n");
    expect(explain).toMatch(/Case_projectId_externalId_natural_idx/);
  });
});
