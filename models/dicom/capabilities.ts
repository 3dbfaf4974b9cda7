/**
 * The one table of what our DICOM decoding handles, read by the importer (server/import/dicom.ts),
 * the case viewer's image loader (app/(app)/queue/[projectId]/dicom-image-loader.ts, through the
 * decode worker) and the embedding decoder (models/encoders/image-decode.ts). All three decode with
 * the same code (models/dicom/decode.ts) and the same codec packages, so a file the importer
 * accepts is one the viewer and the embedding decoder can draw.
 *
 * Codecs (all maintained npm packages): OpenJPEG (@cornerstonejs/codec-openjpeg) for JPEG 2000,
 * OpenJPH (@cornerstonejs/codec-openjph) for HTJ2K, CharLS (@cornerstonejs/codec-charls) for JPEG-LS,
 * libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit) for 8-bit JPEG baseline/extended,
 * libjpeg-turbo built for 12-bit samples (the WebAssembly of dcmjs-codecs) for 12-bit greyscale JPEG
 * extended, jpeg-js for 8-bit JPEG whose components are R, G, B without a marker saying so,
 * jpeg-lossless-decoder-js for JPEG lossless. RLE Lossless is
 * the PackBits segment layout of PS3.5 Annex G (a few lines in decode.ts); deflate via zlib/fflate.
 */

export type CodecName = "native" | "deflate" | "rle" | "jpeg" | "jpeg-lossless" | "jpeg-ls" | "j2k" | "htj2k";

export interface TransferSyntaxCapability {
  uid: string;
  name: string;
  codec: CodecName;
  /** True when the Pixel Data is encapsulated (compressed, in fragments). */
  encapsulated: boolean;
  /** Lossy codecs: a decoder may differ from another by a few grey levels. */
  lossy: boolean;
}

const entries: TransferSyntaxCapability[] = [
  { uid: "1.2.840.10008.1.2", name: "Implicit VR Little Endian", codec: "native", encapsulated: false, lossy: false },
  { uid: "1.2.840.10008.1.2.1", name: "Explicit VR Little Endian", codec: "native", encapsulated: false, lossy: false },
  { uid: "1.2.840.10008.1.2.1.99", name: "Deflated Explicit VR Little Endian", codec: "deflate", encapsulated: false, lossy: false },
  { uid: "1.2.840.10008.1.2.2", name: "Explicit VR Big Endian", codec: "native", encapsulated: false, lossy: false },
  { uid: "1.2.840.10008.1.2.5", name: "RLE Lossless", codec: "rle", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.50", name: "JPEG Baseline", codec: "jpeg", encapsulated: true, lossy: true },
  { uid: "1.2.840.10008.1.2.4.51", name: "JPEG Extended", codec: "jpeg", encapsulated: true, lossy: true },
  { uid: "1.2.840.10008.1.2.4.57", name: "JPEG Lossless", codec: "jpeg-lossless", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.70", name: "JPEG Lossless SV1", codec: "jpeg-lossless", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.80", name: "JPEG-LS Lossless", codec: "jpeg-ls", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.81", name: "JPEG-LS Near-Lossless", codec: "jpeg-ls", encapsulated: true, lossy: true },
  { uid: "1.2.840.10008.1.2.4.90", name: "JPEG 2000 Lossless", codec: "j2k", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.91", name: "JPEG 2000", codec: "j2k", encapsulated: true, lossy: true },
  { uid: "1.2.840.10008.1.2.4.201", name: "HTJ2K Lossless", codec: "htj2k", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.202", name: "HTJ2K Lossless RPCL", codec: "htj2k", encapsulated: true, lossy: false },
  { uid: "1.2.840.10008.1.2.4.203", name: "HTJ2K", codec: "htj2k", encapsulated: true, lossy: true },
];

/** Transfer syntaxes we decode, by UID. */
export const TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntaxCapability>> = Object.fromEntries(entries.map((e) => [e.uid, e]));

/** Known syntaxes we do not decode (video, JPEG 2000 Part 2, JPIP), named in the refusal. */
export const UNSUPPORTED_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  "1.2.840.10008.1.2.4.92": "JPEG 2000 Part 2 Multi-component Lossless",
  "1.2.840.10008.1.2.4.93": "JPEG 2000 Part 2 Multi-component",
  "1.2.840.10008.1.2.4.94": "JPIP Referenced",
  "1.2.840.10008.1.2.4.95": "JPIP Referenced Deflate",
  "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile",
  "1.2.840.10008.1.2.4.101": "MPEG2 High Profile",
  "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264",
  "1.2.840.10008.1.2.4.103": "MPEG-4 AVC/H.264 BD",
  "1.2.840.10008.1.2.4.104": "MPEG-4 AVC/H.264 2D",
  "1.2.840.10008.1.2.4.105": "MPEG-4 AVC/H.264 3D",
  "1.2.840.10008.1.2.4.106": "MPEG-4 AVC/H.264 Stereo",
  "1.2.840.10008.1.2.4.107": "HEVC/H.265 Main",
  "1.2.840.10008.1.2.4.108": "HEVC/H.265 Main 10",
  "1.2.840.10008.1.2.4.110": "JPEG XL Lossless",
  "1.2.840.10008.1.2.4.111": "JPEG XL JPEG Recompression",
  "1.2.840.10008.1.2.4.112": "JPEG XL",
};

/** Photometric interpretations we draw, by samples per pixel. */
export const PHOTOMETRIC_INTERPRETATIONS: Readonly<Record<string, 1 | 3>> = {
  MONOCHROME1: 1,
  MONOCHROME2: 1,
  "PALETTE COLOR": 1,
  RGB: 3,
  YBR_FULL: 3,
  YBR_FULL_422: 3,
  YBR_RCT: 3,
  YBR_ICT: 3,
};

/** Bits Allocated we read (1-bit only for greyscale, e.g. a binary segmentation). */
export const BITS_ALLOCATED = [1, 8, 16, 32] as const;

/** The largest frame we decode, in pixels (rows × columns); bigger frames are refused. */
export const MAX_FRAME_PIXELS = 100_000_000;

/** Lossy codecs get a documented slack against another decoder's rendering (see the fidelity tests). */
export function isLossy(transferSyntaxUid: string): boolean {
  return TRANSFER_SYNTAXES[transferSyntaxUid]?.lossy ?? false;
}

/** A one-line list of the syntaxes we decode, for refusal messages. */
export function supportedSyntaxList(): string {
  return entries.map((e) => e.name).join(", ");
}
