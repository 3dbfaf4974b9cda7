import { describe, expect, it } from "vitest";
import { MAX_FREEHAND_POINTS, ZImageRegion } from "@/contracts/annotations";
import { boxBetween, clampToImage, describeRegion, regionFromDrag, stackEntryOf, thinOutline } from "./region-geometry";

describe("region geometry", () => {
  it("reads the case image id and the 1-based frame from a stack image id", () => {
    expect(stackEntryOf("dicom:/api/images/ck12%2Fx?frame=0")).toEqual({ imageId: "ck12/x", frame: 1 });
    expect(stackEntryOf("dicom:/api/images/abc?frame=7")).toEqual({ imageId: "abc", frame: 8 });
    expect(stackEntryOf("webimg:/api/images/abc")).toEqual({ imageId: "abc", frame: 1 });
    expect(stackEntryOf("https://example.org/x.png")).toBeNull();
  });

  it("turns a drag into a box in any direction, clamped to the image, and refuses a click", () => {
    expect(boxBetween({ x: 30.123, y: 20 }, { x: 10, y: 5.555 })).toEqual({ x: 10, y: 5.56, width: 20.12, height: 14.44 });
    expect(boxBetween({ x: 3, y: 3 }, { x: 3, y: 9 })).toBeNull();
    expect(clampToImage({ x: -4, y: 700 }, 512, 512)).toEqual({ x: 0, y: 512 });
    const region = regionFromDrag("ellipse", [{ x: 5, y: 6 }, { x: 8, y: 8 }, { x: 25, y: 16 }], { imageId: "img", frame: 3, label: "benign", minDistance: 1 });
    expect(region).toEqual({ shape: "ellipse", imageId: "img", frame: 3, label: "benign", x: 5, y: 6, width: 20, height: 10 });
    expect(ZImageRegion.safeParse(region).success).toBe(true);
    expect(regionFromDrag("rectangle", [{ x: 5, y: 6 }], { imageId: "img", frame: 1, label: "benign", minDistance: 1 })).toBeNull();
  });

  it("thins a freehand trace to points at least minDistance apart and at most MAX_FREEHAND_POINTS", () => {
    const dense = Array.from({ length: 100 }, (_, i) => ({ x: i * 0.1, y: (i % 2) * 0.05 }));
    const thinned = thinOutline(dense, 1)!;
    expect(thinned.length).toBe(10);
    for (let i = 1; i < thinned.length; i++) expect(Math.hypot(thinned[i]![0] - thinned[i - 1]![0], thinned[i]![1] - thinned[i - 1]![1])).toBeGreaterThanOrEqual(0.99);
    const long = Array.from({ length: 3 * MAX_FREEHAND_POINTS }, (_, i) => ({ x: i, y: 0 }));
    expect(thinOutline(long, 1)!.length).toBe(MAX_FREEHAND_POINTS);
    expect(thinOutline([{ x: 0, y: 0 }, { x: 0.1, y: 0 }, { x: 5, y: 5 }], 1)).toBeNull();
    const region = regionFromDrag("freehand", long, { imageId: "img", frame: 1, label: "normal", minDistance: 1 });
    expect(ZImageRegion.safeParse(region).success).toBe(true);
  });

  it("describes a region for the list", () => {
    expect(describeRegion({ shape: "rectangle", imageId: "i", frame: 2, label: "x", x: 10.4, y: 4, width: 20, height: 12.25 })).toBe("Rectangle 20×12 px at (10, 4)");
    expect(describeRegion({ shape: "freehand", imageId: "i", frame: 1, label: "x", points: [[0, 0], [10, 0], [10, 20]] })).toBe("Freehand outline, 3 points, around (5, 10)");
  });
});
