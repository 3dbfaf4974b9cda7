/**
 * Loads and configures cornerstone in the browser only (it touches `window` at import), once per
 * page. DICOM goes through cornerstone-wado-image-loader's build without web workers: decoding an
 * uncompressed or JPEG slice on the main thread takes milliseconds, and it spares us serving
 * worker and codec files under our strict CSP. PNG/JPEG go through a small loader registered
 * here ("webimg:"), which decodes with the browser's own image decoder.
 */
import type { CornerstoneImage, ImageLoadObject } from "cornerstone-core";

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
 * position, each multi-frame DICOM frame by frame (the wado loader's `?frame=N`, 0-based).
 */
export function stackImageIds(images: readonly ViewerImage[]): string[] {
  return images.flatMap((image) => {
    const url = imageUrl(image.id);
    if (!isDicom(image.mimeType)) return [`webimg:${url}`];
    if (image.frames <= 1) return [`wadouri:${url}`];
    return Array.from({ length: image.frames }, (_, frame) => `wadouri:${url}?frame=${frame}`);
  });
}

async function decodeWebImage(url: string, imageId: string): Promise<CornerstoneImage> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`image request failed (${response.status})`);
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
    const [{ default: cornerstone }, dicomParserModule, { default: wado }] = await Promise.all([
      import("cornerstone-core"),
      import("dicom-parser"),
      import("cornerstone-wado-image-loader/dist/cornerstoneWADOImageLoaderNoWebWorkers.bundle.min.js"),
    ]);
    const dicomParser = (dicomParserModule as { default?: unknown }).default ?? dicomParserModule;
    // The loader registers its wadouri:/dicomweb: schemes with the cornerstone it is given.
    wado.external.cornerstone = cornerstone;
    wado.external.dicomParser = dicomParser;
    wado.configure({ strict: false });
    cornerstone.registerImageLoader("webimg", webImageLoader);
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
