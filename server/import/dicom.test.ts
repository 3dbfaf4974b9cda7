/**
 * The decision for every file of ../shared/data/dicom, cross-checked with the independent reference
 * renderings (../shared/data/dicom-reference/index.json): a file is refused if and only if the
 * reference could not render it (ok: false), or our codecs cannot decode it (KNOWN_UNDECODABLE in
 * models/dicom/reference.ts, empty since 12-bit JPEG is decoded) — each with a specific reason.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KNOWN_UNDECODABLE, readReferenceIndex } from "@/models/dicom/reference";
import { parseCsv } from "@/scripts/lib/csv";
import { checkDicom, DicomRejection } from "./dicom";

const DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");
const reference = new Map(readReferenceIndex(path.resolve(DIR, "../dicom-reference")).map((e) => [e.file, e]));
const manifest = parseCsv(fs.readFileSync(path.join(DIR, "manifest.csv"), "utf8"));
const col = (name: string) => manifest.header.indexOf(name);
const rows = manifest.rows.map((r) => ({ file: r[col("file")]!, odd: r[col("odd")]!, frames: r[col("frames")]!, rows: r[col("rows")]!, cols: r[col("cols")]! }));

/** The files the reference could not render → the reason we give (a fragment of the message). */
const REJECTED: Record<string, RegExp> = {
  "MR_truncated.dcm": /the file ends in the middle of a data element \(it is truncated/,
  "emri_small_jpeg_2k_lossless_too_short.dcm": /without its sequence delimiter: the file is cut short/,
  "meta_missing_tsyntax.dcm": /no Transfer Syntax UID \(0002,0010\)/,
  "no_meta.dcm": /not a DICOM file: no 'DICM' marker at byte 128, no file meta group/,
  "JPEG2000-embedded-sequence-delimiter.dcm": /the JPEG 2000 codestream is damaged/,
  "chrJapMultiExplicitIR6.dcm": /no Pixel Data/,
  "reportsi.dcm": /no Pixel Data/,
  ...KNOWN_UNDECODABLE,
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
    expect(result.info.frames).toBe(/^\d+$/.test(row.frames) ? Number(row.frames) : 1);
  });

  it("refuses exactly the files the reference could not render, plus the known undecodable ones", () => {
    const refused = rows.filter((r) => !outcome(r.file).ok).map((r) => r.file).sort();
    const expected = [...reference.values()].filter((e) => !e.ok).map((e) => e.file).concat(Object.keys(KNOWN_UNDECODABLE)).sort();
    expect(refused).toEqual(expected);
    expect(refused.length).toBe(7);
  });

  it("names the frame when a later frame of a multi-frame file is corrupt", () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, "emri_small_jpeg_2k_lossless.dcm")));
    // The last frame's SIZ header says 128 columns (Xsiz at 8 bytes past its SOC marker).
    let soc = -1;
    for (let i = bytes.length - 4; i >= 0 && soc < 0; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0x4f && bytes[i + 2] === 0xff && bytes[i + 3] === 0x51) soc = i;
    bytes.set([0, 0, 0, 128], soc + 8);
    const result = (() => {
      try {
        checkDicom(bytes);
        return "accepted";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(result).toMatch(/^frame 10 of 10: the JPEG 2000 Lossless image is 128×64 but Columns×Rows say 64×64/);
  });

  it("keeps Image Orientation (Patient) for the viewer's markers: from the dataset, from an Enhanced object's shared functional groups, absent when the file has none", () => {
    const cosines = (file: string) => {
      const result = outcome(file);
      if (!result.ok) throw new Error(`${file} refused: ${result.message}`);
      return result.info.attributes.orientation?.split("\\").map(Number);
    };
    const ct = cosines("CT_small.dcm")!;
    expect(ct).toHaveLength(6);
    expect(Math.hypot(ct[0]!, ct[1]!, ct[2]!)).toBeCloseTo(1, 3);
    expect(Math.hypot(ct[3]!, ct[4]!, ct[5]!)).toBeCloseTo(1, 3);
    expect(cosines("eCT_Supplemental.dcm")).toHaveLength(6);
    expect(cosines("OT-PAL-8-face.dcm")).toBeUndefined();
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
