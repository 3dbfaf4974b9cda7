"use client";

import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from "react";
import { loadCornerstone, stackImageIds, type Cornerstone, type ViewerImage } from "./cornerstone-setup";

export interface ViewerHandle {
  invert(): void;
  reset(): void;
  step(delta: number): void;
  togglePan(): void;
}

export interface ViewerImageWithAttributes extends ViewerImage {
  attributes: Record<string, string | number>;
}

interface Timing {
  imageId: string;
  bytesAt: number | null;
  renderedAt: number;
}

declare global {
  interface Window {
    /** First render of each image after its bytes arrived (resource timing → cornerstone's render event), for the benchmark. */
    __radsImageTimings?: Timing[];
  }
}

const ATTRIBUTE_LABELS: [string, string][] = [
  ["modality", "Modality"],
  ["bodyPart", "Body part"],
  ["studyDate", "Study date"],
  ["seriesDescription", "Series"],
];

/** When the response for `url` finished arriving, from the browser's resource timing (null if unknown). */
function bytesArrivedAt(url: string): number | null {
  const entries = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.name.endsWith(url)) return entries[i]!.responseEnd;
  return null;
}

/**
 * The case's images in one cornerstone viewport: drag = window/level, Shift/Ctrl-drag or the pan
 * tool = pan, wheel = zoom, ↑/↓ (or the slider) = scroll through frames and series.
 */
export const ImageViewer = forwardRef<ViewerHandle, { images: ViewerImageWithAttributes[] }>(function ImageViewer({ images }, ref) {
  const element = useRef<HTMLDivElement>(null);
  const cornerstoneRef = useRef<Cornerstone | null>(null);
  const imageIds = useMemo(() => stackImageIds(images), [images]);
  const [index, setIndex] = useState(0);
  const [panTool, setPanTool] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const renderedOnce = useRef(new Set<string>());
  const drag = useRef<{ x: number; y: number; pan: boolean } | null>(null);

  // Enable the element once; disable it when the case changes or the page goes.
  useEffect(() => {
    let cancelled = false;
    const el = element.current!;
    const onRendered = (event: Event) => {
      const detail = (event as CustomEvent<{ image?: { imageId?: string }; viewport?: { voi?: { windowWidth: number; windowCenter: number } } }>).detail;
      // The window on screen, for people (a tooltip) and for the end-to-end test.
      if (detail?.viewport?.voi) el.dataset.window = `${Math.round(detail.viewport.voi.windowWidth)}/${Math.round(detail.viewport.voi.windowCenter)}`;
      const imageId = detail?.image?.imageId;
      if (!imageId || renderedOnce.current.has(imageId)) return;
      renderedOnce.current.add(imageId);
      const url = imageId.replace(/^[a-z]+:/, "").replace(/\?frame=\d+$/, "");
      (window.__radsImageTimings ??= []).push({ imageId, bytesAt: bytesArrivedAt(url), renderedAt: performance.now() });
      performance.mark("rads:image-rendered", { detail: { imageId } });
    };
    void loadCornerstone().then((cornerstone) => {
      if (cancelled) return;
      cornerstone.enable(el);
      cornerstoneRef.current = cornerstone;
      el.addEventListener("cornerstoneimagerendered", onRendered);
      setLoaded(true);
    });
    const onResize = () => cornerstoneRef.current?.resize(el);
    window.addEventListener("resize", onResize);
    return () => {
      cancelled = true;
      window.removeEventListener("resize", onResize);
      el.removeEventListener("cornerstoneimagerendered", onRendered);
      if (cornerstoneRef.current) cornerstoneRef.current.disable(el);
      cornerstoneRef.current = null;
      setLoaded(false);
    };
  }, []);

  useEffect(() => setIndex(0), [imageIds]);

  useEffect(() => {
    const cornerstone = cornerstoneRef.current;
    const imageId = imageIds[index];
    if (!loaded || !cornerstone || !imageId) return;
    let cancelled = false;
    setError(null);
    cornerstone.loadAndCacheImage(imageId).then(
      (image) => {
        if (cancelled || !element.current) return;
        // Keep window/level, zoom and pan while scrolling through a stack.
        const viewport = renderedOnce.current.size > 0 ? cornerstone.getViewport(element.current) : undefined;
        cornerstone.displayImage(element.current, image, viewport);
      },
      (reason: unknown) => {
        if (!cancelled) setError(`This image could not be shown (${reason instanceof Error ? reason.message : "decode failed"}).`);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [loaded, imageIds, index]);

  const step = useCallback((delta: number) => setIndex((i) => Math.min(imageIds.length - 1, Math.max(0, i + delta))), [imageIds.length]);

  const invert = useCallback(() => {
    const cornerstone = cornerstoneRef.current;
    const viewport = cornerstone && element.current ? cornerstone.getViewport(element.current) : undefined;
    if (cornerstone && viewport) cornerstone.setViewport(element.current!, { ...viewport, invert: !viewport.invert });
  }, []);
  const reset = useCallback(() => {
    if (cornerstoneRef.current && element.current) cornerstoneRef.current.reset(element.current);
  }, []);
  useImperativeHandle(ref, () => ({ invert, reset, step, togglePan: () => setPanTool((p) => !p) }), [invert, reset, step]);

  // Wheel zoom needs a non-passive listener so the page does not scroll instead.
  useEffect(() => {
    const el = element.current!;
    const onWheel = (event: WheelEvent) => {
      const cornerstone = cornerstoneRef.current;
      const viewport = cornerstone?.getViewport(el);
      if (!cornerstone || !viewport) return;
      event.preventDefault();
      const scale = Math.min(20, Math.max(0.05, viewport.scale * Math.exp(-event.deltaY * 0.0015)));
      cornerstone.setViewport(el, { ...viewport, scale });
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, []);

  const onPointerDown = (event: React.PointerEvent<HTMLDivElement>) => {
    drag.current = { x: event.clientX, y: event.clientY, pan: panTool || event.shiftKey || event.ctrlKey || event.button === 1 };
    event.currentTarget.setPointerCapture(event.pointerId);
  };
  const onPointerMove = (event: React.PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    const cornerstone = cornerstoneRef.current;
    const viewport = cornerstone && element.current ? cornerstone.getViewport(element.current) : undefined;
    if (!start || !cornerstone || !viewport) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    drag.current = { ...start, x: event.clientX, y: event.clientY };
    if (start.pan) {
      cornerstone.setViewport(element.current!, { ...viewport, translation: { x: viewport.translation.x + dx / viewport.scale, y: viewport.translation.y + dy / viewport.scale } });
    } else {
      // Sensitivity proportional to the current width, so narrow and wide windows both move smoothly.
      const k = Math.max(1, viewport.voi.windowWidth / 256);
      const windowWidth = Math.max(1, viewport.voi.windowWidth + dx * k);
      const windowCenter = viewport.voi.windowCenter + dy * k;
      cornerstone.setViewport(element.current!, { ...viewport, voi: { windowWidth, windowCenter } });
    }
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const current = imageIds[index];
  const position = images.findIndex((image) => current?.includes(`/api/images/${encodeURIComponent(image.id)}`));
  const attributes = images[position >= 0 ? position : 0]?.attributes ?? {};
  return (
    <section className="viewer" aria-label="Images">
      <div className="viewer-tools">
        <button type="button" className="secondary" onClick={() => setPanTool((p) => !p)} aria-pressed={panTool} title="P">
          {panTool ? "Pan tool (on)" : "Pan tool"}
        </button>
        <button type="button" className="secondary" onClick={invert} title="I" data-testid="viewer-invert">
          Invert
        </button>
        <button type="button" className="secondary" onClick={reset} title="R" data-testid="viewer-reset">
          Reset
        </button>
        {imageIds.length > 1 && (
          <label className="frame-slider">
            <span data-testid="viewer-frame">
              Frame {index + 1} / {imageIds.length}
            </span>
            <input type="range" min={0} max={imageIds.length - 1} value={index} onChange={(e) => setIndex(Number(e.target.value))} aria-label="Frame" />
          </label>
        )}
      </div>
      <div
        ref={element}
        className="viewport"
        data-testid="viewport"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onContextMenu={(e) => e.preventDefault()}
      />
      {error && <p className="error">{error}</p>}
      <dl className="attributes" data-testid="image-attributes">
        {ATTRIBUTE_LABELS.filter(([key]) => attributes[key] !== undefined).map(([key, label]) => (
          <div key={key}>
            <dt>{label}</dt>
            <dd>{String(attributes[key])}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
});
