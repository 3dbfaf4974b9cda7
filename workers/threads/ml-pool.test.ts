import { afterAll, describe, expect, it } from "vitest";
import { syntheticPool } from "@/workers/ml/rads/test-pools";
import { createRng } from "@/workers/ml/rng";
import type { Matrix } from "@/workers/ml/types";
import { closeMlThreads, MlThreadError, runInMlThread } from "./ml-pool";
import { forkSeed, runMlTask, transferableBuffers, type MlTaskArgs, type SimulationSpec } from "./ml-tasks";

afterAll(async () => {
  await closeMlThreads();
});

/** Times between the ticks of a 20 ms interval while `work` runs: what a pg-boss heartbeat would see. */
async function tickGapsDuring<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; ticks: number; maxGapMs: number }> {
  let ticks = 0;
  let last = Date.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 20);
  const started = Date.now();
  try {
    const value = await work();
    const ms = Date.now() - started;
    maxGapMs = Math.max(maxGapMs, Date.now() - last);
    return { value, ms, ticks, maxGapMs };
  } finally {
    clearInterval(timer);
  }
}

describe("ML threads", () => {
  it("runs a multi-second RADS selection off the event loop, with exactly the result of the same call on this thread", async () => {
    const mc = syntheticPool(160, 5, 3, 0.08);
    // The work must last long enough to be seen; how many episodes that takes depends on the machine.
    let args!: MlTaskArgs<"select">;
    let inline!: ReturnType<typeof runMlTask<"select">>;
    let inlineMs = 0;
    for (const episodes of [30, 120, 480]) {
      args = {
        strategy: { name: "rads", options: { agent: { episodes } } },
        input: { poolSize: 160, budget: 5, mc, embeddings: null, labelledEmbeddings: null, minorityClasses: [1], seed: 7 },
      };
      const inlineStarted = Date.now();
      inline = runMlTask("select", args);
      inlineMs = Date.now() - inlineStarted;
      if (inlineMs > 1000) break;
    }
    // The work must be long enough that blocking the loop for it would be seen (a stall of inlineMs).
    expect(inlineMs).toBeGreaterThan(1000);

    const threaded = await tickGapsDuring(() => runInMlThread("select", args));
    expect(Array.from(threaded.value.selected)).toEqual(Array.from(inline.selected));
    expect(threaded.value.stats).toEqual(inline.stats);
    expect(Object.keys(threaded.value.features).sort()).toEqual(Object.keys(inline.features).sort());
    for (const [name, values] of Object.entries(inline.features)) expect(Array.from(threaded.value.features[name]!)).toEqual(Array.from(values));
    // The loop kept ticking: no gap anywhere near the length of the work, and ticks all along.
    expect(threaded.maxGapMs).toBeLessThan(Math.max(250, inlineMs / 3));
    expect(threaded.ticks).toBeGreaterThanOrEqual(Math.floor(threaded.ms / 20 / 4));
  });

  it("reports progress per what-if cell from the thread and returns the runs of the inline call", async () => {
    const rng = createRng(5);
    const n = 60;
    const dim = 6;
    const labels = Int32Array.from({ length: n }, (_, i) => (i % 6 === 0 ? 1 : 0));
    const data = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) data[i * dim + j] = (j === 0 ? labels[i]! * 2 : 0) + rng.normal() * 0.3;
    const embeddings: Matrix = { data, rows: n, cols: dim };
    const spec: SimulationSpec = {
      embeddings,
      labels,
      numClasses: 2,
      minorityClasses: [1],
      testIndices: Int32Array.from({ length: 15 }, (_, i) => i * 4),
      seedSet: { kind: "random", size: 6, minMinority: 1 },
      strategies: [
        { label: "random", spec: { name: "random" } },
        { label: "max-entropy", spec: { name: "max-entropy" } },
      ],
      budgets: [3],
      rounds: 2,
      seeds: [1],
      headConfig: { hidden: [8], maxEpochs: 15, validationFraction: 0 },
      mcPasses: 4,
      coldStart: true,
    };
    const cells = [
      { strategy: "random", budget: 3, seed: 1 },
      { strategy: "max-entropy", budget: 3, seed: 1 },
    ];
    const inline = runMlTask("simulateCells", { spec, cells });
    const progress: string[] = [];
    const threaded = await runInMlThread("simulateCells", { spec, cells }, { onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.label}`) });
    expect(progress).toEqual(["0/2 random, budget 3, seed 1", "1/2 max-entropy, budget 3, seed 1"]);
    expect(threaded.map((r) => r.strategy)).toEqual(["random", "max-entropy"]);
    const strip = (runs: typeof inline) => runs.map((r) => ({ ...r, curve: r.curve.map((p) => ({ ...p, selectMs: 0, trainMs: 0 })) }));
    expect(strip(threaded)).toEqual(strip(inline));
  });

  it("hands a task's own error back with its name, and keeps serving after it", async () => {
    const args: MlTaskArgs<"select"> = {
      strategy: { name: "no-such-strategy" },
      input: { poolSize: 3, budget: 1, mc: null, embeddings: null, labelledEmbeddings: null, minorityClasses: [1], seed: 1 },
    };
    const error = await runInMlThread("select", args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlThreadError);
    expect((error as MlThreadError).name).toBe("MlInputError");
    expect((error as MlThreadError).message).toMatch(/unknown baseline strategy "no-such-strategy"/);
    const ok = await runInMlThread("select", { ...args, strategy: { name: "random" } });
    expect(ok.selected).toHaveLength(1);
  });

  it("transfers only buffers a view covers whole, each once", () => {
    const whole = new Float32Array(4);
    const backing = new Float32Array(8);
    const part = backing.subarray(2, 4);
    const buffers = transferableBuffers({ a: whole, b: [whole, part], c: { d: new Int32Array(0) } });
    expect(buffers).toEqual([whole.buffer]);
  });

  it("forkSeed stands for rng.fork(): the same generator, and the parent advanced the same way", () => {
    const a = createRng(42);
    const b = createRng(42);
    a.next();
    b.next();
    const forked = a.fork();
    const seeded = createRng(forkSeed(b));
    expect(Array.from({ length: 5 }, () => seeded.next())).toEqual(Array.from({ length: 5 }, () => forked.next()));
    expect(b.next()).toBe(a.next());
  });

  it("fits the built-in featuriser on a thread to the state of the same fit here", async () => {
    const corpus = ["chest pain radiating to the left arm", "no acute cardiopulmonary abnormality", "", "follow-up chest ct in three months"];
    expect(await runInMlThread("fitTextFeaturizer", { corpus, dim: 64 })).toEqual(runMlTask("fitTextFeaturizer", { corpus, dim: 64 }));
    expect((await runInMlThread("fitTextFeaturizer", { corpus: [], dim: 64 })).docCount).toBe(0);
  });
});
