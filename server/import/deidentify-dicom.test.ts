/**
 * De-identification (PS3.15 Annex E Basic Profile) of every file of ../shared/data/dicom that the
 * importer accepts, and of a file with known fake identifiers: no identifying value is left in the
 * bytes, the Pixel Data element is byte-identical (compressed fragments included), decoded frames
 * hash the same, the viewer's checks still pass, UIDs are replaced consistently per secret.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type dicomParser from "dicom-parser";
import { describe, expect, it } from "vitest";
import { parseDicomFile } from "@/models/dicom/decode";
import { decodeImage, ImageDecodeError } from "@/models/encoders/image-decode";
import { FAKE_IDENTIFIERS, FAKE_UIDS, fakeIdentifiedDicom } from "@/server/testing/fake-dicom";
import { checkDicom, DicomRejection } from "./dicom";
import { deidentifyDicom, patientDayOffset, replacementUid, unknownProfileKeywords } from "./deidentify-dicom";

const DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");
const SECRET = "test-secret-of-project-a";

function accepted(): { file: string; bytes: Uint8Array }[] {
  const out: { file: string; bytes: Uint8Array }[] = [];
  for (const file of fs.readdirSync(DIR).filter((f) => !f.endsWith(".csv")).sort()) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DIR, file)));
    try {
      checkDicom(bytes);
      out.push({ file, bytes });
    } catch (error) {
      if (!(error instanceof DicomRejection)) throw error;
    }
  }
  return out;
}

/** Parsed as the viewer parses (a file without preamble gets a Part-10 layout). */
function parse(bytes: Uint8Array): dicomParser.DataSet {
  return parseDicomFile(bytes, (deflated) => zlib.inflateRawSync(deflated));
}

/** The pixel element: Pixel Data, or Float / Double Float Pixel Data. */
const pixelElement = (ds: dicomParser.DataSet) => (ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009)!;

/** The pixel element's value bytes: the native pixels, or every fragment (and the offset table) of an encapsulated one. */
function pixelBytes(ds: dicomParser.DataSet): { kind: string; sha: string; fragments: number } {
  const px = pixelElement(ds);
  const hash = crypto.createHash("sha256");
  if (px.encapsulatedPixelData) {
    hash.update(Buffer.from(JSON.stringify(px.basicOffsetTable ?? [])));
    for (const f of px.fragments!) hash.update(ds.byteArray.subarray(f.position, f.position + f.length));
    return { kind: "encapsulated", sha: hash.digest("hex"), fragments: px.fragments!.length };
  }
  hash.update(ds.byteArray.subarray(px.dataOffset, px.dataOffset + px.length));
  return { kind: "native", sha: hash.digest("hex"), fragments: 0 };
}

function decodedHash(bytes: Uint8Array): string | null {
  try {
    const image = decodeImage(bytes);
    return crypto.createHash("sha256").update(Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.byteLength)).update(`${image.width}x${image.height}`).digest("hex");
  } catch (error) {
    if (error instanceof ImageDecodeError) return null; // a syntax the server-side decoder does not read
    throw error;
  }
}

/** Text attributes that identify someone or somewhere (tag → keyword), read from the ORIGINAL file. */
const IDENTIFYING: Record<string, string> = {
  x00100010: "PatientName", x00100020: "PatientID", x00100030: "PatientBirthDate", x00080050: "AccessionNumber",
  x00080080: "InstitutionName", x00080081: "InstitutionAddress", x00080090: "ReferringPhysicianName", x00181000: "DeviceSerialNumber",
  x00081010: "StationName", x00081070: "OperatorsName", x00081050: "PerformingPhysicianName", x00081060: "NameOfPhysiciansReadingStudy",
  x00101000: "OtherPatientIDs", x00101040: "PatientAddress", x00200010: "StudyID", x00081030: "StudyDescription", x00321032: "RequestingPhysician",
};

/**
 * Every private element (odd group) of a dataset, nested items included. Elements dicom-parser
 * reports inside the file meta (below `from`) are its own misreads of a deflated file's meta, not data.
 */
function privateTags(ds: dicomParser.DataSet, from = 0): string[] {
  const found: string[] = [];
  for (const [tag, el] of Object.entries(ds.elements)) {
    if (parseInt(tag.slice(1, 5), 16) % 2 === 1 && el.dataOffset >= from) found.push(tag);
    for (const item of el.items ?? []) if (item.dataSet) found.push(...privateTags(item.dataSet));
  }
  return found;
}

describe("deidentifyDicom", () => {
  it("knows every keyword of its Basic Profile table (dcmjs's dictionary resolves each)", () => {
    expect(unknownProfileKeywords()).toEqual([]);
  });

  const files = accepted();
  it("covers the accepted files of ../shared/data/dicom", () => {
    expect(files.length).toBeGreaterThan(30);
  });

  for (const { file, bytes } of files) {
    it(`${file}: identifiers gone, pixels byte-identical, still accepted`, () => {
      const before = parse(bytes);
      const result = deidentifyDicom(bytes, { secret: SECRET });
      const after = parse(result.bytes);

      // Pixels: the element's bytes (every fragment of a compressed one) and the decoded frame.
      expect(pixelBytes(after)).toEqual(pixelBytes(before));
      expect(decodedHash(result.bytes)).toBe(decodedHash(bytes));
      // The viewer's checks still pass, with the same geometry and transfer syntax.
      const infoBefore = checkDicom(bytes);
      const infoAfter = checkDicom(result.bytes);
      expect(infoAfter.attributes).toMatchObject({ rows: infoBefore.attributes.rows, columns: infoBefore.attributes.columns, frames: infoBefore.frames, transferSyntax: infoBefore.attributes.transferSyntax });

      // No identifying value is anywhere in the bytes before the pixel data (compressed pixels may hold any short byte run by chance).
      const headerEnd = pixelElement(after).dataOffset;
      const header = Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.length).subarray(0, headerEnd);
      // A demo file may name its manufacturer as institution ("TOSHIBA" in TOSHIBA_MEC): the manufacturer is kept by the profile.
      const kept = `${before.string("x00080070") ?? ""} ${before.string("x00081090") ?? ""}`;
      for (const tag of Object.keys(IDENTIFYING)) {
        const value = (before.string(tag) ?? "").trim();
        // Short numbers ("204", "00000") occur inside replaced UIDs by chance: searched from 6 digits; the element itself is checked below.
        if ((/[A-Za-z]/.test(value) ? value.length >= 3 : value.length >= 6) && !/^(0+|ANONYMOUS|REMOVED|UNKNOWN)$/i.test(value) && !kept.includes(value)) {
          expect(header.includes(Buffer.from(value, "latin1")), `${IDENTIFYING[tag]} of ${file}`).toBe(false);
        }
        expect((after.string(tag) ?? "").trim(), `${IDENTIFYING[tag]} of ${file}`).toBe("");
      }
      expect(privateTags(after, 144 + after.uint32("x00020000")!)).toEqual([]);
      expect(after.string("x00120062")).toBe("YES");
      expect(after.string("x00120063")).toMatch(/Basic Application Level Confidentiality Profile/);
      const code = after.elements.x00120064!.items![0]!.dataSet!;
      expect([code.string("x00080100"), code.string("x00080102")]).toEqual(["113100", "DCM"]);
      // Instance UIDs replaced, the SOP class kept.
      const study = before.string("x0020000d")?.replace(/\0/g, "").trim();
      if (study) expect(after.string("x0020000d")).toBe(replacementUid(SECRET, study));
      const sop = before.string("x00080018")?.replace(/\0/g, "").trim();
      if (sop) {
        expect(after.string("x00080018")).toBe(replacementUid(SECRET, sop));
        // The meta's Media Storage SOP Instance UID (the instance's own when a bare data set had no meta).
        const metaSop = before.string("x00020003")?.replace(/\0/g, "").trim() || sop;
        expect(after.string("x00020003")?.replace(/\0/g, "")).toBe(replacementUid(SECRET, metaSop));
      }
      expect(after.string("x00080016")).toBe(before.string("x00080016"));
    });
  }

  it("removes every fake identifier of a written file, top level, private and nested", () => {
    const original = fakeIdentifiedDicom();
    const result = deidentifyDicom(original, { secret: SECRET });
    const text = Buffer.from(result.bytes).toString("latin1");
    for (const [what, value] of Object.entries(FAKE_IDENTIFIERS)) expect(text.includes(value), what).toBe(false);
    for (const uid of Object.values(FAKE_UIDS)) expect(text.includes(uid)).toBe(false);
    expect(text.includes("FAKE_SOURCE_AE")).toBe(false);
    const ds = parse(result.bytes);
    // The reference inside the kept Referenced Image Sequence points at the replaced UID.
    const item = ds.elements.x00081140!.items![0]!.dataSet!;
    expect(item.string("x00081155")).toBe(replacementUid(SECRET, FAKE_UIDS.referenced));
    expect(item.string("x0040a123")).toBe("ANONYMOUS"); // Person Name: D (a dummy) in the Basic Profile
    // Type-2 attributes are present and empty; the study date is removed without keepIntervals.
    expect(ds.elements.x00100010?.length).toBe(0);
    expect(ds.elements.x00080020?.length).toBe(0);
    expect(ds.string("x00280303")).toBe("REMOVED");
    expect(result.burnedInReview).toBe("ultrasound");
    expect(pixelBytes(ds)).toEqual(pixelBytes(parse(original)));
    expect(result.removed).toBeGreaterThan(5);
  });

  it("replaces UIDs consistently within a project and differently in another", () => {
    const a1 = parse(deidentifyDicom(fakeIdentifiedDicom({ instanceUid: "1.2.3.4.1" }), { secret: SECRET }).bytes);
    const a2 = parse(deidentifyDicom(fakeIdentifiedDicom({ instanceUid: "1.2.3.4.2" }), { secret: SECRET }).bytes);
    const b1 = parse(deidentifyDicom(fakeIdentifiedDicom({ instanceUid: "1.2.3.4.1" }), { secret: "another project" }).bytes);
    expect(a1.string("x0020000d")).toBe(a2.string("x0020000d"));
    expect(a1.string("x0020000e")).toBe(a2.string("x0020000e"));
    expect(a1.string("x00080018")).not.toBe(a2.string("x00080018"));
    expect(b1.string("x0020000d")).not.toBe(a1.string("x0020000d"));
    expect(a1.string("x0020000d")).toMatch(/^2\.25\.\d{1,39}$/);
  });

  it("with keepIntervals shifts one patient's dates by the same offset (intervals kept) and still removes the birth date", () => {
    const options = { secret: SECRET, keepIntervals: true };
    const first = parse(deidentifyDicom(fakeIdentifiedDicom({ studyDate: "20240315" }), options).bytes);
    const later = parse(deidentifyDicom(fakeIdentifiedDicom({ studyDate: "20240415", instanceUid: "1.2.3.9" }), options).bytes);
    const other = parse(deidentifyDicom(fakeIdentifiedDicom({ studyDate: "20240315", patientId: "MRN-OTHER-1" }), options).bytes);
    const day = (s: string | undefined) => Date.UTC(Number(s!.slice(0, 4)), Number(s!.slice(4, 6)) - 1, Number(s!.slice(6, 8))) / 86_400_000;
    expect(day(later.string("x00080020")) - day(first.string("x00080020"))).toBe(31);
    const offset = patientDayOffset(SECRET, `${FAKE_IDENTIFIERS.patientId}\u0000${FAKE_IDENTIFIERS.patientName}`);
    expect(day("20240315") - day(first.string("x00080020"))).toBe(offset);
    expect(other.string("x00080020")).not.toBe(first.string("x00080020"));
    expect(first.elements.x00100030?.length ?? 0).toBe(0);
    expect(first.string("x00280303")).toBe("MODIFIED");
    const codes = first.elements.x00120064!.items!.map((i) => i.dataSet!.string("x00080100"));
    expect(codes).toEqual(["113100", "113107"]);
  });
});
