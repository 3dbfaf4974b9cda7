/** The pure pieces of the raw vector read: little-endian bytes to float32 rows, and row gathering. */
import { describe, expect, it } from "vitest";
import { decodeFloat32Rows, gatherRows } from "./loop-data";

describe("decodeFloat32Rows", () => {
  it("reads little-endian float32 rows from an unaligned slice", () => {
    const values = [1.5, -2.25, 3e-8, 1e30, -0, 7];
    const buf = new Uint8Array(1 + values.length * 4);
    const view = new DataView(buf.buffer);
    values.forEach((v, i) => view.setFloat32(1 + i * 4, v, true));
    const out = decodeFloat32Rows(buf.subarray(1), 2, 3);
    expect(Array.from(out)).toEqual(values.map((v) => Math.fround(v)));
    expect(out.byteOffset).toBe(0);
  });

  it("refuses a byte count that is not rows × dim × 4", () => {
    expect(() => decodeFloat32Rows(new Uint8Array(20), 2, 3)).toThrow("20 bytes of vectors for 2 rows of width 3 (expected 24)");
  });
});

describe("gatherRows", () => {
  it("takes the rows in the given order", () => {
    const x = { data: Float32Array.from([0, 1, 10, 11, 20, 21]), rows: 3, cols: 2 };
    expect(gatherRows(x, [2, 0, 2])).toEqual({ data: Float32Array.from([20, 21, 0, 1, 20, 21]), rows: 3, cols: 2 });
    expect(gatherRows(x, [])).toEqual({ data: new Float32Array(0), rows: 0, cols: 2 });
  });
});
