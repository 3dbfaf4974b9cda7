/**
 * Server-side DICOM validation for imports, with dicom-parser (the parser the browser's
 * cornerstone WADO image loader uses too): a file is accepted only if the viewer can open it.
 *
 * Checks: Part-10 "DICM" marker (the loader parses without a transfer-syntax hint, so raw datasets
 * fail there); a parse without overruns or missing delimiters; a transfer syntax the loader
 * decodes; Pixel Data present; a numeric Number of Frames; for native (uncompressed) syntaxes a
 * Pixel Data length that matches rows × columns × frames × samples × bits; for encapsulated
 * syntaxes enough fragments and a codestream header (JPEG SOF / J2K SIZ / RLE header) that agrees
 * with the image size. Returns only non-identifying attributes unless the project allows more.
 */
import zlib from "node:zlib";
import dicomParser from "dicom-parser";
import { jpegFrameSize } from "./raster";

/** Transfer syntaxes cornerstone-wado-image-loader 4.13 decodes (its decodeImageFrame switch). */
export const VIEWER_TRANSFER_SYNTAXES: Record<string, string> = {
  "1.2.840.10008.1.2": "Implicit VR Little Endian",
  "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
  "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
  "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
  "1.2.840.10008.1.2.5": "RLE Lossless",
  "1.2.840.10008.1.2.4.50": "JPEG Baseline",
  "1.2.840.10008.1.2.4.51": "JPEG Extended",
  "1.2.840.10008.1.2.4.57": "JPEG Lossless",
  "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1",
  "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
  "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
  "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
  "1.2.840.10008.1.2.4.91": "JPEG 2000",
};
const OTHER_KNOWN: Record<string, string> = {
  "1.2.840.10008.1.2.4.201": "HTJ2K Lossless",
  "1.2.840.10008.1.2.4.202": "HTJ2K Lossless RPCL",
  "1.2.840.10008.1.2.4.203": "HTJ2K",
  "1.2.840.10008.1.2.4.92": "JPEG 2000 Part 2 Lossless",
  "1.2.840.10008.1.2.4.93": "JPEG 2000 Part 2",
  "1.2.840.10008.1.2.4.100": "MPEG2",
  "1.2.840.10008.1.2.4.102": "MPEG-4",
};
const NATIVE = new Set(["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"]);
const JPEG_FAMILY = new Set(["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"]);
const J2K = new Set(["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"]);
const RLE = "1.2.840.10008.1.2.5";

/** An inflated deflate dataset larger than this is refused (a deflate bomb inside a DICOM). */
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

export interface DicomAttributes {
  modality: string | null;
  bodyPart: string | null;
  /** ISO YYYY-MM-DD, or null when absent or not a valid DICOM date. */
  studyDate: string | null;
  seriesDescription: string | null;
  rows: number;
  columns: number;
  frames: number;
  transferSyntax: string;
  /** Only with the project setting allowPatientIdentifiers. */
  patientName?: string | null;
  patientId?: string | null;
  patientBirthDate?: string | null;
}

export interface DicomInfo {
  mimeType: "application/dicom";
  studyInstanceUid: string | null;
  frames: number;
  attributes: DicomAttributes;
}

export class DicomRejection extends Error {}

function reject(message: string): never {
  throw new DicomRejection(message);
}

function isoDate(value: string | undefined): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec((value ?? "").trim());
  if (!m) return null;
  const [, y, mo, d] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return date.getUTCMonth() === Number(mo) - 1 && date.getUTCDate() === Number(d) ? `${y}-${mo}-${d}` : null;
}

function text(ds: dicomParser.DataSet, tag: string): string | null {
  const value = ds.string(tag);
  return value === undefined || value.trim() === "" ? null : value.trim();
}

function describeParseError(error: unknown): string {
  const raw = typeof error === "string" ? error : error instanceof Error ? error.message : (error as { exception?: string })?.exception ?? String(error);
  if (/buffer overrun/i.test(raw)) return "the file ends in the middle of a data element (it is truncated or its element lengths are wrong)";
  if (/missing required meta header attribute 0002,0010/i.test(raw)) return "the file meta header has no Transfer Syntax UID (0002,0010), so the dataset's encoding is unknown";
  if (/DICM prefix not found/i.test(raw)) return "not a DICOM Part-10 file: no 'DICM' marker at byte 128";
  return `the DICOM data could not be parsed (${raw.replace(/^dicomParser[.:]\w*:?\s*/, "")})`;
}

function checkEncapsulated(ds: dicomParser.DataSet, ts: string, rows: number, columns: number, frames: number, samples: number, bitsAllocated: number) {
  const pixel = ds.elements.x7fe00010!;
  const fragments = pixel.fragments ?? [];
  if (fragments.length === 0) reject("the encapsulated Pixel Data holds no fragments (no compressed image data)");
  if (fragments.length < frames) reject(`the encapsulated Pixel Data has ${fragments.length} fragment(s) for ${frames} frames`);
  const first = fragments[0]!;
  const start = first.position;
  const bytes = ds.byteArray;
  if (first.length < 8) reject("the first Pixel Data fragment is too short to hold a compressed image");
  if (JPEG_FAMILY.has(ts)) {
    const size = jpegFrameSize(bytes, start);
    if (!size) reject(`the Pixel Data is not a ${VIEWER_TRANSFER_SYNTAXES[ts]} stream (no JPEG frame header in the first fragment)`);
    if (size.width !== columns || size.height !== rows) {
      reject(`the compressed image is ${size.width}×${size.height} but Columns×Rows say ${columns}×${rows}`);
    }
  } else if (J2K.has(ts)) {
    if (bytes[start] === 0x00 && bytes[start + 4] === 0x6a && bytes[start + 5] === 0x50) {
      reject("the JPEG 2000 Pixel Data is wrapped in a JP2 file header instead of a bare J2K codestream (non-conformant; the viewer cannot decode it)");
    }
    if (!(bytes[start] === 0xff && bytes[start + 1] === 0x4f && bytes[start + 2] === 0xff && bytes[start + 3] === 0x51)) {
      reject("the Pixel Data does not start with a JPEG 2000 codestream header (SOC + SIZ markers)");
    }
    const read32 = (at: number) => ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
    // SIZ: marker(2) Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4) ...
    const width = read32(start + 8) - read32(start + 16);
    const height = read32(start + 12) - read32(start + 20);
    if (width !== columns || height !== rows) {
      reject(`the JPEG 2000 codestream is ${width}×${height} but Columns×Rows say ${columns}×${rows} (the codestream is damaged or belongs to another image)`);
    }
  } else if (ts === RLE) {
    const segments = bytes[start]! | (bytes[start + 1]! << 8) | (bytes[start + 2]! << 16) | (bytes[start + 3]! << 24);
    const expected = samples * Math.ceil(bitsAllocated / 8);
    if (segments !== expected) reject(`the RLE header declares ${segments} segment(s) but ${samples} sample(s) of ${bitsAllocated} bits need ${expected}`);
  }
}

/**
 * Validates one DICOM file. Throws DicomRejection with a reason a data scientist can act on.
 * @param allowIdentifiers also return patient name, id and birth date (project setting).
 */
export function checkDicom(bytes: Uint8Array, allowIdentifiers = false): DicomInfo {
  if (bytes.length < 132 || bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    reject("not a DICOM Part-10 file: no 128-byte preamble and 'DICM' marker (a raw dataset without file meta cannot be opened by the viewer; re-save it as Part-10, e.g. with dcmconv)");
  }
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, {
      // dicom-parser's own Node path expects a Buffer; this also caps what a deflated dataset may grow to.
      inflater: ((array: Uint8Array, position: number) => {
        const inflated = zlib.inflateRawSync(array.subarray(position), { maxOutputLength: MAX_INFLATED_BYTES });
        const full = new Uint8Array(position + inflated.length);
        full.set(array.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      }) as unknown as (arr: Uint8Array, position: number) => void,
    });
  } catch (error) {
    reject(describeParseError(error));
  }
  const structural = ds.warnings.find((w) => /missing sequence delimiter|exceeds|overrun/i.test(w));
  if (structural) {
    reject(/missing sequence delimiter/i.test(structural)
      ? "the encapsulated Pixel Data ends without its sequence delimiter: the file is cut short"
      : `the DICOM structure is damaged (${structural})`);
  }
  const ts = (ds.string("x00020010") ?? "").replace(/\0/g, "").trim();
  if (!VIEWER_TRANSFER_SYNTAXES[ts]) {
    const name = OTHER_KNOWN[ts];
    reject(`transfer syntax ${ts || "(none)"}${name ? ` (${name})` : ""} cannot be decoded by the image viewer; convert the file to one of: ${Object.values(VIEWER_TRANSFER_SYNTAXES).join(", ")}`);
  }
  const pixel = ds.elements.x7fe00010;
  if (!pixel) {
    if (ds.elements.x7fe00008 || ds.elements.x7fe00009) reject("the image has floating-point Pixel Data (7FE0,0008/0009), which the viewer cannot display");
    reject("the file has no Pixel Data (7FE0,0010): it is not an image (e.g. a structured report or a header-only file)");
  }
  const rows = ds.uint16("x00280010") ?? 0;
  const columns = ds.uint16("x00280011") ?? 0;
  if (rows === 0 || columns === 0) reject("Rows (0028,0010) or Columns (0028,0011) is missing or zero");
  const bitsAllocated = ds.uint16("x00280100") ?? 0;
  if (![1, 8, 16, 32].includes(bitsAllocated)) reject(`Bits Allocated (0028,0100) is ${bitsAllocated || "missing"}; the viewer reads 1, 8, 16 or 32`);
  const samples = ds.uint16("x00280002") ?? 1;
  if (samples !== 1 && samples !== 3) reject(`Samples per Pixel (0028,0002) is ${samples}; the viewer reads 1 or 3`);

  let frames = 1;
  const framesRaw = ds.string("x00280008");
  if (framesRaw !== undefined && framesRaw.trim() !== "") {
    if (!/^\+?\d+$/.test(framesRaw.trim())) reject(`Number of Frames (0028,0008) is "${framesRaw.trim()}", not an integer`);
    frames = Number(framesRaw.trim());
    if (frames < 1) reject("Number of Frames (0028,0008) is 0");
  }

  if (NATIVE.has(ts)) {
    if (pixel.encapsulatedPixelData) reject(`the Pixel Data is encapsulated (compressed) but the transfer syntax ${VIEWER_TRANSFER_SYNTAXES[ts]} is uncompressed`);
    const photometric = (ds.string("x00280004") ?? "").trim();
    // YBR_FULL_422 stored natively keeps two samples per pixel (chroma subsampled horizontally).
    const samplesStored = photometric === "YBR_FULL_422" ? 2 : samples;
    const expected = Math.ceil((rows * columns * frames * samplesStored * bitsAllocated) / 8);
    if (pixel.dataOffset + pixel.length > ds.byteArray.length) reject("the file ends inside the Pixel Data (it is truncated)");
    // An odd length is padded to even (one byte more); anything else means the header and the pixels disagree.
    if (pixel.length < expected || pixel.length > expected + 1) {
      reject(`the Pixel Data has ${pixel.length} bytes but ${rows}×${columns} pixels × ${frames} frame(s) × ${samplesStored} sample(s) × ${bitsAllocated} bits need ${expected}`);
    }
  } else {
    checkEncapsulated(ds, ts, rows, columns, frames, samples, bitsAllocated);
  }

  const attributes: DicomAttributes = {
    modality: text(ds, "x00080060"),
    bodyPart: text(ds, "x00180015"),
    studyDate: isoDate(ds.string("x00080020")),
    seriesDescription: text(ds, "x0008103e"),
    rows,
    columns,
    frames,
    transferSyntax: ts,
  };
  if (allowIdentifiers) {
    attributes.patientName = text(ds, "x00100010");
    attributes.patientId = text(ds, "x00100020");
    attributes.patientBirthDate = isoDate(ds.string("x00100030"));
  }
  const study = text(ds, "x0020000d");
  return { mimeType: "application/dicom", studyInstanceUid: study ? study.replace(/\0/g, "") : null, frames, attributes };
}
