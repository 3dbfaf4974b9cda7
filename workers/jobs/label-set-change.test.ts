/** labelSetChange / labelSetChangeReason (workers/jobs/loop-triggers.ts): when an approved head no longer fits the project's classes, and the line the selection page shows. */
import { describe, expect, it } from "vitest";
import { labelSetChange, labelSetChangeReason, trainDedupeKey } from "./loop-triggers";

const model = (classes: unknown) => ({ params: { classes } });

describe("labelSetChange", () => {
  it("is null for the same keys in the same order, and when the model recorded no classes", () => {
    expect(labelSetChange(model(["a", "b"]), ["a", "b"])).toBeNull();
    expect(labelSetChange({ params: {} }, ["a", "b"])).toBeNull();
    expect(labelSetChange({ params: null }, ["a", "b"])).toBeNull();
    expect(labelSetChange(model(["a", 3]), ["a", "b"])).toBeNull();
  });

  it("names an added, a removed and a reordered class (the head's output i is class i)", () => {
    expect(labelSetChange(model(["a", "b"]), ["a", "b", "c"])).toEqual({ trainedWith: ["a", "b"], now: ["a", "b", "c"] });
    expect(labelSetChange(model(["a", "b", "c"]), ["a", "c"])).toEqual({ trainedWith: ["a", "b", "c"], now: ["a", "c"] });
    expect(labelSetChange(model(["a", "b"]), ["b", "a"])).toEqual({ trainedWith: ["a", "b"], now: ["b", "a"] });
  });
});

describe("labelSetChangeReason", () => {
  it("says what changed and what happens next in one line", () => {
    expect(labelSetChangeReason({ trainedWith: ["a", "b", "c"], now: ["a", "d"] }, 4, "queued")).toBe(
      "Label set changed since model v4 was trained (added: d; removed: b, c): cold start instead of a round from that model; retraining queued.",
    );
    expect(labelSetChangeReason({ trainedWith: ["a", "b"], now: ["b", "a"] }, 2, "asked-before")).toBe(
      "Label set changed since model v2 was trained (classes reordered): cold start instead of a round from that model; a model of the current labels is trained or training (see Jobs).",
    );
    expect(labelSetChangeReason({ trainedWith: ["a", "b"], now: ["a", "b", "c"] }, 1, "too-few-labels")).toMatch(/too few labels to retrain yet/);
  });
});

describe("trainDedupeKey", () => {
  it("differs for the same labels under another label set, not otherwise", () => {
    expect(trainDedupeKey("p", "h", ["a", "b"])).toBe(trainDedupeKey("p", "h", ["a", "b"]));
    expect(trainDedupeKey("p", "h", ["a", "b"])).not.toBe(trainDedupeKey("p", "h", ["a", "b", "c"]));
    expect(trainDedupeKey("p", "h", ["a", "b"])).toMatch(/^train:p:h:classes-[0-9a-f]{12}$/);
  });
});
