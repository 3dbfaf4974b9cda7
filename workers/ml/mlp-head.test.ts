import { describe, expect, it } from "vitest";
import {
  classBalancedWeights,
  defaultHeadConfig,
  deserializeHead,
  headLossAndGradients,
  initHead,
  mcDropoutLogProbs,
  predictProba,
  serializeHead,
  trainHead,
  type LossOptions,
} from "./mlp-head";
import { createRng, type Rng } from "./rng";
import type { HeadConfig, HeadWeights, Matrix } from "./types";
import { MlInputError } from "./validate";

/** Gaussian blobs: class c centred at 3·e_c in `dim` dimensions, unit noise. */
function blobs(n: number, dim: number, classes: number, rng: Rng): { x: Matrix; y: Int32Array } {
  const data = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let j = 0; j < dim; j++) data[i * dim + j] = rng.normal() + (j === c ? 3 : 0);
  }
  return { x: { data, rows: n, cols: dim }, y };
}

/** A linear head on a 1-d input whose logits for x = 1 are exactly [a, b]. */
function linearHead(a: number, b: number): HeadWeights {
  return {
    inputDim: 1,
    numClasses: 2,
    hidden: [],
    dropout: 0,
    layers: [{ weight: Float32Array.of(a, b), bias: new Float32Array(2), inDim: 1, outDim: 2 }],
  };
}

const one: Matrix = { data: Float32Array.of(1), rows: 1, cols: 1 };

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MlInputError);
    return (e as MlInputError).code;
  }
  return "no error";
}

describe("losses by hand", () => {
  // logits [ln 3, 0] → p = [0.75, 0.25]; true class 1, so p_y = 0.25.
  const head = linearHead(Math.log(3), 0);
  const y = Int32Array.of(1);

  it("cross-entropy = ln 4 with gradient p − onehot", () => {
    const { loss, gradients } = headLossAndGradients(head, one, y, { loss: "cross-entropy" }, null);
    expect(loss).toBeCloseTo(Math.log(4), 6);
    expect(gradients[0]!.weight[0]).toBeCloseTo(0.75, 6);
    expect(gradients[0]!.weight[1]).toBeCloseTo(-0.75, 6);
  });

  it("weighted cross-entropy multiplies by the true class's weight", () => {
    const opts: LossOptions = { loss: "weighted-cross-entropy", classWeights: Float64Array.of(0.5, 1.5) };
    expect(headLossAndGradients(head, one, y, opts, null).loss).toBeCloseTo(1.5 * Math.log(4), 6);
  });

  it("focal loss γ=2 = (1−p_y)² ln 4 with gradient (γu^{γ−1}p ln p − u^γ)(δ − p)", () => {
    const { loss, gradients } = headLossAndGradients(head, one, y, { loss: "focal", focalGamma: 2 }, null);
    expect(loss).toBeCloseTo(0.5625 * Math.log(4), 6);
    // G = 2·0.75·0.25·ln 0.25 − 0.5625 = −1.0823603; dℓ/dz_0 = G·(0 − 0.75), dℓ/dz_1 = G·(1 − 0.25).
    expect(gradients[0]!.weight[0]).toBeCloseTo(0.8117702, 5);
    expect(gradients[0]!.weight[1]).toBeCloseTo(-0.8117702, 5);
  });

  it("focal loss with γ = 0 equals cross-entropy", () => {
    const f = headLossAndGradients(head, one, y, { loss: "focal", focalGamma: 0 }, null);
    expect(f.loss).toBeCloseTo(Math.log(4), 6);
  });

  it("class-balanced weights follow (1−β)/(1−β^n) normalised to sum to C", () => {
    const w = classBalancedWeights([90, 10], 0.9);
    expect(w[0]).toBeCloseTo(0.7888852, 6);
    expect(w[1]).toBeCloseTo(1.2111148, 6);
    expect(Array.from(classBalancedWeights([90, 10], 0))).toEqual([1, 1]);
    // An absent class gets weight 0; the present ones still sum to their count.
    const withAbsent = classBalancedWeights([5, 0, 20], 0.99);
    expect(withAbsent[1]).toBe(0);
    expect(withAbsent[0]! + withAbsent[2]!).toBeCloseTo(2, 10);
    expect(errorCode(() => classBalancedWeights([1, 2], 1))).toBe("invalid-argument");
  });
});

describe("finite-difference gradient check", () => {
  const rng = createRng(7);
  const data = blobs(8, 5, 3, rng);
  const head = initHead(5, [6, 4], 3, 0.3, createRng(11));
  const cases: [string, LossOptions][] = [
    ["cross-entropy", { loss: "cross-entropy" }],
    ["weighted-cross-entropy", { loss: "weighted-cross-entropy", classWeights: Float64Array.of(0.4, 1.7, 0.9) }],
    ["focal", { loss: "focal", focalGamma: 2 }],
    ["focal γ=0.5", { loss: "focal", focalGamma: 0.5 }],
  ];
  it.each(cases)("analytic gradients match central differences for %s (dropout on, fixed masks)", (_, opts) => {
    // A freshly seeded Rng per call draws identical dropout masks, so the loss is a fixed function of the weights.
    const lossAt = (): number => headLossAndGradients(head, data.x, data.y, opts, createRng(99)).loss;
    const { gradients } = headLossAndGradients(head, data.x, data.y, opts, createRng(99));
    let checked = 0;
    for (let l = 0; l < head.layers.length; l++) {
      const layer = head.layers[l]!;
      for (const [params, grad] of [[layer.weight, gradients[l]!.weight], [layer.bias, gradients[l]!.bias]] as const) {
        for (let i = 0; i < params.length; i++) {
          const orig = params[i]!;
          // A small step: 1e-2 already crosses ReLU kinks of this net and breaks the comparison.
          params[i] = orig + 1e-3;
          const hi = params[i]!;
          const lPlus = lossAt();
          params[i] = orig - 1e-3;
          const lo = params[i]!;
          const lMinus = lossAt();
          params[i] = orig;
          // Divide by the float32-rounded step actually taken, not the nominal one.
          const numeric = (lPlus - lMinus) / (hi - lo);
          expect(Math.abs(numeric - grad[i]!)).toBeLessThan(5e-4 + 1e-2 * Math.abs(numeric));
          checked++;
        }
      }
    }
    expect(checked).toBe(5 * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3);
  });
});

describe("trainHead", () => {
  it("learns a separable 3-class problem to high held-out accuracy", () => {
    const rng = createRng(1);
    const train = blobs(600, 8, 3, rng);
    const test = blobs(300, 8, 3, rng);
    const { weights, report } = trainHead(train.x, train.y, 3, { hidden: [16], maxEpochs: 60 }, createRng(2));
    const p = predictProba(weights, test.x);
    let hits = 0;
    for (let i = 0; i < test.x.rows; i++) {
      let best = 0;
      for (let c = 1; c < 3; c++) if (p[i * 3 + c]! > p[i * 3 + best]!) best = c;
      if (best === test.y[i]) hits++;
    }
    expect(hits / test.x.rows).toBeGreaterThan(0.95);
    expect(report.trainLoss[report.trainLoss.length - 1]!).toBeLessThan(report.trainLoss[0]!);
  });

  /** Three blobs with class 2 cut to a ninth; returns the rare class's recall and the accuracy on the training rows. */
  function imbalancedRun(config: Partial<HeadConfig>): { rareRecall: number; accuracy: number } {
    const raw = blobs(900, 6, 3, createRng(3));
    const keep = Array.from(raw.y.keys()).filter((i) => raw.y[i] !== 2 || i % 9 === 2);
    const x = { data: new Float32Array(keep.length * 6), rows: keep.length, cols: 6 };
    keep.forEach((src, r) => x.data.set(raw.x.data.subarray(src * 6, src * 6 + 6), r * 6));
    const y = Int32Array.from(keep, (i) => raw.y[i]!);
    const { weights } = trainHead(x, y, 3, { hidden: [8], ...config }, createRng(4));
    const p = predictProba(weights, x);
    let rareHits = 0, rare = 0, hits = 0;
    for (let i = 0; i < y.length; i++) {
      let best = 0;
      for (let c = 1; c < 3; c++) if (p[i * 3 + c]! > p[i * 3 + best]!) best = c;
      if (best === y[i]) hits++;
      if (y[i] === 2) {
        rare++;
        if (best === 2) rareHits++;
      }
    }
    return { rareRecall: rareHits / rare, accuracy: hits / y.length };
  }

  it("class-balanced weighting lifts the rare class early in training", () => {
    // After a short run plain cross-entropy still mostly ignores the rare class; the weighted loss does not.
    const plain = imbalancedRun({ loss: "cross-entropy", maxEpochs: 40 });
    const weighted = imbalancedRun({ loss: "weighted-cross-entropy", classBalanceBeta: 0.999, maxEpochs: 40 });
    expect(weighted.rareRecall).toBeGreaterThan(0.8);
    expect(weighted.rareRecall).toBeGreaterThan(plain.rareRecall + 0.3);
  });

  it("learns the imbalanced problem with focal loss", () => {
    const focal = imbalancedRun({ loss: "focal", focalGamma: 2, maxEpochs: 200 });
    expect(focal.accuracy).toBeGreaterThan(0.95);
    expect(focal.rareRecall).toBeGreaterThan(0.85);
  });

  it("early-stops on validation loss and keeps the best epoch", () => {
    const rng = createRng(5);
    // Noisy labels: the head overfits, so validation loss turns up and patience ends training early.
    const d = blobs(300, 20, 2, rng);
    for (let i = 0; i < d.y.length; i += 3) d.y[i] = 1 - d.y[i]!;
    const { report } = trainHead(d.x, d.y, 2, { hidden: [64], maxEpochs: 200, patience: 3, learningRate: 1e-2, dropout: 0 }, createRng(6));
    expect(report.epochsRun).toBeLessThan(200);
    expect(report.epochsRun).toBe(report.bestEpoch + 3);
    expect(report.validationLoss).toHaveLength(report.epochsRun);
    expect(Math.min(...report.validationLoss)).toBe(report.validationLoss[report.bestEpoch - 1]);
  });

  it("keeps the last epoch when the validation split is empty", () => {
    const x = { data: Float32Array.of(0, 1), rows: 2, cols: 1 };
    const { report } = trainHead(x, Int32Array.of(0, 1), 2, { maxEpochs: 4 }, createRng(1));
    expect(report.validationLoss).toEqual([]);
    expect(report.bestEpoch).toBe(4);
    expect(report.epochsRun).toBe(4);
  });

  it("is deterministic under a seed and differs across seeds", () => {
    const d = blobs(120, 5, 2, createRng(8));
    const cfg = { hidden: [8], maxEpochs: 5 };
    const a = trainHead(d.x, d.y, 2, cfg, createRng(42));
    const b = trainHead(d.x, d.y, 2, cfg, createRng(42));
    const c = trainHead(d.x, d.y, 2, cfg, createRng(43));
    expect(serializeHead(a.weights)).toEqual(serializeHead(b.weights));
    expect(a.report).toEqual(b.report);
    expect(serializeHead(a.weights)).not.toEqual(serializeHead(c.weights));
  });

  it("fills unspecified (or explicitly undefined) config fields from the defaults", () => {
    const d = blobs(40, 3, 2, createRng(9));
    const { weights } = trainHead(d.x, d.y, 2, { maxEpochs: 1, dropout: undefined }, createRng(1));
    expect(weights.hidden).toEqual(defaultHeadConfig.hidden);
    expect(weights.dropout).toBe(defaultHeadConfig.dropout);
  });

  it("rejects bad inputs with MlInputError codes", () => {
    const d = blobs(20, 3, 2, createRng(9));
    expect(errorCode(() => trainHead(d.x, new Int32Array(20).fill(1), 2, {}, createRng(1)))).toBe("single-class");
    expect(errorCode(() => trainHead(d.x, d.y.subarray(0, 19), 2, {}, createRng(1)))).toBe("dimension-mismatch");
    const withTwo = Int32Array.from(d.y);
    withTwo[3] = 2;
    expect(errorCode(() => trainHead(d.x, withTwo, 2, {}, createRng(1)))).toBe("invalid-label");
    const nan = { ...d.x, data: Float32Array.from(d.x.data) };
    nan.data[2 * 3 + 1] = NaN;
    expect(() => trainHead(nan, d.y, 2, {}, createRng(1))).toThrow(/row 2, column 1/);
    expect(errorCode(() => trainHead(d.x, d.y, 2, { dropout: 1 }, createRng(1)))).toBe("invalid-argument");
    expect(errorCode(() => trainHead(d.x, d.y, 2, { hidden: [0] }, createRng(1)))).toBe("invalid-argument");
    expect(errorCode(() => trainHead(d.x, d.y, 1, {}, createRng(1)))).toBe("invalid-argument");
  });
});

describe("inference", () => {
  const d = blobs(50, 6, 3, createRng(12));
  const head = initHead(6, [32, 16], 3, 0.5, createRng(13));

  it("predictProba is deterministic and rows sum to one", () => {
    const p1 = predictProba(head, d.x);
    const p2 = predictProba(head, d.x);
    expect(p1).toEqual(p2);
    expect(p1).toHaveLength(50 * 3);
    for (let i = 0; i < 50; i++) expect(p1[i * 3]! + p1[i * 3 + 1]! + p1[i * 3 + 2]!).toBeCloseTo(1, 5);
  });

  it("MC dropout returns [N, K, C] log-probabilities whose passes differ", () => {
    const mc = mcDropoutLogProbs(head, d.x, 4, createRng(1));
    expect([mc.n, mc.k, mc.c]).toEqual([50, 4, 3]);
    expect(mc.data).toHaveLength(50 * 4 * 3);
    let differing = 0;
    for (let i = 0; i < 50; i++) {
      for (let k = 0; k < 4; k++) {
        const o = (i * 4 + k) * 3;
        expect(Math.exp(mc.data[o]!) + Math.exp(mc.data[o + 1]!) + Math.exp(mc.data[o + 2]!)).toBeCloseTo(1, 5);
      }
      if (mc.data[i * 12] !== mc.data[i * 12 + 3]) differing++;
    }
    expect(differing).toBeGreaterThan(40);
    expect(mcDropoutLogProbs(head, d.x, 4, createRng(1)).data).toEqual(mc.data);
  });

  it("with dropout 0 every MC pass equals log predictProba", () => {
    const noDrop = { ...head, dropout: 0 };
    const mc = mcDropoutLogProbs(noDrop, d.x, 2, createRng(1));
    const p = predictProba(noDrop, d.x);
    for (let i = 0; i < 50; i++) {
      for (let c = 0; c < 3; c++) {
        expect(mc.data[(i * 2) * 3 + c]).toBeCloseTo(Math.log(p[i * 3 + c]!), 5);
        expect(mc.data[(i * 2 + 1) * 3 + c]).toBe(mc.data[(i * 2) * 3 + c]);
      }
    }
  });

  it("uses inverted-dropout scaling: averaged logit gaps match dropout-off ones", () => {
    // With one hidden layer, log p_1 − log p_0 = z_1 − z_0 is linear in the masked activations, so its mean
    // over many passes equals the dropout-off value only if survivors are scaled by 1/(1−p) as in training.
    const shallow = initHead(6, [64], 3, 0.5, createRng(21));
    const x = { data: d.x.data.subarray(0, 5 * 6), rows: 5, cols: 6 };
    const k = 4000;
    const mc = mcDropoutLogProbs(shallow, x, k, createRng(2));
    const p = predictProba(shallow, x);
    for (let i = 0; i < 5; i++) {
      let mean = 0;
      for (let kk = 0; kk < k; kk++) mean += mc.data[(i * k + kk) * 3 + 1]! - mc.data[(i * k + kk) * 3]!;
      mean /= k;
      const off = Math.log(p[i * 3 + 1]!) - Math.log(p[i * 3]!);
      expect(Math.abs(mean - off)).toBeLessThan(0.05 + 0.05 * Math.abs(off));
    }
  });

  it("rejects K < 2 and mismatched inputs", () => {
    expect(errorCode(() => mcDropoutLogProbs(head, d.x, 1, createRng(1)))).toBe("k-too-small");
    const wrong = { data: new Float32Array(10), rows: 2, cols: 5 };
    expect(errorCode(() => predictProba(head, wrong))).toBe("dimension-mismatch");
    expect(errorCode(() => mcDropoutLogProbs(head, wrong, 3, createRng(1)))).toBe("dimension-mismatch");
  });
});

describe("serialisation", () => {
  const head = initHead(4, [5], 3, 0.25, createRng(3));

  it("round-trips through JSON exactly", () => {
    const json = JSON.parse(JSON.stringify(serializeHead(head))) as unknown;
    const back = deserializeHead(json);
    expect(back.inputDim).toBe(4);
    expect(back.hidden).toEqual([5]);
    expect(back.dropout).toBe(0.25);
    back.layers.forEach((l, i) => {
      expect(l.weight).toEqual(head.layers[i]!.weight);
      expect(l.bias).toEqual(head.layers[i]!.bias);
    });
  });

  it.each([
    ["a non-object", () => 5, /expected an object/],
    ["a wrong format", (s: Record<string, unknown>) => ({ ...s, format: "other" }), /format/],
    ["a wrong version", (s: Record<string, unknown>) => ({ ...s, version: 2 }), /version/],
    ["a missing layer", (s: Record<string, unknown>) => ({ ...s, layers: (s.layers as unknown[]).slice(1) }), /expected 2 layers/],
    ["a short weight array", (s: Record<string, unknown>) => ({ ...s, layers: (s.layers as { weight: number[] }[]).map((l, i) => (i === 0 ? { ...l, weight: l.weight.slice(1) } : l)) }), /layers\[0\].weight has 19 values/],
    ["a non-finite value", (s: Record<string, unknown>) => ({ ...s, layers: (s.layers as { bias: number[] }[]).map((l) => ({ ...l, bias: l.bias.map(() => NaN) })) }), /bias\[0\] is not a finite number/],
    ["a layer chain that does not match", (s: Record<string, unknown>) => ({ ...s, hidden: [6] }), /needs 4→6/],
    ["a bad dropout", (s: Record<string, unknown>) => ({ ...s, dropout: 1 }), /dropout/],
  ])("rejects %s", (_, mutate, message) => {
    const bad = mutate(serializeHead(head) as unknown as Record<string, unknown>);
    expect(errorCode(() => deserializeHead(bad))).toBe("invalid-serialized-head");
    expect(() => deserializeHead(bad)).toThrow(message);
  });
});
