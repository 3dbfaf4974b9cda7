import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_WORKER_NICE, parseWorkerNice } from "./priority";

describe("parseWorkerNice", () => {
  it("defaults to 10 and accepts 0–19", () => {
    expect(parseWorkerNice(undefined)).toBe(DEFAULT_WORKER_NICE);
    expect(parseWorkerNice("")).toBe(DEFAULT_WORKER_NICE);
    expect(parseWorkerNice("0")).toBe(0);
    expect(parseWorkerNice("19")).toBe(19);
  });
  it("refuses anything else, naming the variable", () => {
    for (const bad of ["-1", "20", "2.5", "low"]) expect(() => parseWorkerNice(bad)).toThrow(/WORKER_NICE/);
  });
});

describe("lowerWorkerPriority", () => {
  it.runIf(fs.existsSync("/proc/self/task"))("gives every thread of the process, and threads started later, the nice value", () => {
    // A child process, so the test runner's own priority is left alone.
    const script = `
      import { lowerWorkerPriority } from ${JSON.stringify(path.resolve(import.meta.dirname, "priority.ts"))};
      import { Worker } from "node:worker_threads";
      import fs from "node:fs";
      const base = (await import("node:os")).getPriority();
      lowerWorkerPriority(base + 5);
      const w = new Worker("setTimeout(() => {}, 2000)", { eval: true });
      await new Promise((r) => w.once("online", r));
      const nice = fs.readdirSync("/proc/self/task").map((t) => Number(fs.readFileSync("/proc/self/task/" + t + "/stat", "utf8").split(") ")[1].split(" ")[16]));
      console.log(JSON.stringify({ base, nice }));
      await w.terminate();
    `;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const { base, nice } = JSON.parse(run.stdout.trim().split("\n").pop()!) as { base: number; nice: number[] };
    const want = Math.min(19, base + 5);
    expect(nice.length).toBeGreaterThan(3);
    expect(nice.every((n) => n === want)).toBe(true);
  });
});
