/**
 * Fidelity of the embedding decoder (models/encoders/image-decode.ts, the worker's decoder) against
 * the independent reference renderings of ../shared/data/dicom-reference: for every file the
 * reference could render, the middle frame at native size must reach MAD ≤ 4 of 255 and
 * correlation ≥ 0.96 (lossy codecs: LOSSY_FIDELITY), unless the capability table refuses it with a
 * reason (then the importer refuses it too — see server/import/dicom.test.ts). The files the
 * reference could not render (ok: false) must be refused.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeImage, ImageDecodeError } from "../encoders/image-decode";
import { isLossy } from "./capabilities";
import { compareSamples, FIDELITY, KNOWN_UNDECODABLE, LOSSY_FIDELITY, readReferenceIndex, readReferencePng, referenceDir } from "./reference";

const { dicom, reference } = referenceDir(path.resolve(import.meta.dirname, "../.."));
const entries = readReferenceIndex(reference);

describe("embedding decoder vs the reference renderings", () => {
  it("covers the 60 files, 53 renderable", () => {
    expect(entries).toHaveLength(60);
    expect(entries.filter((e) => e.ok)).toHaveLength(53);
  });

  it.each(entries.filter((e) => e.ok).map((e) => [e.file, e] as const))("%s", (file, entry) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(dicom, file)));
    const refused = KNOWN_UNDECODABLE[file];
    if (refused) {
      expect(() => decodeImage(bytes, { label: file })).toThrow(refused);
      return;
    }
    const img = decodeImage(bytes, { label: file });
    const ref = readReferencePng(reference, file);
    expect([img.width, img.height]).toEqual([ref.width, ref.height]);
    const { mad, correlation } = compareSamples(img.rgb, ref.rgb);
    const limits = isLossy(entry.ts ?? "") ? LOSSY_FIDELITY : FIDELITY;
    expect(mad, `${file}: mean absolute difference`).toBeLessThanOrEqual(limits.maxMad);
    expect(correlation, `${file}: correlation`).toBeGreaterThanOrEqual(limits.minCorrelation);
  });

  it.each(entries.filter((e) => !e.ok).map((e) => [e.file] as const))("refuses %s with a reason", (file) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(dicom, file)));
    expect(() => decodeImage(bytes, { label: file })).toThrow(ImageDecodeError);
    expect(() => decodeImage(bytes, { label: file })).toThrow(new RegExp(`^image ${file.replace(/\./g, "\\.")}: .{20,}`));
  });
});
