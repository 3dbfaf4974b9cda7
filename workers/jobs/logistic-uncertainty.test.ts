/**
 * refitApprovedHead: refitting an approved logistic head from the choices the train job recorded
 * (chosenC / dims per part) gives the head the cross-validated training ended with — the same parts
 * and therefore the same bootstrap ensemble — without running the cross-validation again.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bootstrapLogProbs, bootstrapLogProbsReference, trainLogisticHead } from "@/workers/ml/heads/logistic";
import { createRng } from "@/workers/ml/rng";
import type { Matrix } from "@/workers/ml/types";
import { bootstrapMethod, logisticBootstrapLogProbs, refitApprovedHead } from "./logistic-uncertainty";

beforeAll(() => {
  // The tasks run inline (the same runMlTask the thread runs): no worker thread in a unit test.
  process.env.ML_THREADS = "0";
});

/** n rows of d columns, class 1 (about a fifth) shifted along the first columns, the rest noise. */
function problem(n: number, d: number, seed: number): { x: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.2 ? 1 : 0;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + (y[i] === 1 && j < 4 ? 1.2 / (j + 1) : 0);
  }
  return { x: { data: x, rows: n, cols: d }, y };
}

describe("refitApprovedHead", () => {
  it("reproduces a cross-validated single head from its recorded c", async () => {
    const { x, y } = problem(160, 12, 3);
    const config = { cGrid: [0.01, 0.1, 1, 3], defaultC: 10, cvFolds: 4, minorityClasses: [1] };
    const trained = trainLogisticHead(x, y, 2, config, createRng(5));
    // The grid leaves out defaultC, so a refit that ignored the recorded c would differ.
    expect(config.cGrid).toContain(trained.c);
    // What the train job records (models/trainers/logistic-head-trainer.ts).
    const logistic = { ...trained.config, chosenC: trained.parts.map((p) => p.c), dims: trained.parts.map((p) => p.dims) };
    const refit = await refitApprovedHead(x, y, 2, { headKind: "logistic", seed: 5, logistic });
    expect(refit.cvScores).toEqual([]);
    expect(refit.parts.map((p) => [p.c, p.dims])).toEqual(trained.parts.map((p) => [p.c, p.dims]));
    expect(Array.from(refit.parts[0]!.theta)).toEqual(Array.from(trained.parts[0]!.theta));
    const a = bootstrapLogProbs(trained, x, 3, createRng(9));
    const b = bootstrapLogProbs(refit, x, 3, createRng(9));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it("reproduces an averaged prefix ensemble part by part, each at its own c", async () => {
    const { x, y } = problem(200, 16, 4);
    const config = { cGrid: [0.01, 0.1, 1, 10], cvFolds: 4, minorityClasses: [1], prefixEnsemble: [4, 16] };
    const trained = trainLogisticHead(x, y, 2, config, createRng(6));
    const logistic = { ...trained.config, chosenC: trained.parts.map((p) => p.c), dims: trained.parts.map((p) => p.dims) };
    const refit = await refitApprovedHead(x, y, 2, { headKind: "logistic", seed: 6, logistic });
    expect(refit.parts.map((p) => [p.c, p.dims])).toEqual(trained.parts.map((p) => [p.c, p.dims]));
    refit.parts.forEach((p, i) => expect(Array.from(p.theta)).toEqual(Array.from(trained.parts[i]!.theta)));
    const w = refit.weights.layers[0]!;
    const t = trained.weights.layers[0]!;
    w.weight.forEach((v, i) => expect(v).toBeCloseTo(t.weight[i]!, 6));
    w.bias.forEach((v, i) => expect(v).toBeCloseTo(t.bias[i]!, 6));
    const a = bootstrapLogProbs(trained, x, 3, createRng(2));
    const b = bootstrapLogProbs(refit, x, 3, createRng(2));
    b.data.forEach((v, i) => expect(v).toBeCloseTo(a.data[i]!, 5));
  });

  it("cross-validates again when the model predates the recorded choices", async () => {
    const { x, y } = problem(160, 12, 3);
    const config = { cGrid: [0.01, 0.1, 1, 3], defaultC: 10, cvFolds: 4, minorityClasses: [1] };
    const trained = trainLogisticHead(x, y, 2, config, createRng(5));
    const refit = await refitApprovedHead(x, y, 2, { headKind: "logistic", seed: 5, logistic: config });
    expect(refit.cvScores.length).toBe(config.cGrid.length);
    expect(refit.c).toBe(trained.c);
  });
});

describe("logisticBootstrapLogProbs: LOGISTIC_BOOTSTRAP selects the implementation", () => {
  it("runs the stacked bootstrap by default and the reference one with LOGISTIC_BOOTSTRAP=reference, under the same seed", async () => {
    const { x, y } = problem(120, 8, 7);
    const model = trainLogisticHead(x, y, 2, { cvFolds: 0, defaultC: 10 }, createRng(1));
    const saved = process.env.LOGISTIC_BOOTSTRAP;
    try {
      delete process.env.LOGISTIC_BOOTSTRAP;
      expect(bootstrapMethod()).toBe("stacked");
      const stacked = await logisticBootstrapLogProbs(model, x, 3, createRng(4));
      process.env.LOGISTIC_BOOTSTRAP = "reference";
      expect(bootstrapMethod()).toBe("reference");
      const reference = await logisticBootstrapLogProbs(model, x, 3, createRng(4));
      // The task seeds its generator with one draw of the caller's (forkSeed = rng.int(2^32)).
      const seed = createRng(4).int(0x100000000);
      expect(Array.from(stacked.data)).toEqual(Array.from(bootstrapLogProbs(model, x, 3, createRng(seed)).data));
      expect(Array.from(reference.data)).toEqual(Array.from(bootstrapLogProbsReference(model, x, 3, createRng(seed)).data));
      expect(Array.from(reference.data)).not.toEqual(Array.from(stacked.data));
      process.env.LOGISTIC_BOOTSTRAP = "fast";
      expect(() => bootstrapMethod()).toThrow(/LOGISTIC_BOOTSTRAP must be "stacked" or "reference" \(got "fast"\)/);
    } finally {
      if (saved === undefined) delete process.env.LOGISTIC_BOOTSTRAP;
      else process.env.LOGISTIC_BOOTSTRAP = saved;
    }
  });
});
