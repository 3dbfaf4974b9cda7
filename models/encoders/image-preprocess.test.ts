/** Resize/crop/normalise on tiny images whose outputs are worked out by hand. */
import { describe, expect, it } from "vitest";
import { ZImagePreprocess } from "@/contracts/encoder-config";
import type { RgbImage } from "./image-decode";
import { preprocessImage } from "./image-preprocess";

/** Grey image from rows of values (R = G = B). */
function grey(rows: number[][]): RgbImage {
  const height = rows.length;
  const width = rows[0]!.length;
  const rgb = new Uint8Array(width * height * 3);
  rows.flat().forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
  return { width, height, rgb };
}

const IDENTITY = { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] };

describe("preprocessImage", () => {
  it("at scale 1 centre-crops exactly: a 4×2 image with short side 2 keeps columns 1..2", () => {
    const p = ZImagePreprocess.parse({ resizeShortSide: 2, cropSize: 2, ...IDENTITY });
    const out = preprocessImage(grey([[0, 51, 102, 153], [204, 255, 0, 51]]), p);
    const plane = Array.from(out.slice(0, 4), (v) => Math.round(v * 255));
    expect(plane).toEqual([51, 102, 255, 0]);
    // Grey → the three planes are equal.
    expect(Array.from(out.slice(4, 8))).toEqual(Array.from(out.slice(0, 4)));
    expect(Array.from(out.slice(8, 12))).toEqual(Array.from(out.slice(0, 4)));
  });

  it("downscales with a widened triangle filter (antialiased), by hand for 4 → 2", () => {
    // Scale 2, support 2: output 0 centred at 1.0 takes source 0,1,2 with weights .75,.75,.25 (÷1.75);
    // output 1 centred at 3.0 takes 1,2,3 with .25,.75,.75 (÷1.75). Columns vary, rows are equal.
    const p = ZImagePreprocess.parse({ resizeShortSide: 2, cropSize: 2, ...IDENTITY });
    const row = [0, 70, 140, 210];
    const out = preprocessImage(grey([row, row, row, row]), p);
    const w0 = (0.75 * 0 + 0.75 * 70 + 0.25 * 140) / 1.75;
    const w1 = (0.25 * 70 + 0.75 * 140 + 0.75 * 210) / 1.75;
    expect(out[0]! * 255).toBeCloseTo(w0, 3);
    expect(out[1]! * 255).toBeCloseTo(w1, 3);
    expect(out[2]! * 255).toBeCloseTo(w0, 3);
    expect(out[3]! * 255).toBeCloseTo(w1, 3);
  });

  it("normalises per channel in RGB order, planar (NCHW)", () => {
    const p = ZImagePreprocess.parse({ resizeShortSide: 1, cropSize: 1, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
    const out = preprocessImage({ width: 1, height: 1, rgb: new Uint8Array([255, 0, 51]) }, p);
    expect(out[0]).toBeCloseTo((1 - 0.5) / 0.5, 6);
    expect(out[1]).toBeCloseTo((0 - 0.25) / 0.25, 6);
    expect(out[2]).toBeCloseTo(0.2 / 2, 6);
  });

  it("a constant image stays constant through resize and crop, at any size", () => {
    const p = ZImagePreprocess.parse({});
    const img: RgbImage = { width: 301, height: 517, rgb: new Uint8Array(301 * 517 * 3).fill(128) };
    const out = preprocessImage(img, p);
    expect(out).toHaveLength(3 * 224 * 224);
    const r = (128 / 255 - 0.485) / 0.229;
    const b = (128 / 255 - 0.406) / 0.225;
    expect(out[0]).toBeCloseTo(r, 5);
    expect(out[224 * 224 - 1]).toBeCloseTo(r, 5);
    expect(out[3 * 224 * 224 - 1]).toBeCloseTo(b, 5);
  });

  it("upscales a tiny image to fill the crop", () => {
    const p = ZImagePreprocess.parse({ resizeShortSide: 4, cropSize: 4, ...IDENTITY });
    const out = preprocessImage(grey([[0, 255]]), p);
    // 2×1 → short side 1 → ×4 → 8×4, crop 4×4 from x = 2: the ramp between the two pixels.
    const first = Array.from(out.slice(0, 4), (v) => v * 255);
    for (let i = 1; i < 4; i++) expect(first[i]!).toBeGreaterThanOrEqual(first[i - 1]!);
    expect(first[0]!).toBeGreaterThan(0);
    expect(first[3]!).toBeLessThan(255);
  });

  it("refuses a crop larger than the resized short side", () => {
    expect(() => ZImagePreprocess.parse({ resizeShortSide: 200, cropSize: 224 })).toThrow(/cropSize must not exceed resizeShortSide/);
  });
});
