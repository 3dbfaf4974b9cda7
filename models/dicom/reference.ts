/**
 * The independent reference renderings of ../shared/data/dicom (../shared/data/dicom-reference,
 * see its README) and the per-pixel comparison the fidelity tests use: mean absolute difference
 * (0–255) and Pearson correlation over all R, G, B samples.
 */
import fs from "node:fs";
import path from "node:path";
import { PNG } from "pngjs";

export interface ReferenceEntry {
  file: string;
  ok: boolean;
  ts?: string;
  frames?: number;
  frame?: number;
  size?: [number, number];
  render?: string;
  error?: string;
}

/** Thresholds of issue 11: MAD ≤ 4 of 255 and correlation ≥ 0.96. */
export const FIDELITY = { maxMad: 4, minCorrelation: 0.96 } as const;
/**
 * Slack for lossy codecs (JPEG baseline/extended, JPEG-LS near-lossless, lossy JPEG 2000, HTJ2K):
 * two conformant decoders may round the inverse DCT/wavelet differently by a few levels.
 */
export const LOSSY_FIDELITY = { maxMad: 6, minCorrelation: 0.95 } as const;

/**
 * Files the reference renders but we refuse, with the reason we give. None at present: the two
 * 12-bit JPEG Extended files, once refused, are decoded by libjpeg-turbo 12-bit (dcmjs-codecs).
 */
export const KNOWN_UNDECODABLE: Readonly<Record<string, RegExp>> = {};

export function referenceDir(repoRoot: string): { dicom: string; reference: string } {
  return { dicom: path.resolve(repoRoot, "../shared/data/dicom"), reference: path.resolve(repoRoot, "../shared/data/dicom-reference") };
}

export function readReferenceIndex(referenceFolder: string): ReferenceEntry[] {
  const index = JSON.parse(fs.readFileSync(path.join(referenceFolder, "index.json"), "utf8")) as Record<string, ReferenceEntry>;
  return Object.values(index).sort((a, b) => a.file.localeCompare(b.file));
}

/** The reference PNG of `file` as RGB (width × height × 3). */
export function readReferencePng(referenceFolder: string, file: string): { width: number; height: number; rgb: Uint8Array } {
  const png = PNG.sync.read(fs.readFileSync(path.join(referenceFolder, file.replace(/\.dcm$/, ".png"))));
  const n = png.width * png.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = png.data[i * 4]!;
    rgb[i * 3 + 1] = png.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = png.data[i * 4 + 2]!;
  }
  return { width: png.width, height: png.height, rgb };
}

/** MAD and Pearson correlation of two equal-length sample arrays (correlation 1 when both are flat and equal). */
export function compareSamples(a: ArrayLike<number>, b: ArrayLike<number>): { mad: number; correlation: number } {
  if (a.length !== b.length || a.length === 0) throw new Error(`cannot compare ${a.length} samples with ${b.length}`);
  const n = a.length;
  let sa = 0;
  let sb = 0;
  let mad = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
    mad += Math.abs(a[i]! - b[i]!);
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  const correlation = va === 0 || vb === 0 ? (mad === 0 ? 1 : 0) : cov / Math.sqrt(va * vb);
  return { mad: mad / n, correlation };
}
