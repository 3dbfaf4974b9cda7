import { describe, expect, it } from "vitest";
import { buildDemoDataset, demoCaseMetadata } from "./dataset";
import { DEMO_IDENTIFIER_PATTERN, DEMO_LABEL_SCHEMA, DEMO_MINORITY_CLASSES, demoPatient, planDemoCases } from "./narratives";
import { CT_OFFSET, chestPhantom, createPrng, deriveSeed } from "./phantom";

const countBy = <T,>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((acc, item) => ({ ...acc, [key(item)]: (acc[key(item)] ?? 0) + 1 }), {});

describe("planDemoCases", () => {
  const plan = planDemoCases();

  it("has 48 cases with the intended labels, splits and images", () => {
    expect(plan).toHaveLength(48);
    expect(new Set(plan.map((c) => c.externalId)).size).toBe(48);
    expect(countBy(plan, (c) => c.split)).toEqual({ POOL: 33, TEST: 10, SEED: 5 });
    expect(countBy(plan, (c) => c.label)).toEqual({ normal: 26, benign: 17, "suspicious-nodule": 3, pneumothorax: 2 });
    const minority = plan.filter((c) => DEMO_MINORITY_CLASSES.includes(c.label)).length / plan.length;
    expect(minority).toBeGreaterThan(0.08);
    expect(minority).toBeLessThan(0.13);
    // Selection has minority cases to find, and the test split can measure both minority classes.
    for (const label of DEMO_MINORITY_CLASSES) {
      expect(plan.some((c) => c.split === "POOL" && c.label === label)).toBe(true);
      expect(plan.some((c) => c.split === "TEST" && c.label === label)).toBe(true);
    }
    expect(plan.filter((c) => c.image).length).toBe(16);
    expect(plan.filter((c) => c.image?.frames === 8).length).toBe(4);
  });

  it("imports ground truth for TEST and SEED only", () => {
    for (const c of plan) expect(c.importedLabel).toBe(c.split === "POOL" ? null : c.label);
  });

  it("uses label keys from the schema with shortcuts 1..4", () => {
    expect(DEMO_LABEL_SCHEMA.multiLabel).toBe(false);
    expect(DEMO_LABEL_SCHEMA.labels.map((l) => l.shortcut)).toEqual(["1", "2", "3", "4"]);
    const keys = DEMO_LABEL_SCHEMA.labels.map((l) => l.key);
    for (const c of plan) expect(keys).toContain(c.label);
  });

  it("is deterministic and depends on the seed", () => {
    expect(planDemoCases()).toEqual(plan);
    expect(planDemoCases(7).map((c) => c.narrative)).not.toEqual(plan.map((c) => c.narrative));
  });

  it("writes structured reports whose wording agrees with the label", () => {
    for (const c of plan) {
      for (const section of ["EXAM:", "INDICATION:", "TECHNIQUE:", "COMPARISON:", "FINDINGS:", "IMPRESSION:"]) {
        expect(c.narrative, c.externalId).toContain(section);
      }
      const impression = c.narrative.slice(c.narrative.indexOf("IMPRESSION:"));
      if (c.label === "pneumothorax") {
        expect(impression).toMatch(/(Small|Moderate|Large) (left|right) pneumothorax/);
      } else {
        // Elsewhere pneumothorax is only ever negated or resolved.
        const mentions = c.narrative.split(/(?<=\.)\s+|\n/).filter((s) => /pneumothorax/i.test(s));
        for (const sentence of mentions) expect(sentence, c.externalId).toMatch(/\bno\b|resolution/i);
      }
      if (c.label === "suspicious-nodule") expect(impression).toMatch(/suspicious for malignancy/);
      else expect(c.narrative).not.toMatch(/suspicious for malignancy/);
      if (c.image) expect(c.narrative).toContain("EXAM: CT CHEST WITHOUT CONTRAST");
      if (/new compared with the prior|unchanged from the prior|previously seen/.test(c.narrative)) {
        expect(c.narrative).toMatch(/COMPARISON: CT chest from/);
      }
    }
    // Negation is common: a keyword matcher for "pneumothorax" would flag many normal reports.
    expect(plan.filter((c) => c.label === "normal" && /pneumothorax/i.test(c.narrative)).length).toBeGreaterThan(10);
  });

  it("puts obviously fake identifiers in some reports and says which", () => {
    const withIds = plan.filter((c) => c.narrativeHasIdentifiers);
    expect(withIds.length).toBeGreaterThan(5);
    expect(withIds.length).toBeLessThan(plan.length);
    for (const c of withIds) {
      expect(c.narrative).toContain(`MRN ${c.patient.patientId}`);
      expect(c.narrative).toContain(c.patient.displayName);
    }
    for (const c of plan.filter((p) => !p.narrativeHasIdentifiers)) expect(c.narrative).not.toContain(c.patient.patientId);
    expect(demoPatient(7)).toMatchObject({ dicomName: "DEMO^PATIENT^0007", patientId: "DEMO-0007" });
    for (const id of ["DEMO^PATIENT^0007", "DEMO-0007", "Jane Demo-Sample", "Dr. Robin Demo-Physician"]) {
      expect(id).toMatch(DEMO_IDENTIFIER_PATTERN);
    }
    expect("Demo — rare findings").not.toMatch(DEMO_IDENTIFIER_PATTERN);
  });
});

describe("chestPhantom", () => {
  const lungMean = (pixels: Uint16Array, size: number, x0: number, y0: number, w: number, h: number, frame = 0) => {
    let sum = 0;
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) sum += pixels[frame * size * size + y * size + x]!;
    return sum / (w * h) - CT_OFFSET;
  };

  it("is deterministic, 12-bit, and sized rows*columns*frames", () => {
    const a = chestPhantom({ seed: 11, size: 128, frames: 8 });
    const b = chestPhantom({ seed: 11, size: 128, frames: 8 });
    expect(a.pixels).toEqual(b.pixels);
    expect(a.pixels.length).toBe(128 * 128 * 8);
    expect(a.pixels.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(4095);
    expect(chestPhantom({ seed: 12, size: 128, frames: 1 }).pixels).not.toEqual(chestPhantom({ seed: 11, size: 128, frames: 1 }).pixels);
    expect(a.regions).toEqual([]);
  });

  it("has air outside the body and lung-like values inside the lungs", () => {
    const p = chestPhantom({ seed: 3, size: 256, frames: 1 });
    expect(lungMean(p.pixels, 256, 0, 0, 20, 20)).toBeLessThan(-950); // corner: air
    // Centre of the right lung (image left) is about a quarter of the way across.
    expect(lungMean(p.pixels, 256, 76, 118, 8, 8)).toBeLessThan(-600);
  });

  it("draws a nodule that moves across the slices of a stack", () => {
    const p = chestPhantom({ seed: 5, size: 128, frames: 8, finding: { kind: "nodule", side: "left", lobe: "upper", diameterMm: 18 } });
    expect(p.regions.length).toBeGreaterThanOrEqual(3);
    const xs = p.regions.map((r) => r.x + r.w / 2);
    expect(new Set(xs).size).toBeGreaterThan(1);
    for (const r of p.regions) {
      expect(r.kind).toBe("nodule");
      expect(r.x + r.w / 2).toBeGreaterThan(64); // patient's left is the image's right
      const cx = Math.floor(r.x + r.w / 2);
      const cy = Math.floor(r.y + r.h / 2);
      expect(lungMean(p.pixels, 128, cx, cy, 1, 1, r.frame)).toBeGreaterThan(-200);
    }
  });

  it("draws a pneumothorax as lung-marking-free air on the stated side", () => {
    const p = chestPhantom({ seed: 9, size: 256, frames: 1, finding: { kind: "pneumothorax", side: "right", depthMm: 30 } });
    expect(p.regions).toHaveLength(1);
    const r = p.regions[0]!;
    expect(r.x + r.w / 2).toBeLessThan(128);
    // The air lies at the lateral edge of the box (towards the chest wall).
    expect(lungMean(p.pixels, 256, r.x + 1, r.y + Math.floor(r.h / 2) - 2, 2, 4)).toBeLessThan(-950);
  });

  it("has a seeded generator with roughly standard normal output", () => {
    const rng = createPrng(deriveSeed("x", 1));
    const samples = Array.from({ length: 20_000 }, () => rng.normal());
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(createPrng(1).next()).toBe(createPrng(1).next());
  });
});

describe("buildDemoDataset", () => {
  const dataset = buildDemoDataset();

  it("produces DICOM files with content keys and no identifiers outside the file", () => {
    const images = dataset.flatMap((c) => c.images.map((image) => ({ c, image })));
    expect(images).toHaveLength(16);
    for (const { c, image } of images) {
      expect(new TextDecoder().decode(image.bytes.subarray(128, 132))).toBe("DICM");
      expect(image.storageKey).toMatch(/^images\/[0-9a-f]{2}\/[0-9a-f]{64}\.dcm$/);
      expect(image.storageKey).toContain(image.sha256);
      expect(Object.keys(image.attributes).sort()).toEqual(["bodyPart", "columns", "modality", "rows", "seriesDescription", "studyDate"]);
      expect(JSON.stringify(image.attributes)).not.toMatch(DEMO_IDENTIFIER_PATTERN);
      expect(image.frames).toBe(c.image!.frames);
      // The file itself does carry the fake patient name: that is what leak tests look for.
      expect(Buffer.from(image.bytes).includes(c.patient.dicomName)).toBe(true);
      if (c.label === "suspicious-nodule" || c.label === "pneumothorax") expect(image.regions.length).toBeGreaterThan(0);
      if (c.label === "normal") expect(image.regions).toEqual([]);
    }
    for (const c of dataset) expect(JSON.stringify(demoCaseMetadata(c))).not.toMatch(DEMO_IDENTIFIER_PATTERN);
  });

  it("is byte-for-byte reproducible", () => {
    const again = buildDemoDataset();
    expect(again.flatMap((c) => c.images.map((i) => i.sha256))).toEqual(dataset.flatMap((c) => c.images.map((i) => i.sha256)));
  });
});
