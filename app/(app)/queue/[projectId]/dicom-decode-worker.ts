/**
 * The case viewer's DICOM decode worker (a SharedWorker where the browser has them, else a dedicated
 * Web Worker; bundled by scripts/build-codecs.ts
 * to public/codecs/dicom-decode-worker.js and served from our own origin beside the codecs'
 * WebAssembly, so the CSP needs only worker-src 'self' and script-src 'wasm-unsafe-eval').
 *
 * Request:  { id, url, frame, reduce? }  — fetch the DICOM file (same-origin, cached per worker),
 *           decode frame `frame` (0-based) with the shared pipeline (models/dicom) and the same codec
 *           packages as the importer and the embedding decoder; `reduce` asks a JPEG 2000 / HTJ2K
 *           frame for a preview that many resolution levels down (enlarged back to full size).
 * Response: { id, ok: true, image } with stored grey values or 8-bit RGB (buffers transferred), or
 *           { id, ok: false, message } naming the reason ("the JPEG 2000 codestream ends early …").
 */
import { inflateSync } from "fflate";
import { CODEC_FILES, JPEG12_CODEC, jpeg12Codec, jpeg12Imports, type CodecModules } from "@/models/dicom/codecs";
import { decodeFrame, DicomDecodeError, frameTransform, openDicom, type OpenedDicom } from "@/models/dicom/decode";
import type { DecodedWorkerImage, DecodeRequest, DecodeResponse } from "./dicom-decode-protocol";
import createOpenJpeg from "@cornerstonejs/codec-openjpeg/decodewasmjs";
import createOpenJph from "@cornerstonejs/codec-openjph/wasmjs";
import createCharls from "@cornerstonejs/codec-charls/decodewasmjs";
import createLibjpegTurbo from "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs";

type Factory = (module: { locateFile: (file: string) => string; print: () => void; printErr: () => void }) => Promise<unknown>;
type EmscriptenCodec = keyof typeof CODEC_FILES;
const factories: Record<EmscriptenCodec, Factory> = {
  openjpeg: createOpenJpeg as Factory,
  openjph: createOpenJph as Factory,
  charls: createCharls as Factory,
  libjpegTurbo: createLibjpegTurbo as Factory,
};
const CODEC_FOR: Record<string, EmscriptenCodec | null> = { j2k: "openjpeg", htj2k: "openjph", "jpeg-ls": "charls", jpeg: "libjpegTurbo" };

const codecs: Partial<CodecModules> = {};
const loadingCodecs = new Map<keyof CodecModules, Promise<void>>();

/** Instantiates one codec on first need (its .wasm from /codecs/, beside this script). */
function ensureCodec(name: keyof CodecModules): Promise<void> {
  let loading = loadingCodecs.get(name);
  if (!loading) {
    loading = name === "jpeg12" ? loadJpeg12() : loadEmscripten(name);
    loading.catch(() => loadingCodecs.delete(name));
    loadingCodecs.set(name, loading);
  }
  return loading;
}

function loadEmscripten(name: EmscriptenCodec): Promise<void> {
  const wasm = CODEC_FILES[name].wasm;
  return factories[name]({ locateFile: (file) => (file.endsWith(".wasm") ? `/codecs/${wasm}` : file), print: () => undefined, printErr: () => undefined }).then((module) => {
    (codecs as Record<string, unknown>)[name] = module;
  });
}

/** The 12-bit JPEG codec (dcmjs-codecs' 4 MB WebAssembly): loaded only when a 12-bit JPEG frame needs it. */
async function loadJpeg12(): Promise<void> {
  let memory: WebAssembly.Memory | null = null;
  const response = await fetch(`/codecs/${JPEG12_CODEC.wasm}`, { credentials: "same-origin" });
  if (!response.ok) throw new DicomDecodeError(`the 12-bit JPEG codec could not be loaded (HTTP ${response.status})`);
  const { instance } = await WebAssembly.instantiateStreaming(response, jpeg12Imports(() => memory!));
  memory = instance.exports.memory as WebAssembly.Memory;
  codecs.jpeg12 = jpeg12Codec(instance);
}

// Compile every codec as soon as the worker starts (the case view starts the workers when it
// mounts), so a frame does not wait for its codec's WebAssembly after its bytes arrive. (A warm-up
// decode of a small codestream at start was tried: no measurable gain on a cold page, 2026-11-30.)
for (const name of Object.keys(factories) as EmscriptenCodec[]) ensureCodec(name).catch(() => undefined);

/**
 * The parsed files this worker holds, most recent last, bounded by their byte size (all pages
 * together). Keyed by page and URL: a page never gets bytes another page fetched (pages of a shared
 * worker may belong to different sign-ins over time); a closed page's files age out.
 */
const files = new Map<string, { opened: Promise<OpenedDicom>; bytes: number; bytesAt: number }>();
const MAX_CACHED_BYTES = 512 * 1024 * 1024;

function open(page: number, url: string): { opened: Promise<OpenedDicom>; bytesAt: () => number } {
  const cacheKey = `${page} ${url}`;
  const hit = files.get(cacheKey);
  if (hit) {
    files.delete(cacheKey);
    files.set(cacheKey, hit);
    return { opened: hit.opened, bytesAt: () => hit.bytesAt };
  }
  const entry = { bytes: 0, bytesAt: 0, opened: Promise.resolve(null as unknown as OpenedDicom) };
  entry.opened = (async () => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new DicomDecodeError(`the image request failed (HTTP ${response.status})`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    entry.bytes = bytes.length;
    entry.bytesAt = performance.timeOrigin + performance.now();
    return openDicom(bytes, (deflated) => inflateSync(deflated));
  })();
  entry.opened.catch(() => files.delete(cacheKey));
  files.set(cacheKey, entry);
  let total = 0;
  for (const value of files.values()) total += value.bytes;
  for (const [key, value] of files) {
    if (total <= MAX_CACHED_BYTES || key === cacheKey) break;
    files.delete(key);
    total -= value.bytes;
  }
  return { opened: entry.opened, bytesAt: () => entry.bytesAt };
}

/** A page's end of the conversation: a shared worker's port, or the dedicated worker's own scope. */
interface Port {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeResponse, transfer?: ArrayBuffer[]): void;
}
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Decodes one request and posts the reply at once, in the same turn as the decode: requests waiting
 * on the same file resume one after another without yielding, so a reply posted later (in a .then)
 * would wait for the next request's decode — a preview would then arrive with the full image.
 */
async function handle(request: DecodeRequest, port: Port, page: number): Promise<void> {
  const requestAt = epochNow();
  const file = open(page, request.url);
  const { ds, info } = await file.opened;
  const codec = CODEC_FOR[info.transferSyntax.codec];
  if (codec) await ensureCodec(codec);
  // JPEG with more than 8 bits per sample (JPEG Extended, 12-bit) needs the 12-bit codec.
  if (info.transferSyntax.codec === "jpeg" && info.bitsAllocated > 8) await ensureCodec("jpeg12");
  const codecReadyAt = epochNow();
  const frame = decodeFrame(ds, info, request.frame, codecs as CodecModules, { reduce: request.reduce ?? 0 });
  const transform = frameTransform(ds, request.frame);
  const image: DecodedWorkerImage = {
    frame,
    rows: info.rows,
    columns: info.columns,
    frames: info.frames,
    photometric: info.photometric,
    modality: info.modality,
    transform,
    pixelSpacing: pixelSpacing(ds.string("x00280030")),
    bytesAt: file.bytesAt(),
    stages: { requestAt, codecReadyAt, decodedAt: epochNow() },
  };
  const buffer = frame.kind === "rgb" ? frame.rgb.buffer : frame.values.buffer;
  port.postMessage({ id: request.id, ok: true, image }, [buffer as ArrayBuffer]);
}

function pixelSpacing(raw: string | undefined): [number, number] | null {
  const parts = (raw ?? "").split("\\").map((v) => Number.parseFloat(v));
  return parts.length === 2 && parts.every((v) => Number.isFinite(v) && v > 0) ? [parts[0]!, parts[1]!] : null;
}

let pages = 0;
function serve(port: Port): void {
  const page = pages++;
  port.onmessage = (event) => {
    const request = event.data;
    handle(request, port, page).catch((error: unknown) => {
      // Only our own messages reach the page; anything unexpected is named generically.
      const message = error instanceof DicomDecodeError ? error.message : `the image could not be decoded (${error instanceof Error ? error.name : "unknown error"})`;
      port.postMessage({ id: request.id, ok: false, message });
    });
  };
}

// Loaded as a SharedWorker (every tab of the platform shares it, dicom-image-loader.ts): one port per
// connecting page, and the parsed files and warm codecs serve them all. Otherwise a dedicated worker.
const scope = self as unknown as Port & { onconnect?: ((event: MessageEvent) => void) | null };
if ("onconnect" in scope) scope.onconnect = (event) => serve(event.ports[0] as unknown as Port);
else serve(scope);
