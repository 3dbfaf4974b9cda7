/**
 * Deterministic synthetic chest CT slices for the demo project: a few ellipses of tissue-like
 * intensities (body wall, lungs with vessels, heart, aorta, spine, ribs) plus noise, and
 * optionally one finding: a soft-tissue nodule, a calcified granuloma, or a pneumothorax.
 *
 * Values are CT numbers shifted by +1024 and clipped to 12 bits (0..4095), so a viewer applying
 * intercept -1024 sees Hounsfield-like units. Everything derives from the seed through integer
 * arithmetic, + - * / and sqrt (all exactly specified by IEEE 754), never exp/sin/log, whose last
 * bits may differ between JavaScript engines: the same seed gives the same bytes on every
 * machine, which keeps the content-addressed blob keys stable.
 *
 * Orientation follows the radiological convention for axial images: the patient's right is on
 * the image's left (x < centre), anterior is at the top (y < centre).
 */

/** Small seeded generator (mulberry32): 32-bit state, fast, plenty for synthetic pictures. */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform float in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Approximately standard normal (Irwin–Hall sum of four uniforms, rescaled): no transcendental functions. */
  normal(): number;
  pick<T>(items: readonly T[]): T;
}

export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  const prng: Prng = {
    next: () => nextUint32() / 4294967296,
    int: (n) => {
      if (!Number.isInteger(n) || n < 1) throw new Error(`Prng.int: n must be a positive integer, got ${n}`);
      return Math.floor(prng.next() * n);
    },
    range: (lo, hi) => lo + (hi - lo) * prng.next(),
    // Sum of four U(0,1) has mean 2 and variance 1/3; scaling by sqrt(3) gives variance 1.
    normal: () => (prng.next() + prng.next() + prng.next() + prng.next() - 2) * Math.sqrt(3),
    pick: (items) => {
      if (items.length === 0) throw new Error("Prng.pick: empty list");
      return items[prng.int(items.length)]!;
    },
  };
  return prng;
}

/** FNV-1a over the parts' text: turns (seed, case number, purpose) into an independent stream seed. */
export function deriveSeed(...parts: (string | number)[]): number {
  let hash = 0x811c9dc5;
  for (const ch of parts.join("\u0001")) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export type Side = "left" | "right";
export type Lobe = "upper" | "middle" | "lower";

export type PhantomFinding =
  | { kind: "nodule"; side: Side; lobe: Lobe; diameterMm: number }
  | { kind: "calcified-granuloma"; side: Side; lobe: Lobe; diameterMm: number }
  /** depthMm: the largest distance between chest wall and the collapsed lung's edge. */
  | { kind: "pneumothorax"; side: Side; depthMm: number };

export interface ChestPhantomSpec {
  seed: number;
  size: 128 | 256;
  /** 1 for a single slice; more for a contiguous stack. */
  frames: number;
  /** Slice spacing of a stack in mm (default 3). */
  sliceSpacingMm?: number;
  finding?: PhantomFinding;
}

/** Where a finding is visible, in pixel coordinates of one frame (for later region-annotation tests). */
export interface PhantomRegion {
  frame: number;
  x: number;
  y: number;
  w: number;
  h: number;
  kind: PhantomFinding["kind"];
}

export interface PhantomImage {
  rows: number;
  columns: number;
  frames: number;
  pixelSpacingMm: number;
  /** Slice position of each frame in mm, centred on 0. */
  sliceLocationsMm: number[];
  /** rows * columns * frames values in 0..4095 (CT number + 1024), frame after frame. */
  pixels: Uint16Array;
  regions: PhantomRegion[];
}

/** Stored value = CT number + this (the viewer undoes it with Rescale Intercept -1024). */
export const CT_OFFSET = 1024;
const MAX_STORED = 4095;
/** Field of view across the image; chosen so the body fills most of it. */
const FIELD_OF_VIEW_MM = 360;

const HU = { air: -1000, lung: -860, fat: -100, soft: 40, blood: 45, cancellous: 250, cortical: 800, vessel: -150, calcified: 600 } as const;

interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/** Normalised ellipse test; coordinates are in units of the half field of view (-1..1). */
function ellipseValue(e: Ellipse, u: number, v: number): number {
  const du = (u - e.cx) / e.rx;
  const dv = (v - e.cy) / e.ry;
  return du * du + dv * dv;
}

/** Rib cross-sections around the chest wall: fixed points so no trigonometry is needed. */
const RIB_POINTS: readonly [number, number][] = [
  [-0.72, -0.2], [-0.78, 0.05], [-0.7, 0.3], [-0.5, 0.48], [-0.45, -0.42],
  [0.72, -0.2], [0.78, 0.05], [0.7, 0.3], [0.5, 0.48], [0.45, -0.42],
];

interface Vessel {
  u: number;
  v: number;
  z0: number;
  z1: number;
  radiusMm: number;
  side: Side;
}

/** Vertical placement of a lobe within one axial slice: upper lobes are anterior here, lower posterior. */
function lobeOffset(lobe: Lobe): number {
  return lobe === "upper" ? -0.45 : lobe === "middle" ? -0.1 : 0.45;
}

export function chestPhantom(spec: ChestPhantomSpec): PhantomImage {
  const { size, frames } = spec;
  if (size !== 128 && size !== 256) throw new Error(`chestPhantom: size must be 128 or 256, got ${size}`);
  if (!Number.isInteger(frames) || frames < 1 || frames > 64) throw new Error(`chestPhantom: frames must be 1..64, got ${frames}`);
  const rng = createPrng(spec.seed);
  const spacing = FIELD_OF_VIEW_MM / size;
  const sliceSpacing = spec.sliceSpacingMm ?? 3;
  const sliceLocationsMm = Array.from({ length: frames }, (_, k) => (k - (frames - 1) / 2) * sliceSpacing);
  const halfFov = FIELD_OF_VIEW_MM / 2;
  const mmToUnits = (mm: number) => mm / halfFov;

  // Anatomy with a little per-patient variation.
  const scale = rng.range(0.93, 1.05);
  const body: Ellipse = { cx: 0, cy: 0.03, rx: 0.86 * scale, ry: 0.6 * scale };
  const muscle: Ellipse = { cx: 0, cy: 0.03, rx: body.rx - 0.06, ry: body.ry - 0.05 };
  const lungBase = { rx: 0.3 * scale * rng.range(0.95, 1.05), ry: 0.42 * scale * rng.range(0.95, 1.05) };
  const lungs: Record<Side, Ellipse> = {
    right: { cx: -0.37 * scale, cy: -0.02, rx: lungBase.rx, ry: lungBase.ry },
    left: { cx: 0.37 * scale, cy: -0.02, rx: lungBase.rx * 0.96, ry: lungBase.ry },
  };
  const heart: Ellipse = { cx: 0.1 * scale, cy: 0.06, rx: 0.2 * scale, ry: 0.19 * scale };
  const aorta: Ellipse = { cx: 0.1 * scale, cy: 0.33 * scale, rx: 0.055, ry: 0.055 };
  const vertebra: Ellipse = { cx: 0, cy: 0.46 * scale, rx: 0.095, ry: 0.085 };
  const vertebraCore: Ellipse = { cx: vertebra.cx, cy: vertebra.cy, rx: 0.065, ry: 0.058 };
  const ribRadius = mmToUnits(6);

  // Pneumothorax: the collapsed lung is the same ellipse shrunk towards its medial edge, so
  // the air sits between chest wall and lung laterally and anteriorly, as in a supine patient.
  let collapsed: Ellipse | null = null;
  let collapsedSide: Side | null = null;
  if (spec.finding?.kind === "pneumothorax") {
    const lung = lungs[spec.finding.side];
    const depth = mmToUnits(spec.finding.depthMm);
    const rx = Math.max(lung.rx - depth / 2, lung.rx * 0.35);
    const ry = Math.max(lung.ry - depth / 2, lung.ry * 0.35);
    const medialShift = (lung.rx - rx) * (spec.finding.side === "right" ? 1 : -1);
    collapsed = { cx: lung.cx + medialShift, cy: lung.cy + (lung.ry - ry) * 0.6, rx, ry };
    collapsedSide = spec.finding.side;
  }
  const aeratedLung = (side: Side): Ellipse => (side === collapsedSide && collapsed ? collapsed : lungs[side]);

  // Vessels run roughly along z; more of them near the hilum, as in real lungs.
  const stackHalfMm = ((frames - 1) / 2) * sliceSpacing + sliceSpacing;
  const vessels: Vessel[] = [];
  for (const side of ["right", "left"] as const) {
    const lung = aeratedLung(side);
    const count = 26 + rng.int(10);
    for (let i = 0; i < count; i++) {
      // Points drawn in the unit disc, pulled towards the medial side.
      let a = 0;
      let b = 0;
      do {
        a = rng.range(-1, 1);
        b = rng.range(-1, 1);
      } while (a * a + b * b > 0.8);
      const medial = side === "right" ? 1 : -1;
      const pull = rng.next() < 0.5 ? 0.35 : 0;
      const z0 = rng.range(-stackHalfMm, stackHalfMm);
      vessels.push({
        u: lung.cx + lung.rx * (a * (1 - pull) + medial * pull),
        v: lung.cy + lung.ry * b,
        z0,
        z1: z0 + rng.range(4, 20),
        radiusMm: rng.range(1.0, pull > 0 ? 2.6 : 1.8),
        side,
      });
    }
  }

  // Round findings: a centre inside the lobe's part of the lung, drifting a little from slice to
  // slice (an oblique course), so scrolling a stack shows the blob move and grow then shrink.
  let round: { u: number; v: number; z: number; radiusMm: number; hu: number; driftU: number; driftV: number } | null = null;
  if (spec.finding && spec.finding.kind !== "pneumothorax") {
    const lung = lungs[spec.finding.side];
    const radiusMm = Math.max(spec.finding.diameterMm / 2, spacing * 0.75);
    const margin = mmToUnits(radiusMm) + 0.03;
    const inner: Ellipse = { cx: lung.cx, cy: lung.cy, rx: Math.max(lung.rx - margin, 0.01), ry: Math.max(lung.ry - margin, 0.01) };
    const heartZone: Ellipse = { cx: heart.cx, cy: heart.cy, rx: heart.rx + margin, ry: heart.ry + margin };
    // Rejection sampling: the whole blob must sit in aerated lung, clear of the heart, near its lobe.
    let cu = lung.cx + (spec.finding.side === "right" ? -0.5 : 0.5) * inner.rx;
    let cv = lung.cy + lobeOffset(spec.finding.lobe) * inner.ry;
    for (let attempt = 0; attempt < 100; attempt++) {
      const u = lung.cx + rng.range(-0.7, 0.7) * inner.rx;
      const v = lung.cy + (lobeOffset(spec.finding.lobe) + rng.range(-0.3, 0.3)) * inner.ry;
      if (ellipseValue(inner, u, v) <= 1 && ellipseValue(heartZone, u, v) > 1) {
        cu = u;
        cv = v;
        break;
      }
    }
    round = {
      u: cu,
      v: cv,
      // In a stack, centred on one of the middle slices so several slices cut through it.
      z: frames > 1 ? sliceLocationsMm[Math.floor(frames / 2)]! : 0,
      radiusMm,
      hu: spec.finding.kind === "nodule" ? rng.range(20, 60) : HU.calcified + rng.range(0, 300),
      driftU: frames > 1 ? mmToUnits(spacing * 1.2) : 0,
      driftV: frames > 1 ? mmToUnits(spacing * 0.6) : 0,
    };
  }

  const pixels = new Uint16Array(size * size * frames);
  const hu = new Float64Array(size * size);
  const regions: PhantomRegion[] = [];
  const noiseSigma = 14;

  for (let f = 0; f < frames; f++) {
    const z = sliceLocationsMm[f]!;
    // Lungs narrow slightly away from the central slice, so a stack is not just one slice repeated.
    const taper = 1 - 0.004 * Math.abs(z);
    let pneumoBox: { x0: number; y0: number; x1: number; y1: number } | null = null;

    for (let y = 0; y < size; y++) {
      const v = (y + 0.5) / (size / 2) - 1;
      for (let x = 0; x < size; x++) {
        const u = (x + 0.5) / (size / 2) - 1;
        let value: number = HU.air;
        if (ellipseValue(body, u, v) <= 1) {
          value = ellipseValue(muscle, u, v) <= 1 ? HU.soft : HU.fat;
          for (const side of ["right", "left"] as const) {
            const lung = lungs[side];
            const inPleuralSpace = ellipseValue(lung, u, v) <= taper * taper;
            if (!inPleuralSpace) continue;
            if (side === collapsedSide && collapsed) {
              const d = ellipseValue(collapsed, u, v);
              if (d > taper * taper) {
                value = HU.air; // the pneumothorax: air without lung markings
                if (!pneumoBox) pneumoBox = { x0: x, y0: y, x1: x, y1: y };
                else {
                  pneumoBox.x0 = Math.min(pneumoBox.x0, x);
                  pneumoBox.y0 = Math.min(pneumoBox.y0, y);
                  pneumoBox.x1 = Math.max(pneumoBox.x1, x);
                  pneumoBox.y1 = Math.max(pneumoBox.y1, y);
                }
              } else {
                // The visceral pleural line: a thin, slightly denser rim on the collapsed lung.
                value = d > taper * taper * 0.9 ? -450 : HU.lung;
              }
            } else {
              value = HU.lung;
            }
          }
          if (ellipseValue(heart, u, v) <= 1) value = HU.blood;
          if (ellipseValue(aorta, u, v) <= 1) value = HU.blood + 5;
          if (ellipseValue(vertebra, u, v) <= 1) value = ellipseValue(vertebraCore, u, v) <= 1 ? HU.cancellous : HU.cortical;
          for (const [ru, rv] of RIB_POINTS) {
            const du = u - ru * scale;
            const dv = v - rv * scale;
            if (du * du + dv * dv <= ribRadius * ribRadius) value = HU.cortical - 150;
          }
        }
        hu[y * size + x] = value;
      }
    }

    // Vessels: only where there is aerated lung, so a pneumothorax stays free of lung markings.
    for (const vessel of vessels) {
      if (z < vessel.z0 || z > vessel.z1) continue;
      const lung = aeratedLung(vessel.side);
      const r = vessel.radiusMm / spacing;
      const px = (vessel.u + 1) * (size / 2);
      const py = (vessel.v + 1) * (size / 2);
      for (let y = Math.max(0, Math.floor(py - r - 1)); y <= Math.min(size - 1, Math.ceil(py + r + 1)); y++) {
        for (let x = Math.max(0, Math.floor(px - r - 1)); x <= Math.min(size - 1, Math.ceil(px + r + 1)); x++) {
          const dx = x + 0.5 - px;
          const dy = y + 0.5 - py;
          const u = (x + 0.5) / (size / 2) - 1;
          const v = (y + 0.5) / (size / 2) - 1;
          // Paint only over lung parenchyma, never over the heart or another structure.
          if (dx * dx + dy * dy <= r * r && ellipseValue(lung, u, v) <= taper * taper * 0.95 && hu[y * size + x]! <= HU.lung) {
            hu[y * size + x] = HU.vessel + (1 - (dx * dx + dy * dy) / (r * r)) * 150;
          }
        }
      }
    }

    if (round) {
      const dz = z - round.z;
      const rSlice2 = round.radiusMm * round.radiusMm - dz * dz;
      if (rSlice2 > 0) {
        const step = f - Math.floor(frames / 2);
        const px = (round.u + round.driftU * step + 1) * (size / 2);
        const py = (round.v + round.driftV * step + 1) * (size / 2);
        // At least about one pixel, so even a 3 mm granuloma on a coarse grid stays visible.
        const r = Math.max(Math.sqrt(rSlice2) / spacing, 0.75);
        let box: { x0: number; y0: number; x1: number; y1: number } | null = null;
        for (let y = Math.max(0, Math.floor(py - r - 1)); y <= Math.min(size - 1, Math.ceil(py + r + 1)); y++) {
          for (let x = Math.max(0, Math.floor(px - r - 1)); x <= Math.min(size - 1, Math.ceil(px + r + 1)); x++) {
            const dx = x + 0.5 - px;
            const dy = y + 0.5 - py;
            const d2 = (dx * dx + dy * dy) / (r * r);
            if (d2 > 1.21) continue;
            // Smooth edge: full density inside, blending into the lung over the outer tenth.
            const weight = d2 <= 1 ? 1 : (1.21 - d2) / 0.21;
            const index = y * size + x;
            hu[index] = hu[index]! + (round.hu - hu[index]!) * weight;
            if (!box) box = { x0: x, y0: y, x1: x, y1: y };
            else {
              box.x0 = Math.min(box.x0, x);
              box.y0 = Math.min(box.y0, y);
              box.x1 = Math.max(box.x1, x);
              box.y1 = Math.max(box.y1, y);
            }
          }
        }
        if (box && spec.finding && spec.finding.kind !== "pneumothorax") {
          regions.push({ frame: f, x: box.x0, y: box.y0, w: box.x1 - box.x0 + 1, h: box.y1 - box.y0 + 1, kind: spec.finding.kind });
        }
      }
    }
    if (pneumoBox) {
      regions.push({ frame: f, x: pneumoBox.x0, y: pneumoBox.y0, w: pneumoBox.x1 - pneumoBox.x0 + 1, h: pneumoBox.y1 - pneumoBox.y0 + 1, kind: "pneumothorax" });
    }

    const offset = f * size * size;
    for (let i = 0; i < size * size; i++) {
      const stored = Math.round(hu[i]! + noiseSigma * rng.normal() + CT_OFFSET);
      pixels[offset + i] = stored < 0 ? 0 : stored > MAX_STORED ? MAX_STORED : stored;
    }
  }

  return { rows: size, columns: size, frames, pixelSpacingMm: spacing, sliceLocationsMm, pixels, regions };
}
