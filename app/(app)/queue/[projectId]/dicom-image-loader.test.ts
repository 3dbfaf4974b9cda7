/** The decoded frame → cornerstone image adapter of the case viewer's DICOM loader. */
import { describe, expect, it } from "vitest";
import type { DecodedWorkerImage } from "./dicom-decode-protocol";
import { parseDicomImageId, previewReduction, toCornerstoneImage } from "./dicom-image-loader";

const base = { rows: 1, columns: 3, frames: 1, modality: "CT", pixelSpacing: [0.5, 0.7] as [number, number], bytesAt: 0, stages: { requestAt: 0, codecReadyAt: 0, decodedAt: 0 } };

describe("toCornerstoneImage", () => {
  it("keeps integer stored values, the frame's rescale and the file's window; MONOCHROME1 opens inverted", () => {
    const decoded: DecodedWorkerImage = {
      ...base,
      photometric: "MONOCHROME1",
      frame: { kind: "grey", rows: 1, columns: 3, values: Int32Array.from([-5, 0, 100]), min: -5, max: 100 },
      transform: { slope: 2, intercept: -1024, window: { center: 40, width: 400 }, voiFunction: "LINEAR" },
    };
    const image = toCornerstoneImage("dicom:/api/images/x", decoded);
    expect(Array.from(image.getPixelData())).toEqual([-5, 0, 100]);
    expect([image.slope, image.intercept, image.windowCenter, image.windowWidth, image.minPixelValue, image.maxPixelValue]).toEqual([2, -1024, 40, 400, -5, 100]);
    expect(image.invert).toBe(true);
    expect([image.rowPixelSpacing, image.columnPixelSpacing]).toEqual([0.5, 0.7]);
  });

  it("requantises float values to 16 bits with an equivalent slope/intercept, and opens on their min–max", () => {
    const values = Float32Array.from([0, 0.25, 0.9415791630744934]);
    const decoded: DecodedWorkerImage = {
      ...base,
      photometric: "MONOCHROME2",
      frame: { kind: "grey", rows: 1, columns: 3, values, min: 0, max: values[2]! },
      transform: { slope: 1, intercept: 0, window: null, voiFunction: "LINEAR" },
    };
    const image = toCornerstoneImage("dicom:/x", decoded);
    const pixels = image.getPixelData();
    expect([pixels[0], pixels[2]]).toEqual([0, 65535]);
    for (let i = 0; i < 3; i++) expect(pixels[i]! * image.slope + image.intercept).toBeCloseTo(values[i]!, 4);
    expect(image.windowCenter).toBeCloseTo(values[2]! / 2, 6);
    expect(image.windowWidth).toBeCloseTo(values[2]!, 6);
  });

  it("turns 8-bit RGB into RGBA with the identity window", () => {
    const decoded: DecodedWorkerImage = {
      ...base,
      photometric: "RGB",
      frame: { kind: "rgb", rows: 1, columns: 3, rgb: Uint8Array.from([255, 0, 0, 0, 255, 0, 1, 2, 3]) },
      transform: { slope: 1, intercept: 0, window: null, voiFunction: "LINEAR" },
    };
    const image = toCornerstoneImage("dicom:/x", decoded);
    expect(Array.from(image.getPixelData())).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 1, 2, 3, 255]);
    expect([image.color, image.windowCenter, image.windowWidth]).toEqual([true, 127.5, 255]);
  });
});

describe("parseDicomImageId", () => {
  it("reads the URL and the 0-based frame", () => {
    expect(parseDicomImageId("dicom:/api/images/abc?frame=12")).toEqual({ url: "/api/images/abc", frame: 12 });
    expect(parseDicomImageId("dicom:/api/images/abc")).toEqual({ url: "/api/images/abc", frame: 0 });
  });
});

describe("previewReduction", () => {
  const J2K = "1.2.840.10008.1.2.4.90";
  it("skips as many levels as keep one decoded sample per canvas pixel, for JPEG 2000 family images at least twice the canvas", () => {
    expect(previewReduction(J2K, 1760, 1760, 700, 600)).toBe(1); // fit 0.34: one halving (880 ≥ 600)
    expect(previewReduction(J2K, 1760, 2140, 400, 400)).toBe(2); // fit 0.19: two halvings (440×535 ≥ 400)
    expect(previewReduction("1.2.840.10008.1.2.4.203", 4000, 4000, 300, 300)).toBe(3); // capped at 3
    expect(previewReduction(J2K, 512, 512, 700, 600)).toBe(0); // smaller than the canvas
    expect(previewReduction(J2K, 1000, 1000, 600, 600)).toBe(0); // fit 0.6: a halving would show less than the screen
    expect(previewReduction("1.2.840.10008.1.2.1", 4000, 4000, 300, 300)).toBe(0); // not JPEG 2000
    expect(previewReduction(undefined, 4000, 4000, 300, 300)).toBe(0);
    expect(previewReduction(J2K, 1760, 1760, 0, 0)).toBe(0); // no canvas yet
  });
});
