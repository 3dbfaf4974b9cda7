/**
 * The classification head trained on top of frozen embeddings: an MLP (ReLU hidden layers, inverted
 * dropout after each hidden activation, softmax output) trained with Adam on shuffled mini-batches,
 * early-stopped on a stratified validation split. Also its dropout-off and MC-dropout inference and a
 * JSON form for the model registry.
 *
 * Losses (per row with true class y, predicted p = softmax(z); a batch loss is the mean over its rows):
 * - cross-entropy:           ℓ = −log p_y
 * - weighted-cross-entropy:  ℓ = −w_y log p_y with class-balanced weights (Cui et al., 2019, "effective
 *                            number of samples"): E_c = (1 − β^{n_c}) / (1 − β), w_c ∝ 1 / E_c = (1 − β) /
 *                            (1 − β^{n_c}), n_c = training-split count, normalised so Σ_c w_c over the classes
 *                            present equals their number (absent classes get 0; they never occur in a batch).
 *                            β = 0 gives plain cross-entropy; β → 1 approaches inverse class frequency.
 * - focal:                   ℓ = −(1 − p_y)^γ log p_y (Lin et al., 2017); γ = 0 is cross-entropy.
 * Weight decay is decoupled (AdamW): w ← w − lr·λ·w, on weights only, and is not part of the loss.
 */
import {
  adamStepWasm,
  addRowVector,
  gatherRows,
  gemmNN,
  gemmNT,
  gemmTN,
  logSoftmaxRows,
  releaseResidentBuffers,
  reluInPlace,
  residentBuffers,
  softmaxRows,
  sumRows,
} from "./linalg";
import { permutation, type Rng } from "./rng";
import type { HeadConfig, HeadWeights, LossKind, Matrix, McLogProbs, TrainReport } from "./types";
import {
  assertAtLeastTwoClasses,
  assertFiniteMatrix,
  assertInRange,
  assertInteger,
  assertLabels,
  assertLength,
  assertMcPasses,
  MlInputError,
} from "./validate";

/**
 * Defaults for `trainHead`. One hidden layer of 64 keeps a 100k × 384 epoch to about a second in V8;
 * dropout 0.2 gives MC dropout enough spread for BALD without crippling the fit.
 */
export const defaultHeadConfig: Readonly<HeadConfig> = Object.freeze({
  hidden: Object.freeze([64]) as unknown as number[],
  dropout: 0.2,
  loss: "cross-entropy" as LossKind,
  focalGamma: 2,
  classBalanceBeta: 0.999,
  learningRate: 1e-3,
  batchSize: 64,
  maxEpochs: 50,
  patience: 5,
  validationFraction: 0.15,
  weightDecay: 1e-4,
});

/** Loss settings shared by training and `headLossAndGradients`. */
export interface LossOptions {
  loss: LossKind;
  /** γ for loss = "focal" (default 2). */
  focalGamma?: number;
  /** Per-class multipliers [C] applied to each row's loss (weighted cross-entropy); null/absent = all 1. */
  classWeights?: Float64Array | null;
}

/** Gradient of the mean batch loss for one layer, shaped like the layer: weight [out, in], bias [out]. */
export interface LayerGradient {
  weight: Float32Array;
  bias: Float32Array;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPS = 1e-8;
/** Rows per inference chunk: big enough to amortise the kernel set-up, small enough to stay in cache. */
const INFER_CHUNK = 256;

/**
 * Class-balanced weights [C] from training counts [C]: w_c = (1 − β)/(1 − β^{n_c}) rescaled so the weights
 * of present classes sum to their number; classes with n_c = 0 get 0. β in [0, 1).
 */
export function classBalancedWeights(counts: ArrayLike<number>, beta: number): Float64Array {
  assertInRange(beta, 0, 1, "classBalanceBeta", true);
  const c = counts.length;
  const w = new Float64Array(c);
  let sum = 0;
  let present = 0;
  for (let j = 0; j < c; j++) {
    const n = counts[j]!;
    if (n <= 0) continue;
    // β^n underflows harmlessly to 0 for large n; (1 − β)/(1 − 0) is then the floor weight.
    w[j] = beta === 0 ? 1 : (1 - beta) / (1 - Math.pow(beta, n));
    sum += w[j]!;
    present++;
  }
  for (let j = 0; j < c; j++) w[j] = (w[j]! * present) / sum;
  return w;
}

/**
 * Fresh weights for a head inputDim → hidden… → numClasses with He-normal init (std √(2/fan_in)), which
 * keeps ReLU activations' variance roughly constant through depth; biases start at 0.
 */
export function initHead(inputDim: number, hidden: readonly number[], numClasses: number, dropout: number, rng: Rng): HeadWeights {
  assertInteger(inputDim, 1, "inputDim");
  assertInteger(numClasses, 2, "numClasses");
  hidden.forEach((h, i) => assertInteger(h, 1, `hidden[${i}]`));
  assertInRange(dropout, 0, 1, "dropout", true);
  const dims = [inputDim, ...hidden, numClasses];
  const layers: HeadWeights["layers"] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l]!;
    const outDim = dims[l + 1]!;
    const weight = new Float32Array(outDim * inDim);
    const std = Math.sqrt(2 / inDim);
    for (let i = 0; i < weight.length; i++) weight[i] = rng.normal() * std;
    layers.push({ weight, bias: new Float32Array(outDim), inDim, outDim });
  }
  return { inputDim, numClasses, hidden: [...hidden], dropout, layers };
}

/** Reusable per-batch buffers, sized once for the largest batch so the training loop never allocates. */
interface Workspace {
  cap: number;
  /** Pre-activations per layer [cap, out_l]. */
  z: Float32Array[];
  /** Post-ReLU, post-dropout activations per hidden layer [cap, out_l]. */
  a: Float32Array[];
  /** Inverted-dropout multipliers per hidden layer [cap, out_l]: 0 or 1/(1−p). */
  mask: Float32Array[];
  /** Loss gradient w.r.t. each layer's pre-activation [cap, out_l]. */
  dz: Float32Array[];
  /** Gradient w.r.t. a hidden activation before masking [cap, maxIn]. */
  da: Float32Array;
  /** Output log-probabilities [cap, C]. */
  logp: Float32Array;
  grads: LayerGradient[];
}

/** Allocates a Float32Array of the given length (on the JS heap, or as a wasm-resident buffer). */
type Alloc = (length: number) => Float32Array;
const heapAlloc: Alloc = (length) => new Float32Array(length);

function createWorkspace(weights: HeadWeights, cap: number, alloc: Alloc = heapAlloc): Workspace {
  let maxIn = 1;
  for (const layer of weights.layers) maxIn = Math.max(maxIn, layer.inDim);
  const hiddenCount = weights.layers.length - 1;
  return {
    cap,
    z: weights.layers.map((l) => alloc(cap * l.outDim)),
    a: weights.layers.slice(0, hiddenCount).map((l) => alloc(cap * l.outDim)),
    mask: weights.layers.slice(0, hiddenCount).map((l) => alloc(cap * l.outDim)),
    dz: weights.layers.map((l) => alloc(cap * l.outDim)),
    da: alloc(cap * maxIn),
    logp: alloc(cap * weights.numClasses),
    grads: weights.layers.map((l) => ({ weight: alloc(l.weight.length), bias: alloc(l.outDim) })),
  };
}

/**
 * Forward pass of layers `from`… for `bs` rows. Layer `from` reads `input` at `inputOffset`; later layers read
 * the previous hidden activation. With `dropoutRng` null every mask is 1 (inference / dropout off).
 * Leaves logits in ws.z[last] and log-probabilities in ws.logp.
 */
function forward(
  weights: HeadWeights,
  ws: Workspace,
  input: Float32Array,
  inputOffset: number,
  bs: number,
  from: number,
  dropoutRng: Rng | null,
): void {
  const last = weights.layers.length - 1;
  const p = weights.dropout;
  const keepScale = 1 / (1 - p);
  for (let l = from; l <= last; l++) {
    const layer = weights.layers[l]!;
    const src = l === from ? input : ws.a[l - 1]!;
    const srcOff = l === from ? inputOffset : 0;
    const z = ws.z[l]!;
    gemmNT(bs, layer.outDim, layer.inDim, src, srcOff, layer.weight, z);
    addRowVector(z, bs, layer.outDim, layer.bias);
    if (l === last) break;
    const a = ws.a[l]!;
    const mask = ws.mask[l]!;
    const len = bs * layer.outDim;
    if (dropoutRng === null || p === 0) {
      for (let i = 0; i < len; i++) {
        mask[i] = 1;
        const v = z[i]!;
        a[i] = v > 0 ? v : 0;
      }
    } else {
      // Inverted dropout: survivors are scaled by 1/(1−p) so dropout-off inference needs no rescaling.
      for (let i = 0; i < len; i++) {
        const m = dropoutRng.next() < p ? 0 : keepScale;
        mask[i] = m;
        const v = z[i]!;
        a[i] = v > 0 ? v * m : 0;
      }
    }
  }
  logSoftmaxRows(ws.z[last]!, bs, weights.numClasses, ws.logp);
}

/**
 * Sum over `bs` rows of the per-row loss from ws.logp; when `withGrad`, writes d(mean loss)/d(logits) into
 * ws.dz[last] (the 1/bs of the mean is folded in here).
 */
function lossFromLogProbs(
  ws: Workspace,
  numClasses: number,
  labels: Int32Array,
  bs: number,
  opts: LossOptions,
  withGrad: boolean,
): number {
  const c = numClasses;
  const logp = ws.logp;
  const dz = ws.dz[ws.dz.length - 1]!;
  const cw = opts.classWeights ?? null;
  const focal = opts.loss === "focal";
  const gamma = opts.focalGamma ?? 2;
  const invBs = 1 / bs;
  let total = 0;
  for (let i = 0; i < bs; i++) {
    const yi = labels[i]!;
    const o = i * c;
    const lp = logp[o + yi]!;
    const w = cw === null ? 1 : cw[yi]!;
    // g is dℓ/dz_c divided by (p_c − δ_cy); it is −1·(−1) = 1 for cross-entropy.
    let g: number;
    if (focal && gamma !== 0) {
      const pt = Math.exp(lp);
      // 1 − p_y via expm1 keeps precision when p_y is close to 1, where focal loss lives.
      const u = -Math.expm1(lp);
      const uPow = Math.pow(u, gamma);
      total += -w * uPow * lp;
      // dℓ/dz_c = (γ u^{γ−1} p_y log p_y − u^γ)(δ_cy − p_c); as u → 0 both terms vanish.
      g = u > 0 ? -(gamma * Math.pow(u, gamma - 1) * pt * lp - uPow) : 0;
    } else {
      total += -w * lp;
      g = 1;
    }
    if (withGrad) {
      const scale = g * w * invBs;
      for (let j = 0; j < c; j++) {
        const pj = Math.exp(logp[o + j]!);
        dz[o + j] = scale * (pj - (j === yi ? 1 : 0));
      }
    }
  }
  return total;
}

/** Backward pass after `forward(from = 0)` and `lossFromLogProbs(withGrad)`: fills ws.grads for every layer. */
function backward(weights: HeadWeights, ws: Workspace, input: Float32Array, inputOffset: number, bs: number): void {
  for (let l = weights.layers.length - 1; l >= 0; l--) {
    const layer = weights.layers[l]!;
    const dz = ws.dz[l]!;
    const grad = ws.grads[l]!;
    const src = l === 0 ? input : ws.a[l - 1]!;
    const srcOff = l === 0 ? inputOffset : 0;
    // dW[out, in] = dz[bs, out]ᵀ · input[bs, in].
    gemmTN(layer.outDim, layer.inDim, bs, dz, src, srcOff, grad.weight);
    sumRows(dz, bs, layer.outDim, grad.bias);
    if (l === 0) break;
    // da[bs, in] = dz[bs, out] · W[out, in].
    gemmNN(bs, layer.inDim, layer.outDim, dz, layer.weight, ws.da);
    const prevZ = ws.z[l - 1]!;
    const prevMask = ws.mask[l - 1]!;
    const prevDz = ws.dz[l - 1]!;
    const len = bs * layer.inDim;
    for (let i = 0; i < len; i++) prevDz[i] = prevZ[i]! > 0 ? ws.da[i]! * prevMask[i]! : 0;
  }
}

function assertHeadMatchesInput(weights: HeadWeights, x: Matrix, fn: string): void {
  assertFiniteMatrix(x, `${fn}: x`);
  if (x.cols !== weights.inputDim) {
    throw new MlInputError("dimension-mismatch", `${fn}: x has ${x.cols} columns but the head expects ${weights.inputDim}`);
  }
}

/**
 * Mean batch loss and its gradients w.r.t. every layer's weight [out, in] and bias [out] for rows x[N, D]
 * with labels y[N]. `dropoutRng` null turns dropout off; pass a freshly seeded Rng to get the same masks on
 * every call (the finite-difference test does). Weight decay is not included (it is decoupled).
 */
export function headLossAndGradients(
  weights: HeadWeights,
  x: Matrix,
  y: Int32Array,
  opts: LossOptions,
  dropoutRng: Rng | null,
): { loss: number; gradients: LayerGradient[] } {
  assertHeadMatchesInput(weights, x, "headLossAndGradients");
  assertLength(y.length, x.rows, "headLossAndGradients: labels vs x rows");
  assertLabels(y, weights.numClasses);
  if (x.rows === 0) throw new MlInputError("empty-input", "headLossAndGradients: no rows");
  const ws = createWorkspace(weights, x.rows);
  forward(weights, ws, x.data, 0, x.rows, 0, dropoutRng);
  const loss = lossFromLogProbs(ws, weights.numClasses, y, x.rows, opts, true) / x.rows;
  backward(weights, ws, x.data, 0, x.rows);
  return { loss, gradients: ws.grads };
}

function resolveConfig(config: Partial<HeadConfig>): HeadConfig {
  // Explicit `undefined` fields (legal in a Partial) fall back to the default instead of erasing it.
  const defined = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as Partial<HeadConfig>;
  const c: HeadConfig = { ...defaultHeadConfig, ...defined, hidden: [...(defined.hidden ?? defaultHeadConfig.hidden)] };
  c.hidden.forEach((h, i) => assertInteger(h, 1, `hidden[${i}]`));
  assertInRange(c.dropout, 0, 1, "dropout", true);
  if (c.loss !== "cross-entropy" && c.loss !== "weighted-cross-entropy" && c.loss !== "focal") {
    throw new MlInputError("invalid-argument", `unknown loss "${String(c.loss)}"`);
  }
  assertInRange(c.focalGamma, 0, 100, "focalGamma");
  assertInRange(c.classBalanceBeta, 0, 1, "classBalanceBeta", true);
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) {
    throw new MlInputError("invalid-argument", `learningRate must be a positive number, got ${c.learningRate}`);
  }
  assertInteger(c.batchSize, 1, "batchSize");
  assertInteger(c.maxEpochs, 1, "maxEpochs");
  assertInteger(c.patience, 1, "patience");
  assertInRange(c.validationFraction, 0, 1, "validationFraction", true);
  assertInRange(c.weightDecay, 0, Infinity, "weightDecay", true);
  return c;
}

/**
 * Stratified hold-out: per class, shuffle its rows and send round(fraction·n_c) to validation, but never the
 * last row of a class, so every class seen in the data is also trained on.
 */
function stratifiedSplit(y: Int32Array, numClasses: number, fraction: number, rng: Rng): { train: Int32Array; val: Int32Array } {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < y.length; i++) byClass[y[i]!]!.push(i);
  const train: number[] = [];
  const val: number[] = [];
  for (const rows of byClass) {
    const order = permutation(rows.length, rng);
    const nVal = Math.min(Math.round(fraction * rows.length), Math.max(0, rows.length - 1));
    for (let r = 0; r < rows.length; r++) (r < nVal ? val : train).push(rows[order[r]!]!);
  }
  return { train: Int32Array.from(train), val: Int32Array.from(val) };
}

function cloneWeights(w: HeadWeights): HeadWeights {
  return {
    inputDim: w.inputDim,
    numClasses: w.numClasses,
    hidden: [...w.hidden],
    dropout: w.dropout,
    layers: w.layers.map((l) => ({ weight: l.weight.slice(), bias: l.bias.slice(), inDim: l.inDim, outDim: l.outDim })),
  };
}

/** Mean loss over `rows` of x with dropout off (validation loss). */
function meanLoss(weights: HeadWeights, ws: Workspace, x: Matrix, y: Int32Array, rows: Int32Array, opts: LossOptions, xb: Float32Array, yb: Int32Array): number {
  let total = 0;
  for (let s = 0; s < rows.length; s += ws.cap) {
    const bs = Math.min(ws.cap, rows.length - s);
    gatherRows(x.data, x.cols, rows, s, bs, xb);
    for (let r = 0; r < bs; r++) yb[r] = y[rows[s + r]!]!;
    forward(weights, ws, xb, 0, bs, 0, null);
    total += lossFromLogProbs(ws, weights.numClasses, yb, bs, opts, false);
  }
  return total / rows.length;
}

/**
 * Trains a head on x[N, D] with labels y[N] in 0..numClasses-1. Missing config fields come from
 * `defaultHeadConfig`. Returns the weights of the epoch with the lowest validation loss (the last epoch when
 * the validation split is empty, e.g. one row per class) and per-epoch losses; `bestEpoch` and `epochsRun`
 * count from 1, so trainLoss[bestEpoch − 1] is the kept epoch. Train loss is the dropout-on batch mean.
 * @throws MlInputError on shape mismatch, non-finite x, labels out of range, a single class, or a bad config.
 */
export function trainHead(
  x: Matrix,
  y: Int32Array,
  numClasses: number,
  config: Partial<HeadConfig>,
  rng: Rng,
): { weights: HeadWeights; report: TrainReport } {
  const cfg = resolveConfig(config);
  assertInteger(numClasses, 2, "numClasses");
  assertFiniteMatrix(x, "trainHead: x");
  assertLength(y.length, x.rows, "trainHead: labels vs x rows");
  assertLabels(y, numClasses);
  assertAtLeastTwoClasses(y);
  if (x.cols < 1) throw new MlInputError("dimension-mismatch", "trainHead: x has no columns");

  const { train, val } = stratifiedSplit(y, numClasses, cfg.validationFraction, rng);
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < train.length; i++) counts[y[train[i]!]!]!++;
  const lossOpts: LossOptions = {
    loss: cfg.loss,
    focalGamma: cfg.focalGamma,
    classWeights: cfg.loss === "weighted-cross-entropy" ? classBalancedWeights(counts, cfg.classBalanceBeta) : null,
  };

  const init = initHead(x.cols, cfg.hidden, numClasses, cfg.dropout, rng);
  const cap = Math.max(Math.min(cfg.batchSize, train.length), 1);
  // Everything the inner loop touches (weights, Adam state, batch, activations, gradients) is one set of buffers.
  // With the wasm kernels that set lives inside wasm memory, so no product copies its operands and Adam updates
  // in place; otherwise it is on the heap. Building it once on the heap also records the sizes for the wasm set.
  const sizes: number[] = [];
  let bufs = trainingBuffers(init, cap, x.cols, (n) => {
    sizes.push(n);
    return new Float32Array(n);
  });
  const resident = residentBuffers(sizes);
  if (resident !== null) {
    let next = 0;
    bufs = trainingBuffers(init, cap, x.cols, () => resident[next++]!);
  }
  try {
    return trainLoop(x, y, numClasses, cfg, rng, train, val, lossOpts, bufs);
  } finally {
    if (resident !== null) releaseResidentBuffers();
  }
}

interface TrainingBuffers {
  weights: HeadWeights;
  ws: Workspace;
  xb: Float32Array;
  m: LayerGradient[];
  v: LayerGradient[];
}

/** The training run's buffers from `alloc`, with `init`'s values copied into the weights. */
function trainingBuffers(init: HeadWeights, cap: number, cols: number, alloc: Alloc): TrainingBuffers {
  const weights: HeadWeights = {
    inputDim: init.inputDim,
    numClasses: init.numClasses,
    hidden: [...init.hidden],
    dropout: init.dropout,
    layers: init.layers.map((l) => {
      const weight = alloc(l.weight.length);
      weight.set(l.weight);
      const bias = alloc(l.outDim);
      bias.set(l.bias);
      return { weight, bias, inDim: l.inDim, outDim: l.outDim };
    }),
  };
  const ws = createWorkspace(weights, cap, alloc);
  const xb = alloc(cap * cols);
  const m = weights.layers.map((l) => ({ weight: alloc(l.weight.length), bias: alloc(l.outDim) }));
  const v = weights.layers.map((l) => ({ weight: alloc(l.weight.length), bias: alloc(l.outDim) }));
  return { weights, ws, xb, m, v };
}

function trainLoop(
  x: Matrix,
  y: Int32Array,
  numClasses: number,
  cfg: HeadConfig,
  rng: Rng,
  train: Int32Array,
  val: Int32Array,
  lossOpts: LossOptions,
  bufs: TrainingBuffers,
): { weights: HeadWeights; report: TrainReport } {
  const { weights, ws, xb, m, v } = bufs;
  const yb = new Int32Array(ws.cap);
  const trainLoss: number[] = [];
  const validationLoss: number[] = [];
  let best = cloneWeights(weights);
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let step = 0;
  const lr = cfg.learningRate;
  const decay = lr * cfg.weightDecay;

  for (let epoch = 1; epoch <= cfg.maxEpochs; epoch++) {
    const order = permutation(train.length, rng);
    for (let i = 0; i < order.length; i++) order[i] = train[order[i]!]!;
    let epochTotal = 0;
    for (let s = 0; s < order.length; s += ws.cap) {
      const bs = Math.min(ws.cap, order.length - s);
      gatherRows(x.data, x.cols, order, s, bs, xb);
      for (let r = 0; r < bs; r++) yb[r] = y[order[s + r]!]!;
      forward(weights, ws, xb, 0, bs, 0, rng);
      epochTotal += lossFromLogProbs(ws, numClasses, yb, bs, lossOpts, true);
      backward(weights, ws, xb, 0, bs);

      step++;
      // Adam with bias correction: m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), Δ = lr·m̂/(√v̂ + ε).
      const bc1 = 1 - Math.pow(ADAM_BETA1, step);
      const bc2 = 1 - Math.pow(ADAM_BETA2, step);
      for (let l = 0; l < weights.layers.length; l++) {
        const layer = weights.layers[l]!;
        const g = ws.grads[l]!;
        adamUpdate(layer.weight, g.weight, m[l]!.weight, v[l]!.weight, lr, bc1, bc2, decay);
        adamUpdate(layer.bias, g.bias, m[l]!.bias, v[l]!.bias, lr, bc1, bc2, 0);
      }
    }
    trainLoss.push(epochTotal / order.length);

    if (val.length === 0) {
      bestEpoch = epoch;
      continue;
    }
    const vl = meanLoss(weights, ws, x, y, val, lossOpts, xb, yb);
    validationLoss.push(vl);
    if (vl < bestLoss) {
      bestLoss = vl;
      bestEpoch = epoch;
      best = cloneWeights(weights);
      sinceBest = 0;
    } else if (++sinceBest >= cfg.patience) {
      break;
    }
  }
  // The training buffers may be wasm memory that the next run reuses: what is returned is always a heap copy.
  if (val.length === 0) best = cloneWeights(weights);
  return { weights: best, report: { epochsRun: trainLoss.length, bestEpoch, trainLoss, validationLoss } };
}

/** One AdamW step over a parameter array; `decay` = lr·weightDecay (0 for biases). */
function adamUpdate(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  lr: number,
  bc1: number,
  bc2: number,
  decay: number,
): void {
  // Resident buffers (see trainHead) are updated by the wasm kernel, in f32; anything else by this loop.
  if (adamStepWasm(w, g, m, v, lr / bc1, 1 / bc2, decay)) return;
  const b1 = ADAM_BETA1;
  const b2 = ADAM_BETA2;
  const stepScale = lr / bc1;
  const invBc2 = 1 / bc2;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i]! - stepScale * mi / (Math.sqrt(vi * invBc2) + ADAM_EPS) - decay * w[i]!;
  }
}

/** Class probabilities [N, C] (row-major) for x[N, D] with dropout off; deterministic. */
export function predictProba(weights: HeadWeights, x: Matrix): Float32Array {
  assertHeadMatchesInput(weights, x, "predictProba");
  const c = weights.numClasses;
  const out = new Float32Array(x.rows * c);
  const ws = createWorkspace(weights, INFER_CHUNK);
  const last = weights.layers.length - 1;
  for (let s = 0; s < x.rows; s += INFER_CHUNK) {
    const bs = Math.min(INFER_CHUNK, x.rows - s);
    forward(weights, ws, x.data, s * x.cols, bs, 0, null);
    softmaxRows(ws.z[last]!, bs, c, out.subarray(s * c, (s + bs) * c));
  }
  return out;
}

/**
 * MC-dropout log-probabilities [N, K, C] for x[N, D]: K forward passes with dropout ON (same inverted scaling
 * as training), masks drawn from `rng`. No dropout sits before the first hidden layer, so its ReLU output is
 * computed once per chunk and only the masked layers after it are repeated K times — that is what makes
 * K = 10 over 100k cases cheap. A head with no hidden layer has no dropout, so its K passes are identical.
 * @throws MlInputError when K < 2, x does not match the head, or x holds NaN/Inf.
 */
export function mcDropoutLogProbs(weights: HeadWeights, x: Matrix, k: number, rng: Rng): McLogProbs {
  assertMcPasses(k);
  assertHeadMatchesInput(weights, x, "mcDropoutLogProbs");
  const c = weights.numClasses;
  const n = x.rows;
  const out = new Float32Array(n * k * c);
  const ws = createWorkspace(weights, INFER_CHUNK);
  const last = weights.layers.length - 1;
  const p = weights.dropout;
  const keepScale = 1 / (1 - p);
  const first = weights.layers[0]!;
  // Dropout-free first hidden activation of the chunk [bs, h0], shared by the K passes.
  const h0 = last > 0 ? new Float32Array(INFER_CHUNK * first.outDim) : new Float32Array(0);
  for (let s = 0; s < n; s += INFER_CHUNK) {
    const bs = Math.min(INFER_CHUNK, n - s);
    if (last === 0) {
      forward(weights, ws, x.data, s * x.cols, bs, 0, null);
    } else {
      gemmNT(bs, first.outDim, first.inDim, x.data, s * x.cols, first.weight, h0);
      addRowVector(h0, bs, first.outDim, first.bias);
      reluInPlace(h0, bs * first.outDim);
    }
    for (let kk = 0; kk < k; kk++) {
      if (last > 0) {
        const a0 = ws.a[0]!;
        const len = bs * first.outDim;
        if (p === 0) {
          a0.set(h0.subarray(0, len));
        } else {
          for (let i = 0; i < len; i++) a0[i] = rng.next() < p ? 0 : h0[i]! * keepScale;
        }
        if (last === 1) {
          const out1 = weights.layers[1]!;
          gemmNT(bs, out1.outDim, out1.inDim, a0, 0, out1.weight, ws.z[1]!);
          addRowVector(ws.z[1]!, bs, out1.outDim, out1.bias);
          logSoftmaxRows(ws.z[1]!, bs, c, ws.logp);
        } else {
          forward(weights, ws, a0, 0, bs, 1, rng);
        }
      }
      for (let r = 0; r < bs; r++) {
        const dst = ((s + r) * k + kk) * c;
        for (let j = 0; j < c; j++) out[dst + j] = ws.logp[r * c + j]!;
      }
    }
  }
  return { data: out, n, k, c };
}

/** JSON-safe form of `HeadWeights` (typed arrays as number arrays; float32 values survive the round trip exactly). */
export interface SerializedHead {
  format: "mlp-head";
  version: 1;
  inputDim: number;
  numClasses: number;
  hidden: number[];
  dropout: number;
  layers: { inDim: number; outDim: number; weight: number[]; bias: number[] }[];
}

/** HeadWeights → JSON-safe object (see `SerializedHead`). */
export function serializeHead(weights: HeadWeights): SerializedHead {
  return {
    format: "mlp-head",
    version: 1,
    inputDim: weights.inputDim,
    numClasses: weights.numClasses,
    hidden: [...weights.hidden],
    dropout: weights.dropout,
    layers: weights.layers.map((l) => ({ inDim: l.inDim, outDim: l.outDim, weight: Array.from(l.weight), bias: Array.from(l.bias) })),
  };
}

function bad(message: string): never {
  throw new MlInputError("invalid-serialized-head", `deserializeHead: ${message}`);
}

function finiteArray(value: unknown, length: number, what: string): Float32Array {
  if (!Array.isArray(value)) bad(`${what} must be an array`);
  if (value.length !== length) bad(`${what} has ${value.length} values, expected ${length}`);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v: unknown = value[i];
    if (typeof v !== "number" || !Number.isFinite(v)) bad(`${what}[${i}] is not a finite number`);
    out[i] = v;
  }
  return out;
}

function positiveInt(value: unknown, what: string, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) bad(`${what} must be an integer >= ${min}`);
  return value;
}

/**
 * Parses and checks a `SerializedHead` (e.g. from JSON.parse): format/version, integer sizes, layer dimensions
 * chaining inputDim → hidden… → numClasses, array lengths and finite values.
 * @throws MlInputError with code "invalid-serialized-head" naming the first problem.
 */
export function deserializeHead(json: unknown): HeadWeights {
  if (typeof json !== "object" || json === null) bad("expected an object");
  const o = json as Record<string, unknown>;
  if (o.format !== "mlp-head") bad(`format must be "mlp-head", got ${JSON.stringify(o.format)}`);
  if (o.version !== 1) bad(`unsupported version ${JSON.stringify(o.version)}`);
  const inputDim = positiveInt(o.inputDim, "inputDim");
  const numClasses = positiveInt(o.numClasses, "numClasses", 2);
  if (!Array.isArray(o.hidden)) bad("hidden must be an array");
  const hidden = (o.hidden as unknown[]).map((h, i) => positiveInt(h, `hidden[${i}]`));
  const dropout = o.dropout;
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) bad("dropout must be a number in [0, 1)");
  if (!Array.isArray(o.layers)) bad("layers must be an array");
  const dims = [inputDim, ...hidden, numClasses];
  if (o.layers.length !== dims.length - 1) bad(`expected ${dims.length - 1} layers, got ${o.layers.length}`);
  const layers = (o.layers as unknown[]).map((raw, l) => {
    if (typeof raw !== "object" || raw === null) bad(`layers[${l}] must be an object`);
    const layer = raw as Record<string, unknown>;
    const inDim = positiveInt(layer.inDim, `layers[${l}].inDim`);
    const outDim = positiveInt(layer.outDim, `layers[${l}].outDim`);
    if (inDim !== dims[l] || outDim !== dims[l + 1]) {
      bad(`layers[${l}] is ${inDim}→${outDim} but the architecture needs ${dims[l]}→${dims[l + 1]}`);
    }
    return {
      inDim,
      outDim,
      weight: finiteArray(layer.weight, inDim * outDim, `layers[${l}].weight`),
      bias: finiteArray(layer.bias, outDim, `layers[${l}].bias`),
    };
  });
  return { inputDim, numClasses, hidden, dropout, layers };
}
