/**
 * A decoded DICOM frame to 8-bit RGB, as a conformant viewer first shows it: greyscale through the
 * Modality LUT (rescale slope/intercept of the frame), then the file's first window with the VOI
 * function of PS3.3 C.11.2.1.2 (LINEAR, or LINEAR_EXACT where the file says so; SIGMOID drawn
 * LINEAR), else the frame's min–max; MONOCHROME1 inverted afterwards. Colour frames are already RGB.
 */
import type { DecodedFrame, FrameTransform, ImageInfo } from "./decode";

export interface Window {
  center: number;
  width: number;
}

/** The window the viewer opens a frame with: the file's, else the rescaled frame's min–max (exact). */
export function defaultWindow(frame: DecodedFrame, transform: FrameTransform): { window: Window; exact: boolean } {
  // LINEAR needs a width of at least 1 and at exactly 1 is a threshold: narrower windows (float
  // parametric maps, 0–1 probabilities) are drawn LINEAR_EXACT, as the reference renderer does.
  if (transform.window) return { window: transform.window, exact: transform.voiFunction === "LINEAR_EXACT" || transform.window.width <= 1 };
  if (frame.kind !== "grey") return { window: { center: 127.5, width: 256 }, exact: true };
  const a = frame.min * transform.slope + transform.intercept;
  const b = frame.max * transform.slope + transform.intercept;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  return { window: { center: (lo + hi) / 2, width: Math.max(hi - lo, 1e-9) }, exact: true };
}

/** Greyscale stored values → 8-bit through rescale, window (linear or exact) and MONOCHROME1 inversion. */
export function windowGrey(frame: DecodedFrame & { kind: "grey" }, transform: FrameTransform, window: Window, exact: boolean, invert: boolean): Uint8Array {
  const out = new Uint8Array(frame.values.length);
  const { slope, intercept } = transform;
  // LINEAR: ((x − (c − ½)) / (w − 1) + ½) · 255 clamped; LINEAR_EXACT: ((x − c) / w + ½) · 255.
  const c = exact ? window.center : window.center - 0.5;
  const w = exact ? window.width : Math.max(window.width - 1, 1e-9);
  for (let i = 0; i < out.length; i++) {
    const x = frame.values[i]! * slope + intercept;
    const y = ((x - c) / w + 0.5) * 255;
    const v = y <= 0 ? 0 : y >= 255 ? 255 : Math.round(y);
    out[i] = invert ? 255 - v : v;
  }
  return out;
}

/** The frame as 8-bit interleaved RGB (rows × columns × 3); `window` overrides the file's. */
export function renderRgb8(frame: DecodedFrame, info: ImageInfo, transform: FrameTransform, window?: Window): Uint8Array {
  if (frame.kind === "rgb") return frame.rgb;
  const chosen = window ? { window, exact: false } : defaultWindow(frame, transform);
  const grey = windowGrey(frame, transform, chosen.window, chosen.exact, info.photometric === "MONOCHROME1");
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = grey[i]!;
  return rgb;
}
