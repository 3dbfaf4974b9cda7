/**
 * The browser side of scripts/bench-render.ts: the case viewer's own cornerstone setup and DICOM
 * image loader (decode workers from /codecs/) on a bare page, so a frame's first render can be
 * timed stage by stage without the web app, the database or other load in the way.
 */
import { loadCornerstone } from "../../app/(app)/queue/[projectId]/cornerstone-setup";
import { previewDicomImage, previewReduction } from "../../app/(app)/queue/[projectId]/dicom-image-loader";

interface RenderTiming {
  /** Page time (ms) of: the call, the image loaded (decoded and handed to cornerstone), its full-resolution render. */
  calledAt: number;
  loadedAt: number;
  renderedAt: number;
  /** The preview's render (page time) and its levels skipped, as the case viewer does it for a large JPEG 2000 image; null without one. */
  previewAt: number | null;
  previewLevels: number;
  width: number;
  height: number;
}

declare global {
  interface Window {
    benchWarm?: () => Promise<void>;
    benchRender?: (imageId: string, preview?: { transferSyntax: string; columns: number; rows: number }) => Promise<RenderTiming>;
  }
}

let enabled: HTMLElement | null = null;

async function viewport() {
  const cornerstone = await loadCornerstone();
  if (!enabled) {
    enabled = document.getElementById("viewport")!;
    cornerstone.enable(enabled);
  }
  return { cornerstone, element: enabled };
}

window.benchWarm = async () => {
  await viewport();
};

const rendered = (element: HTMLElement, draw: () => void) =>
  new Promise<number>((resolve) => {
    element.addEventListener("cornerstoneimagerendered", () => resolve(performance.now()), { once: true });
    draw();
  });

window.benchRender = async (imageId, preview) => {
  const { cornerstone, element } = await viewport();
  const canvas = element.querySelector("canvas")!;
  const calledAt = performance.now();
  // As image-viewer.tsx: the preview is requested first, then the full image.
  const previewLevels = preview ? previewReduction(preview.transferSyntax, preview.columns, preview.rows, canvas.width, canvas.height) : 0;
  let fullShown = false;
  const previewShown = previewLevels > 0 ? previewDicomImage(imageId, previewLevels).then((image) => (fullShown ? null : rendered(element, () => cornerstone.displayImage(element, image)))) : Promise.resolve(null);
  const image = await cornerstone.loadAndCacheImage(imageId);
  const loadedAt = performance.now();
  const previewAt = await previewShown;
  fullShown = true;
  const renderedAt = await rendered(element, () => cornerstone.displayImage(element, image));
  return { calledAt, loadedAt, renderedAt, previewAt, previewLevels, width: image.width, height: image.height };
};
