/**
 * VectorCache: the select job's vectors kept between rounds give what the reader gives, and read only
 * what was not read before (per encoder version); the size limit drops old versions first.
 */
import { describe, expect, it } from "vitest";
import type { Matrix } from "@/workers/ml/types";
import { VectorCache, type VectorReader } from "./select-vectors";

/** A reader over a fixed table of vectors (width d; case "c<i>" has [i, i + 0.5, …]), counting what it is asked for. */
function tableReader(d: number, missing: Set<string> = new Set()): VectorReader & { asked: string[][] } {
  const asked: string[][] = [];
  const read = async (ids: readonly string[]) => {
    asked.push([...ids]);
    const present = Uint8Array.from(ids, (id) => (missing.has(id) ? 0 : 1));
    const rows = ids.filter((id) => !missing.has(id));
    const data = new Float32Array(rows.length * d);
    rows.forEach((id, r) => {
      const i = Number(id.slice(1));
      for (let j = 0; j < d; j++) data[r * d + j] = i + j / 2;
    });
    return { present, x: { data, rows: rows.length, cols: d } as Matrix };
  };
  return Object.assign(read, { asked });
}

describe("VectorCache", () => {
  it("returns what the reader returns, in the asked order, reading only cases not read before", async () => {
    const cache = new VectorCache(1_000_000);
    const reader = tableReader(3, new Set(["c4"]));
    const ids = ["c1", "c2", "c3", "c4"];
    const first = await cache.rows(ids, "v1", reader);
    expect(first).toEqual(await reader(ids));
    const again = ["c3", "c5", "c1", "c4"];
    const second = await cache.rows(again, "v1", reader);
    expect(second).toEqual(await reader(again));
    // Asked: all four, then (for the reference above) ids; then only c5 and c4 (no vector, asked again).
    expect(reader.asked[2]).toEqual(["c5", "c4"]);
    expect(cache.size).toBe(4);
  });

  it("keeps versions apart and drops the least recently used one when over its size", async () => {
    const cache = new VectorCache(2 * 4 * 2); // two versions of 4 vectors of width 2
    const reader = tableReader(2);
    const ids = ["c1", "c2", "c3", "c4"];
    await cache.rows(ids, "v1", reader);
    await cache.rows(ids, "v2", reader);
    await cache.rows(ids, "v1", reader); // v1 used last: v2 goes first
    expect(reader.asked.length).toBe(2);
    await cache.rows(ids, "v3", reader);
    expect(reader.asked.length).toBe(3);
    await cache.rows(ids, "v1", reader);
    expect(reader.asked.length).toBe(3);
    await cache.rows(ids, "v2", reader);
    expect(reader.asked.length).toBe(4);
    expect(cache.size).toBe(8);
  });

  it("serves a version larger than its size by reading, and reads everything with size 0", async () => {
    const small = new VectorCache(3);
    const reader = tableReader(2);
    const got = await small.rows(["c1", "c2"], "v1", reader);
    expect(got).toEqual(await reader(["c1", "c2"]));
    expect(small.size).toBe(0);
    const off = new VectorCache(0);
    await off.rows(["c1"], "v1", reader);
    await off.rows(["c1"], "v1", reader);
    expect(reader.asked.filter((a) => a[0] === "c1" && a.length === 1).length).toBe(2);
  });

  it("refuses vectors of another width under the same version", async () => {
    const cache = new VectorCache(1000);
    await cache.rows(["c1"], "v1", tableReader(2));
    await expect(cache.rows(["c2"], "v1", tableReader(3))).rejects.toThrow(/width 3, kept with width 2/);
  });
});
