/**
 * Decodes an image file to 8-bit interleaved RGB for the image encoders. The format is sniffed
 * from the bytes (PNG signature, JPEG SOI, "DICM" at offset 128, or a DICOM data set without
 * preamble), not trusted from a MIME type.
 *
 * - PNG (pngjs; 16-bit scaled to 8) and JPEG (jpeg-js, with size limits): alpha is dropped.
 * - DICOM: the shared pipeline of models/dicom (the capability table, codecs and rendering the
 *   importer and the case viewer use too): every transfer syntax of models/dicom/capabilities.ts,
 *   palette (also segmented), YBR, 16-bit colour, 1-bit, float pixel data, Enhanced functional
 *   groups. The middle frame of a multi-frame object is used (the most representative slice of a
 *   cine or volume). Grey pixels get the frame's rescale then a window (the configured one, else the
 *   file's first, else the frame's min–max) to 8 bits, MONOCHROME1 inverted, grey copied to R, G, B.
 * Errors name the image (its label) and never include DICOM attribute values (they may identify).
 */
import zlib from "node:zlib";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { nodeCodecs } from "../dicom/codecs-node";
import { decodeFrame, DicomDecodeError, frameTransform, openDicom } from "../dicom/decode";
import { renderRgb8 } from "../dicom/render";

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

/** An inflated deflate data set larger than this is refused (a deflate bomb inside a DICOM). */
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

/** Raw-deflate inflation for Deflated Explicit VR Little Endian, capped at MAX_INFLATED_BYTES. */
export function inflateCapped(deflated: Uint8Array): Uint8Array {
  return zlib.inflateRawSync(deflated, { maxOutputLength: MAX_INFLATED_BYTES });
}

function decodeDicom(bytes: Uint8Array, label: string | undefined, configuredWindow: DicomWindow | undefined): RgbImage {
  try {
    const { ds, info } = openDicom(bytes, inflateCapped);
    const frame = Math.floor(info.frames / 2);
    const decoded = decodeFrame(ds, info, frame, nodeCodecs());
    const rgb = renderRgb8(decoded, info, frameTransform(ds, frame), configuredWindow);
    return { width: info.columns, height: info.rows, rgb };
  } catch (error) {
    if (error instanceof DicomDecodeError) throw new ImageDecodeError(label, `DICOM: ${error.message}`);
    throw error;
  }
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
