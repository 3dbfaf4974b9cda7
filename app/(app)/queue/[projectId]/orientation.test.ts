import { describe, expect, it } from "vitest";
import { directionLetters, orientationMarkers } from "./orientation";

describe("orientation markers", () => {
  it("labels an axial slice as radiologists read it: patient's right on the screen's left, anterior up", () => {
    expect(orientationMarkers("1\\0\\0\\0\\1\\0")).toEqual({ left: "R", right: "L", top: "A", bottom: "P" });
  });

  it("labels coronal and sagittal slices", () => {
    expect(orientationMarkers([1, 0, 0, 0, 0, -1])).toEqual({ left: "R", right: "L", top: "H", bottom: "F" });
    expect(orientationMarkers([0, 1, 0, 0, 0, -1])).toEqual({ left: "A", right: "P", top: "H", bottom: "F" });
  });

  it("names the two strongest directions of an oblique vector and drops weak ones", () => {
    expect(directionLetters([0.8, 0, 0.6])).toBe("LH");
    expect(directionLetters([0.1, -0.99, 0])).toBe("A");
  });

  it("gives no markers rather than wrong ones for a missing or malformed attribute", () => {
    expect(orientationMarkers(undefined)).toBeNull();
    expect(orientationMarkers("1\\0\\0")).toBeNull();
    expect(orientationMarkers("1\\0\\0\\0\\x\\0")).toBeNull();
    expect(orientationMarkers([0, 0, 0, 0, 1, 0])).toBeNull();
  });
});
