/** The pure parts of trigger coalescing (issue 16): the training decision and the folding of a batch of check requests. */
import { describe, expect, it } from "vitest";
import { DEFAULT_MIN_TRAINING_INTERVAL_MINUTES, ZProjectSettings } from "@/contracts/project-config";
import { ZUpdateSelectionSettingsInput } from "@/contracts/project-settings";
import { foldCheckRequests, trainingDecision } from "./loop-triggers";

const t0 = new Date("2026-01-01T10:00:00Z");
const plus = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

describe("trainingDecision", () => {
  it("trains at once without a model, or once the interval since the latest model has passed", () => {
    expect(trainingDecision({ now: t0, minIntervalMinutes: 10, latestModelAt: null, pending: null })).toEqual({ kind: "enqueue" });
    expect(trainingDecision({ now: plus(10), minIntervalMinutes: 10, latestModelAt: t0, pending: null })).toEqual({ kind: "enqueue" });
    expect(trainingDecision({ now: plus(1), minIntervalMinutes: 0, latestModelAt: t0, pending: null })).toEqual({ kind: "enqueue" });
  });
  it("defers a trigger inside the interval to the interval's end", () => {
    expect(trainingDecision({ now: plus(3), minIntervalMinutes: 10, latestModelAt: t0, pending: null })).toEqual({ kind: "deferred", until: plus(10) });
  });
  it("folds a trigger into a queued or running training, looking again after the interval (at least a minute)", () => {
    expect(trainingDecision({ now: plus(30), minIntervalMinutes: 10, latestModelAt: t0, pending: { id: "run-1" } })).toEqual({ kind: "coalesced", into: "run-1", checkAgainAt: plus(40) });
    expect(trainingDecision({ now: plus(30), minIntervalMinutes: 0, latestModelAt: t0, pending: { id: "run-1" } })).toEqual({ kind: "coalesced", into: "run-1", checkAgainAt: plus(31) });
  });
});

describe("foldCheckRequests", () => {
  it("checks each project once per batch, in order of first request", () => {
    expect(foldCheckRequests([{ projectId: "b" }, { projectId: "a" }, { projectId: "b" }, { projectId: "a" }], true)).toEqual({ projects: ["b", "a"], scheduled: false });
  });
  it("runs the every-minute check only where the schedule is on", () => {
    expect(foldCheckRequests([{}, { projectId: "a" }], true)).toEqual({ projects: ["a"], scheduled: true });
    expect(foldCheckRequests([{}, { projectId: "a" }], false)).toEqual({ projects: ["a"], scheduled: false });
  });
});

describe("settings.minTrainingIntervalMinutes", () => {
  it("defaults to 10 minutes and accepts 0 (no minimum) up to a week", () => {
    expect(DEFAULT_MIN_TRAINING_INTERVAL_MINUTES).toBe(10);
    expect(ZProjectSettings.parse({}).minTrainingIntervalMinutes).toBe(10);
    expect(ZProjectSettings.parse({ minTrainingIntervalMinutes: 0 }).minTrainingIntervalMinutes).toBe(0);
    expect(ZProjectSettings.parse({ minTrainingIntervalMinutes: 7 * 24 * 60 }).minTrainingIntervalMinutes).toBe(10_080);
  });
  it("refuses anything else with a message naming the field, in the settings form's input as in the stored config", () => {
    for (const bad of [-1, 2.5, 10_081]) {
      const stored = ZProjectSettings.safeParse({ minTrainingIntervalMinutes: bad });
      expect(stored.success).toBe(false);
      expect(stored.error!.issues[0]!.path).toEqual(["minTrainingIntervalMinutes"]);
      expect(stored.error!.issues[0]!.message).toMatch(/^The minutes between automatic trainings must be a whole number between 0 and 10,080/);
      const form = ZUpdateSelectionSettingsInput.shape.minTrainingIntervalMinutes.safeParse(bad);
      expect(form.success).toBe(false);
    }
  });
});
