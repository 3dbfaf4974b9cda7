/**
 * The raw read of stored vectors (server/db/embeddings-repo.ts readEmbeddingBytes, through loop-data
 * embeddedRows / embeddingMatrix) against the per-row Prisma read it replaced (loop-repo loadEmbeddings,
 * each row decoded on its own): the same numbers in the order asked for, which ids have none, chunk
 * boundaries, and clear errors for a missing vector or mixed widths.
 */
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { insertEmbeddingRows } from "@/server/db/embeddings-repo";
import { loadEmbeddings } from "@/server/db/loop-repo";
import { vectorToBytes } from "@/server/services/embedding-service";
import { testDb } from "@/server/testing/fixtures";
import { createRng, permutation } from "@/workers/ml/rng";
import { embeddedRows, embeddingMatrix } from "./loop-data";

const db = testDb();

async function projectWithCases(n: number) {
  const project = await db.project.create({ data: { name: `Vectors ${crypto.randomBytes(5).toString("hex")}`, labelSchema: { labels: [{ key: "a" }, { key: "b" }] }, minorityClasses: ["b"], selectionParams: {}, encoderConfig: { kind: "builtin" }, settings: {} }, select: { id: true } });
  await db.case.createMany({ data: Array.from({ length: n }, (_, i) => ({ projectId: project.id, externalId: `c-${String(i).padStart(4, "0")}`, narrative: `case ${i}` })) });
  const cases = await db.case.findMany({ where: { projectId: project.id }, orderBy: { externalId: "asc" }, select: { id: true } });
  return cases.map((c) => c.id);
}

/** The old read: one Prisma row per case, each vector decoded with a DataView. */
async function perRowRead(ids: string[], version: string): Promise<Map<string, number[]>> {
  const rows = await loadEmbeddings(db, ids, version);
  return new Map(rows.map((r) => {
    const view = new DataView(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength);
    return [r.caseId, Array.from({ length: r.dim }, (_, j) => view.getFloat32(j * 4, true))];
  }));
}

describe("embeddedRows (raw vector read)", () => {
  it("returns the per-row read's vectors in the order asked, marks ids without one, across chunks", async () => {
    const ids = await projectWithCases(40);
    const rng = createRng(11);
    const dim = 7;
    // 30 of 40 cases have a vector of v1; a few have one of another version only.
    const withV1 = ids.filter((_, i) => i % 4 !== 1);
    await insertEmbeddingRows(db, withV1.map((caseId) => ({ caseId, encoderVersion: "test-v1", dim, vector: vectorToBytes(Float32Array.from({ length: dim }, () => rng.normal())) })));
    await insertEmbeddingRows(db, ids.filter((_, i) => i % 4 === 1).slice(0, 3).map((caseId) => ({ caseId, encoderVersion: "test-v2", dim: 3, vector: vectorToBytes(new Float32Array(3)) })));
    const order = Array.from(permutation(ids.length, createRng(3)), (i) => ids[i]!);
    const expected = await perRowRead(order, "test-v1");
    for (const chunk of [1000, 7]) {
      const { present, x } = await embeddedRows(db, order, "test-v1", chunk);
      expect(Array.from(present)).toEqual(order.map((id) => (expected.has(id) ? 1 : 0)));
      expect(x.cols).toBe(dim);
      expect(x.rows).toBe(withV1.length);
      const got = Array.from(x.data);
      expect(got).toEqual(order.filter((id) => expected.has(id)).flatMap((id) => expected.get(id)!));
    }
    const some = withV1.slice(5, 12).reverse();
    expect(Array.from((await embeddingMatrix(db, some, "test-v1")).data)).toEqual(some.flatMap((id) => expected.get(id)!));
    const none = await embeddedRows(db, ids, "no-such-version");
    expect(none.x).toEqual({ data: new Float32Array(0), rows: 0, cols: 0 });
    expect(Array.from(none.present).every((p) => p === 0)).toBe(true);
  });

  it("names the case without a vector, and refuses vectors of different widths", async () => {
    const ids = await projectWithCases(4);
    await insertEmbeddingRows(db, [
      { caseId: ids[0]!, encoderVersion: "mixed", dim: 2, vector: vectorToBytes(new Float32Array([1, 2])) },
      { caseId: ids[1]!, encoderVersion: "mixed", dim: 3, vector: vectorToBytes(new Float32Array([1, 2, 3])) },
      { caseId: ids[2]!, encoderVersion: "ok", dim: 2, vector: vectorToBytes(new Float32Array([1, 2])) },
    ]);
    await expect(embeddingMatrix(db, [ids[2]!, ids[3]!], "ok")).rejects.toThrow(`Case ${ids[3]} has no ok embedding`);
    await expect(embeddingMatrix(db, [ids[0]!, ids[1]!], "mixed")).rejects.toThrow(/different widths/);
    // Across chunks too (each chunk alone is consistent).
    await expect(embeddedRows(db, [ids[0]!, ids[1]!], "mixed", 1)).rejects.toThrow(/different widths/);
  });
});
