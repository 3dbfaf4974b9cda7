/** The part of jpeg-lossless-decoder-js 2.x that models/dicom/codecs.ts uses (its package ships no types for the CommonJS entry). */
declare module "jpeg-lossless-decoder-js" {
  export class Decoder {
    /** Decodes a JPEG lossless stream; numBytes is 1 or 2 bytes per sample of the output. */
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
