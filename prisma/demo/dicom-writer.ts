/**
 * A small DICOM Part-10 writer for the demo data (PS3.10 file format, PS3.5 encoding).
 *
 * Scope is deliberately narrow: 16-bit unsigned MONOCHROME2 images, one or many frames, written
 * in Explicit VR Little Endian. That is enough for the viewer, the importer and their tests to
 * work on real DICOM bytes without any third-party file in the repository.
 *
 * SOP classes: a single frame is Secondary Capture Image Storage; several frames are
 * Multi-frame Grayscale Word Secondary Capture Image Storage, because the plain SC IOD has no
 * Multi-frame module. Conversion Type is "SYN" (synthetic image) so nobody mistakes the files
 * for acquisitions. The output is a pure function of the spec: no clock, no randomness.
 */
import crypto from "node:crypto";

export const SOP_CLASS_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";
export const SOP_CLASS_MULTIFRAME_GRAYSCALE_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3";
export const TRANSFER_SYNTAX_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";

/**
 * UUID-derived UIDs (ISO/IEC 9834-8, the "2.25." arc) need no registered organisation root, so
 * the platform can mint valid UIDs without claiming someone else's namespace.
 */
const UID_NAMESPACE = "rads-annotate/demo-dicom";
/** Identifies this writer in the File Meta header (PS3.7 Annex D: every implementation has one). */
export const IMPLEMENTATION_CLASS_UID = uidFromName("implementation-class/1");
export const IMPLEMENTATION_VERSION_NAME = "RADS_DEMO_1";

/**
 * Deterministic UID for a name: a name-based (version 5, SHA-1) UUID rendered as one integer
 * under "2.25.". The same name always gives the same UID, which keeps the demo files
 * byte-identical across runs (their blob keys are content hashes).
 */
export function uidFromName(name: string): string {
  const hash = crypto.createHash("sha1").update(UID_NAMESPACE).update("\0").update(name).digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return `2.25.${BigInt(`0x${bytes.toString("hex")}`).toString(10)}`;
}

/** Value representations this writer can encode (PS3.5 §6.2). */
export type DicomVr = "AT" | "CS" | "DA" | "DS" | "IS" | "LO" | "OB" | "OW" | "PN" | "SH" | "TM" | "UI" | "UL" | "US";

/**
 * VRs whose explicit-VR header is tag, VR, two reserved zero bytes and a 4-byte length
 * (PS3.5 §7.1.2). Every other VR uses a 2-byte length directly after the VR.
 */
const LONG_LENGTH_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

/** Maximum bytes per value for the text VRs (PS3.5 table 6.2-1); PN is 64 per component group. */
const MAX_VALUE_LENGTH: Partial<Record<DicomVr, number>> = { CS: 16, DA: 8, DS: 16, IS: 12, LO: 64, PN: 64, SH: 16, TM: 14, UI: 64 };

export function isLongLengthVr(vr: string): boolean {
  return LONG_LENGTH_VRS.has(vr);
}

export interface DicomElement {
  /** (group << 16) | element, e.g. 0x00280010 for Rows. */
  tag: number;
  vr: DicomVr;
  /** Text VRs: the value(s) as strings; US/UL: numbers; AT: tags as numbers; OB/OW: raw bytes. */
  value: string | readonly string[] | readonly number[] | Uint8Array;
}

/** What one demo image file contains. Pixel data is frame after frame, row-major within a frame. */
export interface DicomImageSpec {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** DICOM person name ("FAMILY^GIVEN^MIDDLE"). The demo passes obviously fake names only. */
  patientName: string;
  patientId: string;
  /** YYYYMMDD; empty (type 2) unless given — tests use it to prove birth dates never reach a log. */
  patientBirthDate?: string;
  /** Modality of the simulated source study, e.g. "CT", "MR", "OT". */
  modality: string;
  bodyPartExamined?: string;
  /** YYYYMMDD */
  studyDate: string;
  /** HHMMSS (defaults to an empty, type-2 value). */
  studyTime?: string;
  /** Study ID (SH, not a patient identifier; defaults to an empty, type-2 value). */
  studyId?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  rows: number;
  columns: number;
  /** 1 (default) writes single-frame Secondary Capture; more writes Multi-frame Grayscale Word SC. */
  numberOfFrames?: number;
  /** Significant bits of each 16-bit sample; every sample must be below 2^bitsStored. */
  bitsStored: 12 | 16;
  /** [row spacing, column spacing] in millimetres. */
  pixelSpacing?: readonly [number, number];
  windowCenter?: number;
  windowWidth?: number;
  /** Multi-frame SC requires slope 1 and intercept 0 (PS3.3 C.8.6.3); single-frame allows any. */
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** Slice positions in mm, one per frame; defaults to 0, 1, 2, ... for multi-frame files. */
  sliceLocations?: readonly number[];
  /** rows * columns * numberOfFrames unsigned samples. */
  pixelData: Uint16Array;
}

/** Builds a tag from its group and element numbers. */
export function tag(group: number, element: number): number {
  return ((group & 0xffff) << 16 | (element & 0xffff)) >>> 0;
}

export function formatTag(t: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  return `(${hex(t >>> 16)},${hex(t & 0xffff)})`;
}

/**
 * Decimal String: at most 16 characters per value. Integers are written as integers; other
 * numbers get as many significant digits as fit, so 0.68359375 stays exact and 1/3 is rounded.
 */
export function formatDecimalString(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`DICOM DS cannot hold ${value}`);
  if (Number.isInteger(value) && String(value).length <= 16) return String(value);
  for (let digits = 15; digits >= 1; digits--) {
    let text = value.toPrecision(digits);
    if (text.includes("e")) text = text.replace(/\.?0+e/, "e");
    else if (text.includes(".")) text = text.replace(/\.?0+$/, "");
    if (text.length <= 16) return text;
  }
  throw new Error(`DICOM DS cannot hold ${value} in 16 characters`);
}

function formatIntegerString(value: number): string {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1) {
    throw new Error(`DICOM IS must be a 32-bit integer, got ${value}`);
  }
  return String(value);
}

// The default character repertoire (no Specific Character Set): printable ASCII only. Anything
// else would need (0008,0005) and a matching encoding, which the demo has no use for.
const DEFAULT_REPERTOIRE = /^[\x20-\x7e]*$/;

function checkTextValue(t: number, vr: DicomVr, value: string): void {
  if (!DEFAULT_REPERTOIRE.test(value) || value.includes("\\")) {
    throw new Error(`${formatTag(t)} ${vr}: "${value}" must be printable ASCII without backslashes`);
  }
  const max = MAX_VALUE_LENGTH[vr];
  if (vr === "PN") {
    for (const group of value.split("=")) {
      if (group.length > 64) throw new Error(`${formatTag(t)} PN component group longer than 64 characters`);
    }
  } else if (max !== undefined && value.length > max) {
    throw new Error(`${formatTag(t)} ${vr}: "${value}" is longer than ${max} characters`);
  }
  if (vr === "UI" && value !== "" && !/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(value)) {
    throw new Error(`${formatTag(t)} UI: "${value}" is not a valid UID (digits and dots, no leading zeros)`);
  }
  if (vr === "CS" && !/^[A-Z0-9 _]*$/.test(value)) {
    throw new Error(`${formatTag(t)} CS: "${value}" may only hold upper-case letters, digits, space and underscore`);
  }
  if (vr === "DA" && value !== "" && !/^\d{8}$/.test(value)) {
    throw new Error(`${formatTag(t)} DA: "${value}" is not YYYYMMDD`);
  }
}

const textEncoder = new TextEncoder();

/** The value bytes of one element, padded to even length the way its VR requires. */
function encodeValue(element: DicomElement): Uint8Array {
  const { tag: t, vr, value } = element;
  switch (vr) {
    case "US":
    case "UL": {
      const numbers = value as readonly number[];
      const size = vr === "US" ? 2 : 4;
      const out = new Uint8Array(numbers.length * size);
      const view = new DataView(out.buffer);
      numbers.forEach((n, i) => {
        const limit = vr === "US" ? 0xffff : 0xffffffff;
        if (!Number.isInteger(n) || n < 0 || n > limit) throw new Error(`${formatTag(t)} ${vr}: ${n} is out of range`);
        if (vr === "US") view.setUint16(i * 2, n, true);
        else view.setUint32(i * 4, n, true);
      });
      return out;
    }
    case "AT": {
      // An attribute tag is stored as two little-endian 16-bit numbers: group, then element.
      const tags = value as readonly number[];
      const out = new Uint8Array(tags.length * 4);
      const view = new DataView(out.buffer);
      tags.forEach((v, i) => {
        view.setUint16(i * 4, v >>> 16, true);
        view.setUint16(i * 4 + 2, v & 0xffff, true);
      });
      return out;
    }
    case "OB":
    case "OW": {
      const bytes = value as Uint8Array;
      if (vr === "OW" && bytes.length % 2 !== 0) throw new Error(`${formatTag(t)} OW data must have an even length`);
      if (bytes.length % 2 === 0) return bytes;
      // OB is padded with one trailing NUL byte.
      const padded = new Uint8Array(bytes.length + 1);
      padded.set(bytes);
      return padded;
    }
    default: {
      const values = typeof value === "string" ? [value] : (value as readonly string[]);
      for (const v of values) checkTextValue(t, vr, v);
      const text = values.join("\\");
      const bytes = textEncoder.encode(text);
      if (bytes.length % 2 === 0) return bytes;
      // UIs are padded with NUL, all other text VRs with a space (PS3.5 §6.2).
      const padded = new Uint8Array(bytes.length + 1);
      padded.set(bytes);
      padded[bytes.length] = vr === "UI" ? 0x00 : 0x20;
      return padded;
    }
  }
}

/**
 * Encodes elements in Explicit VR Little Endian, sorted by tag (a data set must be in ascending
 * tag order, PS3.5 §7.1). A repeated tag is an error rather than a silently duplicated element.
 */
export function encodeElements(elements: readonly DicomElement[]): Uint8Array {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const element = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.tag === element.tag) throw new Error(`Duplicate DICOM element ${formatTag(element.tag)}`);
    const value = encodeValue(element);
    const long = isLongLengthVr(element.vr);
    if (!long && value.length > 0xffff) throw new Error(`${formatTag(element.tag)} ${element.vr} value too long for a 2-byte length`);
    const header = new Uint8Array(long ? 12 : 8);
    const view = new DataView(header.buffer);
    view.setUint16(0, element.tag >>> 16, true);
    view.setUint16(2, element.tag & 0xffff, true);
    header[4] = element.vr.charCodeAt(0);
    header[5] = element.vr.charCodeAt(1);
    if (long) view.setUint32(8, value.length, true); // bytes 6-7 stay the reserved zeros
    else view.setUint16(6, value.length, true);
    parts.push(header, value);
    total += header.length + value.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Pixel samples as little-endian bytes, whatever the host's byte order. */
function pixelBytes(pixels: Uint16Array): Uint8Array {
  const out = new Uint8Array(pixels.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pixels.length; i++) view.setUint16(i * 2, pixels[i]!, true);
  return out;
}

function validateSpec(spec: DicomImageSpec, frames: number): void {
  const dims = { rows: spec.rows, columns: spec.columns, numberOfFrames: frames };
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1 || v > 0xffff) throw new Error(`writeDicom: ${name} must be an integer in 1..65535, got ${v}`);
  }
  const expected = spec.rows * spec.columns * frames;
  if (spec.pixelData.length !== expected) {
    throw new Error(`writeDicom: pixelData has ${spec.pixelData.length} samples, expected rows*columns*frames = ${expected}`);
  }
  if (spec.bitsStored !== 12 && spec.bitsStored !== 16) throw new Error(`writeDicom: bitsStored must be 12 or 16`);
  const max = 2 ** spec.bitsStored - 1;
  for (let i = 0; i < spec.pixelData.length; i++) {
    // Bits above High Bit must be zero for unsigned data, or readers disagree on the value.
    if (spec.pixelData[i]! > max) throw new Error(`writeDicom: sample ${i} = ${spec.pixelData[i]} exceeds ${spec.bitsStored} bits`);
  }
  if (frames > 1 && ((spec.rescaleSlope ?? 1) !== 1 || (spec.rescaleIntercept ?? 0) !== 0)) {
    throw new Error("writeDicom: Multi-frame Grayscale Word SC requires rescale slope 1 and intercept 0");
  }
  if (spec.sliceLocations && spec.sliceLocations.length !== frames) {
    throw new Error(`writeDicom: sliceLocations needs one value per frame (${frames})`);
  }
  if ((spec.windowCenter === undefined) !== (spec.windowWidth === undefined)) {
    throw new Error("writeDicom: windowCenter and windowWidth go together");
  }
  if (spec.windowWidth !== undefined && spec.windowWidth < 1) throw new Error("writeDicom: windowWidth must be >= 1");
}

/** Writes one DICOM Part-10 file: 128-byte preamble, "DICM", File Meta group, data set. */
export function writeDicom(spec: DicomImageSpec): Uint8Array {
  const frames = spec.numberOfFrames ?? 1;
  validateSpec(spec, frames);
  const multiFrame = frames > 1;
  const sopClassUid = multiFrame ? SOP_CLASS_MULTIFRAME_GRAYSCALE_WORD_SC : SOP_CLASS_SECONDARY_CAPTURE;

  const dataset: DicomElement[] = [
    { tag: tag(0x0008, 0x0008), vr: "CS", value: ["DERIVED", "SECONDARY"] },
    { tag: tag(0x0008, 0x0016), vr: "UI", value: sopClassUid },
    { tag: tag(0x0008, 0x0018), vr: "UI", value: spec.sopInstanceUid },
    { tag: tag(0x0008, 0x0020), vr: "DA", value: spec.studyDate },
    { tag: tag(0x0008, 0x0030), vr: "TM", value: spec.studyTime ?? "" },
    { tag: tag(0x0008, 0x0050), vr: "SH", value: "" }, // Accession Number: type 2, deliberately empty
    { tag: tag(0x0008, 0x0060), vr: "CS", value: spec.modality },
    { tag: tag(0x0008, 0x0064), vr: "CS", value: "SYN" }, // Conversion Type: synthetic image
    { tag: tag(0x0008, 0x0090), vr: "PN", value: "" }, // Referring Physician: type 2, empty
    { tag: tag(0x0010, 0x0010), vr: "PN", value: spec.patientName },
    { tag: tag(0x0010, 0x0020), vr: "LO", value: spec.patientId },
    { tag: tag(0x0010, 0x0030), vr: "DA", value: spec.patientBirthDate ?? "" }, // Birth Date: type 2, empty unless given
    { tag: tag(0x0010, 0x0040), vr: "CS", value: "" }, // Sex: type 2, empty
    { tag: tag(0x0020, 0x000d), vr: "UI", value: spec.studyInstanceUid },
    { tag: tag(0x0020, 0x000e), vr: "UI", value: spec.seriesInstanceUid },
    { tag: tag(0x0020, 0x0010), vr: "SH", value: spec.studyId ?? "" },
    { tag: tag(0x0020, 0x0011), vr: "IS", value: formatIntegerString(spec.seriesNumber ?? 1) },
    { tag: tag(0x0020, 0x0013), vr: "IS", value: formatIntegerString(spec.instanceNumber ?? 1) },
    { tag: tag(0x0020, 0x0020), vr: "CS", value: "" }, // Patient Orientation: type 2, empty
    { tag: tag(0x0028, 0x0002), vr: "US", value: [1] }, // Samples per Pixel
    { tag: tag(0x0028, 0x0004), vr: "CS", value: "MONOCHROME2" },
    { tag: tag(0x0028, 0x0010), vr: "US", value: [spec.rows] },
    { tag: tag(0x0028, 0x0011), vr: "US", value: [spec.columns] },
    { tag: tag(0x0028, 0x0100), vr: "US", value: [16] }, // Bits Allocated
    { tag: tag(0x0028, 0x0101), vr: "US", value: [spec.bitsStored] },
    { tag: tag(0x0028, 0x0102), vr: "US", value: [spec.bitsStored - 1] }, // High Bit
    { tag: tag(0x0028, 0x0103), vr: "US", value: [0] }, // Pixel Representation: unsigned
    { tag: tag(0x0028, 0x0301), vr: "CS", value: "NO" }, // Burned In Annotation: nothing drawn into pixels
    { tag: tag(0x0028, 0x1052), vr: "DS", value: formatDecimalString(spec.rescaleIntercept ?? 0) },
    { tag: tag(0x0028, 0x1053), vr: "DS", value: formatDecimalString(spec.rescaleSlope ?? 1) },
    { tag: tag(0x0028, 0x1054), vr: "LO", value: "US" }, // Rescale Type: unspecified units
    { tag: tag(0x7fe0, 0x0010), vr: "OW", value: pixelBytes(spec.pixelData) },
  ];
  if (spec.bodyPartExamined !== undefined) dataset.push({ tag: tag(0x0018, 0x0015), vr: "CS", value: spec.bodyPartExamined });
  if (spec.seriesDescription !== undefined) dataset.push({ tag: tag(0x0008, 0x103e), vr: "LO", value: spec.seriesDescription });
  if (spec.pixelSpacing) {
    dataset.push({ tag: tag(0x0028, 0x0030), vr: "DS", value: spec.pixelSpacing.map(formatDecimalString) });
  }
  if (spec.windowCenter !== undefined && spec.windowWidth !== undefined) {
    dataset.push(
      { tag: tag(0x0028, 0x1050), vr: "DS", value: formatDecimalString(spec.windowCenter) },
      { tag: tag(0x0028, 0x1051), vr: "DS", value: formatDecimalString(spec.windowWidth) },
    );
  }
  if (multiFrame) {
    const locations = spec.sliceLocations ?? Array.from({ length: frames }, (_, i) => i);
    dataset.push(
      { tag: tag(0x0028, 0x0008), vr: "IS", value: formatIntegerString(frames) },
      // Frames are ordered by slice position: the pointer names Slice Location Vector, which follows.
      { tag: tag(0x0028, 0x0009), vr: "AT", value: [tag(0x0018, 0x2005)] },
      { tag: tag(0x0018, 0x2005), vr: "DS", value: locations.map(formatDecimalString) },
      // Required for monochrome multi-frame SC: stored values are presented as they are.
      { tag: tag(0x2050, 0x0020), vr: "CS", value: "IDENTITY" },
    );
  }

  const metaElements = encodeElements([
    { tag: tag(0x0002, 0x0001), vr: "OB", value: new Uint8Array([0x00, 0x01]) }, // File Meta Information Version
    { tag: tag(0x0002, 0x0002), vr: "UI", value: sopClassUid },
    { tag: tag(0x0002, 0x0003), vr: "UI", value: spec.sopInstanceUid },
    { tag: tag(0x0002, 0x0010), vr: "UI", value: TRANSFER_SYNTAX_EXPLICIT_VR_LITTLE_ENDIAN },
    { tag: tag(0x0002, 0x0012), vr: "UI", value: IMPLEMENTATION_CLASS_UID },
    { tag: tag(0x0002, 0x0013), vr: "SH", value: IMPLEMENTATION_VERSION_NAME },
  ]);
  // Group Length counts the bytes after its own element up to the end of group 0002.
  const groupLength = encodeElements([{ tag: tag(0x0002, 0x0000), vr: "UL", value: [metaElements.length] }]);
  const body = encodeElements(dataset);

  const out = new Uint8Array(128 + 4 + groupLength.length + metaElements.length + body.length);
  // Bytes 0..127: the preamble, all zeros (no application profile uses it here).
  out.set(textEncoder.encode("DICM"), 128);
  out.set(groupLength, 132);
  out.set(metaElements, 132 + groupLength.length);
  out.set(body, 132 + groupLength.length + metaElements.length);
  return out;
}
