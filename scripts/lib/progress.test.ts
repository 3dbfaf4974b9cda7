import { describe, expect, it } from "vitest";
import { formatDuration, ProgressBar } from "./progress";

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 120, write: (c: string) => (chunks.push(c), true) } };
}

describe("ProgressBar", () => {
  it("prints plain lines every 10% when not a terminal", () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const bar = new ProgressBar(stream, { unit: "rounds", now: () => t });
    for (let i = 1; i <= 40; i++) {
      t += 1000;
      bar.update(i, 40, `step ${i}`);
    }
    // The first step, then 10 % = every 4 steps: 1, 4, 8, ..., 40.
    expect(chunks.length).toBe(11);
    expect(chunks.every((c) => c.endsWith("\n") && !c.includes("\r"))).toBe(true);
    expect(chunks[0]).toBe("1/40 rounds (3%) · 1s elapsed, ~39s left · step 1\n");
    expect(chunks[1]).toBe("4/40 rounds (10%) · 4s elapsed, ~36s left · step 4\n");
    expect(chunks[10]).toBe("40/40 rounds (100%) · 40s elapsed · step 40\n");
  });

  it("prints on a time interval too when progress is slow", () => {
    let t = 0;
    const { chunks, stream } = fakeStream(false);
    const bar = new ProgressBar(stream, { now: () => t, logIntervalMs: 5000 });
    bar.update(1, 1000, "first");
    t = 3000;
    bar.update(2, 1000, "too soon");
    t = 6000;
    bar.update(3, 1000, "slow");
    expect(chunks.map((c) => c.trim().split(" · ").pop())).toEqual(["first", "slow"]);
  });

  it("redraws one line on a terminal, throttled, and ends it on finish", () => {
    let t = 0;
    const { chunks, stream } = fakeStream(true);
    const bar = new ProgressBar(stream, { now: () => t });
    bar.update(1, 4, "a");
    bar.update(2, 4, "b"); // within 100 ms: skipped
    t = 500;
    bar.update(4, 4, "c");
    bar.finish();
    expect(chunks.length).toBe(3);
    expect(chunks[0]!.startsWith("\r\x1b[2K[")).toBe(true);
    expect(chunks[1]).toContain("100%");
    expect(chunks[2]).toBe("\n");
  });

  it("formats durations", () => {
    expect([formatDuration(4_400), formatDuration(65_000), formatDuration(3_720_000)]).toEqual(["4s", "1m05s", "1h02m"]);
  });
});
