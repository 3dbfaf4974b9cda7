/**
 * Server-side DICOM validation for imports. A file is accepted if and only if the case viewer and
 * the embedding decoder can draw it: all three use the same capability table
 * (models/dicom/capabilities.ts) and the same parsing and decoding (models/dicom/decode.ts, with
 * the maintained codec packages), so the importer checks by doing what they do.
 *
 * Checks: a Part-10 file (or a meta group / bare implicit-VR data set without preamble, which the
 * viewer reads too); a parse without overruns or missing delimiters; a transfer syntax, photometric
 * interpretation, bit depth and frame size in the capability table; Pixel Data present and long
 * enough (trailing padding is fine); every frame's bytes locatable (Basic Offset Table, one
 * fragment per frame, or codestream headers); and the first, middle and last frames decoded with
 * the codecs (a corrupt or cut-short codestream is refused with the codec's reason). Returns only
 * non-identifying attributes unless the project allows more.
 */
import zlib from "node:zlib";
import { nodeCodecs } from "@/models/dicom/codecs-node";
import { decodeFrame, DicomDecodeError, frameBytes, openDicom, type OpenedDicom } from "@/models/dicom/decode";
import type dicomParser from "dicom-parser";

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
  /**
   * Image Orientation (Patient) (0020,0037) as written, "r1\\r2\\r3\\c1\\c2\\c3" (row then column
   * direction cosines, PS3.3 C.7.6.2.1.1), from the dataset or, for Enhanced objects, the Shared
   * Functional Groups' Plane Orientation Sequence (0020,9116); absent when the file has neither.
   */
  orientation?: string;
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

/** Six finite direction cosines from (0020,0037), top level or in the Shared Functional Groups (5200,9229) › (0020,9116); null otherwise. */
function imageOrientation(ds: dicomParser.DataSet): string | null {
  const shared = ds.elements.x52009229?.items?.[0]?.dataSet?.elements.x00209116?.items?.[0]?.dataSet;
  for (const source of [ds, shared]) {
    const value = source?.string("x00200037");
    if (!value) continue;
    const numbers = value.split("\\").map((n) => Number(n.trim()));
    if (numbers.length === 6 && numbers.every((n) => Number.isFinite(n))) return numbers.join("\\");
  }
  return null;
}

function text(ds: dicomParser.DataSet, tag: string): string | null {
  const value = ds.string(tag);
  return value === undefined || value.trim() === "" ? null : value.trim();
}

/**
 * Validates one DICOM file. Throws DicomRejection with a reason a data scientist can act on.
 * @param allowIdentifiers also return patient name, id and birth date (project setting).
 */
export function checkDicom(bytes: Uint8Array, allowIdentifiers = false): DicomInfo {
  let opened: OpenedDicom;
  try {
    opened = openDicom(bytes, (deflated) => zlib.inflateRawSync(deflated, { maxOutputLength: MAX_INFLATED_BYTES }));
    const { ds, info } = opened;
    // Every frame's bytes must be locatable; the first, middle and last are decoded for real.
    for (let frame = 0; frame < info.frames; frame++) frameBytes(ds, info, frame);
    const codecs = nodeCodecs();
    for (const frame of new Set([0, Math.floor(info.frames / 2), info.frames - 1])) {
      try {
        decodeFrame(ds, info, frame, codecs);
      } catch (error) {
        if (error instanceof DicomDecodeError && info.frames > 1) throw new DicomDecodeError(`frame ${frame + 1} of ${info.frames}: ${error.message}`);
        throw error;
      }
    }
  } catch (error) {
    if (error instanceof DicomDecodeError) reject(error.message);
    throw error;
  }
  const { ds, info } = opened;
  const { rows, columns, frames } = info;
  const ts = info.transferSyntax.uid;
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
  const orientation = imageOrientation(ds);
  if (orientation) attributes.orientation = orientation;
  if (allowIdentifiers) {
    attributes.patientName = text(ds, "x00100010");
    attributes.patientId = text(ds, "x00100020");
    attributes.patientBirthDate = isoDate(ds.string("x00100030"));
  }
  const study = text(ds, "x0020000d");
  return { mimeType: "application/dicom", studyInstanceUid: study ? study.replace(/\0/g, "") : null, frames, attributes };
}
