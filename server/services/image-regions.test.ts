import { describe, expect, it } from "vitest";
import { FAKE_UIDS, fakeIdentifiedDicom } from "../testing/fake-dicom";
import { exportRegions } from "./export-service";
import { dicomSopInstanceUid, regionProblem, webImageSize } from "./image-regions";

/** A JPEG's first bytes: SOI, an APP0 segment, then SOF0 with `height` and `width`. */
function jpegHead(width: number, height: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...Array.from({ length: 14 }, () => 0)];
  const sof0 = [0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, ...Array.from({ length: 9 }, () => 0)];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof0]);
}

describe("image facts for region checks", () => {
  it("reads a JPEG's size from its SOF marker past other segments, and refuses bytes that are neither PNG nor JPEG", () => {
    expect(webImageSize(jpegHead(1760, 2140))).toEqual({ columns: 1760, rows: 2140 });
    expect(webImageSize(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toBeNull();
  });

  it("reads the SOP Instance UID of a DICOM file, null for anything else", () => {
    expect(dicomSopInstanceUid(fakeIdentifiedDicom())).toBe(FAKE_UIDS.instance);
    expect(dicomSopInstanceUid(Uint8Array.from([0, 1, 2]))).toBeNull();
  });

  it("accepts a region touching the image's edges and names what is out of range", () => {
    const facts = { columns: 100, rows: 50, frames: 2 };
    expect(regionProblem({ shape: "rectangle", imageId: "i", frame: 2, label: "x", x: 0, y: 0, width: 100, height: 50 }, facts)).toBeNull();
    expect(regionProblem({ shape: "ellipse", imageId: "i", frame: 3, label: "x", x: 0, y: 0, width: 1, height: 1 }, facts)).toMatch(/frame 3 is out of range \(the image has 2 frames\)/);
    expect(regionProblem({ shape: "freehand", imageId: "i", frame: 1, label: "x", points: [[0, 0], [100.5, 1], [3, 3]] }, facts)).toMatch(/outside the image \(100×50 pixels; the region spans x 0–100.5, y 0–3\)/);
  });

  it("exports stored regions with frame and coordinates and leaves out entries that do not parse", () => {
    const stored = [
      { shape: "rectangle", imageId: "img", frame: 4, label: "benign", x: 1.5, y: 2, width: 3, height: 4, sopInstanceUid: "1.2.3" },
      { shape: "triangle", imageId: "img", frame: 1, label: "benign" },
      { shape: "freehand", imageId: "img", frame: 1, label: "normal", points: [[0, 0], [1, 0], [1, 1]] },
    ];
    expect(exportRegions(stored)).toEqual([
      { label: "benign", imageId: "img", sopInstanceUid: "1.2.3", frame: 4, shape: "rectangle", x: 1.5, y: 2, width: 3, height: 4 },
      { label: "normal", imageId: "img", sopInstanceUid: null, frame: 1, shape: "freehand", points: [[0, 0], [1, 0], [1, 1]] },
    ]);
    expect(exportRegions("not an array")).toEqual([]);
  });
});
