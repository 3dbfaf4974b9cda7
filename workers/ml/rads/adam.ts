/**
 * Adam optimiser over one flat float64 parameter vector (the DQN keeps all its weights in one buffer).
 * Constants default to the usual Adam values; the learning rate defaults to the RADS paper's 1e-4.
 */
import { MlInputError } from "../validate";

export interface AdamConfig {
  /** Step size (RADS: 1e-4). */
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const DEFAULT_ADAM: AdamConfig = { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Optimiser state: first and second moment estimates (same length as the parameters) and the step count. */
export interface AdamState {
  config: AdamConfig;
  m: Float64Array;
  v: Float64Array;
  t: number;
}

/** Fresh Adam state for `size` parameters. */
export function createAdam(size: number, config: Partial<AdamConfig> = {}): AdamState {
  const c = { ...DEFAULT_ADAM, ...config };
  if (!(c.learningRate > 0) || !(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1) || !(c.epsilon > 0)) {
    throw new MlInputError("invalid-argument", `Adam: need learningRate > 0, beta1/beta2 in [0,1), epsilon > 0; got ${JSON.stringify(c)}`);
  }
  return { config: c, m: new Float64Array(size), v: new Float64Array(size), t: 0 };
}

/**
 * One bias-corrected Adam update, in place.
 * @param params parameters [P], updated in place; grad [P], the loss gradient at `params`.
 */
export function adamStep(state: AdamState, params: Float64Array, grad: Float64Array): void {
  if (params.length !== state.m.length || grad.length !== state.m.length) {
    throw new MlInputError("dimension-mismatch", `Adam: params ${params.length}, grad ${grad.length}, state ${state.m.length} differ`);
  }
  const { learningRate, beta1, beta2, epsilon } = state.config;
  state.t += 1;
  // Folding both bias corrections into the step size saves two divisions per parameter.
  const stepSize = (learningRate * Math.sqrt(1 - beta2 ** state.t)) / (1 - beta1 ** state.t);
  const epsHat = epsilon * Math.sqrt(1 - beta2 ** state.t);
  const { m, v } = state;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i]! - (stepSize * mi) / (Math.sqrt(vi) + epsHat);
  }
}
