/**
 * The torchvision-style preprocessing of the ImageNet CNNs, from a per-encoder config: resize so
 * the short side is `resizeShortSide` (aspect kept), centre-crop `cropSize`², scale to [0, 1],
 * subtract mean / divide by std per channel, planar NCHW in RGB order.
 *
 * Resizing is a separable triangle (bilinear) filter whose support widens with the downscale
 * factor, i.e. antialiased like PIL's BILINEAR resize: plain 2-tap bilinear on a 2,000-pixel
 * X-ray scaled to 256 would sample 1 pixel in 8 and alias. Only the rows and columns that survive
 * the crop are computed.
 */
import type { ImagePreprocess } from "@/contracts/encoder-config";
import type { RgbImage } from "./image-decode";

interface Taps {
  /** First source index per output index. */
  start: Int32Array;
  count: Int32Array;
  /** Weights, `maxTaps` per output index. */
  weights: Float32Array;
  maxTaps: number;
}

/** Filter taps for output indices [outStart, outStart + outCount) of a resize from inSize to outSize. */
function triangleTaps(inSize: number, outSize: number, outStart: number, outCount: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outCount);
  const count = new Int32Array(outCount);
  const weights = new Float32Array(outCount * maxTaps);
  for (let k = 0; k < outCount; k++) {
    const center = (outStart + k + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let total = 0;
    let n = 0;
    for (let j = lo; j < hi && n < maxTaps; j++, n++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - center) / support));
      weights[k * maxTaps + n] = w;
      total += w;
    }
    if (total > 0) for (let t = 0; t < n; t++) weights[k * maxTaps + t] = weights[k * maxTaps + t]! / total;
    start[k] = lo;
    count[k] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * One image → Float32Array [3, crop, crop] (planar RGB, normalised); `out` may be a slice of a
 * batch tensor to avoid a copy.
 */
export function preprocessImage(img: RgbImage, p: ImagePreprocess, out: Float32Array = new Float32Array(3 * p.cropSize * p.cropSize)): Float32Array {
  const { width, height, rgb } = img;
  const crop = p.cropSize;
  const scale = p.resizeShortSide / Math.min(width, height);
  const outW = Math.max(crop, Math.round(width * scale));
  const outH = Math.max(crop, Math.round(height * scale));
  // torchvision's CenterCrop offset: round((size - crop) / 2).
  const x0 = Math.round((outW - crop) / 2);
  const y0 = Math.round((outH - crop) / 2);
  const xt = triangleTaps(width, outW, x0, crop);
  const yt = triangleTaps(height, outH, y0, crop);

  // Horizontal pass over the source rows the vertical taps need: [height, crop, 3].
  const rowLo = yt.start[0]!;
  const rowHi = yt.start[crop - 1]! + yt.count[crop - 1]!;
  const tmp = new Float32Array((rowHi - rowLo) * crop * 3);
  for (let y = rowLo; y < rowHi; y++) {
    const src = y * width * 3;
    const dst = (y - rowLo) * crop * 3;
    for (let k = 0; k < crop; k++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const s0 = xt.start[k]!;
      const wo = k * xt.maxTaps;
      for (let t = 0; t < xt.count[k]!; t++) {
        const w = xt.weights[wo + t]!;
        const i = src + (s0 + t) * 3;
        r += w * rgb[i]!;
        g += w * rgb[i + 1]!;
        b += w * rgb[i + 2]!;
      }
      tmp[dst + k * 3] = r;
      tmp[dst + k * 3 + 1] = g;
      tmp[dst + k * 3 + 2] = b;
    }
  }

  const plane = crop * crop;
  const mul = [1 / (255 * p.std[0]), 1 / (255 * p.std[1]), 1 / (255 * p.std[2])] as const;
  const add = [-p.mean[0] / p.std[0], -p.mean[1] / p.std[1], -p.mean[2] / p.std[2]] as const;
  for (let k = 0; k < crop; k++) {
    const s0 = yt.start[k]! - rowLo;
    const wo = k * yt.maxTaps;
    for (let x = 0; x < crop; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let t = 0; t < yt.count[k]!; t++) {
        const w = yt.weights[wo + t]!;
        const i = ((s0 + t) * crop + x) * 3;
        r += w * tmp[i]!;
        g += w * tmp[i + 1]!;
        b += w * tmp[i + 2]!;
      }
      const o = k * crop + x;
      out[o] = r * mul[0] + add[0];
      out[plane + o] = g * mul[1] + add[1];
      out[2 * plane + o] = b * mul[2] + add[2];
    }
  }
  return out;
}
