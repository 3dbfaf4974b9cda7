import { describe, expect, it } from "vitest";
import { calibration } from "../metrics";
import { createRng } from "../rng";
import type { Matrix } from "../types";
import { MlInputError } from "../validate";
import { minimizeLbfgs } from "./lbfgs";
import { baldFeatures } from "../bald";
import { bootstrapLogProbs, bootstrapLogProbsReference, bootstrapResamples, cvChoose, fitBootstrapMember, logisticCalibratedProba, defaultLogisticConfig, logisticObjective, logisticProba, sampleWeights, stratifiedFolds, trainLogisticHead } from "./logistic";

/** Two Gaussian blobs per class centre in d dims. */
function blobs(n: number[], d: number, sep: number, seed: number): { x: Matrix; y: Int32Array } {
  const rng = createRng(seed);
  const total = n.reduce((a, b) => a + b, 0);
  const data = new Float32Array(total * d);
  const y = new Int32Array(total);
  let r = 0;
  n.forEach((count, c) => {
    for (let i = 0; i < count; i++, r++) {
      y[r] = c;
      for (let j = 0; j < d; j++) data[r * d + j] = rng.normal() + (j === c ? sep : 0);
    }
  });
  return { x: { data, rows: total, cols: d }, y };
}

describe("sampleWeights", () => {
  it("gives sklearn's balanced weights n / (classes present · n_c)", () => {
    const s = sampleWeights(Int32Array.from([0, 0, 0, 1]), 3, "balanced");
    expect(Array.from(s)).toEqual([4 / 6, 4 / 6, 4 / 6, 2]);
    expect(Array.from(sampleWeights(Int32Array.from([0, 1]), 2, "none"))).toEqual([1, 1]);
  });
});

describe("logisticObjective", () => {
  it("equals c · Σ s_i ln C at θ = 0 (uniform softmax), with the hand-computed gradient", () => {
    const x: Matrix = { data: Float32Array.from([1, 2, -1, 0]), rows: 2, cols: 2 };
    const y = Int32Array.from([0, 1]);
    const s = Float64Array.from([1, 3]);
    const grad = new Float64Array(2 * 3);
    const f = logisticObjective(new Float64Array(6), grad, x, y, s, 2, 0.5);
    expect(f).toBeCloseTo(0.5 * 4 * Math.LN2, 12);
    // dW_c = c Σ s_i (p_ic − 1[y_i=c]) x_i with p = ½: class 0: 0.5·(−½·[1,2] + 3·½·[−1,0]) = [−1, −0.5].
    expect(Array.from(grad).map((v) => Number(v.toFixed(12)))).toEqual([-1, -0.5, 1, 0.5, 0.5, -0.5]);
  });

  it("has the gradient of its finite differences", () => {
    const { x, y } = blobs([6, 3, 2], 4, 1, 7);
    const s = sampleWeights(y, 3, "balanced");
    const rng = createRng(1);
    const theta = Float64Array.from({ length: 3 * 5 }, () => 0.3 * rng.normal());
    const grad = new Float64Array(theta.length);
    logisticObjective(theta, grad, x, y, s, 3, 2);
    const h = 1e-6;
    const tmp = new Float64Array(theta.length);
    for (let j = 0; j < theta.length; j++) {
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[j]! += h;
      minus[j]! -= h;
      const fd = (logisticObjective(plus, tmp, x, y, s, 3, 2) - logisticObjective(minus, tmp, x, y, s, 3, 2)) / (2 * h);
      expect(grad[j]!).toBeCloseTo(fd, 5);
    }
  });
});

describe("minimizeLbfgs", () => {
  it("finds the minimum of an ill-conditioned quadratic and of Rosenbrock's function", () => {
    const q = minimizeLbfgs((x, g) => {
      g[0] = 2 * (x[0]! - 3);
      g[1] = 200 * (x[1]! + 1);
      return (x[0]! - 3) ** 2 + 100 * (x[1]! + 1) ** 2;
    }, new Float64Array(2));
    expect(q.converged).toBe(true);
    expect(q.x[0]).toBeCloseTo(3, 5);
    expect(q.x[1]).toBeCloseTo(-1, 5);
    const r = minimizeLbfgs((x, g) => {
      const a = x[0]!, b = x[1]!;
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    }, Float64Array.from([-1.2, 1]), { gradientTolerance: 1e-8, relativeTolerance: 0 });
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
  });
});

describe("trainLogisticHead", () => {
  it("separates a linearly separable problem perfectly", () => {
    const { x, y } = blobs([40, 10, 10], 5, 8, 3);
    const m = trainLogisticHead(x, y, 3, {}, createRng(1));
    const p = logisticProba(m, x);
    for (let i = 0; i < y.length; i++) {
      let best = 0;
      for (let c = 1; c < 3; c++) if (p[i * 3 + c]! > p[i * 3 + best]!) best = c;
      expect(best).toBe(y[i]);
    }
    expect(m.weights.hidden).toEqual([]);
    expect(m.cvScores.length).toBe(defaultLogisticConfig.cGrid.length);
  });

  it("gives calibrated probabilities when the data come from a logistic model (unweighted)", () => {
    // y ~ Bernoulli(σ(2 x₀ − 0.5)); the fitted head's confidence should match its accuracy.
    const rng = createRng(21);
    const n = 4000, d = 3;
    const data = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) data[i * d + j] = rng.normal();
      y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * data[i * d]! - 0.5))) ? 1 : 0;
    }
    const x = { data, rows: n, cols: d };
    const m = trainLogisticHead(x, y, 2, { classWeight: "none", cvFolds: 0, defaultC: 100 }, createRng(1));
    const p = logisticProba(m, x);
    const conf = new Float64Array(n);
    const correct = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const p1 = p[i * 2 + 1]!;
      conf[i] = Math.max(p1, 1 - p1);
      correct[i] = (p1 > 0.5 ? 1 : 0) === y[i] ? 1 : 0;
    }
    expect(calibration(conf, correct, 10).ece).toBeLessThan(0.03);
    // And the weights recover the generating ones: w₁ − w₀ ≈ (2, 0, 0), b₁ − b₀ ≈ −0.5.
    const w = m.weights.layers[0]!.weight;
    expect(w[3]! - w[0]!).toBeCloseTo(2, 0);
    expect(Math.abs(w[4]! - w[1]!)).toBeLessThan(0.2);
  });

  it("balanced weights make a rare class predicted where plain weights miss it", () => {
    const { x, y } = blobs([200, 6], 4, 1.5, 8);
    const count = (kind: "balanced" | "none") => {
      const m = trainLogisticHead(x, y, 2, { classWeight: kind, cvFolds: 0, defaultC: 1 }, createRng(1));
      const p = logisticProba(m, x);
      let k = 0;
      for (let i = 0; i < y.length; i++) if (p[i * 2 + 1]! > 0.5) k++;
      return k;
    };
    expect(count("balanced")).toBeGreaterThan(count("none"));
  });

  it("is deterministic under a seed", () => {
    const { x, y } = blobs([30, 6, 5], 6, 1, 5);
    const a = trainLogisticHead(x, y, 3, {}, createRng(7));
    const b = trainLogisticHead(x, y, 3, {}, createRng(7));
    expect(a.c).toBe(b.c);
    expect(Array.from(a.weights.layers[0]!.weight)).toEqual(Array.from(b.weights.layers[0]!.weight));
  });

  it("rejects a single-class labelled set and non-finite inputs", () => {
    const x: Matrix = { data: Float32Array.from([1, 2]), rows: 2, cols: 1 };
    expect(() => trainLogisticHead(x, Int32Array.from([0, 0]), 2, {}, createRng(1))).toThrow(MlInputError);
    const bad: Matrix = { data: Float32Array.from([1, NaN]), rows: 2, cols: 1 };
    expect(() => trainLogisticHead(bad, Int32Array.from([0, 1]), 2, {}, createRng(1))).toThrow(/not finite/);
  });
});

describe("cvChoose", () => {
  it("falls back to defaultC when a class has fewer than 2 cases", () => {
    const { x, y } = blobs([10, 1], 2, 3, 1);
    expect(cvChoose(x, y, 2, { ...defaultLogisticConfig, cGrid: [1, 10] }, createRng(1))).toEqual({ c: defaultLogisticConfig.defaultC, dims: 2, cvScores: [] });
  });

  it("scores every grid value by out-of-fold minority AUPRC and picks the best (ties to the smaller c)", () => {
    const { x, y } = blobs([30, 6, 6], 5, 3, 4);
    const r = cvChoose(x, y, 3, { ...defaultLogisticConfig, cGrid: [0.01, 1, 100] }, createRng(3));
    expect(r.cvScores.map((s) => s.c)).toEqual([0.01, 1, 100]);
    expect(r.dims).toBe(5);
    for (const s of r.cvScores) {
      expect(s.score).toBeGreaterThan(0.8);
      expect(s.score).toBeLessThanOrEqual(1);
    }
    const best = Math.max(...r.cvScores.map((s) => s.score));
    expect(r.c).toBe(r.cvScores.find((s) => s.score >= best - 1e-12)!.c);
  });

  it("stratifies folds: every fold gets its share of each class", () => {
    const y = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1]);
    const f = stratifiedFolds(y, 2, 3, createRng(1));
    for (let k = 0; k < 3; k++) {
      expect(Array.from(y).filter((v, i) => v === 1 && f[i] === k)).toHaveLength(1);
      expect(Array.from(y).filter((v, i) => v === 0 && f[i] === k)).toHaveLength(2);
    }
  });
});

describe("bootstrapLogProbs", () => {
  it("returns [N, K, C] log-probabilities that vary between members and repeat under a seed", () => {
    const { x, y } = blobs([20, 5, 4], 4, 1.5, 9);
    const m = trainLogisticHead(x, y, 3, { cvFolds: 0 }, createRng(1));
    const mc = bootstrapLogProbs(m, x, 4, createRng(5));
    expect([mc.n, mc.k, mc.c]).toEqual([29, 4, 3]);
    for (let i = 0; i < mc.n * mc.k; i++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += Math.exp(mc.data[i * 3 + c]!);
      expect(s).toBeCloseTo(1, 4);
    }
    let spread = 0;
    for (let i = 0; i < mc.n; i++) spread += Math.abs(mc.data[(i * 4 + 0) * 3 + 1]! - mc.data[(i * 4 + 1) * 3 + 1]!);
    expect(spread).toBeGreaterThan(0.01);
    expect(Array.from(bootstrapLogProbs(m, x, 4, createRng(5)).data)).toEqual(Array.from(mc.data));
  });
});

describe("logisticObjective, two classes (the fused path)", () => {
  it("has the gradient of its finite differences and the value of the formula", () => {
    const { x, y } = blobs([9, 4], 5, 1, 21);
    const s = sampleWeights(y, 2, "balanced");
    const rng = createRng(2);
    const theta = Float64Array.from({ length: 2 * 6 }, () => 0.4 * rng.normal());
    const grad = new Float64Array(theta.length);
    const f = logisticObjective(theta, grad, x, y, s, 2, 3);
    // f = c Σ s_i (lse(z_i) − z_{i,y_i}) + ½‖W‖², written out here.
    let want = 0;
    for (let i = 0; i < x.rows; i++) {
      const z = [0, 1].map((c) => {
        let v = theta[10 + c]!;
        for (let j = 0; j < 5; j++) v += theta[c * 5 + j]! * x.data[i * 5 + j]!;
        return v;
      });
      want += 3 * s[i]! * (Math.log(Math.exp(z[0]!) + Math.exp(z[1]!)) - z[y[i]!]!);
    }
    for (let j = 0; j < 10; j++) want += 0.5 * theta[j]! ** 2;
    expect(f).toBeCloseTo(want, 10);
    const h = 1e-6;
    const tmp = new Float64Array(theta.length);
    for (let j = 0; j < theta.length; j++) {
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[j]! += h;
      minus[j]! -= h;
      const fd = (logisticObjective(plus, tmp, x, y, s, 2, 3) - logisticObjective(minus, tmp, x, y, s, 2, 3)) / (2 * h);
      expect(grad[j]!).toBeCloseTo(fd, 5);
    }
  });
});

describe("bootstrapLogProbs against its reference (members fitted over the drawn rows, scored one at a time)", () => {
  /**
   * Tolerance: both paths draw the same resamples and minimise the same strictly convex objective
   * (the distinct rows weighted by multiplicity are the drawn rows summed in another order) from the
   * same warm start to the same L-BFGS stopping rule, so the members differ by the solver's tolerance
   * and float rounding; the stacked float32 product changes a logit by ~d·2⁻²⁴. 1e-4 on a probability
   * (and on BALD) is far above both and far below the spread between members (> 1e-2 here).
   */
  const TOLERANCE = 1e-4;
  const cases: [string, number[], number, Partial<import("./logistic").LogisticConfig>][] = [
    ["two classes, 20-d", [80, 15], 20, { cvFolds: 0, defaultC: 10 }],
    ["three classes, 6-d", [40, 10, 8], 6, { cvFolds: 0, defaultC: 3 }],
    ["two classes, averaged prefixes", [60, 12], 16, { cvFolds: 0, defaultC: 10, prefixEnsemble: [4, 16] }],
    ["two classes, unweighted", [60, 12], 8, { cvFolds: 0, defaultC: 1, classWeight: "none" }],
  ];
  it.each(cases)("%s: same probabilities and BALD within 1e-4", (_name, sizes, d, config) => {
    const { x, y } = blobs(sizes, d, 1.2, 41 + d);
    const pool = blobs(sizes.map((n) => 3 * n), d, 1.2, 43 + d).x;
    const m = trainLogisticHead(x, y, sizes.length, config, createRng(1));
    const a = bootstrapLogProbsReference(m, pool, 6, createRng(8));
    const b = bootstrapLogProbs(m, pool, 6, createRng(8));
    expect([b.n, b.k, b.c]).toEqual([a.n, a.k, a.c]);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(Math.exp(a.data[i]!) - Math.exp(b.data[i]!)));
    expect(diff).toBeLessThan(TOLERANCE);
    const ba = baldFeatures(a).mutualInformation;
    const bb = baldFeatures(b).mutualInformation;
    let baldDiff = 0;
    for (let i = 0; i < ba.length; i++) baldDiff = Math.max(baldDiff, Math.abs(ba[i]! - bb[i]!));
    expect(baldDiff).toBeLessThan(TOLERANCE);
    // The members do differ from each other by far more than the tolerance: the comparison is not vacuous.
    let spread = 0;
    for (let i = 0; i < b.n; i++) spread = Math.max(spread, Math.abs(Math.exp(b.data[(i * b.k) * b.c]!) - Math.exp(b.data[(i * b.k + 1) * b.c]!)));
    expect(spread).toBeGreaterThan(100 * TOLERANCE);
  });

  it("fits each member on the distinct rows weighted by multiplicity: the objective of the drawn rows", () => {
    const { x, y } = blobs([30, 7], 5, 1, 5);
    const m = trainLogisticHead(x, y, 2, { cvFolds: 0, defaultC: 10 }, createRng(1));
    const [pick] = bootstrapResamples(m, 1, createRng(4));
    const member = fitBootstrapMember(m, pick!);
    // The drawn rows, repeats included, with sampleWeights over them: the member's θ is (near) their optimum.
    const px: Matrix = { data: new Float32Array(pick!.length * 5), rows: pick!.length, cols: 5 };
    pick!.forEach((r, i) => px.data.set(x.data.subarray(r * 5, r * 5 + 5), i * 5));
    const py = Int32Array.from(pick!, (r) => y[r]!);
    const grad = new Float64Array(12);
    logisticObjective(member[0]!.theta, grad, px, py, sampleWeights(py, 2, "balanced"), 2, 10);
    expect(Math.max(...Array.from(grad, Math.abs))).toBeLessThan(1e-4);
    // And the resamples are the reference's: stratified, n_c draws per class from that class.
    expect(pick!.length).toBe(37);
    expect(Array.from(pick!.subarray(0, 30)).every((r) => y[r] === 0)).toBe(true);
    expect(Array.from(pick!.subarray(30)).every((r) => y[r] === 1)).toBe(true);
  });
});

describe("logisticCalibratedProba", () => {
  /** Σ_i p_i1 over the rows of a two-class probability matrix: the expected minority count. */
  const minorityCount = (p: Float32Array): number => {
    let t = 0;
    for (let i = 0; i < p.length / 2; i++) t += p[i * 2 + 1]!;
    return t;
  };

  it("counts the minority of a pool whose prior differs from the (balanced, enriched) labelled set", () => {
    // Labelled: 60 rest + 30 minority (33 %); pool: 900 rest + 100 minority (10 %); same class-conditionals.
    const lab = blobs([60, 30], 3, 3, 12);
    const pool = blobs([900, 100], 3, 3, 13);
    const m = trainLogisticHead(lab.x, lab.y, 2, { cvFolds: 0, defaultC: 1 }, createRng(1));
    const raw = minorityCount(logisticProba(m, pool.x));
    const cal = minorityCount(logisticCalibratedProba(m, pool.x, { adaptPrior: true }));
    // Measured: raw Σp ≈ 128 (the balanced weights inflate the minority), calibrated ≈ 98.
    expect(raw).toBeGreaterThan(115);
    expect(Math.abs(cal - 100)).toBeLessThan(8);
    const p = logisticCalibratedProba(m, pool.x, { adaptPrior: true });
    for (let i = 0; i < pool.y.length; i++) expect(p[i * 2]! + p[i * 2 + 1]!).toBeCloseTo(1, 5);
  });

  it("without prior adaptation undoes the class weighting: a random labelled sample's minority count comes back", () => {
    // Labelled: a random-like sample with the pool's 10 % prior; the balanced head over-counts, the corrected one does not.
    const lab = blobs([90, 10], 3, 1.5, 22);
    const pool = blobs([900, 100], 3, 1.5, 23);
    const m = trainLogisticHead(lab.x, lab.y, 2, { cvFolds: 0, defaultC: 10 }, createRng(1));
    const raw = minorityCount(logisticProba(m, pool.x));
    const cal = minorityCount(logisticCalibratedProba(m, pool.x));
    // Measured: raw ≈ 145, corrected ≈ 85 (the correction is approximate: it shrinks a little too far here).
    expect(Math.abs(cal - 100)).toBeLessThan(Math.abs(raw - 100) / 2);
    expect(Math.abs(cal - 100)).toBeLessThan(20);
  });
});

describe("leading-column choice (prefixDims)", () => {
  it("cross-validates prefixes beside c and returns a full-width head with zero weights past the chosen prefix", () => {
    // Signal in columns 0-1 only; columns 2-19 are noise.
    const rng = createRng(31);
    const n = 80, d = 20;
    const data = new Float32Array(n * d);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 4 === 0 ? 1 : 0;
      for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + (j < 2 && y[i] ? 2 : 0);
    }
    const x = { data, rows: n, cols: d };
    const m = trainLogisticHead(x, y, 2, { prefixDims: [2, 20], cGrid: [1, 10] }, createRng(2));
    expect(m.cvScores.map((s) => [s.dims, s.c])).toEqual([[2, 1], [2, 10], [20, 1], [20, 10]]);
    expect(m.weights.layers[0]!.inDim).toBe(20);
    const w = m.weights.layers[0]!.weight;
    for (let c = 0; c < 2; c++) for (let j = m.dims; j < d; j++) expect(w[c * d + j]).toBe(0);
    // The bootstrap members use the same prefix: the ensemble ignores the noise columns too.
    const noiseless = Float32Array.from(data);
    for (let i = 0; i < n; i++) for (let j = 2; j < d; j++) noiseless[i * d + j] = 0;
    expect(m.dims).toBe(2);
    const a = bootstrapLogProbs(m, x, 2, createRng(3));
    const b = bootstrapLogProbs(m, { data: noiseless, rows: n, cols: d }, 2, createRng(3));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe("averaged heads (prefixEnsemble)", () => {
  it("is the mean of the heads fitted on each prefix, and its bootstrap refits every part", () => {
    const { x, y } = blobs([30, 8, 6], 5, 1.5, 17);
    const cfg = { cvFolds: 0, defaultC: 3 };
    const avg = trainLogisticHead(x, y, 3, { ...cfg, prefixEnsemble: [5, 2] }, createRng(1));
    const h2 = trainLogisticHead(x, y, 3, { ...cfg, prefixDims: [2] }, createRng(1));
    const h5 = trainLogisticHead(x, y, 3, { ...cfg, prefixDims: [5] }, createRng(1));
    expect(avg.parts.map((p) => p.dims)).toEqual([2, 5]);
    const wa = avg.weights.layers[0]!.weight, w2 = h2.weights.layers[0]!.weight, w5 = h5.weights.layers[0]!.weight;
    for (let i = 0; i < wa.length; i++) expect(wa[i]!).toBeCloseTo((w2[i]! + w5[i]!) / 2, 5);
    const ba = avg.weights.layers[0]!.bias, b2 = h2.weights.layers[0]!.bias, b5 = h5.weights.layers[0]!.bias;
    for (let c = 0; c < 3; c++) expect(ba[c]!).toBeCloseTo((b2[c]! + b5[c]!) / 2, 5);
    const mc = bootstrapLogProbs(avg, x, 3, createRng(4));
    expect([mc.n, mc.k, mc.c]).toEqual([44, 3, 3]);
    expect(() => trainLogisticHead(x, y, 3, { prefixDims: [2], prefixEnsemble: [2, 5] }, createRng(1))).toThrow(/exclude each other/);
  });
});
