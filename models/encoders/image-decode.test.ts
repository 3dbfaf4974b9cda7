/**
 * Decoding for embedding: PNG/JPEG written here with pngjs/jpeg-js, and the real DICOM files of
 * ../shared/data/dicom (manifest.csv says what each one is).
 */
import fs from "node:fs";
import path from "node:path";
import dicomParser from "dicom-parser";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { decodeImage, ImageDecodeError, sniffImageFormat } from "./image-decode";

const DICOM = path.resolve("../shared/data/dicom");
const read = (file: string) => new Uint8Array(fs.readFileSync(path.join(DICOM, file)));

describe("decodeImage: PNG and JPEG", () => {
  it("decodes a PNG exactly and drops alpha", () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data.set([10, 20, 30, 255, 200, 100, 50, 0]);
    const img = decodeImage(PNG.sync.write(png));
    expect([img.width, img.height]).toEqual([2, 1]);
    expect(Array.from(img.rgb)).toEqual([10, 20, 30, 200, 100, 50]);
  });

  it("decodes a JPEG (lossy, so within a few levels)", () => {
    const data = Buffer.alloc(16 * 16 * 4);
    for (let i = 0; i < 256; i++) data.set([90, 90, 90, 255], i * 4);
    const img = decodeImage(jpeg.encode({ width: 16, height: 16, data }, 95).data);
    expect([img.width, img.height]).toEqual([16, 16]);
    for (const v of img.rgb) expect(Math.abs(v - 90)).toBeLessThanOrEqual(2);
  });

  it("names the image when the bytes are not an image, or a PNG is broken", () => {
    expect(() => decodeImage(new TextEncoder().encode("hello, not an image at all"), { label: "img-7" })).toThrow("image img-7: is not a PNG, JPEG or DICOM file");
    const png = PNG.sync.write(new PNG({ width: 4, height: 4 }));
    expect(() => decodeImage(png.subarray(0, 40), { label: "img-8" })).toThrow(/image img-8: PNG could not be decoded/);
  });

  it("sniffs formats from the bytes", () => {
    expect(sniffImageFormat(read("CT_small.dcm"))).toBe("dicom");
    expect(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpeg");
    expect(sniffImageFormat(new Uint8Array([1, 2, 3]))).toBe("unknown");
  });
});

describe("decodeImage: real DICOM (../shared/data/dicom)", () => {
  /** Rescaled values of a 16-bit single-frame file, read straight from the data set. */
  function rescaledAll(file: string): { values: number[]; ds: dicomParser.DataSet } {
    const ds = dicomParser.parseDicom(read(file));
    const el = ds.elements.x7fe00010!;
    const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset);
    const n = ds.uint16("x00280010")! * ds.uint16("x00280011")!;
    const values = Array.from({ length: n }, (_, i) => {
      const raw = ds.uint16("x00280103") === 1 ? view.getInt16(i * 2, true) : view.getUint16(i * 2, true);
      return raw * (ds.floatString("x00281053") ?? 1) + (ds.floatString("x00281052") ?? 0);
    });
    return { values, ds };
  }

  it("MR_small: the file's window (C 600, W 1600) to 8 bits, grey copied to RGB — pixels by hand", () => {
    const img = decodeImage(read("MR_small.dcm"));
    expect([img.width, img.height]).toEqual([64, 64]);
    const { values, ds } = rescaledAll("MR_small.dcm");
    for (const i of [0, 2080, 4095]) {
      const value = values[i]!;
      const c = ds.floatString("x00281050", 0)!;
      const w = ds.floatString("x00281051", 0)!;
      expect([c, w]).toEqual([600, 1600]);
      const lin = ((value - (c - 0.5)) / (w - 1) + 0.5) * 255;
      const expected = Math.round(Math.min(255, Math.max(0, lin)));
      expect([img.rgb[i * 3], img.rgb[i * 3 + 1], img.rgb[i * 3 + 2]]).toEqual([expected, expected, expected]);
    }
  });

  it("CT_small (no window in the file): rescale (−1024 intercept) then the frame's min–max", () => {
    const img = decodeImage(read("CT_small.dcm"));
    const { values } = rescaledAll("CT_small.dcm");
    const min = Math.min(...values);
    const max = Math.max(...values);
    expect(min).toBeLessThan(0); // the intercept was applied
    for (const i of [0, 5000, 16383]) expect(img.rgb[i * 3]).toBe(Math.round(((values[i]! - min) / (max - min)) * 255));
    expect(img.rgb[values.indexOf(max) * 3]).toBe(255);
    expect(img.rgb[values.indexOf(min) * 3]).toBe(0);
    // A configured window wins: a 1-wide window at −10,000 makes every pixel white.
    const white = decodeImage(read("CT_small.dcm"), { dicomWindow: { center: -10_000, width: 1 } });
    expect(white.rgb.every((v) => v === 255)).toBe(true);
  });

  it("MR_small in explicit LE, implicit LE and explicit big endian decodes to identical pixels", () => {
    const le = decodeImage(read("MR_small.dcm"));
    expect(decodeImage(read("MR_small_implicit.dcm")).rgb).toEqual(le.rgb);
    expect(decodeImage(read("MR_small_bigendian.dcm")).rgb).toEqual(le.rgb);
    // Not a degenerate all-black image.
    expect(new Set(le.rgb).size).toBeGreaterThan(50);
  });

  it("inverts MONOCHROME1 and uses the middle frame of a multi-frame object", () => {
    const cr = decodeImage(read("dicomdir_CR1_6154.dcm"));
    expect([cr.width, cr.height]).toEqual([16, 16]);
    const mr = decodeImage(read("emri_small.dcm"));
    expect([mr.width, mr.height]).toEqual([64, 64]);
  });

  it("reads uncompressed RGB and JPEG-baseline colour (RGB and YBR_FULL)", () => {
    const us = decodeImage(read("US1_UNCR.dcm"));
    expect([us.width, us.height]).toEqual([640, 480]);
    const ybr = decodeImage(read("SC_rgb_jpeg_dcmtk.dcm"));
    const rgb = decodeImage(read("SC_jpeg_no_color_transform.dcm"));
    expect([ybr.width, rgb.width]).toEqual([100, 256]);
    // SC_rgb_* test images have a pure red band at the top: R high, G and B low after conversion.
    expect(ybr.rgb[0]).toBeGreaterThan(200);
    expect(ybr.rgb[1]).toBeLessThan(60);
    expect(ybr.rgb[2]).toBeLessThan(60);
  });

  it("reads the deflated transfer syntax", () => {
    const img = decodeImage(read("image_dfl.dcm"));
    expect([img.width, img.height]).toEqual([512, 512]);
  });

  it("refuses corrupt, cut-short and pixel-less files with a specific reason", () => {
    const cases: Array<[string, RegExp]> = [
      ["JPEG2000-embedded-sequence-delimiter.dcm", /image JPEG2000-embedded-sequence-delimiter\.dcm: DICOM: the JPEG 2000 codestream/],
      ["emri_small_jpeg_2k_lossless_too_short.dcm", /Pixel Data ends without its sequence delimiter: the file is cut short/],
      ["MR_truncated.dcm", /image MR_truncated\.dcm: DICOM: the file ends in the middle of a data element/],
      ["reportsi.dcm", /has no Pixel Data/],
    ];
    for (const [file, message] of cases) {
      expect(() => decodeImage(read(file), { label: file }), file).toThrow(ImageDecodeError);
      expect(() => decodeImage(read(file), { label: file }), file).toThrow(message);
    }
  });
});
