import { describe, expect, it } from "vitest";
import {
  IMPLEMENTATION_CLASS_UID,
  SOP_CLASS_MULTIFRAME_GRAYSCALE_WORD_SC,
  SOP_CLASS_SECONDARY_CAPTURE,
  TRANSFER_SYNTAX_EXPLICIT_VR_LITTLE_ENDIAN,
  encodeElements,
  formatDecimalString,
  tag,
  uidFromName,
  writeDicom,
  type DicomImageSpec,
} from "./dicom-writer";

/**
 * An independent, minimal Explicit VR Little Endian reader. It decides the header layout from the
 * VR it reads (not from the writer's tables), so a wrong length rule in the writer shows up as a
 * mis-parse here.
 */
interface ParsedElement {
  tag: number;
  vr: string;
  /** Offset of the element's header in the file. */
  offset: number;
  headerLength: number;
  length: number;
  value: Uint8Array;
}

const LONG_VRS_PER_STANDARD = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];

function parseElements(bytes: Uint8Array, start: number, end: number): ParsedElement[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ParsedElement[] = [];
  let pos = start;
  while (pos < end) {
    const group = view.getUint16(pos, true);
    const element = view.getUint16(pos + 2, true);
    const vr = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!);
    expect(vr).toMatch(/^[A-Z]{2}$/);
    let headerLength: number;
    let length: number;
    if (LONG_VRS_PER_STANDARD.includes(vr)) {
      expect(view.getUint16(pos + 6, true)).toBe(0); // reserved bytes
      length = view.getUint32(pos + 8, true);
      headerLength = 12;
    } else {
      length = view.getUint16(pos + 6, true);
      headerLength = 8;
    }
    const valueStart = pos + headerLength;
    expect(valueStart + length).toBeLessThanOrEqual(end);
    out.push({ tag: ((group << 16) | element) >>> 0, vr, offset: pos, headerLength, length, value: bytes.subarray(valueStart, valueStart + length) });
    pos = valueStart + length;
  }
  expect(pos).toBe(end);
  return out;
}

function parseFile(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Group length element sits right after "DICM": (0002,0000) UL, 2-byte length 4, value.
  const groupLength = view.getUint32(132 + 8, true);
  const metaEnd = 132 + 12 + groupLength;
  const meta = parseElements(bytes, 132, metaEnd);
  const dataset = parseElements(bytes, metaEnd, bytes.length);
  return { meta, dataset, metaEnd };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** Strips the single padding byte the standard allows (NUL for UI, space for text). */
const str = (e: ParsedElement | undefined) => text(e!.value).replace(/[\0 ]+$/, "");
const us = (e: ParsedElement | undefined) => new DataView(e!.value.buffer, e!.value.byteOffset).getUint16(0, true);
const find = (list: ParsedElement[], t: number) => list.find((e) => e.tag === t);

function sampleSpec(overrides: Partial<DicomImageSpec> = {}): DicomImageSpec {
  const rows = 4;
  const columns = 6;
  const frames = overrides.numberOfFrames ?? 1;
  const pixels = new Uint16Array(rows * columns * frames);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 4096;
  return {
    sopInstanceUid: uidFromName("test/sop/1"),
    studyInstanceUid: uidFromName("test/study/1"),
    seriesInstanceUid: uidFromName("test/series/1"),
    patientName: "DEMO^PATIENT^0007",
    patientId: "DEMO-0007",
    modality: "CT",
    bodyPartExamined: "CHEST",
    studyDate: "20240131",
    seriesDescription: "Synthetic axial",
    rows,
    columns,
    bitsStored: 12,
    pixelSpacing: [0.68359375, 0.7],
    windowCenter: 40,
    windowWidth: 400,
    rescaleSlope: 1,
    rescaleIntercept: -1024,
    pixelData: pixels,
    ...overrides,
  };
}

describe("writeDicom", () => {
  it("writes the preamble, the DICM prefix and a correct File Meta group", () => {
    const bytes = writeDicom(sampleSpec());
    expect(bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(text(bytes.subarray(128, 132))).toBe("DICM");

    // (0002,0000) UL with 2-byte length 4, at a fixed offset.
    expect(Array.from(bytes.subarray(132, 140))).toEqual([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00]);
    const { meta, metaEnd } = parseFile(bytes);
    expect(meta.every((e) => e.tag >>> 16 === 0x0002)).toBe(true);
    // The group length covers exactly the rest of group 0002: the next element is no longer group 2.
    const nextGroup = new DataView(bytes.buffer, bytes.byteOffset).getUint16(metaEnd, true);
    expect(nextGroup).toBe(0x0008);

    expect(Array.from(find(meta, tag(2, 1))!.value)).toEqual([0, 1]);
    expect(find(meta, tag(2, 1))!.headerLength).toBe(12); // OB: reserved + 4-byte length
    expect(str(find(meta, tag(2, 2)))).toBe(SOP_CLASS_SECONDARY_CAPTURE);
    expect(str(find(meta, tag(2, 3)))).toBe(uidFromName("test/sop/1"));
    expect(str(find(meta, tag(2, 0x10)))).toBe(TRANSFER_SYNTAX_EXPLICIT_VR_LITTLE_ENDIAN);
    expect(str(find(meta, tag(2, 0x12)))).toBe(IMPLEMENTATION_CLASS_UID);
  });

  it("keeps every group in ascending tag order with even lengths and the right header form", () => {
    const { meta, dataset } = parseFile(writeDicom(sampleSpec({ numberOfFrames: 3, rescaleIntercept: 0 })));
    for (const list of [meta, dataset]) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.tag).toBeGreaterThan(list[i - 1]!.tag);
      for (const e of list) {
        expect(e.length % 2).toBe(0);
        expect(e.headerLength).toBe(LONG_VRS_PER_STANDARD.includes(e.vr) ? 12 : 8);
      }
    }
    expect(dataset.at(-1)!.tag).toBe(tag(0x7fe0, 0x0010));
  });

  it("encodes the image attributes with their VRs and values", () => {
    const { dataset } = parseFile(writeDicom(sampleSpec()));
    const expectVr = (t: number, vr: string) => expect(find(dataset, t)?.vr, `VR of ${t.toString(16)}`).toBe(vr);
    expectVr(tag(0x0008, 0x0016), "UI");
    expectVr(tag(0x0008, 0x0020), "DA");
    expectVr(tag(0x0008, 0x0060), "CS");
    expectVr(tag(0x0008, 0x103e), "LO");
    expectVr(tag(0x0010, 0x0010), "PN");
    expectVr(tag(0x0010, 0x0020), "LO");
    expectVr(tag(0x0018, 0x0015), "CS");
    expectVr(tag(0x0028, 0x0010), "US");
    expectVr(tag(0x0028, 0x0030), "DS");
    expectVr(tag(0x7fe0, 0x0010), "OW");

    expect(str(find(dataset, tag(0x0008, 0x0016)))).toBe(SOP_CLASS_SECONDARY_CAPTURE);
    expect(str(find(dataset, tag(0x0008, 0x0020)))).toBe("20240131");
    expect(str(find(dataset, tag(0x0008, 0x0060)))).toBe("CT");
    expect(str(find(dataset, tag(0x0008, 0x0064)))).toBe("SYN");
    expect(str(find(dataset, tag(0x0010, 0x0010)))).toBe("DEMO^PATIENT^0007");
    expect(str(find(dataset, tag(0x0010, 0x0020)))).toBe("DEMO-0007");
    expect(str(find(dataset, tag(0x0018, 0x0015)))).toBe("CHEST");
    expect(str(find(dataset, tag(0x0008, 0x103e)))).toBe("Synthetic axial");
    expect(str(find(dataset, tag(0x0020, 0x000d)))).toBe(uidFromName("test/study/1"));
    expect(str(find(dataset, tag(0x0020, 0x000e)))).toBe(uidFromName("test/series/1"));
    expect(str(find(dataset, tag(0x0028, 0x0004)))).toBe("MONOCHROME2");
    expect(us(find(dataset, tag(0x0028, 0x0010)))).toBe(4);
    expect(us(find(dataset, tag(0x0028, 0x0011)))).toBe(6);
    expect(us(find(dataset, tag(0x0028, 0x0100)))).toBe(16);
    expect(us(find(dataset, tag(0x0028, 0x0101)))).toBe(12);
    expect(us(find(dataset, tag(0x0028, 0x0102)))).toBe(11);
    expect(us(find(dataset, tag(0x0028, 0x0103)))).toBe(0);
    expect(str(find(dataset, tag(0x0028, 0x0030)))).toBe("0.68359375\\0.7");
    expect(str(find(dataset, tag(0x0028, 0x1050)))).toBe("40");
    expect(str(find(dataset, tag(0x0028, 0x1051)))).toBe("400");
    expect(str(find(dataset, tag(0x0028, 0x1052)))).toBe("-1024");
    expect(str(find(dataset, tag(0x0028, 0x1053)))).toBe("1");
    // Single frame: no Multi-frame module.
    expect(find(dataset, tag(0x0028, 0x0008))).toBeUndefined();
  });

  it("pads UIDs with NUL and text with a space", () => {
    const { meta, dataset } = parseFile(writeDicom(sampleSpec({ seriesDescription: "Odd" })));
    const transfer = find(meta, tag(2, 0x10))!; // "1.2.840.10008.1.2.1" has 19 characters
    expect(transfer.length).toBe(20);
    expect(transfer.value[19]).toBe(0x00);
    const description = find(dataset, tag(0x0008, 0x103e))!;
    expect(Array.from(description.value)).toEqual([...new TextEncoder().encode("Odd"), 0x20]);
  });

  it("stores pixel data as rows*columns*frames 16-bit little-endian samples", () => {
    const spec = sampleSpec({ numberOfFrames: 3, rescaleIntercept: 0 });
    const { dataset } = parseFile(writeDicom(spec));
    const pixels = find(dataset, tag(0x7fe0, 0x0010))!;
    expect(pixels.length).toBe(4 * 6 * 3 * 2);
    const view = new DataView(pixels.value.buffer, pixels.value.byteOffset, pixels.value.byteLength);
    for (let i = 0; i < spec.pixelData.length; i++) expect(view.getUint16(i * 2, true)).toBe(spec.pixelData[i]);
  });

  it("writes multi-frame files as Multi-frame Grayscale Word SC with a frame increment pointer", () => {
    const spec = sampleSpec({ numberOfFrames: 3, rescaleIntercept: 0, sliceLocations: [-5, 0, 5] });
    const { meta, dataset } = parseFile(writeDicom(spec));
    expect(str(find(meta, tag(2, 2)))).toBe(SOP_CLASS_MULTIFRAME_GRAYSCALE_WORD_SC);
    expect(str(find(dataset, tag(0x0008, 0x0016)))).toBe(SOP_CLASS_MULTIFRAME_GRAYSCALE_WORD_SC);
    expect(str(find(dataset, tag(0x0028, 0x0008)))).toBe("3");
    const pointer = find(dataset, tag(0x0028, 0x0009))!;
    expect(pointer.vr).toBe("AT");
    expect(Array.from(pointer.value)).toEqual([0x18, 0x00, 0x05, 0x20]); // (0018,2005), group first
    expect(str(find(dataset, tag(0x0018, 0x2005)))).toBe("-5\\0\\5");
    expect(str(find(dataset, tag(0x2050, 0x0020)))).toBe("IDENTITY");
  });

  it("is deterministic", () => {
    expect(writeDicom(sampleSpec())).toEqual(writeDicom(sampleSpec()));
  });

  it("rejects inconsistent specs instead of writing a broken file", () => {
    expect(() => writeDicom(sampleSpec({ pixelData: new Uint16Array(5) }))).toThrow(/expected rows\*columns\*frames/);
    expect(() => writeDicom(sampleSpec({ pixelData: new Uint16Array(24).fill(4096) }))).toThrow(/exceeds 12 bits/);
    expect(() => writeDicom(sampleSpec({ numberOfFrames: 2 }))).toThrow(/intercept 0/);
    expect(() => writeDicom(sampleSpec({ modality: "ct" }))).toThrow(/upper-case/);
    expect(() => writeDicom(sampleSpec({ studyDate: "2024-1-3" }))).toThrow(/YYYYMMDD/);
    expect(() => writeDicom(sampleSpec({ patientName: "Zoë^Demo" }))).toThrow(/printable ASCII/);
    expect(() => writeDicom(sampleSpec({ sopInstanceUid: "1.02.3" }))).toThrow(/not a valid UID/);
    expect(() => encodeElements([{ tag: 8, vr: "US", value: [1] }, { tag: 8, vr: "US", value: [2] }])).toThrow(/Duplicate/);
  });
});

describe("helpers", () => {
  it("mints valid, stable 2.25 UIDs", () => {
    const uid = uidFromName("anything");
    expect(uid).toBe(uidFromName("anything"));
    expect(uid).not.toBe(uidFromName("anything else"));
    expect(uid).toMatch(/^2\.25\.[1-9][0-9]*$/);
    expect(uid.length).toBeLessThanOrEqual(64);
    expect(IMPLEMENTATION_CLASS_UID).toMatch(/^2\.25\./);
  });

  it("formats decimal strings within 16 characters", () => {
    expect(formatDecimalString(400)).toBe("400");
    expect(formatDecimalString(-1024)).toBe("-1024");
    expect(formatDecimalString(0.5)).toBe("0.5");
    expect(formatDecimalString(1 / 3).length).toBeLessThanOrEqual(16);
    expect(Number(formatDecimalString(1 / 3))).toBeCloseTo(1 / 3, 12);
    expect(formatDecimalString(1e-20)).toBe("1e-20");
  });
});
