/**
 * Seeded generator of malformed import batches, built from the real files of ../shared/data
 * (materials.ts). The same seed and count give the same cases, byte for byte, so a failure seen in
 * CI is reproduced with `FUZZ_SEED=<seed> npm run fuzz:import`.
 *
 * Each case says what a correct import must do with it: "reject" (and which file the issues must
 * name), "import", or "either" (a random bit flip may land in a byte nothing reads). Whatever the
 * expectation, the runner (run.ts) also checks the invariants: no exception escapes, a rejected
 * batch writes nothing, no file lands outside the storage folder, memory stays bounded.
 */
import type { InputFile } from "../../import/plan";
import type { ColumnMapping } from "../../import/tables";
import { createRng, type Rng } from "@/workers/ml/rng";
import { loadFuzzMaterials, type FuzzMaterials, type NamedBytes } from "./materials";
import { crc32, writeRawZip } from "./zip-writer";
import { deflateSync } from "fflate";

export type Expectation = "reject" | "import" | "either";

export interface FuzzCase {
  index: number;
  kind: string;
  variant: string;
  files: InputFile[];
  mapping: ColumnMapping;
  expect: Expectation;
  /** A rejection must carry an issue naming this file (or an entry inside it, "archive.zip/…"). */
  target?: string;
  /** A rejection must carry an issue with a line number (row-level faults of tables). */
  wantsLine?: boolean;
  /** The name a path-traversal entry tried to write; it must exist nowhere afterwards. */
  escapeName?: string;
}

const pick = <T>(rng: Rng, list: readonly T[]): T => list[rng.int(list.length)]!;
const utf8 = (text: string) => new TextEncoder().encode(text);
const copy = (bytes: Uint8Array) => new Uint8Array(bytes);

// --- DICOM helpers ---------------------------------------------------------------------------

/** Offset of the (0002,0010) Transfer Syntax UID element in explicit-VR file meta, or -1. */
function findTransferSyntax(bytes: Uint8Array): number {
  for (let i = 132; i + 8 < Math.min(bytes.length, 2048); i++) {
    if (bytes[i] === 0x02 && bytes[i + 1] === 0x00 && bytes[i + 2] === 0x10 && bytes[i + 3] === 0x00 && bytes[i + 4] === 0x55 && bytes[i + 5] === 0x49) return i;
  }
  return -1;
}

/** Replaces the Transfer Syntax UID (padded to even length) and fixes the meta group length. */
function withTransferSyntax(bytes: Uint8Array, uid: string): Uint8Array {
  const at = findTransferSyntax(bytes);
  if (at < 0) return bytes;
  const oldLength = bytes[at + 6]! | (bytes[at + 7]! << 8);
  const value = utf8(uid.length % 2 ? `${uid}\0` : uid);
  const out = new Uint8Array(bytes.length - oldLength + value.length);
  out.set(bytes.subarray(0, at + 6), 0);
  out[at + 6] = value.length & 0xff;
  out[at + 7] = value.length >> 8;
  out.set(value, at + 8);
  out.set(bytes.subarray(at + 8 + oldLength), at + 8 + value.length);
  // (0002,0000) UL group length right after the marker, when present.
  if (out[132] === 0x02 && out[133] === 0x00 && out[134] === 0x00 && out[135] === 0x00) {
    const view = new DataView(out.buffer);
    view.setUint32(140, view.getUint32(140, true) + value.length - oldLength, true);
  }
  return out;
}

const UNDECODABLE_SYNTAXES = ["1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.92", "1.2.3.4.5.6", "", "not-a-uid", "1.2.840.10008.1.2.4.50.1"];
const DECODABLE_SYNTAXES = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.1.99"];

// --- the mutation kinds -------------------------------------------------------------------------

type Build = (rng: Rng, m: FuzzMaterials, index: number) => Omit<FuzzCase, "index" | "kind">;

const dicomName = (_rng: Rng, base: NamedBytes, index: number) => `${index}-${base.name}`;

const KINDS: Record<string, Build> = {
  "dicom-truncated": (rng, m, index) => {
    const base = pick(rng, m.dicom);
    const cut = rng.int(base.bytes.length); // 0 … length-1: always shorter than the original
    const name = dicomName(rng, base, index);
    return { variant: cut < 132 ? "before-marker" : "after-marker", files: [{ name, bytes: base.bytes.slice(0, cut) }], mapping: {}, expect: "reject", target: name };
  },
  "dicom-bit-flip": (rng, m, index) => {
    const base = pick(rng, m.dicom);
    const bytes = copy(base.bytes);
    const flips = 1 + rng.int(16);
    // Half the time the flips land in the first KiB (file meta and the attributes the checks read),
    // otherwise anywhere (mostly pixel data, which any value fills legitimately).
    const inHeader = rng.int(2) === 0;
    const span = inHeader ? Math.min(bytes.length, 1024) : bytes.length;
    for (let f = 0; f < flips; f++) {
      const at = rng.int(span);
      bytes[at]! ^= 1 << rng.int(8);
    }
    const name = dicomName(rng, base, index);
    return { variant: `${flips === 1 ? "1 bit" : "2-16 bits"}${inHeader ? " in the header" : ""}`, files: [{ name, bytes }], mapping: {}, expect: "either", target: name };
  },
  "dicom-header": (rng, m, index) => {
    const base = pick(rng, m.dicom);
    const name = dicomName(rng, base, index);
    const variant = pick(rng, ["no-marker", "no-preamble", "garbled-meta", "huge-length", "zero-rows"] as const);
    let bytes = copy(base.bytes);
    let expect: Expectation = "either";
    if (variant === "no-marker") {
      bytes.set(utf8(pick(rng, ["DICN", "\0\0\0\0", "dicm"])), 128);
      expect = "reject";
    } else if (variant === "no-preamble") {
      const cut = 128 + rng.int(5);
      bytes = bytes.slice(cut);
      // From byte 132 the file starts with its meta group, which the viewer reads like a Part-10 file
      // (the reference set's JLSN_RGB_ILV0.dcm); a cut inside "DICM" leaves neither.
      expect = cut === 132 ? "import" : "reject";
    } else if (variant === "garbled-meta") {
      for (let i = 132; i < Math.min(bytes.length, 132 + 200); i++) if (rng.int(6) === 0) bytes[i] = rng.int(256);
    } else if (variant === "huge-length") {
      // A value-length field claims far more than the file holds.
      const at = 132 + rng.int(Math.max(1, bytes.length - 140));
      new DataView(bytes.buffer).setUint32(at, 0x7ffffff0 + rng.int(16), true);
    } else {
      // Rows (0028,0010) US = 0 in an explicit-VR little-endian dataset.
      for (let i = 132; i + 10 < bytes.length; i++) {
        if (bytes[i] === 0x28 && bytes[i + 1] === 0x00 && bytes[i + 2] === 0x10 && bytes[i + 3] === 0x00 && bytes[i + 4] === 0x55 && bytes[i + 5] === 0x53) {
          bytes[i + 8] = 0;
          bytes[i + 9] = 0;
          expect = "reject";
          break;
        }
      }
    }
    return { variant, files: [{ name, bytes }], mapping: {}, expect, target: name };
  },
  "dicom-transfer-syntax": (rng, m, index) => {
    const base = pick(rng, m.dicom);
    const name = dicomName(rng, base, index);
    if (rng.int(2) === 0) {
      return { variant: "undecodable", files: [{ name, bytes: withTransferSyntax(base.bytes, pick(rng, UNDECODABLE_SYNTAXES)) }], mapping: {}, expect: "reject", target: name };
    }
    // Another syntax the viewer knows, but not the one the dataset is encoded in.
    return { variant: "mismatched", files: [{ name, bytes: withTransferSyntax(base.bytes, pick(rng, DECODABLE_SYNTAXES)) }], mapping: {}, expect: "either", target: name };
  },
  "csv-quoting": (rng, m, index) => {
    const records = [...m.csv.records];
    const r = rng.int(records.length);
    const record = records[r]!;
    const variant = pick(rng, ["quote-in-unquoted", "unclosed-quote", "text-after-quote"] as const);
    if (variant === "quote-in-unquoted") records[r] = record.replace(/^(\d+),/, '$1x"y,');
    else if (variant === "unclosed-quote") records[r] = record.replace(/"$/, "");
    else records[r] = record.replace(/^(\d+),"/, '$1,"a"b');
    const name = `${index}-notes.csv`;
    const text = `${m.csv.text.split("\n")[0]}\n${records.join("\n")}\n`;
    return { variant, files: [{ name, bytes: utf8(text) }], mapping: {}, expect: "reject", target: name, wantsLine: true };
  },
  "csv-encoding": (rng, m, index) => {
    const variant = pick(rng, ["latin-1", "utf-16le-bom", "utf-16be-bom"] as const);
    const text = m.csv.text.replace("allergies", "allergies (café, Müller, naïve)");
    let bytes: Uint8Array;
    if (variant === "latin-1") bytes = Uint8Array.from(text, (ch) => (ch.charCodeAt(0) < 256 ? ch.charCodeAt(0) : 0x3f));
    else {
      const le = variant === "utf-16le-bom";
      bytes = new Uint8Array(2 + text.length * 2);
      bytes.set(le ? [0xff, 0xfe] : [0xfe, 0xff], 0);
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        bytes[2 + 2 * i] = le ? code & 0xff : code >> 8;
        bytes[3 + 2 * i] = le ? code >> 8 : code & 0xff;
      }
    }
    const name = `${index}-notes.csv`;
    return { variant, files: [{ name, bytes }], mapping: {}, expect: "reject", target: name };
  },
  "csv-huge-field": (rng, m, index) => {
    const megabytes = 1 + rng.int(6);
    const words = ["lung", "nodule", "stable", "no", "effusion", "follow-up", "recommended", "left", "right", "lobe"];
    const parts: string[] = [];
    let length = 0;
    while (length < megabytes * 1024 * 1024) {
      const word = pick(rng, words);
      parts.push(word);
      length += word.length + 1;
    }
    const huge = parts.join(" ");
    const name = `${index}-notes.csv`;
    if (rng.int(3) === 0) {
      // The huge field opens a quote and never closes it: the rest of the file is unreadable.
      return { variant: "unterminated", files: [{ name, bytes: utf8(`note_id,transcription\n1,"${huge}\n2,short\n`) }], mapping: {}, expect: "reject", target: name, wantsLine: true };
    }
    return { variant: `${megabytes} MB narrative`, files: [{ name, bytes: utf8(`note_id,transcription\n${index}-big,"${huge}"\n${index}-small,A short one.\n`) }], mapping: {}, expect: "import" };
  },
  "csv-missing-columns": (rng, m, index) => {
    const name = `${index}-notes.csv`;
    const lines = m.csv.text.split("\n");
    const variant = pick(rng, ["header-lacks-text", "no-id-column", "row-lacks-field", "mapped-column-absent"] as const);
    if (variant === "header-lacks-text") {
      lines[0] = lines[0]!.replace(',"transcription"', "");
      return { variant, files: [{ name, bytes: utf8(lines.join("\n")) }], mapping: {}, expect: "reject", target: name, wantsLine: true };
    }
    if (variant === "no-id-column") {
      lines[0] = lines[0]!.replace('"note_id"', '"number"');
      return { variant, files: [{ name, bytes: utf8(lines.join("\n")) }], mapping: {}, expect: "reject", target: name };
    }
    if (variant === "row-lacks-field") {
      const records = [...m.csv.records];
      const r = rng.int(records.length);
      records[r] = records[r]!.replace(/,"[^"]*"$/, ""); // drop the last (keywords) field
      return { variant, files: [{ name, bytes: utf8(`${lines[0]}\n${records.join("\n")}\n`) }], mapping: {}, expect: "reject", target: name, wantsLine: true };
    }
    return { variant, files: [{ name, bytes: utf8(m.csv.text) }], mapping: { textCol: "report_text" }, expect: "reject", target: name };
  },
  "jsonl-invalid": (rng, m, index) => {
    const lines = [...m.jsonl];
    const bad = 1 + rng.int(3);
    for (let b = 0; b < bad; b++) {
      const r = rng.int(lines.length);
      lines[r] = pick(rng, [
        lines[r]!.slice(0, rng.int(lines[r]!.length)),
        "[1, 2, 3]",
        "null",
        "{'note_id': 1}",
        `${lines[r]!.slice(0, -1)},}`,
        '"just a string"',
        "{\"note_id\": 1, \"transcription\": \"a\"} trailing",
      ]);
    }
    const name = `${index}-notes.jsonl`;
    return { variant: `${bad} bad line(s)`, files: [{ name, bytes: utf8(lines.join("\n") + "\n") }], mapping: {}, expect: "reject", target: name, wantsLine: true };
  },
  "zip-path-traversal": (rng, m, index) => {
    const escapeName = `fuzz-escape-${index}.dcm`;
    const evil = pick(rng, [`../../${escapeName}`, `../${escapeName}`, `/tmp/${escapeName}`, `C:/${escapeName}`, `a\\..\\..\\${escapeName}`, `ok/../../${escapeName}`]);
    const good = pick(rng, m.dicom);
    const name = `${index}-upload.zip`;
    const zip = writeRawZip([{ name: good.name, data: good.bytes }, { name: evil, data: pick(rng, m.dicom).bytes }]);
    return { variant: evil.startsWith("/") ? "absolute" : evil.includes("\\") ? "backslash" : /^[A-Z]:/.test(evil) ? "drive-letter" : "dot-dot", files: [{ name, bytes: zip }], mapping: {}, expect: "reject", target: name, escapeName };
  },
  "zip-symlink": (rng, m, index) => {
    const name = `${index}-upload.zip`;
    const zip = writeRawZip([
      { name: "scan.dcm", data: pick(rng, m.dicom).bytes },
      { name: pick(rng, ["link.dcm", "series/link.dcm", "notes.csv"]), data: utf8(pick(rng, ["/etc/passwd", "../../../../root/.ssh/id_rsa", "/proc/self/environ"])), method: 0, unixMode: 0o120777 },
    ]);
    return { variant: "unix symlink entry", files: [{ name, bytes: zip }], mapping: {}, expect: "reject", target: name };
  },
  "zip-nested": (rng, m, index) => {
    const inner = writeRawZip([{ name: "inner.dcm", data: pick(rng, m.dicom).bytes }]);
    const name = `${index}-upload.zip`;
    const zip = writeRawZip([{ name: pick(rng, ["inner.zip", "deep/inner.ZIP"]), data: inner }, { name: "notes.csv", data: utf8(m.csv.text) }]);
    return { variant: "zip inside zip", files: [{ name, bytes: zip }], mapping: {}, expect: "reject", target: name };
  },
  "zip-bomb": (rng, _m, index) => {
    const name = `${index}-bomb.zip`;
    const variant = pick(rng, ["one-huge-entry", "lying-size", "many-small-entries"] as const);
    if (variant === "one-huge-entry") {
      return { variant, files: [{ name, bytes: writeRawZip([{ name: "zeros.dcm", data: EMPTY, compressed: deflatedZeros(64 << 20), crc: zeroCrc(64 << 20), declaredSize: 64 << 20 }]) }], mapping: {}, expect: "reject", target: name };
    }
    if (variant === "lying-size") {
      // 64 MiB of zeros whose headers say 1,000 bytes: the ratio check cannot see it; inflation must stop.
      return { variant, files: [{ name, bytes: writeRawZip([{ name: "zeros.dcm", data: EMPTY, compressed: deflatedZeros(64 << 20), crc: zeroCrc(64 << 20), declaredSize: 1000 }]) }], mapping: {}, expect: "reject", target: name };
    }
    // Entries just under the 1 MiB per-entry ratio check, many of them: ~1 GiB from a ~1 MiB upload.
    const size = (1 << 20) - 1;
    const count = 1000;
    const block = deflatedZeros(size);
    const crc = zeroCrc(size);
    const entries = Array.from({ length: count }, (_, i) => ({ name: `part-${i}.dcm`, data: EMPTY, compressed: block, crc, declaredSize: size }));
    return { variant, files: [{ name, bytes: writeRawZip(entries) }], mapping: {}, expect: "reject", target: name };
  },
  "zip-damaged": (rng, m, index) => {
    const name = `${index}-upload.zip`;
    const zip = writeRawZip([{ name: "a.dcm", data: pick(rng, m.dicom).bytes }, { name: "notes.csv", data: utf8(m.csv.text) }]);
    const variant = pick(rng, ["truncated", "bit-flip", "bad-crc"] as const);
    if (variant === "truncated") return { variant, files: [{ name, bytes: zip.slice(0, rng.int(zip.length)) }], mapping: {}, expect: "reject", target: name };
    if (variant === "bad-crc") {
      const bytes = writeRawZip([{ name: "a.dcm", data: pick(rng, m.dicom).bytes, crc: rng.int(0xffffffff) }]);
      return { variant, files: [{ name, bytes }], mapping: {}, expect: "reject", target: name };
    }
    const bytes = copy(zip);
    for (let f = 0; f < 1 + rng.int(8); f++) bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
    return { variant, files: [{ name, bytes }], mapping: {}, expect: "either", target: name };
  },
  "image-wrong-extension": (rng, m, index) => {
    const variant = pick(rng, ["png-as-jpg", "jpeg-as-png", "jpeg-as-dcm", "dicom-as-png", "dicom-as-jpg", "csv-as-dcm", "text-as-jpg", "truncated-jpeg", "truncated-png", "random-bytes-as-png"] as const);
    const stem = `${index}-img`;
    switch (variant) {
      case "png-as-jpg":
        return { variant, files: [{ name: `${stem}.jpg`, bytes: m.png.bytes }], mapping: {}, expect: "import" };
      case "jpeg-as-png":
        return { variant, files: [{ name: `${stem}.png`, bytes: m.jpeg.bytes }], mapping: {}, expect: "import" };
      case "jpeg-as-dcm":
        return { variant, files: [{ name: `${stem}.dcm`, bytes: m.jpeg.bytes }], mapping: {}, expect: "import" };
      case "dicom-as-png":
        return { variant, files: [{ name: `${stem}.png`, bytes: pick(rng, m.dicom).bytes }], mapping: {}, expect: "import" };
      case "dicom-as-jpg":
        return { variant, files: [{ name: `${stem}.jpg`, bytes: pick(rng, m.dicom).bytes }], mapping: {}, expect: "import" };
      case "csv-as-dcm":
        return { variant, files: [{ name: `${stem}.dcm`, bytes: utf8(m.csv.text) }], mapping: {}, expect: "reject", target: `${stem}.dcm` };
      case "text-as-jpg":
        return { variant, files: [{ name: `${stem}.jpg`, bytes: utf8("this is not an image\n") }], mapping: {}, expect: "reject", target: `${stem}.jpg` };
      case "truncated-jpeg":
        return { variant, files: [{ name: `${stem}.jpg`, bytes: m.jpeg.bytes.slice(0, 3 + rng.int(m.jpeg.bytes.length - 40)) }], mapping: {}, expect: "reject", target: `${stem}.jpg` };
      case "truncated-png":
        return { variant, files: [{ name: `${stem}.png`, bytes: m.png.bytes.slice(0, 8 + rng.int(m.png.bytes.length - 20)) }], mapping: {}, expect: "reject", target: `${stem}.png` };
      default: {
        const bytes = new Uint8Array(64 + rng.int(4096));
        for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
        bytes[0] = 0x89; // PNG's first byte only: the rest is noise
        return { variant, files: [{ name: `${stem}.png`, bytes }], mapping: {}, expect: "reject", target: `${stem}.png` };
      }
    }
  },
  "valid-control": (rng, m, index) => {
    const variant = pick(rng, ["csv", "jsonl", "dicom", "zip-mixed"] as const);
    if (variant === "csv") return { variant, files: [{ name: `${index}-notes.csv`, bytes: utf8(m.csv.text) }], mapping: {}, expect: "import" };
    if (variant === "jsonl") return { variant, files: [{ name: `${index}-notes.jsonl`, bytes: utf8(m.jsonl.join("\n") + "\n") }], mapping: {}, expect: "import" };
    if (variant === "dicom") {
      const base = pick(rng, m.dicom);
      return { variant, files: [{ name: base.name, bytes: base.bytes }], mapping: {}, expect: "import" };
    }
    const zip = writeRawZip([
      { name: "series/a.dcm", data: pick(rng, m.dicom).bytes },
      { name: "xray.jpg", data: m.jpeg.bytes, method: 0 },
      { name: "notes.csv", data: utf8(m.csv.text) },
    ]);
    return { variant, files: [{ name: `${index}-upload.zip`, bytes: zip }], mapping: {}, expect: "import" };
  },
};

export const FUZZ_KINDS = Object.keys(KINDS);

const EMPTY = new Uint8Array(0);
const zeroCache = new Map<number, { deflated: Uint8Array; crc: number }>();
function zeroEntry(n: number) {
  let entry = zeroCache.get(n);
  if (!entry) {
    const data = new Uint8Array(n); // only its compressed form and CRC are kept
    entry = { deflated: deflateSync(data, { level: 9 }), crc: crc32(data) };
    zeroCache.set(n, entry);
  }
  return entry;
}
const deflatedZeros = (n: number) => zeroEntry(n).deflated;
const zeroCrc = (n: number) => zeroEntry(n).crc;

/** `count` cases from `seed`: kinds in rotation (every kind gets its share), details from the seeded RNG. */
export function* generateFuzzCases(seed: number, count: number, materials: FuzzMaterials = loadFuzzMaterials()): Generator<FuzzCase> {
  const rng = createRng(seed);
  for (let index = 0; index < count; index++) {
    const kind = FUZZ_KINDS[index % FUZZ_KINDS.length]!;
    const built = KINDS[kind]!(rng.fork(), materials, index);
    yield { index, kind, ...built };
  }
}
