/**
 * Bad input through the shared DICOM pipeline (what the importer refuses and the viewer's worker
 * reports in the viewport): each failure names its reason. Real files of ../shared/data/dicom,
 * patched where a case needs it.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { MAX_FRAME_PIXELS, TRANSFER_SYNTAXES } from "./capabilities";
import { decodeJ2k, decodeJpeg } from "./codecs";
import { nodeCodecs } from "./codecs-node";
import { decodeFrame, frameTransform, openDicom } from "./decode";
import { compareSamples } from "./reference";
import { renderRgb8 } from "./render";

const DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");
const read = (file: string) => new Uint8Array(fs.readFileSync(path.join(DIR, file)));
const inflate = (bytes: Uint8Array) => zlib.inflateRawSync(bytes);

function decodeMiddle(bytes: Uint8Array) {
  const { ds, info } = openDicom(bytes, inflate);
  const frame = Math.floor(info.frames / 2);
  return { info, rgb: renderRgb8(decodeFrame(ds, info, frame, nodeCodecs()), info, frameTransform(ds, frame)) };
}

/** Offset of an explicit-VR US element's value (group, element little endian + "US" + length 2). */
function usValueAt(bytes: Uint8Array, group: number, element: number): number {
  for (let i = 132; i + 8 < bytes.length; i++) {
    if (bytes[i] === (group & 0xff) && bytes[i + 1] === group >> 8 && bytes[i + 2] === (element & 0xff) && bytes[i + 3] === element >> 8 && bytes[i + 4] === 0x55 && bytes[i + 5] === 0x53) return i + 8;
  }
  throw new Error("element not found");
}

/** Replaces the Transfer Syntax UID (same length, padded with NUL) in the file meta. */
function withSyntax(bytes: Uint8Array, uid: string): Uint8Array {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 400));
  const at = text.indexOf("1.2.840.10008.1.2");
  const length = bytes[at - 2]! | (bytes[at - 1]! << 8);
  const padded = uid.padEnd(length, "\0");
  if (padded.length !== length) throw new Error("uid too long for this file");
  const out = bytes.slice();
  for (let i = 0; i < length; i++) out[at + i] = padded.charCodeAt(i);
  return out;
}

describe("shared DICOM pipeline: bad input has a specific reason", () => {
  it("a 0×0 image", () => {
    const bytes = read("CT_small.dcm");
    bytes.set([0, 0], usValueAt(bytes, 0x0028, 0x0010));
    expect(() => decodeMiddle(bytes)).toThrow("the image is 0×0: Rows (0028,0010) or Columns (0028,0011) is missing or zero");
  });

  it("an image larger than the maximum frame size", () => {
    const bytes = read("CT_small.dcm");
    bytes.set([0xff, 0xff], usValueAt(bytes, 0x0028, 0x0010));
    bytes.set([0xff, 0xff], usValueAt(bytes, 0x0028, 0x0011));
    expect(65535 * 65535).toBeGreaterThan(MAX_FRAME_PIXELS);
    expect(() => decodeMiddle(bytes)).toThrow(`the frame is 65535×65535 pixels, more than the ${MAX_FRAME_PIXELS / 1e6} million we decode`);
  });

  it("an unsupported transfer syntax is named, with what we decode instead", () => {
    const jpip = withSyntax(read("JPEG2000.dcm"), "1.2.840.10008.1.2.4.94");
    expect(() => decodeMiddle(jpip)).toThrow(/^transfer syntax 1\.2\.840\.10008\.1\.2\.4\.94 \(JPIP Referenced\) is not one we decode; convert the file to one of: .*JPEG 2000/);
  });

  it("a frame index out of range", () => {
    const { ds, info } = openDicom(read("emri_small.dcm"), inflate);
    expect(() => decodeFrame(ds, info, 10, nodeCodecs())).toThrow("frame 11 does not exist (the image has 10 frame(s))");
    expect(() => decodeFrame(ds, info, -1, nodeCodecs())).toThrow("frame 0 does not exist (the image has 10 frame(s))");
  });

  it("a corrupt JPEG 2000 codestream and one cut short", () => {
    expect(() => decodeMiddle(read("JPEG2000-embedded-sequence-delimiter.dcm"))).toThrow(/^the JPEG 2000 codestream is damaged/);
    expect(() => decodeMiddle(read("emri_small_jpeg_2k_lossless_too_short.dcm"))).toThrow("the encapsulated Pixel Data ends without its sequence delimiter: the file is cut short");
    // A codestream cut a third of the way in (no EOC marker): the codec's failure is named as such.
    const { ds } = openDicom(read("MR_small_jp2klossless.dcm"), inflate);
    const fragment = ds.elements.x7fe00010!.fragments![0]!;
    const codestream = ds.byteArray.subarray(fragment.position, fragment.position + Math.floor(fragment.length / 3));
    expect(() => decodeJ2k(nodeCodecs(), codestream)).toThrow(/^the JPEG 2000 codestream ends early \(no EOC marker; /);
  });

  it("a codestream that belongs to another image size", () => {
    const bytes = read("CT_small.dcm");
    bytes.set([0x40, 0x00], usValueAt(bytes, 0x0028, 0x0010)); // Rows 64 instead of 128: the Pixel Data is then longer, which is allowed
    expect(decodeMiddle(bytes).info.rows).toBe(64);
    const j2k = read("MR_small_jp2klossless.dcm");
    j2k.set([0x20, 0x00], usValueAt(j2k, 0x0028, 0x0011)); // Columns 32 against a 64-wide codestream
    expect(() => decodeMiddle(j2k)).toThrow("the JPEG 2000 Lossless image is 64×64 but Columns×Rows say 32×64 (the codestream is damaged or belongs to another image)");
  });

  it("a 12-bit JPEG Extended frame: the stored values the reference decoder read, and a damaged stream named", () => {
    const { ds, info } = openDicom(read("JPGExtended.dcm"), inflate);
    expect([info.transferSyntax.uid, info.bitsStored]).toEqual(["1.2.840.10008.1.2.4.51", 12]);
    const frame = decodeFrame(ds, info, 0, nodeCodecs());
    if (frame.kind !== "grey") throw new Error("expected a greyscale frame");
    // The reference (libjpeg-turbo 12-bit through pydicom) reads 0…264 (index.json vmin/vmax): no level offset.
    const entry = JSON.parse(fs.readFileSync(path.join(DIR, "../dicom-reference/index.json"), "utf8"))["JPGExtended.dcm"] as { vmin: number; vmax: number };
    expect([frame.min, frame.max]).toEqual([entry.vmin, entry.vmax]);
    const fragment = ds.elements.x7fe00010!.fragments![0]!;
    const stream = ds.byteArray.slice(fragment.position, fragment.position + fragment.length);
    const dqt = stream.indexOf(0xdb, 2);
    expect(stream[dqt - 1]).toBe(0xff);
    const broken = stream.slice();
    broken[dqt + 3] = 0x0f; // the quantisation table's index: 15 (0–3 allowed)
    expect(() => decodeJpeg(nodeCodecs(), broken)).toThrow(/^the 12-bit JPEG stream could not be decoded \(Bogus DQT index 15\)$/);
    const noScan = stream.slice(0, stream.indexOf(0xda, dqt) - 1); // cut before its first scan
    expect(() => decodeJpeg(nodeCodecs(), noScan)).toThrow(/^the 12-bit JPEG stream could not be decoded \(.*missing SOS marker\)$/);
    // The codec stays usable after a failure.
    const again = decodeJpeg(nodeCodecs(), stream);
    expect(again.samples.length).toBe(info.rows * info.columns);
    expect(Array.from(again.samples).every((v, i) => v === frame.values[i])).toBe(true);
  });

  it("the capability table lists every transfer syntax the reference set uses", () => {
    const syntaxes = new Set(fs.readFileSync(path.join(DIR, "manifest.csv"), "utf8").split("\n").slice(1).map((line) => line.split(",")[3]).filter((uid): uid is string => !!uid && uid.startsWith("1.2.")));
    for (const uid of syntaxes) expect(TRANSFER_SYNTAXES[uid], uid).toBeDefined();
  });
});

describe("JPEG 2000 previews at reduced resolution", () => {
  it("a preview one level down has the image's size and is close to the full decode; the level is capped by the codestream's", () => {
    for (const file of ["RG3_J2KR.dcm", "HTJ2KLossless_08_RGB.dcm"]) {
      const { ds, info } = openDicom(read(file), inflate);
      const full = renderRgb8(decodeFrame(ds, info, 0, nodeCodecs()), info, frameTransform(ds, 0));
      const previewFrame = decodeFrame(ds, info, 0, nodeCodecs(), { reduce: 1 });
      expect(previewFrame.reduced, file).toBe(1);
      expect([previewFrame.columns, previewFrame.rows]).toEqual([info.columns, info.rows]);
      const preview = renderRgb8(previewFrame, info, frameTransform(ds, 0));
      // A 2× low-pass of the same image: close (sharp test-pattern edges differ most), not identical.
      const { mad, correlation } = compareSamples(full, preview);
      expect(mad, file).toBeGreaterThan(0);
      expect(mad, file).toBeLessThan(10);
      expect(correlation, file).toBeGreaterThan(0.95);
      expect(decodeFrame(ds, info, 0, nodeCodecs(), { reduce: 40 }).reduced, file).toBe(5);
    }
    // Other codecs ignore the request.
    const { ds, info } = openDicom(read("CT_small.dcm"), inflate);
    expect(decodeFrame(ds, info, 0, nodeCodecs(), { reduce: 1 }).reduced).toBeUndefined();
  });
});
