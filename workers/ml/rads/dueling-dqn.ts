/**
 * Dueling DQN for the RADS select/skip agent (docs/rads.md, step 7), with hand-written backprop.
 *
 * Architecture (widths are parameters; the paper uses 128 everywhere and 2 actions):
 *   shared    h  = ReLU(W1·s + b1)                      [H]
 *   value     v1 = ReLU(Wv1·h + bv1) [Hv],  V = Wv2·v1 + bv2          [1]
 *   advantage a1 = ReLU(Wa1·h + ba1) [Ha],  A = Wa2·a1 + ba2          [numActions]
 *   Q_a = V + A_a − mean(A)
 *
 * All parameters live in ONE Float64Array so that copying to the target network, snapshotting the
 * best weights and the Adam update are single loops over one buffer.
 */
import type { Rng } from "../rng";
import { MlInputError } from "../validate";

export interface DuelingDqnConfig {
  /** State dimension (C + 3 for RADS). */
  stateDim: number;
  /** Shared layer width (paper: 128). */
  sharedHidden: number;
  /** Hidden width of each head (paper: 128). */
  headHidden: number;
  /** Number of actions (RADS: 2; 0 = skip, 1 = select). */
  numActions: number;
}

/** Offsets of each tensor inside `params`; weights are [out, in] row-major. */
export interface DqnLayout {
  w1: number; b1: number;
  wv1: number; bv1: number; wv2: number; bv2: number;
  wa1: number; ba1: number; wa2: number; ba2: number;
  size: number;
}

/** A dueling DQN: its shape, the parameter layout and the flat parameter vector. */
export interface DuelingDqn {
  config: DuelingDqnConfig;
  layout: DqnLayout;
  /** All weights and biases, float64, length `layout.size`. */
  params: Float64Array;
}

/** Reusable activation buffers for batches of up to `capacity` states (avoids garbage per step). */
export interface DqnWorkspace {
  capacity: number;
  h: Float64Array;
  v1: Float64Array;
  a1: Float64Array;
  v: Float64Array;
  adv: Float64Array;
  q: Float64Array;
  dH: Float64Array;
  dV1: Float64Array;
  dA1: Float64Array;
  dQ: Float64Array;
  dV: Float64Array;
  dAdv: Float64Array;
}

/**
 * Parameter layout of a config.
 * @returns offsets of W1 [H,D], b1 [H], Wv1 [Hv,H], bv1 [Hv], Wv2 [1,Hv], bv2 [1], Wa1 [Ha,H], ba1 [Ha], Wa2 [A,Ha], ba2 [A].
 */
export function dqnLayout(config: DuelingDqnConfig): DqnLayout {
  const { stateDim: d, sharedHidden: h, headHidden: hh, numActions: na } = config;
  let o = 0;
  const take = (n: number): number => {
    const at = o;
    o += n;
    return at;
  };
  const w1 = take(h * d), b1 = take(h);
  const wv1 = take(hh * h), bv1 = take(hh), wv2 = take(hh), bv2 = take(1);
  const wa1 = take(hh * h), ba1 = take(hh), wa2 = take(na * hh), ba2 = take(na);
  return { w1, b1, wv1, bv1, wv2, bv2, wa1, ba1, wa2, ba2, size: o };
}

/**
 * A freshly initialised network. Each layer's weights and biases are drawn from U(−1/√fan_in, 1/√fan_in),
 * the usual default for linear layers, so activations start at a sensible scale whatever the widths.
 * @param config widths; all must be integers >= 1 (numActions >= 2).
 */
export function createDuelingDqn(config: DuelingDqnConfig, rng: Rng): DuelingDqn {
  const { stateDim, sharedHidden, headHidden, numActions } = config;
  for (const [name, v, min] of [
    ["stateDim", stateDim, 1], ["sharedHidden", sharedHidden, 1], ["headHidden", headHidden, 1], ["numActions", numActions, 2],
  ] as const) {
    if (!Number.isInteger(v) || v < min) throw new MlInputError("invalid-argument", `DuelingDqn ${name} must be an integer >= ${min}, got ${v}`);
  }
  const layout = dqnLayout(config);
  const params = new Float64Array(layout.size);
  const fill = (offset: number, count: number, fanIn: number): void => {
    const bound = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < count; i++) params[offset + i] = (2 * rng.next() - 1) * bound;
  };
  fill(layout.w1, sharedHidden * stateDim, stateDim);
  fill(layout.b1, sharedHidden, stateDim);
  fill(layout.wv1, headHidden * sharedHidden, sharedHidden);
  fill(layout.bv1, headHidden, sharedHidden);
  fill(layout.wv2, headHidden, headHidden);
  fill(layout.bv2, 1, headHidden);
  fill(layout.wa1, headHidden * sharedHidden, sharedHidden);
  fill(layout.ba1, headHidden, sharedHidden);
  fill(layout.wa2, numActions * headHidden, headHidden);
  fill(layout.ba2, numActions, headHidden);
  return { config: { ...config }, layout, params };
}

/** A deep copy (used for the target network and the best-weights snapshot). */
export function cloneDqn(net: DuelingDqn): DuelingDqn {
  return { config: { ...net.config }, layout: { ...net.layout }, params: new Float64Array(net.params) };
}

/** Activation buffers for batches of up to `capacity` states. */
export function createDqnWorkspace(config: DuelingDqnConfig, capacity: number): DqnWorkspace {
  const { sharedHidden: h, headHidden: hh, numActions: na } = config;
  return {
    capacity,
    h: new Float64Array(capacity * h),
    v1: new Float64Array(capacity * hh),
    a1: new Float64Array(capacity * hh),
    v: new Float64Array(capacity),
    adv: new Float64Array(capacity * na),
    q: new Float64Array(capacity * na),
    dH: new Float64Array(capacity * h),
    dV1: new Float64Array(capacity * hh),
    dA1: new Float64Array(capacity * hh),
    dQ: new Float64Array(capacity * na),
    dV: new Float64Array(capacity),
    dAdv: new Float64Array(capacity * na),
  };
}

/**
 * out[b, o] = bias[o] + Σ_i W[o, i]·x[b, i] (optionally ReLU), for `batch` rows.
 * Four batch rows share each weight load: this dot product is where almost all training time goes,
 * and register blocking is the one speed-up plain JavaScript offers here (no SIMD).
 */
function linearForward(
  p: Float64Array, wOff: number, bOff: number, x: Float64Array, xOff: number, batch: number,
  inDim: number, outDim: number, out: Float64Array, relu: boolean,
): void {
  let b = 0;
  for (; b + 4 <= batch; b += 4) {
    const x0 = xOff + b * inDim, x1 = x0 + inDim, x2 = x1 + inDim, x3 = x2 + inDim;
    const ob = b * outDim;
    for (let o = 0; o < outDim; o++) {
      const wo = wOff + o * inDim;
      const bias = p[bOff + o]!;
      let s0 = bias, s1 = bias, s2 = bias, s3 = bias;
      for (let i = 0; i < inDim; i++) {
        const w = p[wo + i]!;
        s0 += w * x[x0 + i]!;
        s1 += w * x[x1 + i]!;
        s2 += w * x[x2 + i]!;
        s3 += w * x[x3 + i]!;
      }
      if (relu) {
        s0 = s0 > 0 ? s0 : 0; s1 = s1 > 0 ? s1 : 0; s2 = s2 > 0 ? s2 : 0; s3 = s3 > 0 ? s3 : 0;
      }
      out[ob + o] = s0;
      out[ob + outDim + o] = s1;
      out[ob + 2 * outDim + o] = s2;
      out[ob + 3 * outDim + o] = s3;
    }
  }
  for (; b < batch; b++) {
    const xb = xOff + b * inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = wOff + o * inDim;
      let s0 = p[bOff + o]!;
      for (let i = 0; i < inDim; i++) s0 += p[wo + i]! * x[xb + i]!;
      out[b * outDim + o] = relu && s0 < 0 ? 0 : s0;
    }
  }
}

/**
 * Backward of a linear layer: accumulates dW[o,i] += Σ_b dOut[b,o]·x[b,i] and db[o] += Σ_b dOut[b,o];
 * when `dx` is given, writes (or with `accumulateDx` adds) dx[b,i] = Σ_o dOut[b,o]·W[o,i].
 * Both products are blocked by four (batch rows for dW, output units for dx) for the same reason as the forward.
 */
function linearBackward(
  p: Float64Array, g: Float64Array, wOff: number, bOff: number, x: Float64Array, xOff: number, batch: number,
  inDim: number, outDim: number, dOut: Float64Array, dx: Float64Array | null, accumulateDx = false,
): void {
  for (let o = 0; o < outDim; o++) {
    const wo = wOff + o * inDim;
    let gb = 0;
    let b = 0;
    for (; b + 4 <= batch; b += 4) {
      const d0 = dOut[b * outDim + o]!, d1 = dOut[(b + 1) * outDim + o]!;
      const d2 = dOut[(b + 2) * outDim + o]!, d3 = dOut[(b + 3) * outDim + o]!;
      gb += d0 + d1 + d2 + d3;
      // Rows whose ReLU was off send no gradient; skipping an all-zero block is exact.
      if (d0 === 0 && d1 === 0 && d2 === 0 && d3 === 0) continue;
      const x0 = xOff + b * inDim, x1 = x0 + inDim, x2 = x1 + inDim, x3 = x2 + inDim;
      for (let i = 0; i < inDim; i++) {
        g[wo + i] = g[wo + i]! + d0 * x[x0 + i]! + d1 * x[x1 + i]! + d2 * x[x2 + i]! + d3 * x[x3 + i]!;
      }
    }
    for (; b < batch; b++) {
      const d = dOut[b * outDim + o]!;
      gb += d;
      if (d === 0) continue;
      const xb = xOff + b * inDim;
      for (let i = 0; i < inDim; i++) g[wo + i] = g[wo + i]! + d * x[xb + i]!;
    }
    g[bOff + o] = g[bOff + o]! + gb;
  }
  if (dx === null) return;
  if (!accumulateDx) dx.fill(0, 0, batch * inDim);
  for (let b = 0; b < batch; b++) {
    const dxb = b * inDim;
    const db = b * outDim;
    let o = 0;
    for (; o + 4 <= outDim; o += 4) {
      const d0 = dOut[db + o]!, d1 = dOut[db + o + 1]!, d2 = dOut[db + o + 2]!, d3 = dOut[db + o + 3]!;
      if (d0 === 0 && d1 === 0 && d2 === 0 && d3 === 0) continue;
      const w0 = wOff + o * inDim, w1 = w0 + inDim, w2 = w1 + inDim, w3 = w2 + inDim;
      for (let i = 0; i < inDim; i++) {
        dx[dxb + i] = dx[dxb + i]! + d0 * p[w0 + i]! + d1 * p[w1 + i]! + d2 * p[w2 + i]! + d3 * p[w3 + i]!;
      }
    }
    for (; o < outDim; o++) {
      const d = dOut[db + o]!;
      if (d === 0) continue;
      const wo = wOff + o * inDim;
      for (let i = 0; i < inDim; i++) dx[dxb + i] = dx[dxb + i]! + d * p[wo + i]!;
    }
  }
}

/** Zeroes dX where the ReLU output was 0 (its derivative there is 0). */
function reluBackward(act: Float64Array, d: Float64Array, count: number): void {
  for (let i = 0; i < count; i++) if (act[i]! <= 0) d[i] = 0;
}

function checkBatch(ws: DqnWorkspace, batch: number): void {
  if (batch > ws.capacity) throw new MlInputError("invalid-argument", `DQN batch ${batch} exceeds workspace capacity ${ws.capacity}`);
}

/**
 * Q-values of a batch of states; the result stays in `ws.q` (and V, A, hidden activations in `ws`
 * for a following backward pass).
 * @param states [batch, stateDim] row-major, read from `offset` (in states, not values).
 * @returns ws.q, [batch, numActions] (only the first batch·numActions values are meaningful).
 */
export function dqnForward(net: DuelingDqn, states: Float64Array, batch: number, ws: DqnWorkspace, offset = 0): Float64Array {
  checkBatch(ws, batch);
  const { stateDim: d, sharedHidden: h, headHidden: hh, numActions: na } = net.config;
  const L = net.layout;
  const p = net.params;
  linearForward(p, L.w1, L.b1, states, offset * d, batch, d, h, ws.h, true);
  linearForward(p, L.wv1, L.bv1, ws.h, 0, batch, h, hh, ws.v1, true);
  linearForward(p, L.wv2, L.bv2, ws.v1, 0, batch, hh, 1, ws.v, false);
  linearForward(p, L.wa1, L.ba1, ws.h, 0, batch, h, hh, ws.a1, true);
  linearForward(p, L.wa2, L.ba2, ws.a1, 0, batch, hh, na, ws.adv, false);
  for (let b = 0; b < batch; b++) {
    let mean = 0;
    for (let a = 0; a < na; a++) mean += ws.adv[b * na + a]!;
    mean /= na;
    const v = ws.v[b]!;
    for (let a = 0; a < na; a++) ws.q[b * na + a] = v + ws.adv[b * na + a]! - mean;
  }
  return ws.q;
}

/**
 * MSE loss (1/batch)·Σ_b (Q(s_b, a_b) − y_b)² and its gradient w.r.t. every parameter.
 * @param states [batch, stateDim]; actions [batch]; targets y [batch] (already computed, treated as constants).
 * @param grad output, length `layout.size`; overwritten (not accumulated).
 * @returns the loss.
 */
export function dqnLossAndGradient(
  net: DuelingDqn, states: Float64Array, actions: Int32Array, targets: Float64Array, batch: number,
  grad: Float64Array, ws: DqnWorkspace,
): number {
  const { stateDim: d, sharedHidden: h, headHidden: hh, numActions: na } = net.config;
  const L = net.layout;
  const p = net.params;
  dqnForward(net, states, batch, ws);
  grad.fill(0);
  let loss = 0;
  ws.dQ.fill(0, 0, batch * na);
  for (let b = 0; b < batch; b++) {
    const a = actions[b]!;
    if (!(a >= 0 && a < na)) throw new MlInputError("invalid-argument", `DQN action ${a} at batch row ${b} is not in 0..${na - 1}`);
    const diff = ws.q[b * na + a]! - targets[b]!;
    loss += diff * diff;
    ws.dQ[b * na + a] = (2 * diff) / batch;
  }
  loss /= batch;
  // Q_a = V + A_a − mean(A): dV = Σ_a dQ_a, dA_j = dQ_j − (1/na)·Σ_a dQ_a.
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let a = 0; a < na; a++) s += ws.dQ[b * na + a]!;
    ws.dV[b] = s;
    for (let a = 0; a < na; a++) ws.dAdv[b * na + a] = ws.dQ[b * na + a]! - s / na;
  }
  linearBackward(p, grad, L.wv2, L.bv2, ws.v1, 0, batch, hh, 1, ws.dV, ws.dV1);
  reluBackward(ws.v1, ws.dV1, batch * hh);
  linearBackward(p, grad, L.wa2, L.ba2, ws.a1, 0, batch, hh, na, ws.dAdv, ws.dA1);
  reluBackward(ws.a1, ws.dA1, batch * hh);
  linearBackward(p, grad, L.wv1, L.bv1, ws.h, 0, batch, h, hh, ws.dV1, ws.dH);
  // Both heads read the shared layer, so its gradient is the sum of what each head sends back.
  linearBackward(p, grad, L.wa1, L.ba1, ws.h, 0, batch, h, hh, ws.dA1, ws.dH, true);
  reluBackward(ws.h, ws.dH, batch * h);
  linearBackward(p, grad, L.w1, L.b1, states, 0, batch, d, h, ws.dH, null);
  return loss;
}

/**
 * Greedy action for one state: argmax_a Q(s, a), lowest action on ties. Only the advantage head is
 * evaluated because V and mean(A) add the same amount to every action's Q.
 * @param state [stateDim], read from `offset` (in values).
 */
export function dqnGreedyAction(net: DuelingDqn, state: Float64Array, ws: DqnWorkspace, offset = 0): number {
  const { stateDim: d, sharedHidden: h, headHidden: hh, numActions: na } = net.config;
  const L = net.layout;
  const p = net.params;
  linearForward(p, L.w1, L.b1, state, offset, 1, d, h, ws.h, true);
  linearForward(p, L.wa1, L.ba1, ws.h, 0, 1, h, hh, ws.a1, true);
  linearForward(p, L.wa2, L.ba2, ws.a1, 0, 1, hh, na, ws.adv, false);
  let best = 0;
  for (let a = 1; a < na; a++) if (ws.adv[a]! > ws.adv[best]!) best = a;
  return best;
}

/**
 * Greedy actions for a batch whose shared-layer pre-activations are already known (the greedy pass
 * precomputes W1·s for every case and only shifts it by the selected/B column).
 * @param pre [batch, sharedHidden] pre-activations of the shared layer (ReLU applied here into ws.h).
 * @param out [batch] receives argmax_a A(s, a) (lowest action on ties).
 */
export function dqnGreedyFromShared(net: DuelingDqn, pre: Float64Array, batch: number, ws: DqnWorkspace, out: Int32Array): void {
  const na = net.config.numActions;
  const adv = dqnAdvantagesFromShared(net, pre, batch, ws);
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let a = 1; a < na; a++) if (adv[b * na + a]! > adv[b * na + best]!) best = a;
    out[b] = best;
  }
}

/**
 * Advantages of a batch whose shared-layer pre-activations are already known (the ranked pass scores every
 * shortlisted case at each selection count this way).
 * @param pre [batch, sharedHidden] pre-activations of the shared layer (ReLU applied here into ws.h).
 * @returns ws.adv, [batch, numActions] (only the first batch·numActions values are meaningful).
 */
export function dqnAdvantagesFromShared(net: DuelingDqn, pre: Float64Array, batch: number, ws: DqnWorkspace): Float64Array {
  checkBatch(ws, batch);
  const { sharedHidden: h, headHidden: hh, numActions: na } = net.config;
  const L = net.layout;
  const p = net.params;
  for (let i = 0; i < batch * h; i++) {
    const v = pre[i]!;
    ws.h[i] = v > 0 ? v : 0;
  }
  linearForward(p, L.wa1, L.ba1, ws.h, 0, batch, h, hh, ws.a1, true);
  linearForward(p, L.wa2, L.ba2, ws.a1, 0, batch, hh, na, ws.adv, false);
  return ws.adv;
}
