/** Messages between the case viewer's DICOM image loader and its decode worker (dicom-decode-worker.ts). */
import type { DecodedFrame, FrameTransform } from "@/models/dicom/decode";

export interface DecodeRequest {
  id: number;
  /** Same-origin URL of the DICOM file (/api/images/<id>). */
  url: string;
  /** 0-based frame index. */
  frame: number;
  /** JPEG 2000 / HTJ2K preview: skip this many resolution levels (models/dicom decodeFrame's `reduce`); absent or 0: full. */
  reduce?: number;
}

export interface DecodedWorkerImage {
  frame: DecodedFrame;
  rows: number;
  columns: number;
  frames: number;
  photometric: string;
  modality: string | null;
  transform: FrameTransform;
  /** Pixel Spacing (row, column) in mm, when the file has it. */
  pixelSpacing: [number, number] | null;
  /** When the file's bytes had arrived in the worker, epoch ms (performance.timeOrigin + now()). */
  bytesAt: number;
  /** Where this frame's time went in the worker, epoch ms: request received, codec ready, decoded (before posting). */
  stages: { requestAt: number; codecReadyAt: number; decodedAt: number };
}

export type DecodeResponse = { id: number; ok: true; image: DecodedWorkerImage } | { id: number; ok: false; message: string };
