import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { coalescePerKey } from "./enqueue-job";

describe("coalescePerKey (retrain checks requested by submissions)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends the first request at once, folds a burst into one send at the window's end, and keeps keys apart", () => {
    const sent: string[] = [];
    const request = coalescePerKey((key) => sent.push(key), 1000);
    request("a");
    expect(sent).toEqual(["a"]);
    for (let i = 0; i < 50; i++) request("a");
    request("b");
    expect(sent).toEqual(["a", "b"]);
    vi.advanceTimersByTime(999);
    expect(sent).toEqual(["a", "b"]);
    vi.advanceTimersByTime(1);
    // The burst of "a" left one send at the end of its window; "b" had no second request.
    expect(sent).toEqual(["a", "b", "a"]);
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual(["a", "b", "a"]);
    // After a quiet window, the next request sends at once again.
    request("b");
    expect(sent).toEqual(["a", "b", "a", "b"]);
  });
});
