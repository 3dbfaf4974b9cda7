/**
 * The case viewer's cornerstone image loader for DICOM ("dicom:<url>?frame=N", N 0-based). Frames
 * are decoded off the main thread by a small pool of dedicated workers (dicom-decode-worker.ts,
 * served from /codecs/ on our own origin with the codecs' WebAssembly) using the same pipeline and
 * capability table as the importer and the embedding decoder (models/dicom).
 *
 * A frame that cannot be decoded rejects with an Error whose message names the reason (the viewer
 * shows it), never a black canvas.
 */
import type { CornerstoneImage, ImageLoadObject } from "cornerstone-core";
import { defaultWindow } from "@/models/dicom/render";
import type { DecodedWorkerImage, DecodeRequest, DecodeResponse } from "./dicom-decode-protocol";

declare global {
  interface Window {
    /** When each DICOM file's bytes arrived (page time, ms; from the decode worker), for the benchmark. */
    __radsDicomBytesAt?: Record<string, number>;
  }
}

export const DICOM_SCHEME = "dicom";
export const DECODE_WORKER_URL = "/codecs/dicom-decode-worker.js";

interface PendingDecode {
  url: string;
  resolve: (image: DecodedWorkerImage) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, PendingDecode>;
}

let pool: PoolWorker[] | null = null;
let nextId = 1;

function startWorker(): PoolWorker {
  const entry: PoolWorker = { worker: new Worker(DECODE_WORKER_URL), pending: new Map() };
  entry.worker.onmessage = (event: MessageEvent<DecodeResponse>) => {
    const reply = event.data;
    const waiting = entry.pending.get(reply.id);
    if (!waiting) return;
    entry.pending.delete(reply.id);
    if (reply.ok) {
      (window.__radsDicomBytesAt ??= {})[waiting.url] ??= reply.image.bytesAt - performance.timeOrigin;
      waiting.resolve(reply.image);
    }
    else waiting.reject(new Error(reply.message));
  };
  entry.worker.onerror = (event) => {
    event.preventDefault();
    // The script did not load or crashed: fail what it holds and start afresh on the next request.
    for (const waiting of entry.pending.values()) waiting.reject(new Error("the image decoder could not run (its worker script failed to load or stopped)"));
    entry.pending.clear();
    if (pool) pool[pool.indexOf(entry)] = startWorker();
    entry.worker.terminate();
  };
  return entry;
}

/** Starts the decode workers (they compile the codecs at once); the viewer calls it when it loads cornerstone. */
export function startDecodeWorkers(): void {
  if (pool) return;
  const cores = typeof navigator !== "undefined" && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
  pool = Array.from({ length: Math.max(1, Math.min(4, cores - 1)) }, startWorker);
}

function workerFor(url: string): PoolWorker {
  startDecodeWorkers();
  if (!pool) throw new Error("the image decoder could not start");
  // One file always goes to the same worker, which keeps its bytes and parsed header cached.
  let hash = 0;
  for (let i = 0; i < url.length; i++) hash = (hash * 31 + url.charCodeAt(i)) | 0;
  return pool[Math.abs(hash) % pool.length]!;
}

/** Decodes frame `frame` (0-based) of the DICOM file at `url` in a worker. */
export function decodeDicomFrame(url: string, frame: number): Promise<DecodedWorkerImage> {
  const entry = workerFor(url);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    entry.pending.set(id, { url, resolve, reject });
    const request: DecodeRequest = { id, url, frame };
    entry.worker.postMessage(request);
  });
}

/** Largest span of stored values drawn through cornerstone's lookup table as is; wider or fractional ones are requantised. */
const MAX_LUT_SPAN = 1 << 20;

/**
 * A decoded frame as a cornerstone image. Greyscale keeps its stored values, rescale and window
 * (cornerstone applies them, so window/level stays interactive); float or very wide values are
 * requantised to 16 bits with an equivalent slope/intercept. MONOCHROME1 opens inverted. Colour
 * becomes RGBA.
 */
export function toCornerstoneImage(imageId: string, decoded: DecodedWorkerImage): CornerstoneImage {
  const { frame, rows, columns } = decoded;
  const [rowSpacing, columnSpacing] = decoded.pixelSpacing ?? [1, 1];
  const base = { imageId, rows, columns, height: rows, width: columns, columnPixelSpacing: columnSpacing, rowPixelSpacing: rowSpacing };
  if (frame.kind === "rgb") {
    const n = rows * columns;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      rgba[i * 4] = frame.rgb[i * 3]!;
      rgba[i * 4 + 1] = frame.rgb[i * 3 + 1]!;
      rgba[i * 4 + 2] = frame.rgb[i * 3 + 2]!;
      rgba[i * 4 + 3] = 255;
    }
    // Centre 127.5 / width 255 is the identity in cornerstone's linear lookup table.
    return { ...base, minPixelValue: 0, maxPixelValue: 255, slope: 1, intercept: 0, windowCenter: 127.5, windowWidth: 255, getPixelData: () => rgba, color: true, rgba: false, invert: false, sizeInBytes: rgba.length };
  }
  const { window } = defaultWindow(frame, decoded.transform);
  let values: Int32Array = frame.values instanceof Int32Array ? frame.values : new Int32Array(0);
  let { slope, intercept } = decoded.transform;
  let min = frame.min;
  let max = frame.max;
  const integral = frame.values instanceof Int32Array;
  if (!integral || max - min > MAX_LUT_SPAN) {
    const span = max - min || 1;
    const step = span / 65535;
    values = new Int32Array(frame.values.length);
    for (let i = 0; i < values.length; i++) values[i] = Math.round((frame.values[i]! - min) / step);
    intercept = intercept + slope * min;
    slope = slope * step;
    min = 0;
    max = 65535;
  }
  return {
    ...base,
    minPixelValue: min,
    maxPixelValue: max,
    slope,
    intercept,
    windowCenter: window.center,
    windowWidth: window.width,
    getPixelData: () => values,
    color: false,
    invert: decoded.photometric === "MONOCHROME1",
    sizeInBytes: values.byteLength,
  };
}

/** "dicom:/api/images/<id>?frame=3" → { url, frame: 3 } (frame 0 without the query). */
export function parseDicomImageId(imageId: string): { url: string; frame: number } {
  const rest = imageId.slice(DICOM_SCHEME.length + 1);
  const match = /^(.*?)(?:\?frame=(\d+))?$/.exec(rest)!;
  return { url: match[1]!, frame: match[2] === undefined ? 0 : Number(match[2]) };
}

/** The loader cornerstone calls for "dicom:" image ids. */
export function dicomImageLoader(imageId: string): ImageLoadObject {
  const { url, frame } = parseDicomImageId(imageId);
  return { promise: decodeDicomFrame(url, frame).then((decoded) => toCornerstoneImage(imageId, decoded)) };
}
