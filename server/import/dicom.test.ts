/**
 * The decision for every file of ../shared/data/dicom, and a cross-check with its manifest: each
 * file the manifest marks MALFORMED or NON-CONFORMANT is rejected; the rest are rejected only
 * for a reason the viewer really has (no Part-10 header, no pixels, an undecodable syntax).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCsv } from "@/scripts/lib/csv";
import { checkDicom, DicomRejection } from "./dicom";

const DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");
const manifest = parseCsv(fs.readFileSync(path.join(DIR, "manifest.csv"), "utf8"));
const col = (name: string) => manifest.header.indexOf(name);
const rows = manifest.rows.map((r) => ({ file: r[col("file")]!, odd: r[col("odd")]!, frames: r[col("frames")]!, rows: r[col("rows")]!, cols: r[col("cols")]! }));

/** file → the reason it is refused (a fragment of the message). */
const REJECTED: Record<string, RegExp> = {
  "MR_truncated.dcm": /truncated/,
  "emri_small_jpeg_2k_lossless_too_short.dcm": /without its sequence delimiter: the file is cut short/,
  "badVR.dcm": /Number of Frames \(0028,0008\) is "1A", not an integer/,
  "meta_missing_tsyntax.dcm": /no Transfer Syntax UID \(0002,0010\)/,
  "no_meta.dcm": /not a DICOM Part-10 file/,
  "OT-PAL-8-face.dcm": /not a DICOM Part-10 file/,
  "JLSN_RGB_ILV0.dcm": /not a DICOM Part-10 file/,
  "GDCMJ2K_TextGBR.dcm": /JP2 file header/,
  "JPEG2000-embedded-sequence-delimiter.dcm": /codestream is \d+×1024 but Columns×Rows say 256×1024/,
  "HTJ2KLossless_08_RGB.dcm": /1\.2\.840\.10008\.1\.2\.4\.201 \(HTJ2K Lossless\) cannot be decoded by the image viewer/,
  "HTJ2K_08_RGB.dcm": /1\.2\.840\.10008\.1\.2\.4\.203 \(HTJ2K\) cannot be decoded/,
  "chrJapMultiExplicitIR6.dcm": /no Pixel Data/,
  "reportsi.dcm": /no Pixel Data/,
  "parametric_map_float.dcm": /floating-point Pixel Data/,
};

function outcome(file: string): { ok: true; info: ReturnType<typeof checkDicom> } | { ok: false; message: string } {
  try {
    return { ok: true, info: checkDicom(new Uint8Array(fs.readFileSync(path.join(DIR, file)))) };
  } catch (error) {
    expect(error).toBeInstanceOf(DicomRejection);
    return { ok: false, message: (error as Error).message };
  }
}

describe("checkDicom on the real test set", () => {
  it("knows all 60 files", () => {
    expect(rows).toHaveLength(60);
  });

  it.each(rows.map((r) => [r.file, r] as const))("%s", (file, row) => {
    const result = outcome(file);
    const expected = REJECTED[file];
    if (expected) {
      expect(result.ok, `${file} should be rejected`).toBe(false);
      if (!result.ok) expect(result.message).toMatch(expected);
      return;
    }
    expect(result.ok, `${file}: ${result.ok ? "" : result.message}`).toBe(true);
    if (!result.ok) return;
    // The importer reads the same size and frame count as pydicom/dcmtk did for the manifest.
    expect(result.info.attributes.rows).toBe(Number(row.rows));
    expect(result.info.attributes.columns).toBe(Number(row.cols));
    expect(result.info.frames).toBe(Number(row.frames || 1));
  });

  it("rejects every file the manifest calls malformed or non-conformant, except those cornerstone still decodes", () => {
    // JPEG-lossy: a non-conformant JPEG stream that libjpeg-based decoders (cornerstone's included)
    // still decode; bad_sequence: a broken private sequence that does not touch the pixels.
    const decodable = new Set(["JPEG-lossy.dcm", "bad_sequence.dcm"]);
    for (const row of rows.filter((r) => /MALFORMED|NON-CONFORMANT/.test(r.odd))) {
      if (decodable.has(row.file)) expect(outcome(row.file).ok, row.file).toBe(true);
      else expect(outcome(row.file).ok, row.file).toBe(false);
    }
  });

  it("never returns patient identifiers unless asked", () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, "CT_small.dcm")));
    const plain = checkDicom(bytes);
    expect(plain.attributes).not.toHaveProperty("patientName");
    expect(JSON.stringify(plain.attributes)).not.toMatch(/CompressedSamples/);
    const withIds = checkDicom(bytes, true);
    expect(withIds.attributes.patientName).toBe("CompressedSamples^CT1");
  });
});
