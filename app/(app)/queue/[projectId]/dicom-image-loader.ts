/**
 * The case viewer's cornerstone image loader for DICOM ("dicom:<url>?frame=N", N 0-based). Frames
 * are decoded off the main thread by a small pool of workers (dicom-decode-worker.ts, served from
 * /codecs/ on our own origin with the codecs' WebAssembly; shared workers, so every tab uses the same
 * warm ones) using the same pipeline and capability table as the importer and the embedding decoder
 * (models/dicom). A large JPEG 2000 frame may first be shown as a reduced-resolution preview
 * (previewReduction, previewDicomImage).
 *
 * A frame that cannot be decoded rejects with an Error whose message names the reason (the viewer
 * shows it), never a black canvas.
 */
import type { CornerstoneImage, ImageLoadObject } from "cornerstone-core";
import { TRANSFER_SYNTAXES } from "@/models/dicom/capabilities";
import { defaultWindow } from "@/models/dicom/render";
import type { DecodedWorkerImage, DecodeRequest, DecodeResponse } from "./dicom-decode-protocol";
import { reportImageStatus } from "../../../_components/session-end";

declare global {
  interface Window {
    /** When each DICOM file's bytes arrived (page time, ms; from the decode worker), for the benchmark. */
    __radsDicomBytesAt?: Record<string, number>;
    /** The last decodes' stages (page time, ms), for the render benchmark (scripts/bench-render.ts). */
    __radsDecodeStages?: DecodeStages[];
  }
}

/** Where one frame's time went, page time (ms): bytes arrived, worker got the request, codec ready, decoded, reply received. */
export interface DecodeStages {
  url: string;
  /** Resolution levels skipped (a JPEG 2000 preview); 0: full resolution. */
  reduced: number;
  bytesAt: number;
  requestAt: number;
  codecReadyAt: number;
  decodedAt: number;
  receivedAt: number;
}
const KEPT_STAGES = 100;

export const DICOM_SCHEME = "dicom";
export const DECODE_WORKER_URL = "/codecs/dicom-decode-worker.js";

interface PendingDecode {
  url: string;
  resolve: (image: DecodedWorkerImage) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  /** Where requests go: a shared worker's port, or a dedicated worker. */
  port: { postMessage(request: DecodeRequest): void };
  pending: Map<number, PendingDecode>;
  close(): void;
}

let pool: PoolWorker[] | null = null;
let nextId = 1;

/**
 * One decode worker of the pool. Where the browser has them, a SharedWorker (named per pool slot):
 * every tab of the platform then uses the same few workers, so a case opened in a new tab finds the
 * codecs compiled and warm instead of starting and compiling its own. Otherwise a dedicated Worker.
 */
function startWorker(slot: number): PoolWorker {
  const pending = new Map<number, PendingDecode>();
  const onReply = (event: MessageEvent<DecodeResponse>) => {
    const reply = event.data;
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) {
      const page = (epoch: number) => epoch - performance.timeOrigin;
      (window.__radsDicomBytesAt ??= {})[waiting.url] ??= page(reply.image.bytesAt);
      const { stages } = reply.image;
      const kept = (window.__radsDecodeStages ??= []);
      if (stages) kept.push({ url: waiting.url, reduced: reply.image.frame.reduced ?? 0, bytesAt: page(reply.image.bytesAt), requestAt: page(stages.requestAt), codecReadyAt: page(stages.codecReadyAt), decodedAt: page(stages.decodedAt), receivedAt: performance.now() });
      if (kept.length > KEPT_STAGES) kept.splice(0, kept.length - KEPT_STAGES);
      waiting.resolve(reply.image);
    }
    else {
      // The worker's fetch answered 401 (DicomDecodeError "… (HTTP 401)"): the session ended (session-end.ts).
      if (/\(HTTP 401\)/.test(reply.message)) reportImageStatus(401);
      waiting.reject(new Error(reply.message));
    }
  };
  let entry: PoolWorker;
  const onError = (event: Event) => {
    event.preventDefault();
    // The script did not load or crashed: fail what it holds and start afresh on the next request.
    for (const waiting of pending.values()) waiting.reject(new Error("the image decoder could not run (its worker script failed to load or stopped)"));
    pending.clear();
    if (pool && pool.includes(entry)) pool[pool.indexOf(entry)] = startWorker(slot);
    entry.close();
  };
  if (typeof SharedWorker !== "undefined") {
    const shared = new SharedWorker(DECODE_WORKER_URL, { name: `dicom-decode-${slot}` });
    shared.port.onmessage = onReply;
    shared.onerror = onError;
    entry = { port: shared.port, pending, close: () => shared.port.close() };
  } else {
    const worker = new Worker(DECODE_WORKER_URL);
    worker.onmessage = onReply;
    worker.onerror = onError;
    entry = { port: worker, pending, close: () => worker.terminate() };
  }
  return entry;
}

/** Starts the decode workers (they compile the codecs at once); the viewer calls it when it loads cornerstone. */
export function startDecodeWorkers(): void {
  if (pool) return;
  const cores = typeof navigator !== "undefined" && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
  pool = Array.from({ length: Math.max(1, Math.min(4, cores - 1)) }, (_, slot) => startWorker(slot));
}

function workerFor(url: string): PoolWorker {
  startDecodeWorkers();
  if (!pool) throw new Error("the image decoder could not start");
  // One file always goes to the same worker, which keeps its bytes and parsed header cached.
  let hash = 0;
  for (let i = 0; i < url.length; i++) hash = (hash * 31 + url.charCodeAt(i)) | 0;
  return pool[Math.abs(hash) % pool.length]!;
}

/** Decodes frame `frame` (0-based) of the DICOM file at `url` in a worker (`reduce`: a JPEG 2000 preview, see DecodeRequest). */
export function decodeDicomFrame(url: string, frame: number, reduce = 0): Promise<DecodedWorkerImage> {
  const entry = workerFor(url);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    entry.pending.set(id, { url, resolve, reject });
    const request: DecodeRequest = { id, url, frame, ...(reduce > 0 ? { reduce } : {}) };
    entry.port.postMessage(request);
  });
}

/**
 * How many resolution levels a first picture of a JPEG 2000 / HTJ2K image may skip when it is
 * shown fitted into a `canvasWidth` × `canvasHeight` canvas: as many halvings as keep at least one
 * decoded sample per canvas pixel (at most 3). 0 for other syntaxes and images that are not at
 * least twice the canvas: those are decoded at full resolution only.
 */
export function previewReduction(transferSyntaxUid: string | undefined, columns: number, rows: number, canvasWidth: number, canvasHeight: number): number {
  const codec = TRANSFER_SYNTAXES[transferSyntaxUid ?? ""]?.codec;
  if (codec !== "j2k" && codec !== "htj2k") return 0;
  const fit = Math.min(canvasWidth / columns, canvasHeight / rows);
  if (!(fit > 0) || fit > 0.5) return 0;
  return Math.min(3, Math.floor(Math.log2(1 / fit)));
}

/**
 * A quick first picture of a large JPEG 2000 frame: decoded `reduce` levels down and enlarged to the
 * image's size (same pixel coordinates), not cached — the viewer shows it until the full-resolution
 * image (loaded through cornerstone as usual, requested right after) replaces it.
 */
export async function previewDicomImage(imageId: string, reduce: number): Promise<CornerstoneImage & { preview?: number }> {
  const { url, frame } = parseDicomImageId(imageId);
  const decoded = await decodeDicomFrame(url, frame, reduce);
  return { ...toCornerstoneImage(imageId, decoded), preview: decoded.frame.reduced ?? 0 };
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
