/**
 * The WebAssembly codecs, once instantiated: the same packages in Node (codecs-node.ts, loaded
 * synchronously from node_modules) and in the browser's decode worker (served from our origin).
 * Each decode function takes one frame's codestream and returns its samples, interleaved.
 */
import { Decoder as JpegLosslessDecoder } from "jpeg-lossless-decoder-js";
import jpeg from "jpeg-js";

/** An emscripten/embind decoder class of the cornerstone codec packages. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  getInterleaveMode?(): number;
  /** JPEG 2000 family: decode only down to `level` resolution levels below full (each halves width and height). */
  decodeSubResolution?(level: number, layer: number): void;
  calculateSizeAtDecompositionLevel?(level: number): { width: number; height: number };
  delete(): void;
}
type DecoderClass = new () => WasmDecoder;

/** The instantiated codec modules (what each package's factory resolves to), and the 12-bit JPEG codec. */
export interface CodecModules {
  openjpeg: { J2KDecoder: DecoderClass };
  openjph: { HTJ2KDecoder: DecoderClass };
  charls: { JpegLSDecoder: DecoderClass };
  libjpegTurbo: { JPEGDecoder: DecoderClass };
  /** Loaded on first need (its WebAssembly is 4 MB): Node instantiates it synchronously, the decode worker before decoding a 12-bit JPEG frame. */
  jpeg12: Jpeg12Codec;
}

/** Package file names (in each package's dist/) of the glue script and the WebAssembly. */
export const CODEC_FILES = {
  openjpeg: { pkg: "@cornerstonejs/codec-openjpeg", js: "openjpegwasm_decode.js", wasm: "openjpegwasm_decode.wasm" },
  openjph: { pkg: "@cornerstonejs/codec-openjph", js: "openjphjs.js", wasm: "openjphjs.wasm" },
  charls: { pkg: "@cornerstonejs/codec-charls", js: "charlswasm_decode.js", wasm: "charlswasm_decode.wasm" },
  libjpegTurbo: { pkg: "@cornerstonejs/codec-libjpeg-turbo-8bit", js: "libjpegturbowasm_decode.js", wasm: "libjpegturbowasm_decode.wasm" },
} as const;

/**
 * 12-bit JPEG (DICOM JPEG Extended, processes 2 and 4): libjpeg-turbo built for 12-bit samples, as
 * shipped in the standalone (WASI) WebAssembly of dcmjs-codecs (its JpegDecoder12). The package's
 * JavaScript wrapper loads that WebAssembly asynchronously and through eval (which our CSP forbids),
 * so we instantiate it ourselves and call the C API it exports (CreateCodecsContext, DecodeJpeg, …),
 * exactly as that wrapper does. Pinned to one version in package.json: the unit tests decode
 * ../shared/data/dicom's 12-bit files and fail if that interface changes.
 * Considered and not used (2026-11-30): @cornerstonejs/codec-libjpeg-turbo-8bit (8-bit build; no
 * 12-bit cornerstone codec is published), jpeg-js (clamps samples to 8 bits), and the pdf.js-derived
 * JpegImage inside @cornerstonejs/dicom-image-loader 5.x (12-bit, but its level shift is scaled from
 * the 8-bit constant: samples read 15 levels high, 9…279 where libjpeg and the reference read 0…264).
 */
export const JPEG12_CODEC = { pkg: "dcmjs-codecs", wasm: "dcmjs-native-codecs.wasm" } as const;

/** The exports of dcmjs-codecs' WebAssembly that we call. */
interface Jpeg12Exports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  CreateCodecsContext(): number;
  ReleaseCodecsContext(context: number): void;
  SetColumns(context: number, value: number): void;
  SetRows(context: number, value: number): void;
  SetBitsAllocated(context: number, value: number): void;
  SetBitsStored(context: number, value: number): void;
  SetSamplesPerPixel(context: number, value: number): void;
  SetPixelRepresentation(context: number, value: number): void;
  SetPlanarConfiguration(context: number, value: number): void;
  SetPhotometricInterpretation(context: number, value: number): void;
  SetEncodedBufferSize(context: number, size: number): void;
  GetEncodedBuffer(context: number): number;
  GetDecodedBuffer(context: number): number;
  GetDecodedBufferSize(context: number): number;
  CreateDecoderParameters(): number;
  ReleaseDecoderParameters(parameters: number): void;
  SetConvertColorspaceToRgb(parameters: number, value: number): void;
  DecodeJpeg(context: number, parameters: number): void;
}

/** The 12-bit JPEG codec, once instantiated. */
export interface Jpeg12Codec {
  /** Decodes a one-component 12-bit JPEG of `width` × `height` to its samples (0–4095). Throws CodecError. */
  decodeGrey(bytes: Uint8Array, width: number, height: number): Uint16Array;
}

/** The imports dcmjs-codecs' WebAssembly needs (its error callbacks and a few WASI calls); `memory` is read after instantiation. */
export function jpeg12Imports(memory: () => WebAssembly.Memory): WebAssembly.Imports {
  const text = (at: number, length: number) => new TextDecoder().decode(new Uint8Array(memory().buffer, at, length));
  const WASI_SUCCESS = 0;
  const WASI_BADF = 8;
  return {
    env: {
      // libjpeg's error_exit ends here; throwing unwinds the decode call.
      onCodecsException: (at: number, length: number) => {
        throw new CodecError(text(at, length).replace(/^JpegDecoder12::(?:\w+::)*/, ""));
      },
      onCodecsInfo: () => undefined,
      onCodecsTrace: () => undefined,
      emscripten_notify_memory_growth: () => undefined,
    },
    wasi_snapshot_preview1: {
      proc_exit: (code: number) => {
        throw new CodecError(`the 12-bit JPEG codec stopped (exit code ${code})`);
      },
      clock_time_get: () => WASI_BADF,
      // Warnings go to stderr; we count them as written and drop them.
      fd_write: (_fd: number, iovs: number, count: number, written: number) => {
        const view = new DataView(memory().buffer);
        let total = 0;
        for (let i = 0; i < count; i++) total += view.getUint32(iovs + i * 8 + 4, true);
        view.setUint32(written, total, true);
        return WASI_SUCCESS;
      },
      fd_close: () => WASI_SUCCESS,
      fd_seek: () => WASI_SUCCESS,
      environ_sizes_get: (count: number, size: number) => {
        const view = new DataView(memory().buffer);
        view.setUint32(count, 0, true);
        view.setUint32(size, 0, true);
        return WASI_SUCCESS;
      },
      environ_get: () => WASI_SUCCESS,
    },
  };
}

/**
 * The 12-bit JPEG codec over an instance of dcmjs-codecs' WebAssembly, created with
 * `jpeg12Imports(() => memory)` (pass the instance's memory once it exists).
 */
export function jpeg12Codec(instance: WebAssembly.Instance): Jpeg12Codec {
  const api = instance.exports as unknown as Jpeg12Exports;
  api._initialize?.();
  const MONOCHROME2 = 1; // dcmjs-codecs' PhotometricInterpretation order
  return {
    decodeGrey(bytes, width, height) {
      const context = api.CreateCodecsContext();
      const parameters = api.CreateDecoderParameters();
      try {
        api.SetColumns(context, width);
        api.SetRows(context, height);
        api.SetBitsAllocated(context, 16);
        api.SetBitsStored(context, 12);
        api.SetSamplesPerPixel(context, 1);
        // The JPEG stream holds unsigned samples; decode.ts reads them as the file's Pixel Representation says.
        api.SetPixelRepresentation(context, 0);
        api.SetPlanarConfiguration(context, 0);
        api.SetPhotometricInterpretation(context, MONOCHROME2);
        api.SetConvertColorspaceToRgb(parameters, 0);
        api.SetEncodedBufferSize(context, bytes.length);
        new Uint8Array(api.memory.buffer).set(bytes, api.GetEncodedBuffer(context));
        try {
          api.DecodeJpeg(context, parameters);
        } catch (error) {
          throw new CodecError(`the 12-bit JPEG stream could not be decoded (${wasmMessage(error)})`);
        }
        const size = api.GetDecodedBufferSize(context);
        if (size < width * height * 2) throw new CodecError("the 12-bit JPEG stream is damaged: it decoded to fewer samples than its header declares");
        // Copy out of the WebAssembly memory: the context's buffer is freed below.
        const out = new Uint16Array(width * height);
        new Uint8Array(out.buffer).set(new Uint8Array(api.memory.buffer, api.GetDecodedBuffer(context), out.byteLength));
        return out;
      } finally {
        api.ReleaseDecoderParameters(parameters);
        api.ReleaseCodecsContext(context);
      }
    },
  };
}

export interface CodecOutput {
  width: number;
  height: number;
  components: number;
  bitsPerSample: number;
  /** Samples, interleaved (R G B R G B … for colour). */
  samples: Uint8Array | Int8Array | Uint16Array | Int16Array;
  /** Resolution levels skipped (JPEG 2000 family preview): each sample then stands for 2^reduced × 2^reduced pixels. 0: full resolution. */
  reduced?: number;
}

/** A codec refused the codestream; the message says which codec and why, in words. */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CodecError";
  }
}

function wasmMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  // Emscripten throws a bare pointer number for a C++ exception it could not translate.
  return "the decoder stopped on invalid data";
}

function runWasm(Decoder: DecoderClass, bytes: Uint8Array, what: string, signedHint?: boolean, reduce = 0): CodecOutput {
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    try {
      if (reduce > 0) decoder.decodeSubResolution!(reduce, 0);
      else decoder.decode();
    } catch (error) {
      throw new CodecError(`${what} could not be decoded (${wasmMessage(error)})`);
    }
    const info = decoder.getFrameInfo();
    const decoded = decoder.getDecodedBuffer();
    if (reduce > 0) {
      // The frame info keeps the full size; the samples are of the reduced one.
      const full = { width: info.width, height: info.height };
      const small = decoder.calculateSizeAtDecompositionLevel!(reduce);
      const out = runWasmOutput({ ...info, width: small.width, height: small.height }, decoded, decoder, signedHint, what);
      return { ...enlarge(out, full.width, full.height, reduce), reduced: reduce };
    }
    return runWasmOutput(info, decoded, decoder, signedHint, what);
  } finally {
    decoder.delete();
  }
}

/**
 * A reduced-resolution decode enlarged back to the full size, each sample repeated over its
 * 2^reduce × 2^reduce block, so a preview has the image's own size and pixel coordinates.
 */
function enlarge(out: CodecOutput, width: number, height: number, reduce: number): CodecOutput {
  const { components, samples } = out;
  const enlarged = new (samples.constructor as new (length: number) => CodecOutput["samples"])(width * height * components);
  for (let y = 0; y < height; y++) {
    const from = Math.min(out.height - 1, y >> reduce) * out.width;
    const to = y * width;
    for (let x = 0; x < width; x++) {
      const source = (from + Math.min(out.width - 1, x >> reduce)) * components;
      for (let c = 0; c < components; c++) enlarged[(to + x) * components + c] = samples[source + c]!;
    }
  }
  return { ...out, width, height, samples: enlarged };
}

function runWasmOutput(info: ReturnType<WasmDecoder["getFrameInfo"]>, decoded: Uint8Array, decoder: WasmDecoder, signedHint: boolean | undefined, what: string): CodecOutput {
  const pixels = info.width * info.height * info.componentCount;
  const bytesPer = info.bitsPerSample > 8 ? 2 : 1;
  if (pixels === 0 || decoded.length < pixels * bytesPer) throw new CodecError(`${what} is damaged: it decoded to fewer samples than its header declares`);
  // Copy out of the WebAssembly heap: the caller frees the decoder's memory.
  const copy = new Uint8Array(pixels * bytesPer);
  copy.set(decoded.subarray(0, copy.length));
  const signed = info.isSigned ?? signedHint ?? false;
  let samples: CodecOutput["samples"];
  if (bytesPer === 2) samples = signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer);
  else samples = signed ? new Int8Array(copy.buffer) : copy;
  if (info.componentCount > 1 && decoder.getInterleaveMode?.() === 0) samples = interleavePlanes(samples, info.width * info.height, info.componentCount);
  return { width: info.width, height: info.height, components: info.componentCount, bitsPerSample: info.bitsPerSample, samples };
}

function interleavePlanes<T extends CodecOutput["samples"]>(planar: T, n: number, components: number): T {
  const out = new (planar.constructor as new (length: number) => T)(planar.length);
  for (let c = 0; c < components; c++) for (let i = 0; i < n; i++) out[i * components + c] = planar[c * n + i]!;
  return out;
}

/** A JP2 file wrapped around the codestream (non-conformant in DICOM): returns the bare codestream of its jp2c box. */
export function unwrapJp2(bytes: Uint8Array): Uint8Array {
  const isJp2 = bytes.length > 12 && bytes[4] === 0x6a && bytes[5] === 0x50 && bytes[6] === 0x20 && bytes[7] === 0x20;
  if (!isJp2) return bytes;
  let at = 0;
  while (at + 8 <= bytes.length) {
    let length = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    let header = 8;
    if (length === 1) {
      // 64-bit box length (XLBox); codestreams here are far below 4 GiB.
      length = ((bytes[at + 12]! << 24) >>> 0) + (bytes[at + 13]! << 16) + (bytes[at + 14]! << 8) + bytes[at + 15]!;
      header = 16;
    }
    if (type === "jp2c") return bytes.subarray(at + header, length === 0 ? bytes.length : at + length);
    if (length < header) break;
    at += length;
  }
  throw new CodecError("the JP2 wrapper around the JPEG 2000 codestream has no codestream box (jp2c)");
}

/**
 * Checks a JPEG 2000 codestream's markers before decoding: SOC + SIZ at the start, and EOC (FFD9)
 * at the end (after trailing padding); a codestream without EOC was cut short.
 */
export function checkJ2kCodestream(bytes: Uint8Array, what = "JPEG 2000"): { width: number; height: number; components: number } {
  if (!(bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51)) {
    throw new CodecError(`the ${what} codestream does not start with its SOC and SIZ markers`);
  }
  if (bytes.length < 42) throw new CodecError(`the ${what} codestream ends early (inside its SIZ header)`);
  const read32 = (at: number) => ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
  const width = read32(8) - read32(16);
  const height = read32(12) - read32(20);
  const components = (bytes[40]! << 8) | bytes[41]!;
  return { width, height, components };
}

/** True when the codestream ends with its EOC marker (FFD9), after any padding. Some writers omit it. */
function hasEoc(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0x00) end--; // fragments are padded to even length
  return bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9;
}

/**
 * Number of wavelet decomposition levels in a JPEG 2000 codestream's main header (its COD marker),
 * or 0 when none is found: a decode may skip up to that many resolution levels.
 */
export function j2kDecompositions(bytes: Uint8Array): number {
  let at = 2; // after SOC
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    if (marker === 0x90 || marker === 0x93) return 0; // SOT/SOD: the main header ended without COD
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    // COD: Lcod (2), Scod (1), SGcod (progression 1, layers 2, MCT 1), then SPcod's decomposition levels.
    if (marker === 0x52) return at + 9 < bytes.length ? bytes[at + 9]! : 0;
    at += 2 + length;
  }
  return 0;
}

/** Runs a JPEG 2000 family decoder (`reduce` resolution levels below full, at most the codestream's) and names a cut-short codestream as such when it fails. */
function runJ2k(Decoder: DecoderClass, codestream: Uint8Array, what: string, reduce = 0): CodecOutput {
  try {
    return runWasm(Decoder, codestream, `the ${what} codestream`, undefined, Math.max(0, Math.min(reduce, j2kDecompositions(codestream))));
  } catch (error) {
    if (error instanceof CodecError && !hasEoc(codestream)) throw new CodecError(`the ${what} codestream ends early (no EOC marker; ${error.message})`);
    throw error;
  }
}

/** JPEG 2000 through OpenJPEG; `reduce` > 0 decodes that many resolution levels below full, enlarged back (a preview). */
export function decodeJ2k(codecs: CodecModules, bytes: Uint8Array, reduce = 0): CodecOutput {
  const codestream = unwrapJp2(bytes);
  checkJ2kCodestream(codestream);
  return runJ2k(codecs.openjpeg.J2KDecoder, codestream, "JPEG 2000", reduce);
}

/** HTJ2K through OpenJPH; `reduce` as for decodeJ2k. */
export function decodeHtj2k(codecs: CodecModules, bytes: Uint8Array, reduce = 0): CodecOutput {
  const codestream = unwrapJp2(bytes);
  checkJ2kCodestream(codestream, "HTJ2K");
  return runJ2k(codecs.openjph.HTJ2KDecoder, codestream, "HTJ2K", reduce);
}

export function decodeJpegLs(codecs: CodecModules, bytes: Uint8Array, signed: boolean): CodecOutput {
  if (!(bytes[0] === 0xff && bytes[1] === 0xd8)) throw new CodecError("the JPEG-LS stream does not start with an SOI marker");
  return runWasm(codecs.charls.JpegLSDecoder, bytes, "the JPEG-LS stream", signed);
}

/** JPEG frame header (SOF): precision, size and component count, or null when none is found. */
export function jpegFrameHeader(bytes: Uint8Array): { precision: number; width: number; height: number; components: number; marker: number } | null {
  if (!(bytes[0] === 0xff && bytes[1] === 0xd8)) return null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (marker === 0xf7 || isSof) {
      if (at + 10 > bytes.length) return null;
      return { marker, precision: bytes[at + 4]!, height: (bytes[at + 5]! << 8) | bytes[at + 6]!, width: (bytes[at + 7]! << 8) | bytes[at + 8]!, components: bytes[at + 9]! };
    }
    at += 2 + length;
  }
  return null;
}

/**
 * Whether libjpeg converts this 3-component stream from YCbCr to RGB (its own rule, jdapimin.c):
 * an Adobe APP14 marker decides by its transform flag, a JFIF APP0 marker means YCbCr, component
 * ids 'R','G','B' mean RGB, anything else is taken as YCbCr.
 */
export function jpegConvertsFromYcbcr(bytes: Uint8Array): boolean {
  let at = 2;
  let jfif = false;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (marker === 0xe0 && String.fromCharCode(...bytes.subarray(at + 4, at + 8)) === "JFIF") jfif = true;
    if (marker === 0xee && String.fromCharCode(...bytes.subarray(at + 4, at + 9)) === "Adobe") return bytes[at + 15] !== 0;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (jfif) return true;
      const ids = [bytes[at + 10], bytes[at + 13], bytes[at + 16]];
      return !(ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42);
    }
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return true;
}

/**
 * JPEG baseline/extended through libjpeg-turbo; `rgbComponents` (Photometric Interpretation RGB)
 * means the stream's components are R, G, B and must not be colour-converted.
 */
export function decodeJpeg(codecs: CodecModules, bytes: Uint8Array, rgbComponents = false): CodecOutput {
  const header = jpegFrameHeader(bytes);
  if (!header) throw new CodecError("the JPEG stream has no frame header (SOF marker)");
  if (header.precision <= 8 && !(rgbComponents && header.components === 3 && jpegConvertsFromYcbcr(bytes))) {
    return runWasm(codecs.libjpegTurbo.JPEGDecoder, bytes, "the JPEG stream");
  }
  if (header.precision === 12 && header.components === 1) {
    return { width: header.width, height: header.height, components: 1, bitsPerSample: 12, samples: codecs.jpeg12.decodeGrey(bytes, header.width, header.height) };
  }
  if (header.precision > 8) {
    throw new CodecError(`the JPEG stream has ${header.precision}-bit precision with ${header.components} component(s); we decode 12-bit JPEG for greyscale images only (libjpeg-turbo 12-bit, dcmjs-codecs)`);
  }
  // libjpeg-turbo's build offers no way to turn its colour conversion off: jpeg-js decodes a stream
  // that carries R, G, B without a marker saying so.
  try {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, colorTransform: false, tolerantDecoding: false, maxResolutionInMP: 200, maxMemoryUsageInMB: 2048 });
    return { width: image.width, height: image.height, components: 3, bitsPerSample: 8, samples: image.data as Uint8Array };
  } catch (error) {
    throw new CodecError(`the JPEG stream could not be decoded (${wasmMessage(error)})`);
  }
}

export function decodeJpegLossless(bytes: Uint8Array, bitsAllocated: number): CodecOutput {
  const header = jpegFrameHeader(bytes);
  if (!header) throw new CodecError("the JPEG lossless stream has no frame header (SOF marker)");
  try {
    const decoder = new JpegLosslessDecoder();
    const numBytes = bitsAllocated <= 8 ? 1 : 2;
    const out = decoder.decode(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, numBytes) as Uint8Array | Uint16Array;
    return { width: header.width, height: header.height, components: header.components, bitsPerSample: header.precision, samples: out };
  } catch (error) {
    throw new CodecError(`the JPEG lossless stream could not be decoded (${wasmMessage(error)})`);
  }
}
