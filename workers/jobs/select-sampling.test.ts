/**
 * The select job's feature sampling for large pools (select.ts featureSampling / sampleLabelled):
 * exact up to EXACT_FEATURE_POOL cases, then the density reference and the labelled set shrink in
 * proportion to the pool, and every labelled minority case is kept.
 */
import { describe, expect, it } from "vitest";
import { EXACT_FEATURE_POOL, featureSampling, sampleLabelled } from "./select";

describe("featureSampling", () => {
  it("is the RADS default up to EXACT_FEATURE_POOL cases and scales down above, with a floor", () => {
    expect(featureSampling(500)).toEqual({ densityReferenceLimit: 2000, labelledLimit: null });
    expect(featureSampling(EXACT_FEATURE_POOL)).toEqual({ densityReferenceLimit: 2000, labelledLimit: null });
    expect(featureSampling(20_000)).toEqual({ densityReferenceLimit: 1000, labelledLimit: 500 });
    expect(featureSampling(100_000)).toEqual({ densityReferenceLimit: 200, labelledLimit: 200 });
    expect(featureSampling(1_000_000)).toEqual({ densityReferenceLimit: 200, labelledLimit: 200 });
  });
});

describe("sampleLabelled", () => {
  const labelled = Array.from({ length: 50 }, (_, i) => ({ id: i, label: i % 10 === 3 ? 1 : 0 }));
  const minority = new Set([1]);

  it("keeps everything without a limit or under it", () => {
    expect(sampleLabelled(labelled, minority, null, 1)).toEqual(labelled);
    expect(sampleLabelled(labelled, minority, 50, 1)).toEqual(labelled);
  });

  it("keeps every minority case and fills the limit with a seeded sample of the others, in the original order", () => {
    const kept = sampleLabelled(labelled, minority, 12, 7);
    expect(kept).toHaveLength(12);
    expect(kept.filter((t) => t.label === 1).map((t) => t.id)).toEqual([3, 13, 23, 33, 43]);
    expect(kept.map((t) => t.id)).toEqual([...kept.map((t) => t.id)].sort((a, b) => a - b));
    expect(sampleLabelled(labelled, minority, 12, 7)).toEqual(kept);
    expect(sampleLabelled(labelled, minority, 12, 8).map((t) => t.id)).not.toEqual(kept.map((t) => t.id));
  });

  it("keeps the minority cases even when they alone exceed the limit", () => {
    expect(sampleLabelled(labelled, minority, 3, 1).map((t) => t.id)).toEqual([3, 13, 23, 33, 43]);
  });
});
