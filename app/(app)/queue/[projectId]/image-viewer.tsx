"use client";

import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from "react";
import type { ImageRegion, RegionShape } from "@/contracts/annotations";
import { loadCornerstone, stackImageIds, type Cornerstone, type ViewerImage } from "./cornerstone-setup";
import { DICOM_SCHEME, previewDicomImage, previewReduction } from "./dicom-image-loader";
import { orientationMarkers } from "./orientation";
import { clampToImage, describeRegion, regionFromDrag, stackEntryOf, type Point } from "./region-geometry";
import "./image-viewer.css";

export interface ViewerHandle {
  invert(): void;
  reset(): void;
  step(delta: number): void;
  togglePan(): void;
}

export interface ViewerImageWithAttributes extends ViewerImage {
  attributes: Record<string, string | number>;
}

/** Image evidence: the form's regions and how to change them (absent: the viewer only shows images). */
export interface RegionEvidence {
  regions: ImageRegion[];
  labels: { key: string; name: string; color: string }[];
  /** The label a new region is drawn for until the clinician picks another (the form's chosen label). */
  defaultLabel: string | null;
  /** Absent: regions are shown read-only. */
  onChange?: (regions: ImageRegion[]) => void;
}

const SHAPES: [RegionShape, string][] = [
  ["rectangle", "Rectangle"],
  ["ellipse", "Ellipse"],
  ["freehand", "Freehand"],
];

/** Window presets (width/center in Hounsfield units) per modality, as PACS viewers offer them. */
const WINDOW_PRESETS: Record<string, [string, number, number][]> = {
  CT: [
    ["Lung", 1500, -600],
    ["Mediastinum", 350, 50],
    ["Bone", 2000, 300],
    ["Brain", 80, 40],
  ],
};

interface Timing {
  imageId: string;
  bytesAt: number | null;
  renderedAt: number;
  /** Resolution levels skipped when this first render was a JPEG 2000 preview; 0: full resolution. */
  preview: number;
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

/** One image of the case in the thumbnail strip: its first frame, drawn by cornerstone into a small canvas. */
function Thumbnail({ cornerstone, stackImageId, label, active, onSelect }: { cornerstone: Cornerstone; stackImageId: string; label: string; active: boolean; onSelect: () => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let cancelled = false;
    cornerstone.loadAndCacheImage(stackImageId).then(
      (image) => {
        if (!cancelled && canvas.current) cornerstone.renderToCanvas(canvas.current, image);
      },
      () => undefined, // the main viewport names a decoding failure; a thumbnail stays blank
    );
    return () => {
      cancelled = true;
    };
  }, [cornerstone, stackImageId]);
  return (
    <button type="button" className={active ? "thumb on" : "thumb"} aria-pressed={active} onClick={onSelect} title={label} data-testid="viewer-thumbnail">
      <canvas ref={canvas} />
      <span>{label}</span>
    </button>
  );
}

/** When the response for `url` finished arriving, from the browser's resource timing (null if unknown). */
function bytesArrivedAt(url: string): number | null {
  const entries = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.name.endsWith(url)) return entries[i]!.responseEnd;
  return null;
}

/**
 * The case's images in one cornerstone viewport: drag = window/level, Shift/Ctrl-drag or the pan
 * tool = pan, wheel (↑/↓, the slider) = scroll through frames and series, Ctrl+wheel = zoom; cine
 * play for a stack; window presets per modality. With `evidence`, a drawing tool (rectangle,
 * ellipse, freehand) turns a drag into a region for a label, drawn in an SVG overlay that follows
 * zoom and pan through cornerstone's pixelToCanvas/canvasToPixel.
 */
export const ImageViewer = forwardRef<ViewerHandle, { images: ViewerImageWithAttributes[]; evidence?: RegionEvidence }>(function ImageViewer({ images, evidence }, ref) {
  const element = useRef<HTMLDivElement>(null);
  const cornerstoneRef = useRef<Cornerstone | null>(null);
  const imageIds = useMemo(() => stackImageIds(images), [images]);
  const [index, setIndex] = useState(0);
  const [panTool, setPanTool] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const renderedOnce = useRef(new Set<string>());
  const drag = useRef<{ x: number; y: number; pan: boolean; trace?: Point[] } | null>(null);
  const [tool, setTool] = useState<RegionShape | null>(null);
  const [drawLabel, setDrawLabel] = useState<string | null>(null);
  const [trace, setTrace] = useState<Point[] | null>(null);
  // What the last render showed: window, zoom (for the readouts) and a counter that redraws the overlay.
  const [shown, setShown] = useState<{ window: [number, number] | null; scale: number; tick: number }>({ window: null, scale: 1, tick: 0 });
  const [size, setSize] = useState<{ columns: number; rows: number } | null>(null);
  const [playing, setPlaying] = useState(false);
  const [fps, setFps] = useState(10);
  const wheelDelta = useRef(0);

  // Enable the element once; disable it when the case changes or the page goes.
  useEffect(() => {
    let cancelled = false;
    const el = element.current!;
    const onRendered = (event: Event) => {
      const detail = (event as CustomEvent<{ image?: { imageId?: string }; viewport?: { scale?: number; voi?: { windowWidth: number; windowCenter: number } } }>).detail;
      // The window on screen, for people (a tooltip) and for the end-to-end test.
      if (detail?.viewport?.voi) el.dataset.window = `${Math.round(detail.viewport.voi.windowWidth)}/${Math.round(detail.viewport.voi.windowCenter)}`;
      const voi = detail?.viewport?.voi;
      setShown((s) => ({ window: voi ? [voi.windowWidth, voi.windowCenter] : s.window, scale: detail?.viewport?.scale ?? s.scale, tick: s.tick + 1 }));
      const imageId = detail?.image?.imageId;
      // A preview's first render and the full image's first render are timed apart.
      const preview = (detail?.image as { preview?: number } | undefined)?.preview ?? 0;
      const key = preview > 0 ? `${imageId}#preview` : imageId;
      if (!imageId || !key || renderedOnce.current.has(key)) return;
      renderedOnce.current.add(key);
      const url = imageId.replace(/^[a-z]+:/, "").replace(/\?frame=\d+$/, "");
      (window.__radsImageTimings ??= []).push({ imageId, bytesAt: bytesArrivedAt(url), renderedAt: performance.now(), preview });
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
    let fullShown = false;
    let previewVoi: { windowWidth: number; windowCenter: number } | null = null;
    setError(null);
    // A large JPEG 2000 frame not decoded yet: first a reduced-resolution picture (requested first, so
    // the worker decodes it first), replaced by the full image as soon as that is decoded.
    const entry = stackEntryOf(imageId);
    const attributes = images.find((image) => image.id === entry?.imageId)?.attributes ?? {};
    const canvas = element.current?.querySelector("canvas");
    const reduce =
      imageId.startsWith(`${DICOM_SCHEME}:`) && canvas && !cornerstone.imageCache.getImageLoadObject(imageId)
        ? previewReduction(String(attributes.transferSyntax ?? ""), Number(attributes.columns), Number(attributes.rows), canvas.width, canvas.height)
        : 0;
    if (reduce > 0) {
      previewDicomImage(imageId, reduce).then(
        (preview) => {
          if (cancelled || fullShown || !element.current) return;
          const viewport = renderedOnce.current.size > 0 ? cornerstone.getViewport(element.current) : undefined;
          cornerstone.displayImage(element.current, preview, viewport);
          const voi = cornerstone.getViewport(element.current)?.voi;
          previewVoi = voi ? { ...voi } : null;
          setSize((s) => (s && s.columns === preview.columns && s.rows === preview.rows ? s : { columns: preview.columns, rows: preview.rows }));
        },
        () => undefined, // the full decode below names any failure
      );
    }
    cornerstone.loadAndCacheImage(imageId).then(
      (image) => {
        if (cancelled || !element.current) return;
        fullShown = true;
        // Keep window/level, zoom and pan while scrolling through a stack (and over a preview; its
        // window, when nobody changed it, gives way to the full image's own).
        const viewport = renderedOnce.current.size > 0 ? cornerstone.getViewport(element.current) : undefined;
        if (viewport && previewVoi && viewport.voi?.windowWidth === previewVoi.windowWidth && viewport.voi.windowCenter === previewVoi.windowCenter) {
          viewport.voi = { windowWidth: image.windowWidth, windowCenter: image.windowCenter };
        }
        cornerstone.displayImage(element.current, image, viewport);
        setSize((s) => (s && s.columns === image.columns && s.rows === image.rows ? s : { columns: image.columns, rows: image.rows }));
      },
      (reason: unknown) => {
        if (!cancelled) setError(`This image could not be shown (${reason instanceof Error ? reason.message : "decode failed"}).`);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [loaded, imageIds, index, images]);

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

  // Wheel scrolls frames, Ctrl+wheel zooms; a non-passive listener so the page does not scroll instead.
  useEffect(() => {
    const el = element.current!;
    const onWheel = (event: WheelEvent) => {
      const cornerstone = cornerstoneRef.current;
      const viewport = cornerstone?.getViewport(el);
      if (!cornerstone || !viewport) return;
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        const scale = Math.min(20, Math.max(0.05, viewport.scale * Math.exp(-event.deltaY * 0.0015)));
        cornerstone.setViewport(el, { ...viewport, scale });
        return;
      }
      // One frame per wheel notch; a trackpad's small deltas add up to one.
      wheelDelta.current += event.deltaMode === 0 ? event.deltaY : event.deltaY * 50;
      if (Math.abs(wheelDelta.current) >= 50) {
        step(Math.sign(wheelDelta.current));
        wheelDelta.current = 0;
      }
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [step]);

  // Cine: steps through the stack at `fps`, from the last frame back to the first.
  useEffect(() => {
    if (!playing || imageIds.length < 2) return;
    const timer = window.setInterval(() => setIndex((i) => (i + 1) % imageIds.length), 1000 / Math.min(60, Math.max(1, fps)));
    return () => window.clearInterval(timer);
  }, [playing, fps, imageIds.length]);

  // Esc leaves the drawing tool (and drops a half-drawn shape).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setTool(null);
      setTrace(null);
      drag.current = null;
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const current = imageIds[index];
  const entry = current ? stackEntryOf(current) : null;
  const editable = !!evidence?.onChange;
  const labelKey = drawLabel ?? evidence?.defaultLabel ?? evidence?.labels[0]?.key ?? null;

  /** The pointer's position in image pixels (cornerstone's canvasToPixel under the current zoom/pan). */
  const pixelAt = (event: React.PointerEvent<HTMLDivElement>): Point | null => {
    const cornerstone = cornerstoneRef.current;
    const el = element.current;
    if (!cornerstone || !el || !size) return null;
    const box = el.getBoundingClientRect();
    return clampToImage(cornerstone.canvasToPixel(el, { x: event.clientX - box.left, y: event.clientY - box.top }), size.columns, size.rows);
  };

  const onPointerDown = (event: React.PointerEvent<HTMLDivElement>) => {
    const pan = panTool || event.shiftKey || event.ctrlKey || event.button === 1;
    const point = tool && editable && labelKey && !pan && event.button === 0 ? pixelAt(event) : null;
    drag.current = { x: event.clientX, y: event.clientY, pan, trace: point ? [point] : undefined };
    if (point) setTrace([point]);
    event.currentTarget.setPointerCapture(event.pointerId);
  };
  const onPointerMove = (event: React.PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (start?.trace) {
      const point = pixelAt(event);
      if (point) {
        start.trace = tool === "freehand" ? [...start.trace, point] : [start.trace[0]!, point];
        setTrace(start.trace);
      }
      return;
    }
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
    const finished = drag.current?.trace;
    drag.current = null;
    setTrace(null);
    if (!finished || !tool || !entry || !labelKey || !evidence?.onChange) return;
    // Freehand points closer than one screen pixel add nothing.
    const minDistance = 1 / Math.max(0.01, shown.scale);
    const region = regionFromDrag(tool, finished, { imageId: entry.imageId, frame: entry.frame, label: labelKey, minDistance });
    if (region) evidence.onChange([...evidence.regions, region]);
  };

  const labelOf = (key: string) => evidence?.labels.find((l) => l.key === key);
  const toCanvas = (x: number, y: number): Point => {
    const cornerstone = cornerstoneRef.current;
    return cornerstone && element.current ? cornerstone.pixelToCanvas(element.current, { x, y }) : { x, y };
  };
  /** SVG of a region (or the shape being drawn) in canvas coordinates. */
  const shapeSvg = (region: { shape: RegionShape; points?: [number, number][]; x?: number; y?: number; width?: number; height?: number }, color: string, key: string | number, extra: Record<string, string> = {}) => {
    if (region.shape === "freehand") {
      const points = (region.points ?? []).map(([x, y]) => toCanvas(x, y)).map((p) => `${p.x},${p.y}`).join(" ");
      return <polygon key={key} points={points} stroke={color} {...extra} />;
    }
    const a = toCanvas(region.x!, region.y!);
    const b = toCanvas(region.x! + region.width!, region.y! + region.height!);
    const [x0, y0, x1, y1] = [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.max(a.x, b.x), Math.max(a.y, b.y)];
    if (region.shape === "ellipse") return <ellipse key={key} cx={(x0 + x1) / 2} cy={(y0 + y1) / 2} rx={(x1 - x0) / 2} ry={(y1 - y0) / 2} stroke={color} {...extra} />;
    return <rect key={key} x={x0} y={y0} width={x1 - x0} height={y1 - y0} stroke={color} {...extra} />;
  };
  // Nothing to align with until cornerstone shows an image (pixelToCanvas needs its viewport).
  const drawn = size !== null && cornerstoneRef.current !== null && element.current !== null && cornerstoneRef.current.getViewport(element.current) !== undefined;
  const preview = drawn && trace && tool ? regionFromDrag(tool, trace, { imageId: "", frame: 1, label: "", minDistance: 0 }) : null;
  const onThisFrame = drawn ? (evidence?.regions ?? []).map((region, i) => ({ region, i })).filter(({ region }) => entry && region.imageId === entry.imageId && region.frame === entry.frame) : [];
  const goTo = (region: ImageRegion) => {
    const at = imageIds.findIndex((id) => {
      const e = stackEntryOf(id);
      return e?.imageId === region.imageId && e.frame === region.frame;
    });
    if (at >= 0) setIndex(at);
  };
  const setWindow = (width: number, center: number) => {
    const cornerstone = cornerstoneRef.current;
    const viewport = cornerstone && element.current ? cornerstone.getViewport(element.current) : undefined;
    if (cornerstone && viewport) cornerstone.setViewport(element.current!, { ...viewport, voi: { windowWidth: width, windowCenter: center } });
  };

  const position = images.findIndex((image) => current?.includes(`/api/images/${encodeURIComponent(image.id)}`));
  const attributes = images[position >= 0 ? position : 0]?.attributes ?? {};
  const presets = WINDOW_PRESETS[String(attributes.modality ?? "").toUpperCase()] ?? [];
  // Image Orientation (Patient) as "r1\\r2\\r3\\c1\\c2\\c3" when the importer kept it; no markers otherwise.
  const markers = orientationMarkers(attributes.orientation);
  void shown.tick; // the overlay below is recomputed on every cornerstone render
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
        {presets.map(([name, width, center]) => (
          <button key={name} type="button" className="secondary small" onClick={() => setWindow(width, center)} title={`Window ${width} / level ${center}`} data-testid={`preset-${name.toLowerCase()}`}>
            {name}
          </button>
        ))}
        {imageIds.length > 1 && (
          <label className="frame-slider">
            <span data-testid="viewer-frame">
              Frame {index + 1} / {imageIds.length}
            </span>
            <input type="range" min={0} max={imageIds.length - 1} value={index} onChange={(e) => setIndex(Number(e.target.value))} aria-label="Frame" />
          </label>
        )}
        {imageIds.length > 1 && (
          <span className="cine">
            <button type="button" className="secondary small" onClick={() => setPlaying((p) => !p)} aria-pressed={playing} data-testid="viewer-cine">
              {playing ? "Pause" : "Play"}
            </button>
            <label>
              <input type="number" min={1} max={60} value={fps} onChange={(e) => setFps(Math.min(60, Math.max(1, Number(e.target.value) || 1)))} aria-label="Frames per second" /> fps
            </label>
          </span>
        )}
      </div>
      {editable && evidence && (
        <div className="viewer-tools draw-tools" role="group" aria-label="Draw image evidence">
          <span className="muted small">Draw evidence:</span>
          {SHAPES.map(([shape, name]) => (
            <button key={shape} type="button" className="secondary small" aria-pressed={tool === shape} onClick={() => setTool((t) => (t === shape ? null : shape))} data-testid={`draw-${shape}`}>
              {name}
            </button>
          ))}
          <label className="small">
            for{" "}
            <select value={labelKey ?? ""} onChange={(e) => setDrawLabel(e.target.value)} aria-label="Evidence label">
              {evidence.labels.map((l) => (
                <option key={l.key} value={l.key}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
          {tool && <span className="muted small">Drag on the image · Esc stops · Shift-drag pans</span>}
        </div>
      )}
      <div className={tool ? "viewport-wrap drawing" : "viewport-wrap"}>
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
        <svg className="region-overlay" data-testid="region-overlay" aria-hidden="true">
          {onThisFrame.map(({ region, i }) => shapeSvg(region, labelOf(region.label)?.color ?? "#ffd400", i, { "data-testid": "region-shape", "data-shape": region.shape, "data-label": region.label }))}
          {preview && shapeSvg(preview, labelOf(labelKey ?? "")?.color ?? "#ffd400", "preview", { strokeDasharray: "4 3" })}
        </svg>
        {markers && (
          <div className="orientation-markers" data-testid="orientation-markers" aria-label="Orientation">
            <span className="om-top">{markers.top}</span>
            <span className="om-bottom">{markers.bottom}</span>
            <span className="om-left">{markers.left}</span>
            <span className="om-right">{markers.right}</span>
          </div>
        )}
        <div className="viewport-readout" data-testid="viewer-readout">
          {shown.window && (
            <span data-testid="viewer-window">
              W {Math.round(shown.window[0])} L {Math.round(shown.window[1])}
            </span>
          )}
          <span data-testid="viewer-zoom">Zoom {Math.round(shown.scale * 100)}%</span>
          {size && (
            <span>
              {size.columns}×{size.rows}
            </span>
          )}
        </div>
      </div>
      {error && <p className="error">{error}</p>}
      {images.length > 1 && loaded && cornerstoneRef.current && (
        <div className="thumbnails" role="group" aria-label="Images of this case">
          {images.map((image, i) => {
            const first = imageIds.findIndex((id) => stackEntryOf(id)?.imageId === image.id);
            const description = image.attributes.seriesDescription ?? image.attributes.modality ?? "";
            return (
              <Thumbnail
                key={image.id}
                cornerstone={cornerstoneRef.current!}
                stackImageId={imageIds[first]!}
                label={`${i + 1}${description ? ` · ${description}` : ""}${image.frames > 1 ? ` · ${image.frames} fr` : ""}`}
                active={entry?.imageId === image.id}
                onSelect={() => setIndex(first)}
              />
            );
          })}
        </div>
      )}
      {evidence && evidence.regions.length > 0 && (
        <ul className="regions" data-testid="regions">
          {evidence.regions.map((region, i) => {
            const label = labelOf(region.label);
            const imageNumber = images.findIndex((image) => image.id === region.imageId) + 1;
            return (
              <li key={i} data-testid="region-item">
                <span className="swatch" style={{ background: label?.color ?? "#ffd400" }} />
                <button type="button" className="link" onClick={() => goTo(region)} title="Show this frame">
                  {images.length > 1 ? `Image ${imageNumber}, ` : ""}frame {region.frame}
                </button>{" "}
                · {describeRegion(region)} → {label?.name ?? region.label}{" "}
                {editable && (
                  <button type="button" className="link" onClick={() => evidence.onChange!(evidence.regions.filter((_, j) => j !== i))} aria-label={`Remove region ${i + 1}`}>
                    remove
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
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
