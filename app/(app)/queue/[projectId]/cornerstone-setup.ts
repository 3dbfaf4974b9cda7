/**
 * Loads and configures cornerstone in the browser only (it touches `window` at import), once per
 * page. DICOM goes through our own image loader ("dicom:", dicom-image-loader.ts): frames are
 * decoded off the main thread in dedicated workers served from our origin (/codecs/), with the
 * maintained codec packages and the same pipeline and capability table as the importer and the
 * embedding decoder (models/dicom), so the strict CSP needs only worker-src 'self' and
 * 'wasm-unsafe-eval'. PNG/JPEG go through a small loader registered here ("webimg:"), which
 * decodes with the browser's own image decoder.
 */
import type { CornerstoneImage, ImageLoadObject } from "cornerstone-core";
import { reportImageStatus } from "../../../_components/session-end";
import { DICOM_SCHEME, dicomImageLoader, startDecodeWorkers } from "./dicom-image-loader";

export type Cornerstone = (typeof import("cornerstone-core"))["default"];

export interface ViewerImage {
  id: string;
  mimeType: string;
  frames: number;
}

let loading: Promise<Cornerstone> | null = null;

export function isDicom(mimeType: string): boolean {
  return mimeType === "application/dicom" || mimeType === "application/dicom+octet-stream";
}

export function imageUrl(imageId: string): string {
  return `/api/images/${encodeURIComponent(imageId)}`;
}

/**
 * One cornerstone imageId per frame, in the order the stack scrolls: the case's images by
 * position, each multi-frame DICOM frame by frame (`?frame=N`, 0-based).
 */
export function stackImageIds(images: readonly ViewerImage[]): string[] {
  return images.flatMap((image) => {
    const url = imageUrl(image.id);
    if (!isDicom(image.mimeType)) return [`webimg:${url}`];
    if (image.frames <= 1) return [`${DICOM_SCHEME}:${url}`];
    return Array.from({ length: image.frames }, (_, frame) => `${DICOM_SCHEME}:${url}?frame=${frame}`);
  });
}

async function decodeWebImage(url: string, imageId: string): Promise<CornerstoneImage> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    reportImageStatus(response.status); // 401: the session ended (session-end.ts)
    throw new Error(`image request failed (${response.status})`);
  }
  const bitmap = await createImageBitmap(await response.blob());
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return {
    imageId,
    minPixelValue: 0,
    maxPixelValue: 255,
    slope: 1,
    intercept: 0,
    windowCenter: 128,
    windowWidth: 255,
    getPixelData: () => rgba,
    getCanvas: () => canvas,
    rows: bitmap.height,
    columns: bitmap.width,
    height: bitmap.height,
    width: bitmap.width,
    color: true,
    rgba: true,
    columnPixelSpacing: 1,
    rowPixelSpacing: 1,
    invert: false,
    sizeInBytes: rgba.length,
  };
}

function webImageLoader(imageId: string): ImageLoadObject {
  return { promise: decodeWebImage(imageId.slice("webimg:".length), imageId) };
}

export function loadCornerstone(): Promise<Cornerstone> {
  loading ??= (async () => {
    startDecodeWorkers();
    const { default: cornerstone } = await import("cornerstone-core");
    cornerstone.registerImageLoader(DICOM_SCHEME, dicomImageLoader);
    cornerstone.registerImageLoader("webimg", webImageLoader);
    // As OHIF does: the page's cornerstone on window, for debugging and the browser fidelity test.
    (window as unknown as { cornerstone?: Cornerstone }).cornerstone = cornerstone;
    return cornerstone;
  })();
  return loading;
}

/** Decodes and caches every frame of the next case in the background, so it shows at once. */
export async function prefetchImages(images: readonly ViewerImage[]): Promise<void> {
  if (images.length === 0) return;
  const cornerstone = await loadCornerstone();
  for (const imageId of stackImageIds(images)) {
    await cornerstone.loadAndCacheImage(imageId).catch(() => undefined);
  }
}
