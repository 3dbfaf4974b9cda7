/**
 * DICOM pixel decoding shared by the importer, the case viewer's decode worker and the embedding
 * decoder: parse (dicom-parser), describe the image (ImageInfo), read one frame's bytes (native or
 * encapsulated, with or without a Basic Offset Table), decode it with the codec of its transfer
 * syntax (models/dicom/codecs.ts) and return stored values (greyscale) or 8-bit RGB (colour).
 *
 * Every failure is a DicomDecodeError whose message says what is wrong in words a data scientist
 * can act on ("the JPEG 2000 codestream ends early (no EOC marker at its end)"); messages never
 * contain attribute values that could identify a patient.
 */
import dicomParser from "dicom-parser";
import { BITS_ALLOCATED, MAX_FRAME_PIXELS, PHOTOMETRIC_INTERPRETATIONS, supportedSyntaxList, TRANSFER_SYNTAXES, UNSUPPORTED_TRANSFER_SYNTAXES, type TransferSyntaxCapability } from "./capabilities";
import { CodecError, decodeHtj2k, decodeJ2k, decodeJpeg, decodeJpegLossless, decodeJpegLs, type CodecModules, type CodecOutput } from "./codecs";

export class DicomDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DicomDecodeError";
  }
}

function fail(message: string): never {
  throw new DicomDecodeError(message);
}

/** Inflates a raw deflate stream (Deflated Explicit VR Little Endian); callers cap its size. */
export type Inflate = (deflated: Uint8Array) => Uint8Array;

const IMPLICIT_LE = "1.2.840.10008.1.2";

function hasDicmMarker(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/** A file meta group with only a Transfer Syntax UID (explicit VR little endian, as Part 10 says). */
function metaGroup(ts: string): Uint8Array {
  const value = ts.length % 2 === 0 ? ts : `${ts}\0`;
  const out = new Uint8Array(8 + value.length);
  out.set([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, value.length & 0xff, value.length >> 8]);
  for (let i = 0; i < value.length; i++) out[8 + i] = value.charCodeAt(i);
  return out;
}

/**
 * Gives files without the 128-byte preamble a Part-10 layout: a file meta group at byte 0 gets the
 * preamble; a bare data set (group 0008 first, implicit VR little endian, ACR-NEMA style) gets the
 * preamble and a meta group naming implicit VR little endian. Anything else is refused.
 */
function asPart10(bytes: Uint8Array): Uint8Array {
  if (hasDicmMarker(bytes)) return bytes;
  const prefix = new Uint8Array(132);
  prefix.set([0x44, 0x49, 0x43, 0x4d], 128);
  const group = bytes.length >= 8 ? bytes[0]! | (bytes[1]! << 8) : -1;
  const explicitVr = bytes.length >= 8 && /^[A-Z]{2}$/.test(String.fromCharCode(bytes[4]!, bytes[5]!));
  if (group === 0x0002 && explicitVr) {
    const out = new Uint8Array(132 + bytes.length);
    out.set(prefix);
    out.set(bytes, 132);
    return out;
  }
  // A bare implicit-VR data set starts with a group 0008 element and a 4-byte length.
  if (group === 0x0008 && !explicitVr) {
    const meta = metaGroup(IMPLICIT_LE);
    const out = new Uint8Array(132 + meta.length + bytes.length);
    out.set(prefix);
    out.set(meta, 132);
    out.set(bytes, 132 + meta.length);
    return out;
  }
  return fail("not a DICOM file: no 'DICM' marker at byte 128, no file meta group and no implicit-VR data set at the start");
}

export function describeParseError(error: unknown): string {
  const raw = typeof error === "string" ? error : error instanceof Error ? error.message : typeof (error as { exception?: unknown })?.exception === "string" ? (error as { exception: string }).exception : String(error);
  if (/buffer overrun/i.test(raw)) return "the file ends in the middle of a data element (it is truncated or its element lengths are wrong)";
  if (/missing required meta header attribute 0002,0010/i.test(raw)) return "the file meta header has no Transfer Syntax UID (0002,0010), so the data set's encoding is unknown";
  if (/DICM prefix not found/i.test(raw)) return "not a DICOM Part-10 file: no 'DICM' marker at byte 128";
  if (/Buffer larger than|maxOutputLength|ERR_BUFFER_TOO_LARGE/i.test(raw)) return "the deflated data set inflates to more than we accept (a decompression bomb or a damaged stream)";
  return `the DICOM data could not be parsed (${raw.replace(/^dicomParser[.:]\w*:?\s*/, "")})`;
}

/**
 * Parses a DICOM file (Part 10, or a meta group / bare implicit data set without preamble).
 * Throws DicomDecodeError on a parse error or a damaged structure (an encapsulated Pixel Data
 * without its sequence delimiter, an element running past the end).
 */
export function parseDicomFile(bytes: Uint8Array, inflate: Inflate): dicomParser.DataSet {
  const part10 = asPart10(bytes);
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(part10, {
      inflater: ((array: Uint8Array, position: number) => {
        const inflated = inflate(array.subarray(position));
        const full = new Uint8Array(position + inflated.length);
        full.set(array.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      }) as unknown as (arr: Uint8Array, position: number) => void,
    });
  } catch (error) {
    return fail(describeParseError(error));
  }
  const structural = ds.warnings.find((w) => /missing sequence delimiter|exceeds|overrun/i.test(w));
  if (structural) {
    fail(/missing sequence delimiter/i.test(structural) ? "the encapsulated Pixel Data ends without its sequence delimiter: the file is cut short" : `the DICOM structure is damaged (${structural})`);
  }
  return ds;
}

export type PixelKind = "integer" | "float32" | "float64";

export interface ImageInfo {
  transferSyntax: TransferSyntaxCapability;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: 1 | 3;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  /** Planar Configuration 1: all R, then all G, then all B (native and RLE colour). */
  planar: boolean;
  pixelKind: PixelKind;
  modality: string | null;
  /** Notes on tolerated oddities (e.g. an invalid Number of Frames read as 1). */
  notes: string[];
}

/** Rescale and window of one frame: per-frame functional groups, then shared, then the top level. */
export interface FrameTransform {
  slope: number;
  intercept: number;
  /** The file's first window for this frame, if it has one. */
  window: { center: number; width: number } | null;
  voiFunction: "LINEAR" | "LINEAR_EXACT" | "SIGMOID";
}

function str(ds: dicomParser.DataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v === undefined ? undefined : v.replace(/\0/g, "").trim();
}

function num(ds: dicomParser.DataSet | undefined, tag: string): number | undefined {
  if (!ds) return undefined;
  const raw = ds.string(tag);
  if (raw === undefined) return undefined;
  const first = Number.parseFloat(raw.split("\\")[0]!.trim());
  return Number.isFinite(first) ? first : undefined;
}

/** Reads the image attributes and checks them against the capability table; throws DicomDecodeError. */
export function readImageInfo(ds: dicomParser.DataSet): ImageInfo {
  const notes: string[] = [];
  const tsUid = str(ds, "x00020010") ?? "";
  const transferSyntax = TRANSFER_SYNTAXES[tsUid];
  if (!transferSyntax) {
    const name = UNSUPPORTED_TRANSFER_SYNTAXES[tsUid];
    fail(`transfer syntax ${tsUid || "(none)"}${name ? ` (${name})` : ""} is not one we decode; convert the file to one of: ${supportedSyntaxList()}`);
  }
  const pixel = ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009;
  if (!pixel) fail("the file has no Pixel Data (7FE0,0010): it is not an image (e.g. a structured report or a header-only file)");
  const pixelKind: PixelKind = ds.elements.x7fe00010 ? "integer" : ds.elements.x7fe00008 ? "float32" : "float64";
  const rows = ds.uint16("x00280010") ?? 0;
  const columns = ds.uint16("x00280011") ?? 0;
  if (rows === 0 || columns === 0) fail("the image is 0×0: Rows (0028,0010) or Columns (0028,0011) is missing or zero");
  if (rows * columns > MAX_FRAME_PIXELS) fail(`the frame is ${columns}×${rows} pixels, more than the ${MAX_FRAME_PIXELS / 1e6} million we decode`);
  const spp = ds.uint16("x00280002") ?? 1;
  if (spp !== 1 && spp !== 3) fail(`Samples per Pixel (0028,0002) is ${spp}; we decode 1 (greyscale, palette) or 3 (colour)`);
  const photometric = (str(ds, "x00280004") || (spp === 3 ? "RGB" : "MONOCHROME2")).toUpperCase();
  const expectedSpp = PHOTOMETRIC_INTERPRETATIONS[photometric];
  if (!expectedSpp) fail(`Photometric Interpretation (0028,0004) ${photometric} is not one we draw (we draw ${Object.keys(PHOTOMETRIC_INTERPRETATIONS).join(", ")})`);
  if (expectedSpp !== spp) fail(`Photometric Interpretation ${photometric} needs ${expectedSpp} sample(s) per pixel but Samples per Pixel (0028,0002) is ${spp}`);
  const bitsAllocated = pixelKind === "float32" ? 32 : pixelKind === "float64" ? 64 : ds.uint16("x00280100") ?? 0;
  if (pixelKind === "integer" && !(BITS_ALLOCATED as readonly number[]).includes(bitsAllocated)) fail(`Bits Allocated (0028,0100) is ${bitsAllocated || "missing"}; we read ${BITS_ALLOCATED.join(", ")}`);
  if (bitsAllocated === 1 && spp !== 1) fail("1-bit colour is not a valid image");
  const bitsStored = Math.min(ds.uint16("x00280101") ?? bitsAllocated, bitsAllocated) || bitsAllocated;
  let frames = 1;
  const framesRaw = str(ds, "x00280008");
  if (framesRaw !== undefined && framesRaw !== "") {
    if (/^\+?\d+$/.test(framesRaw)) {
      frames = Number(framesRaw);
      if (frames < 1) fail("Number of Frames (0028,0008) is 0");
    } else {
      notes.push("Number of Frames (0028,0008) is not an integer; read as 1");
    }
  }
  if (transferSyntax.encapsulated !== Boolean(pixel.encapsulatedPixelData)) {
    fail(transferSyntax.encapsulated ? `the Pixel Data is not encapsulated but the transfer syntax ${transferSyntax.name} is compressed` : `the Pixel Data is encapsulated (compressed) but the transfer syntax ${transferSyntax.name} is uncompressed`);
  }
  return {
    transferSyntax,
    rows,
    columns,
    frames,
    samplesPerPixel: spp,
    photometric,
    bitsAllocated,
    bitsStored,
    signed: pixelKind === "integer" && ds.uint16("x00280103") === 1,
    planar: ds.uint16("x00280006") === 1,
    pixelKind,
    modality: str(ds, "x00080060") || null,
    notes,
  };
}

function sequenceItem(ds: dicomParser.DataSet | undefined, tag: string, index = 0): dicomParser.DataSet | undefined {
  return ds?.elements[tag]?.items?.[index]?.dataSet;
}

/** Rescale slope/intercept and window of frame `frame` (0-based), as PS3.3 C.7.6.16 orders them. */
export function frameTransform(ds: dicomParser.DataSet, frame: number): FrameTransform {
  const perFrame = sequenceItem(ds, "x52009230", frame);
  const shared = sequenceItem(ds, "x52009229");
  const groups = [perFrame, shared];
  let slope: number | undefined;
  let intercept: number | undefined;
  let window: FrameTransform["window"] = null;
  let fn: string | undefined;
  for (const group of groups) {
    const pvt = sequenceItem(group, "x00289145");
    if (slope === undefined && pvt && num(pvt, "x00281053") !== undefined) {
      slope = num(pvt, "x00281053");
      intercept = num(pvt, "x00281052") ?? 0;
    }
    const voi = sequenceItem(group, "x00289132");
    if (!window && voi) {
      const center = num(voi, "x00281050");
      const width = num(voi, "x00281051");
      if (center !== undefined && width !== undefined && width > 0) {
        window = { center, width };
        fn = voi.string("x00281056")?.trim();
      }
    }
  }
  if (slope === undefined && num(ds, "x00281053") !== undefined) {
    slope = num(ds, "x00281053");
    intercept = num(ds, "x00281052") ?? 0;
  }
  if (!window) {
    const center = num(ds, "x00281050");
    const width = num(ds, "x00281051");
    if (center !== undefined && width !== undefined && width > 0) {
      window = { center, width };
      fn = ds.string("x00281056")?.trim();
    }
  }
  const voiFunction = fn === "LINEAR_EXACT" ? "LINEAR_EXACT" : fn === "SIGMOID" ? "SIGMOID" : "LINEAR";
  return { slope: slope ?? 1, intercept: intercept ?? 0, window, voiFunction };
}

/** The start of each frame's codestream among the fragments, when there is no Basic Offset Table. */
function startsFrame(bytes: Uint8Array, codec: TransferSyntaxCapability["codec"]): boolean {
  if (codec === "j2k" || codec === "htj2k") return (bytes[0] === 0xff && bytes[1] === 0x4f) || (bytes[4] === 0x6a && bytes[5] === 0x50);
  if (codec === "jpeg" || codec === "jpeg-lossless" || codec === "jpeg-ls") return bytes[0] === 0xff && bytes[1] === 0xd8;
  return false;
}

/** The encoded bytes of frame `frame` (0-based) of encapsulated Pixel Data. */
function encapsulatedFrame(ds: dicomParser.DataSet, info: ImageInfo, frame: number): Uint8Array {
  const pixel = ds.elements.x7fe00010!;
  const fragments = pixel.fragments ?? [];
  if (fragments.length === 0) fail("the encapsulated Pixel Data holds no fragments (no compressed image data)");
  const bytesOf = (f: dicomParser.Fragment) => {
    if (f.position + f.length > ds.byteArray.length) fail("a Pixel Data fragment runs past the end of the file (it is truncated)");
    return ds.byteArray.subarray(f.position, f.position + f.length);
  };
  const join = (list: dicomParser.Fragment[]) => {
    if (list.length === 1) return bytesOf(list[0]!);
    const total = list.reduce((n, f) => n + f.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const f of list) {
      out.set(bytesOf(f), at);
      at += f.length;
    }
    return out;
  };
  const offsets = pixel.basicOffsetTable ?? [];
  if (offsets.length === info.frames && offsets.length > 0) {
    const start = offsets[frame]!;
    const end = frame + 1 < offsets.length ? offsets[frame + 1]! : Number.POSITIVE_INFINITY;
    const list = fragments.filter((f) => f.offset >= start && f.offset < end);
    if (list.length === 0) fail(`the Basic Offset Table points frame ${frame + 1} at no fragment`);
    return join(list);
  }
  if (info.frames === 1) return join(fragments);
  if (fragments.length === info.frames) return bytesOf(fragments[frame]!);
  // No offset table and more fragments than frames: a frame starts at each codestream header.
  const groups: dicomParser.Fragment[][] = [];
  for (const f of fragments) {
    if (groups.length === 0 || startsFrame(bytesOf(f), info.transferSyntax.codec)) groups.push([f]);
    else groups[groups.length - 1]!.push(f);
  }
  if (groups.length !== info.frames) {
    fail(`the encapsulated Pixel Data has ${fragments.length} fragment(s) for ${info.frames} frames and no Basic Offset Table to tell them apart`);
  }
  return join(groups[frame]!);
}

/** Bytes per stored frame of native Pixel Data (YBR_FULL_422 keeps two samples per pixel). */
function nativeFrameBits(info: ImageInfo): number {
  const samples = info.photometric === "YBR_FULL_422" ? 2 : info.samplesPerPixel;
  return info.rows * info.columns * samples * info.bitsAllocated;
}

/** Decoded grey frame: stored values (sign applied, masked to Bits Stored), not yet rescaled. */
export interface GreyFrame {
  kind: "grey";
  rows: number;
  columns: number;
  values: Int32Array | Float32Array | Float64Array;
  min: number;
  max: number;
}

/** Decoded colour frame (palette, YBR and 16-bit colour already converted): 8-bit RGB, interleaved. */
export interface RgbFrame {
  kind: "rgb";
  rows: number;
  columns: number;
  rgb: Uint8Array;
}

/** `reduced` > 0: a JPEG 2000 family preview decoded that many resolution levels below full, enlarged back to the image's size. */
export type DecodedFrame = (GreyFrame | RgbFrame) & { reduced?: number };

/** Encoded bytes of frame `frame`, for native syntaxes a view of the Pixel Data. */
export function frameBytes(ds: dicomParser.DataSet, info: ImageInfo, frame: number): Uint8Array {
  if (!Number.isInteger(frame) || frame < 0 || frame >= info.frames) fail(`frame ${frame + 1} does not exist (the image has ${info.frames} frame(s))`);
  if (info.transferSyntax.encapsulated) return encapsulatedFrame(ds, info, frame);
  const pixel = ds.elements.x7fe00010 ?? ds.elements.x7fe00008 ?? ds.elements.x7fe00009!;
  const bits = nativeFrameBits(info);
  if (pixel.dataOffset + pixel.length > ds.byteArray.length) fail("the file ends inside the Pixel Data (it is truncated)");
  const needed = Math.ceil((bits * info.frames) / 8);
  if (pixel.length < needed) {
    fail(`the Pixel Data has ${pixel.length} bytes but ${info.columns}×${info.rows} pixels × ${info.frames} frame(s) × ${info.samplesPerPixel} sample(s) × ${info.bitsAllocated} bits need ${needed} (the file is truncated or its header is wrong)`);
  }
  if (info.bitsAllocated === 1) {
    // Bit-packed frames follow each other without byte alignment: hand back the whole run.
    return ds.byteArray.subarray(pixel.dataOffset, pixel.dataOffset + needed);
  }
  const length = bits / 8;
  const start = pixel.dataOffset + frame * length;
  return ds.byteArray.subarray(start, start + length);
}

function rleDecode(bytes: Uint8Array, info: ImageInfo): Uint8Array[] {
  // PS3.5 Annex G: a 64-byte header (segment count, 15 offsets), each segment PackBits-encoded.
  if (bytes.length < 64) fail("the RLE frame is shorter than its 64-byte header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const bytesPerSample = info.bitsAllocated / 8;
  const expected = info.samplesPerPixel * bytesPerSample;
  if (count !== expected) fail(`the RLE header declares ${count} segment(s) but ${info.samplesPerPixel} sample(s) of ${info.bitsAllocated} bits need ${expected}`);
  const n = info.rows * info.columns;
  const segments: Uint8Array[] = [];
  for (let s = 0; s < count; s++) {
    const start = view.getUint32(4 + s * 4, true);
    const end = s + 1 < count ? view.getUint32(8 + s * 4, true) : bytes.length;
    if (start < 64 || start > bytes.length || end > bytes.length || end < start) fail(`RLE segment ${s + 1} lies outside the frame`);
    const out = new Uint8Array(n);
    let o = 0;
    let i = start;
    while (i < end && o < n) {
      const h = bytes[i++]!;
      if (h < 128) {
        const len = Math.min(h + 1, n - o, end - i);
        out.set(bytes.subarray(i, i + len), o);
        o += len;
        i += h + 1;
      } else if (h > 128) {
        const len = Math.min(257 - h, n - o);
        out.fill(bytes[i++]!, o, o + len);
        o += len;
      }
    }
    if (o < n) fail(`RLE segment ${s + 1} ends early (${o} of ${n} pixels)`);
    segments.push(out);
  }
  return segments;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function ybrFullToRgbInPlace(rgb: Uint8Array): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const y = rgb[i]!;
    const cb = rgb[i + 1]! - 128;
    const cr = rgb[i + 2]! - 128;
    rgb[i] = clampByte(y + 1.402 * cr);
    rgb[i + 1] = clampByte(y - 0.344136 * cb - 0.714136 * cr);
    rgb[i + 2] = clampByte(y + 1.772 * cb);
  }
}

/** Colour samples (interleaved, any bit depth) → 8-bit RGB; 16-bit colour is scaled by its maximum. */
function colourTo8Bit(samples: ArrayLike<number>, n: number, bits: number): Uint8Array {
  const rgb = new Uint8Array(n * 3);
  if (bits <= 8) {
    for (let i = 0; i < n * 3; i++) rgb[i] = samples[i]!;
    return rgb;
  }
  let max = 0;
  for (let i = 0; i < n * 3; i++) if (samples[i]! > max) max = samples[i]!;
  const scale = max > 0 ? 255 / max : 0;
  for (let i = 0; i < n * 3; i++) rgb[i] = clampByte(samples[i]! * scale);
  return rgb;
}

interface PaletteChannel {
  entries: number;
  first: number;
  bits: number;
  data: Uint16Array;
}

function readLutDescriptor(ds: dicomParser.DataSet, tag: string): { entries: number; first: number; bits: number } {
  const el = ds.elements[tag];
  if (!el || el.length < 6) fail("the palette colour image has no LUT descriptors (0028,1101–1103)");
  const entries = ds.uint16(tag, 0) || 65536;
  // The first mapped value is US or SS depending on Pixel Representation; read it unsigned then sign it.
  let first = ds.uint16(tag, 1)!;
  if (ds.uint16("x00280103") === 1 && first > 32767) first -= 65536;
  return { entries, first, bits: ds.uint16(tag, 2)! };
}

function words(ds: dicomParser.DataSet, tag: string): Uint16Array | null {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return null;
  const out = new Uint16Array(el.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = ds.uint16(tag, i)!;
  return out;
}

/** Expands a segmented palette LUT (PS3.3 C.7.9.2): discrete, linear and indirect segments. */
function expandSegmented(segmented: Uint16Array, entries: number): Uint16Array {
  const out: number[] = [];
  const runSegments = (from: number, to: number, depth: number) => {
    let i = from;
    while (i < to) {
      const opcode = segmented[i]!;
      const length = segmented[i + 1]!;
      if (opcode === 0) {
        for (let k = 0; k < length; k++) out.push(segmented[i + 2 + k]!);
        i += 2 + length;
      } else if (opcode === 1) {
        const y0 = out.length > 0 ? out[out.length - 1]! : 0;
        const y1 = segmented[i + 2]!;
        for (let k = 1; k <= length; k++) out.push(Math.round(y0 + ((y1 - y0) * k) / length));
        i += 3;
      } else if (opcode === 2) {
        if (depth > 0) fail("the segmented palette's indirect segment points at another indirect segment");
        const offset = segmented[i + 2]! | (segmented[i + 3]! << 16);
        let at = offset;
        for (let k = 0; k < length; k++) {
          const size = segmented[at]! === 0 ? 2 + segmented[at + 1]! : segmented[at]! === 1 ? 3 : 4;
          runSegments(at, at + size, depth + 1);
          at += size;
        }
        i += 4;
      } else {
        fail(`the segmented palette has an unknown segment type ${opcode}`);
      }
      if (out.length > entries * 2) fail("the segmented palette expands to more entries than its descriptor declares");
    }
  };
  runSegments(0, segmented.length, 0);
  return Uint16Array.from(out.slice(0, entries));
}

function paletteChannel(ds: dicomParser.DataSet, descriptorTag: string, dataTag: string, segmentedTag: string, name: string): PaletteChannel {
  const d = readLutDescriptor(ds, descriptorTag);
  let data = words(ds, dataTag);
  if (!data) {
    const segmented = words(ds, segmentedTag);
    if (!segmented) fail(`the palette colour image has no ${name} LUT data (normal or segmented)`);
    data = expandSegmented(segmented, d.entries);
  } else if (d.bits <= 8 && data.length * 2 >= d.entries && data.length < d.entries) {
    // 8-bit LUT entries packed two per 16-bit word.
    const bytes = new Uint8Array(data.buffer);
    data = Uint16Array.from(bytes.subarray(0, d.entries));
  }
  if (data.length === 0) fail(`the palette's ${name} LUT is empty`);
  return { ...d, data };
}

function applyPalette(ds: dicomParser.DataSet, values: Int32Array, n: number): Uint8Array {
  const channels = [
    paletteChannel(ds, "x00281101", "x00281201", "x00281221", "red"),
    paletteChannel(ds, "x00281102", "x00281202", "x00281222", "green"),
    paletteChannel(ds, "x00281103", "x00281203", "x00281223", "blue"),
  ];
  const rgb = new Uint8Array(n * 3);
  channels.forEach((ch, c) => {
    // 16-bit entries to 8 bits by the top byte; some writers declare 16 bits but store 8-bit values.
    let max = 0;
    for (const v of ch.data) if (v > max) max = v;
    const shift = ch.bits > 8 && max > 255 ? 8 : 0;
    const last = ch.data.length - 1;
    for (let i = 0; i < n; i++) {
      const k = Math.min(Math.max(values[i]! - ch.first, 0), last);
      rgb[i * 3 + c] = ch.data[k]! >> shift;
    }
  });
  return rgb;
}

/** Stored integer samples → Int32 values masked to Bits Stored and sign-extended (Pixel Representation 1). */
function storedValues(samples: ArrayLike<number>, n: number, info: ImageInfo): Int32Array {
  const out = new Int32Array(n);
  const bits = info.bitsStored;
  const mask = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  const sign = 2 ** (bits - 1);
  for (let i = 0; i < n; i++) {
    let v = samples[i]!;
    if (v < 0) v += info.bitsAllocated <= 8 ? 256 : info.bitsAllocated <= 16 ? 65536 : 2 ** 32;
    if (bits < 32) v %= mask + 1;
    if (info.signed && v >= sign) v -= 2 * sign;
    out[i] = v;
  }
  return out;
}

function minMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** Reads native (uncompressed) samples of one frame, in stored order. */
function nativeSamples(bytes: Uint8Array, info: ImageInfo, frame: number): ArrayLike<number> {
  const little = info.transferSyntax.uid !== "1.2.840.10008.1.2.2";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = (bytes.length * 8) / info.bitsAllocated;
  if (info.bitsAllocated === 1) {
    const n = info.rows * info.columns;
    const out = new Uint8Array(n);
    const base = frame * n;
    for (let i = 0; i < n; i++) {
      const bit = base + i;
      out[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    return out;
  }
  if (info.pixelKind === "float32") return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, little));
  if (info.pixelKind === "float64") return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, little));
  if (info.bitsAllocated === 8) return bytes;
  if (info.bitsAllocated === 16) {
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, little);
    return out;
  }
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, little);
  return out;
}

function ybr422ToRgb(samples: ArrayLike<number>, info: ImageInfo): Uint8Array {
  // Pairs of pixels stored as Y1 Y2 Cb Cr (PS3.3 C.7.6.3.1.2).
  const rgb = new Uint8Array(info.rows * info.columns * 3);
  const perRow = info.columns;
  for (let r = 0; r < info.rows; r++) {
    for (let c = 0; c < perRow; c += 2) {
      const at = (r * perRow + c) * 2;
      const cb = samples[at + 2]!;
      const cr = samples[at + 3]!;
      for (let k = 0; k < 2 && c + k < perRow; k++) {
        const o = (r * perRow + c + k) * 3;
        rgb[o] = samples[at + k]!;
        rgb[o + 1] = cb;
        rgb[o + 2] = cr;
      }
    }
  }
  ybrFullToRgbInPlace(rgb);
  return rgb;
}

function checkSize(out: CodecOutput, info: ImageInfo, what: string): void {
  if (out.width !== info.columns || out.height !== info.rows) {
    fail(`the ${what} image is ${out.width}×${out.height} but Columns×Rows say ${info.columns}×${info.rows} (the codestream is damaged or belongs to another image)`);
  }
  if (out.components !== info.samplesPerPixel) fail(`the ${what} image has ${out.components} component(s) but Samples per Pixel says ${info.samplesPerPixel}`);
}

/**
 * Decodes frame `frame` (0-based) of a parsed DICOM file. Greyscale comes back as stored values
 * (with min and max) for the caller to rescale and window; colour as 8-bit RGB.
 * `options.reduce` (JPEG 2000 and HTJ2K only; ignored otherwise): skip that many resolution levels
 * (at most the codestream's) for a quick preview of a large image, enlarged back to its size; the
 * frame then says `reduced`. Throws DicomDecodeError naming the reason.
 */
export function decodeFrame(ds: dicomParser.DataSet, info: ImageInfo, frame: number, codecs: CodecModules, options: { reduce?: number } = {}): DecodedFrame {
  const note = { reduce: options.reduce ?? 0, reduced: 0 };
  const decoded = decodeFrameAt(ds, info, frame, codecs, note);
  return note.reduced > 0 ? { ...decoded, reduced: note.reduced } : decoded;
}

function decodeFrameAt(ds: dicomParser.DataSet, info: ImageInfo, frame: number, codecs: CodecModules, note: { reduce: number; reduced: number }): DecodedFrame {
  const bytes = frameBytes(ds, info, frame);
  const n = info.rows * info.columns;
  const { codec } = info.transferSyntax;
  let samples: ArrayLike<number>;
  let colourBits = info.bitsAllocated;
  let planar = info.planar;
  let photometric = info.photometric;
  try {
    if (codec === "native" || codec === "deflate") {
      samples = nativeSamples(bytes, info, frame);
      if (photometric === "YBR_FULL_422") return { kind: "rgb", rows: info.rows, columns: info.columns, rgb: ybr422ToRgb(samples, info) };
    } else if (codec === "rle") {
      const segments = rleDecode(bytes, info);
      const bytesPer = info.bitsAllocated / 8;
      const out = info.bitsAllocated <= 8 ? new Uint8Array(n * info.samplesPerPixel) : info.bitsAllocated === 16 ? new Uint16Array(n * info.samplesPerPixel) : new Uint32Array(n * info.samplesPerPixel);
      for (let s = 0; s < info.samplesPerPixel; s++) {
        for (let i = 0; i < n; i++) {
          let v = 0;
          // Segments of one sample run from the most significant byte to the least.
          for (let b = 0; b < bytesPer; b++) v = v * 256 + segments[s * bytesPer + b]![i]!;
          out[i * info.samplesPerPixel + s] = v;
        }
      }
      samples = out;
      planar = false;
    } else {
      let decoded: CodecOutput;
      const what = info.transferSyntax.name;
      if (codec === "j2k") decoded = decodeJ2k(codecs, bytes, note.reduce);
      else if (codec === "htj2k") decoded = decodeHtj2k(codecs, bytes, note.reduce);
      else if (codec === "jpeg-ls") decoded = decodeJpegLs(codecs, bytes, info.signed);
      else if (codec === "jpeg-lossless") decoded = decodeJpegLossless(bytes, info.bitsAllocated);
      else decoded = decodeJpeg(codecs, bytes, info.photometric === "RGB");
      checkSize(decoded, info, what);
      note.reduced = decoded.reduced ?? 0;
      samples = decoded.samples;
      colourBits = decoded.bitsPerSample;
      planar = false;
      // JPEG 2000 decoders undo the component transform (YBR_RCT/ICT → RGB); libjpeg-turbo converts
      // YCbCr JPEG to RGB unless the stream says its components are RGB.
      if (codec === "j2k" || codec === "htj2k" || codec === "jpeg") photometric = info.samplesPerPixel === 3 ? "RGB" : photometric;
    }
  } catch (error) {
    if (error instanceof CodecError) fail(error.message);
    throw error;
  }

  if (info.samplesPerPixel === 3) {
    let interleaved = samples;
    if (planar) {
      const out = new (samples.constructor as new (length: number) => Uint16Array)(n * 3);
      for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[i * 3 + c] = samples[c * n + i]!;
      interleaved = out;
    }
    const rgb = colourTo8Bit(interleaved, n, colourBits);
    if (photometric === "YBR_FULL" || photometric === "YBR_FULL_422") ybrFullToRgbInPlace(rgb);
    return { kind: "rgb", rows: info.rows, columns: info.columns, rgb };
  }
  if (info.pixelKind !== "integer") {
    const values = samples as Float32Array | Float64Array;
    const view = values.length === n ? values : values.subarray(frame * n, frame * n + n);
    return { kind: "grey", rows: info.rows, columns: info.columns, values: view, ...minMax(view) };
  }
  const values = storedValues(samples, n, info);
  if (info.photometric === "PALETTE COLOR") return { kind: "rgb", rows: info.rows, columns: info.columns, rgb: applyPalette(ds, values, n) };
  return { kind: "grey", rows: info.rows, columns: info.columns, values, ...minMax(values) };
}

export interface OpenedDicom {
  ds: dicomParser.DataSet;
  info: ImageInfo;
}

/** Parses and describes a DICOM file; throws DicomDecodeError. */
export function openDicom(bytes: Uint8Array, inflate: Inflate): OpenedDicom {
  const ds = parseDicomFile(bytes, inflate);
  return { ds, info: readImageInfo(ds) };
}
