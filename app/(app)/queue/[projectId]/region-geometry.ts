/**
 * Pure helpers of the image evidence overlay (image-viewer.tsx): which image and frame a stack entry
 * shows, and turning pointer drags (already converted to image pixels with cornerstone's
 * canvasToPixel) into regions of contracts/annotations.ts (image pixel coordinates, 1-based frame).
 */
import { MAX_FREEHAND_POINTS, type ImageRegion, type RegionShape } from "@/contracts/annotations";

export interface Point {
  x: number;
  y: number;
}

/**
 * The case image id and the 1-based frame number of a cornerstone image id of the stack
 * (`dicom:/api/images/<id>?frame=<0-based>` or `webimg:/api/images/<id>`); null for anything else.
 */
export function stackEntryOf(stackImageId: string): { imageId: string; frame: number } | null {
  const match = /\/api\/images\/([^?/]+)(?:\?(.*))?$/.exec(stackImageId);
  if (!match) return null;
  const frame = /(?:^|&)frame=(\d+)/.exec(match[2] ?? "");
  return { imageId: decodeURIComponent(match[1]!), frame: frame ? Number(frame[1]) + 1 : 1 };
}

/** Rounded to 1/100 pixel (what is stored: finer is noise from the pointer). */
export function roundPixel(value: number): number {
  return Math.round(value * 100) / 100;
}

/** `point` moved inside [0, columns] × [0, rows]. */
export function clampToImage(point: Point, columns: number, rows: number): Point {
  return { x: Math.min(columns, Math.max(0, point.x)), y: Math.min(rows, Math.max(0, point.y)) };
}

/** The box spanned by two corners (any order), rounded; null when it has no area. */
export function boxBetween(a: Point, b: Point): { x: number; y: number; width: number; height: number } | null {
  const x = roundPixel(Math.min(a.x, b.x));
  const y = roundPixel(Math.min(a.y, b.y));
  const width = roundPixel(Math.max(a.x, b.x) - x);
  const height = roundPixel(Math.max(a.y, b.y) - y);
  return width > 0 && height > 0 ? { x, y, width, height } : null;
}

/**
 * A freehand trace thinned so consecutive points are at least `minDistance` pixels apart and at
 * most MAX_FREEHAND_POINTS remain (evenly sampled), rounded; null with fewer than 3 points.
 */
export function thinOutline(points: readonly Point[], minDistance: number): [number, number][] | null {
  const kept: Point[] = [];
  for (const p of points) {
    const last = kept[kept.length - 1];
    if (!last || Math.hypot(p.x - last.x, p.y - last.y) >= minDistance) kept.push(p);
  }
  const step = Math.max(1, kept.length / MAX_FREEHAND_POINTS);
  const sampled: [number, number][] = [];
  for (let i = 0; i < kept.length && sampled.length < MAX_FREEHAND_POINTS; i = Math.floor(sampled.length * step)) {
    sampled.push([roundPixel(kept[i]!.x), roundPixel(kept[i]!.y)]);
  }
  return sampled.length >= 3 ? sampled : null;
}

/** A region from a finished drag, or null when the drag drew nothing (a click, a line). */
export function regionFromDrag(
  shape: RegionShape,
  trace: readonly Point[],
  where: { imageId: string; frame: number; label: string; minDistance: number },
): ImageRegion | null {
  if (trace.length < 2) return null;
  const base = { imageId: where.imageId, frame: where.frame, label: where.label };
  if (shape === "freehand") {
    const points = thinOutline(trace, where.minDistance);
    return points ? { shape, ...base, points } : null;
  }
  const box = boxBetween(trace[0]!, trace[trace.length - 1]!);
  return box ? { shape, ...base, ...box } : null;
}

/** One line describing a region for the list: "Rectangle 20×12 px at (10, 4)". */
export function describeRegion(region: ImageRegion): string {
  if (region.shape === "freehand") {
    const xs = region.points.map((p) => p[0]);
    const ys = region.points.map((p) => p[1]);
    return `Freehand outline, ${region.points.length} points, around (${Math.round((Math.min(...xs) + Math.max(...xs)) / 2)}, ${Math.round((Math.min(...ys) + Math.max(...ys)) / 2)})`;
  }
  const name = region.shape === "rectangle" ? "Rectangle" : "Ellipse";
  return `${name} ${Math.round(region.width)}×${Math.round(region.height)} px at (${Math.round(region.x)}, ${Math.round(region.y)})`;
}
