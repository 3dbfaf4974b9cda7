import { describe, expect, it } from "vitest";
import { parseNpy, writeNpy } from "./npy";

/** A .npy v1.0 with the given header dict text and raw data bytes. */
function npy(headerDict: string, data: Uint8Array): Uint8Array {
  let header = headerDict;
  header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

describe("npy", () => {
  it("round-trips a float32 matrix through writeNpy/parseNpy", () => {
    const m = { data: Float32Array.from([1, -2.5, 3, 4, 5e-8, 6]), rows: 2, cols: 3 };
    const bytes = writeNpy(m);
    expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
    expect(parseNpy(bytes, "m.npy")).toEqual(m);
  });

  it("reads little-endian float64 in Fortran order and big-endian int32", () => {
    const f8 = new Float64Array([1, 3, 2, 4]); // column-major [[1, 2], [3, 4]]
    const a = parseNpy(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(f8.buffer)), "a.npy");
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4]);
    const be = new Uint8Array(8);
    new DataView(be.buffer).setInt32(0, -7, false);
    new DataView(be.buffer).setInt32(4, 9, false);
    const b = parseNpy(npy("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be), "b.npy");
    expect([b.rows, b.cols, ...b.data]).toEqual([2, 1, -7, 9]);
  });

  it("names the file and the problem for bad input", () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), "x.npy")).toThrow(/x\.npy: not a \.npy file/);
    expect(() => parseNpy(npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }", new Uint8Array(16)), "c.npy")).toThrow(/c16 is not a supported/);
    expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(8)), "t.npy")).toThrow(/truncated/);
    expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", new Uint8Array(96)), "s.npy")).toThrow(/1-D or 2-D/);
  });
});
