/** The part of jpeg-lossless-decoder-js 2.x that models/dicom/codecs.ts uses (its package ships no types for the CommonJS entry). */
declare module "jpeg-lossless-decoder-js" {
  export class Decoder {
    /** Decodes a JPEG lossless stream; numBytes is 1 or 2 bytes per sample of the output. */
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}

/** Emscripten factories of the cornerstone codec packages (decode-only builds), bundled into the viewer's decode worker. */
declare module "@cornerstonejs/codec-openjpeg/decodewasmjs" {
  const factory: (module?: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module "@cornerstonejs/codec-openjph/wasmjs" {
  const factory: (module?: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module "@cornerstonejs/codec-charls/decodewasmjs" {
  const factory: (module?: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
declare module "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs" {
  const factory: (module?: Record<string, unknown>) => Promise<unknown>;
  export default factory;
}
