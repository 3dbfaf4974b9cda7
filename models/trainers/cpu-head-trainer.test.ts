import { afterAll, describe, expect, it } from "vitest";
import { defaultHeadConfig, trainHead } from "@/workers/ml/mlp-head";
import { createRng } from "@/workers/ml/rng";
import { closeMlThreads } from "@/workers/threads/ml-pool";
import { cpuHeadTrainer } from "./cpu-head-trainer";
import { HeadSettingsError, projectHeadConfig, projectHeadKind } from "./head-config";
import { logisticHeadTrainer } from "./logistic-head-trainer";
import { predictProba } from "@/workers/ml/mlp-head";

afterAll(async () => {
  await closeMlThreads();
});

describe("cpu-mlp-head trainer", () => {
  it("trains on an ML thread and returns exactly the weights of trainHead on this thread under the same seed", async () => {
    const rng = createRng(3);
    const n = 80;
    const d = 5;
    const y = Int32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const data = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = (j === 0 ? y[i]! * 1.5 : 0) + 0.5 * rng.normal();
    const x = { data, rows: n, cols: d };
    const config = projectHeadConfig({ head: { hidden: [8], maxEpochs: 20 } });
    const trained = await cpuHeadTrainer.train({ x, y, numClasses: 2, config, seed: 11 });
    const reference = trainHead(x, y, 2, config, createRng(11));
    expect(trained.weights!.layers.map((l) => Array.from(l.weight))).toEqual(reference.weights.layers.map((l) => Array.from(l.weight)));
    expect(trained.weights!.layers.map((l) => Array.from(l.bias))).toEqual(reference.weights.layers.map((l) => Array.from(l.bias)));
    expect(trained.report.epochsRun).toBe(reference.report.epochsRun);
    // The caller's matrix is still usable (arguments are copied to the thread, not transferred).
    expect(x.data.length).toBe(n * d);
  });
});

describe("projectHeadConfig", () => {
  it("layers the project's settings.head over the defaults and an override over both", () => {
    expect(projectHeadConfig({})).toEqual({ ...defaultHeadConfig, hidden: [...defaultHeadConfig.hidden] });
    const config = projectHeadConfig({ head: { hidden: [16, 8], loss: "focal", extra: 1 } }, { maxEpochs: 7, dropout: undefined });
    expect(config).toMatchObject({ hidden: [16, 8], loss: "focal", maxEpochs: 7, dropout: defaultHeadConfig.dropout, learningRate: defaultHeadConfig.learningRate });
    expect("extra" in config).toBe(false);
  });

  it("names the bad field of settings.head", () => {
    expect(() => projectHeadConfig({ head: { dropout: 2 } })).toThrow(HeadSettingsError);
    expect(() => projectHeadConfig({ head: { dropout: 2 } })).toThrow(/settings\.head\.dropout/);
  });
});

describe("projectHeadKind", () => {
  it("reads settings.head.kind (mlp when absent) and keeps it out of the MLP's config", () => {
    expect(projectHeadKind({})).toBe("mlp");
    expect(projectHeadKind({ head: { hidden: [8] } })).toBe("mlp");
    expect(projectHeadKind({ head: { kind: "logistic" } })).toBe("logistic");
    expect("kind" in projectHeadConfig({ head: { kind: "logistic" } })).toBe(false);
    expect(() => projectHeadKind({ head: { kind: "svm" } })).toThrow(/settings\.head\.kind/);
  });
});

describe("cpu-logistic-head trainer", () => {
  it("fits a linear head that separates a separable problem, exported with no hidden layer", async () => {
    const rng = createRng(5);
    const n = 40;
    const x = { data: new Float32Array(n * 3), rows: n, cols: 3 };
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i < 10 ? 0 : 1;
      x.data[i * 3] = (y[i] === 0 ? 1 : -1) + 0.3 * rng.normal();
      x.data[i * 3 + 1] = rng.normal();
      x.data[i * 3 + 2] = rng.normal();
    }
    const trained = await logisticHeadTrainer.train({ x, y, numClasses: 2, config: {}, logistic: { minorityClasses: [0] }, seed: 2 });
    expect(trained.shape).toMatchObject({ inputDim: 3, hidden: [], numClasses: 2 });
    expect(trained.onnx.length).toBeGreaterThan(0);
    expect(trained.logistic!.chosenC).toHaveLength(1);
    const p = predictProba(trained.weights!, x);
    for (let i = 0; i < n; i++) expect(p[i * 2 + y[i]!]!).toBeGreaterThan(0.5);
  });
});
