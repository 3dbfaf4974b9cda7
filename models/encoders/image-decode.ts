/**
 * Decodes an image file to 8-bit interleaved RGB for the image encoders. The format is sniffed
 * from the bytes (PNG signature, JPEG SOI, "DICM" at offset 128, or a DICOM data set without
 * preamble), not trusted from a MIME type.
 *
 * - PNG (pngjs; 16-bit scaled to 8) and JPEG (jpeg-js, with size limits): alpha is dropped.
 * - DICOM (dicom-parser): uncompressed syntaxes (implicit/explicit LE, explicit BE, deflated) and
 *   JPEG baseline (.50, 8-bit, decoded by jpeg-js). The middle frame of a multi-frame object is
 *   used (the most representative slice of a cine or volume). Grey pixels get Modality LUT rescale
 *   then a linear window (the configured one, else the file's first, else the frame's min–max) to
 *   8 bits, MONOCHROME1 inverted, grey copied to R, G and B. RGB and YBR_FULL colour are supported.
 *   Other compressed syntaxes, palette colour and 1-bit data raise ImageDecodeError: "not supported
 *   for embedding yet".
 * Errors name the image (its label) and never include DICOM attribute values (they may identify).
 */
import dicomParser from "dicom-parser";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved R, G, B bytes, row-major (length width × height × 3). */
  rgb: Uint8Array;
}

export interface DicomWindow {
  center: number;
  width: number;
}

export class ImageDecodeError extends Error {
  constructor(label: string | undefined, message: string) {
    super(`${label ? `image ${label}: ` : ""}${message}`);
    this.name = "ImageDecodeError";
  }
}

const MAX_PIXELS = 100e6;
const UNCOMPRESSED = new Set(["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"]);
const JPEG_BASELINE = "1.2.840.10008.1.2.4.50";

export type ImageFormat = "png" | "jpeg" | "dicom" | "unknown";

export function sniffImageFormat(bytes: Uint8Array): ImageFormat {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return "dicom";
  // A data set without preamble starts with a group 0x0008 (or 0x0002) element in little endian.
  if (bytes.length >= 8 && (bytes[0] === 0x08 || bytes[0] === 0x02) && bytes[1] === 0x00) return "dicom";
  return "unknown";
}

function rgbaToRgb(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = rgba[i * 4]!;
    rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return rgb;
}

function decodeJpeg(bytes: Uint8Array, label: string | undefined, colorTransform?: boolean): RgbImage {
  try {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 1024, ...(colorTransform === undefined ? {} : { colorTransform }) });
    return { width: img.width, height: img.height, rgb: rgbaToRgb(img.data, img.width, img.height) };
  } catch (error) {
    throw new ImageDecodeError(label, `JPEG could not be decoded (${error instanceof Error ? error.message : String(error)})`);
  }
}

function decodePng(bytes: Uint8Array, label: string | undefined): RgbImage {
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, rgb: rgbaToRgb(png.data, png.width, png.height) };
  } catch (error) {
    throw new ImageDecodeError(label, `PNG could not be decoded (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** DICOM linear window (PS3.3 C.11.2.1.2) to 0..255. */
function windowTo8Bit(values: Float64Array, win: DicomWindow, invert: boolean): Uint8Array {
  const out = new Uint8Array(values.length);
  const c = win.center - 0.5;
  const w = Math.max(win.width - 1, 1e-6);
  const lo = c - w / 2;
  const hi = c + w / 2;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    let y = x <= lo ? 0 : x > hi ? 255 : ((x - c) / w + 0.5) * 255;
    if (invert) y = 255 - y;
    out[i] = Math.round(y);
  }
  return out;
}

function greyToRgb(grey: Uint8Array, width: number, height: number): RgbImage {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = grey[i]!;
  return { width, height, rgb };
}

function ybrFullToRgb(rgb: Uint8Array): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const y = rgb[i]!;
    const cb = rgb[i + 1]! - 128;
    const cr = rgb[i + 2]! - 128;
    rgb[i] = Math.min(255, Math.max(0, Math.round(y + 1.402 * cr)));
    rgb[i + 1] = Math.min(255, Math.max(0, Math.round(y - 0.344136 * cb - 0.714136 * cr)));
    rgb[i + 2] = Math.min(255, Math.max(0, Math.round(y + 1.772 * cb)));
  }
}

function firstNumber(ds: dicomParser.DataSet, tag: string): number | undefined {
  const v = ds.floatString(tag, 0);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

function decodeDicom(bytes: Uint8Array, label: string | undefined, configuredWindow: DicomWindow | undefined): RgbImage {
  const fail = (message: string): never => {
    throw new ImageDecodeError(label, `DICOM ${message}`);
  };
  let ds: dicomParser.DataSet;
  try {
    // A Buffer, not a bare Uint8Array: dicom-parser inflates the deflated syntax with node's zlib and Buffer.copy.
    ds = dicomParser.parseDicom(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    // dicom-parser throws strings, and { exception, dataSet } objects when it stops part-way.
    const exception = (error as { exception?: unknown } | null)?.exception;
    const reason = error instanceof Error ? error.message : typeof error === "string" ? error : typeof exception === "string" ? exception : "parse error";
    return fail(`could not be parsed (${reason})`);
  }
  const pixel = ds.elements.x7fe00010;
  if (!pixel) return fail("has no Pixel Data (7FE0,0010)");
  const ts = ds.string("x00020010")?.trim() ?? "1.2.840.10008.1.2";
  const rows = ds.uint16("x00280010") ?? 0;
  const cols = ds.uint16("x00280011") ?? 0;
  if (rows < 1 || cols < 1) return fail("has no Rows/Columns");
  if (rows * cols > MAX_PIXELS) return fail(`frame of ${cols}×${rows} pixels is too large`);
  const spp = ds.uint16("x00280002") ?? 1;
  const photometric = (ds.string("x00280004") ?? (spp === 3 ? "RGB" : "MONOCHROME2")).trim().toUpperCase();
  const bitsAllocated = ds.uint16("x00280100") ?? 0;
  const framesText = ds.string("x00280008");
  const frames = framesText === undefined ? 1 : Number.parseInt(framesText, 10);
  if (!Number.isInteger(frames) || frames < 1) return fail("Number of Frames (0028,0008) is not a positive integer");
  const frame = Math.floor(frames / 2);

  if (photometric === "PALETTE COLOR") return fail("photometric interpretation PALETTE COLOR is not supported for embedding yet");
  if (spp !== 1 && spp !== 3) return fail(`samples per pixel ${spp} is not supported for embedding yet`);

  if (ts === JPEG_BASELINE) {
    if (bitsAllocated !== 8) return fail("JPEG baseline with more than 8 bits is not supported for embedding yet");
    let frameBytes: Uint8Array;
    try {
      frameBytes = pixel.fragments && pixel.fragments.length > 0 && frames === 1
        ? dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, pixel.fragments.length)
        : dicomParser.readEncapsulatedImageFrame(ds, pixel, frame);
    } catch (error) {
      return fail(`encapsulated JPEG frame could not be read (${error instanceof Error ? error.message : String(error)})`);
    }
    // RGB-photometric JPEG carries untransformed components; YBR_* ones carry YCbCr (jpeg-js converts).
    const img = decodeJpeg(frameBytes, label, spp === 3 ? photometric !== "RGB" : undefined);
    if (photometric === "MONOCHROME1") for (let i = 0; i < img.rgb.length; i++) img.rgb[i] = 255 - img.rgb[i]!;
    return img;
  }
  if (!UNCOMPRESSED.has(ts)) return fail(`transfer syntax ${ts} (compressed) is not supported for embedding yet`);
  if (pixel.encapsulatedPixelData) return fail("uncompressed transfer syntax with encapsulated Pixel Data");
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) return fail(`${bitsAllocated} bits allocated is not supported for embedding yet`);

  if (spp === 3 && photometric !== "RGB" && photometric !== "YBR_FULL") return fail(`photometric interpretation ${photometric} is not supported for embedding yet`);
  if (spp === 1 && photometric !== "MONOCHROME1" && photometric !== "MONOCHROME2") return fail(`photometric interpretation ${photometric} is not supported for embedding yet`);
  const bytesPer = bitsAllocated / 8;
  const frameLength = rows * cols * spp * bytesPer;
  const start = pixel.dataOffset + frame * frameLength;
  if (pixel.dataOffset + frames * frameLength > ds.byteArray.length || pixel.length < frames * frameLength) {
    return fail(`Pixel Data is truncated (${frames} frame(s) of ${frameLength} bytes expected)`);
  }
  const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + start, frameLength);
  const little = ts !== "1.2.840.10008.1.2.2";

  if (spp === 3) {
    if (bitsAllocated !== 8) return fail("colour with more than 8 bits is not supported for embedding yet");
    const planar = ds.uint16("x00280006") === 1;
    const n = rows * cols;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = view.getUint8(planar ? c * n + i : i * 3 + c);
    }
    if (photometric === "YBR_FULL") ybrFullToRgb(rgb);
    return { width: cols, height: rows, rgb };
  }

  const bitsStored = ds.uint16("x00280101") ?? bitsAllocated;
  const signed = ds.uint16("x00280103") === 1;
  const slope = firstNumber(ds, "x00281053") ?? 1;
  const intercept = firstNumber(ds, "x00281052") ?? 0;
  const n = rows * cols;
  const values = new Float64Array(n);
  const storedMask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let raw = bitsAllocated === 8 ? view.getUint8(i) : bitsAllocated === 16 ? view.getUint16(i * 2, little) : view.getUint32(i * 4, little);
    // Only the stored bits carry the value (the rest may hold overlays); sign-extend when signed.
    if (bitsStored < bitsAllocated) raw = bitsStored >= 32 ? raw : raw % (storedMask + 1);
    if (signed && raw >= signBit) raw -= 2 * signBit;
    const v = raw * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const fileCenter = firstNumber(ds, "x00281050");
  const fileWidth = firstNumber(ds, "x00281051");
  const win: DicomWindow =
    configuredWindow ??
    (fileCenter !== undefined && fileWidth !== undefined && fileWidth > 0
      ? { center: fileCenter, width: fileWidth }
      : { center: (min + max) / 2 + 0.5, width: Math.max(max - min, 0) + 1 });
  return greyToRgb(windowTo8Bit(values, win, photometric === "MONOCHROME1"), cols, rows);
}

/** PNG, JPEG or DICOM bytes → 8-bit RGB; throws ImageDecodeError naming `label` on failure. */
export function decodeImage(bytes: Uint8Array, options: { label?: string; dicomWindow?: DicomWindow } = {}): RgbImage {
  const format = sniffImageFormat(bytes);
  const img =
    format === "png"
      ? decodePng(bytes, options.label)
      : format === "jpeg"
        ? decodeJpeg(bytes, options.label)
        : format === "dicom"
          ? decodeDicom(bytes, options.label, options.dicomWindow)
          : null;
  if (!img) throw new ImageDecodeError(options.label, "is not a PNG, JPEG or DICOM file");
  if (img.width < 1 || img.height < 1) throw new ImageDecodeError(options.label, "has no pixels");
  return img;
}
