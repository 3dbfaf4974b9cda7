/**
 * NumPy `.npy` files (format versions 1–3, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * a 2-D numeric matrix read into a row-major Float32 `Matrix` (for precomputed embeddings), and
 * written back (`float32`, C order) for the notebook baseline to load.
 */
import type { Matrix } from "../../workers/ml/types";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Reader = (view: DataView, offset: number) => number;

const READERS: Record<string, { size: number; read: (little: boolean) => Reader }> = {
  f4: { size: 4, read: (le) => (v, o) => v.getFloat32(o, le) },
  f8: { size: 8, read: (le) => (v, o) => v.getFloat64(o, le) },
  f2: { size: 2, read: (le) => (v, o) => halfToFloat(v.getUint16(o, le)) },
  i1: { size: 1, read: () => (v, o) => v.getInt8(o) },
  u1: { size: 1, read: () => (v, o) => v.getUint8(o) },
  i2: { size: 2, read: (le) => (v, o) => v.getInt16(o, le) },
  u2: { size: 2, read: (le) => (v, o) => v.getUint16(o, le) },
  i4: { size: 4, read: (le) => (v, o) => v.getInt32(o, le) },
  u4: { size: 4, read: (le) => (v, o) => v.getUint32(o, le) },
  i8: { size: 8, read: (le) => (v, o) => Number(v.getBigInt64(o, le)) },
  u8: { size: 8, read: (le) => (v, o) => Number(v.getBigUint64(o, le)) },
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Parses a 2-D numeric `.npy` (1-D is read as one column).
 * @throws Error naming `file` and what is wrong (magic, header, dtype, order, shape, truncated data).
 */
export function parseNpy(bytes: Uint8Array, file: string): Matrix {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${file}: not a .npy file (missing the \\x93NUMPY magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new Error(`${file}: unsupported .npy format version ${major}`);
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  const kind = `${descr[2]}${descr[3]}`;
  const reader = READERS[kind];
  if (!reader) throw new Error(`${file}: dtype ${descr[1]}${kind} is not a supported numeric type (float, int or uint)`);
  const dims = shape[1]!.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (dims.length < 1 || dims.length > 2 || dims.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${file}: expected a 1-D or 2-D array, got shape (${shape[1]})`);
  const rows = dims[0]!;
  const cols = dims.length === 2 ? dims[1]! : 1;
  const dataStart = start + headerLen;
  const need = rows * cols * reader.size;
  if (bytes.length - dataStart < need) throw new Error(`${file}: truncated: shape (${rows}, ${cols}) needs ${need} bytes of data, the file has ${bytes.length - dataStart}`);
  const read = reader.read(descr[1] !== ">");
  const out = new Float32Array(rows * cols);
  const isFortran = fortran[1] === "True";
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const src = isFortran ? j * rows + i : i * cols + j;
      out[i * cols + j] = read(view, dataStart + src * reader.size);
    }
  }
  return { data: out, rows, cols };
}

/** A float32, C-order `.npy` (version 1.0) of the matrix. */
export function writeNpy(m: Matrix): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  // Total header (magic 6 + version 2 + length 2 + text + newline) padded to a multiple of 64.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + " ".repeat(pad % 64) + "\n";
  const out = new Uint8Array(10 + header.length + m.rows * m.cols * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const base = 10 + header.length;
  for (let i = 0; i < m.data.length; i++) view.setFloat32(base + 4 * i, m.data[i]!, true);
  return out;
}
