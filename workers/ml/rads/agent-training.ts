/**
 * Trains the RADS select/skip agent (docs/rads.md, step 7): ε-greedy episodes over the environment,
 * experience replay, a dueling DQN regressed on r + γ·max_a Q_target(s′, a)·(1 − done), a target network
 * synced every few episodes, and the weights with the best moving-average return kept.
 */
import type { Rng } from "../rng";
import { MlInputError } from "../validate";
import { adamStep, createAdam } from "./adam";
import {
  cloneDqn, createDqnWorkspace, createDuelingDqn, dqnForward, dqnGreedyAction, dqnLossAndGradient, type DuelingDqn,
} from "./dueling-dqn";
import { SelectionEnvironment, type RadsCaseTable } from "./environment";
import { createReplayBatch, ReplayBuffer } from "./replay-buffer";

/** Agent hyper-parameters; defaults ({@link DEFAULT_AGENT_CONFIG}) are the paper's. */
export interface AgentConfig {
  episodes: number;
  /** Discount γ. */
  gamma: number;
  /** Adam step size. */
  learningRate: number;
  replayCapacity: number;
  batchSize: number;
  /** Copy the online weights to the target network every this many episodes. */
  targetSyncEvery: number;
  epsilonStart: number;
  /** ε is multiplied by this after every episode ... */
  epsilonDecay: number;
  /** ... but never drops below this. */
  epsilonMin: number;
  /** Episodes in the moving average that picks the weights to keep. */
  movingAverageWindow: number;
  sharedHidden: number;
  headHidden: number;
  /** Redundancy penalty weight λ. */
  lambda: number;
  /**
   * null: one gradient step at every environment step once the buffer holds a minibatch (the paper).
   * A number U: at most U gradient steps per episode, taken at its first U eligible steps — the scaled mode's
   * way to bound training time (replay sampling is uniform, so WHEN in an episode a step is taken matters little).
   */
  maxUpdatesPerEpisode: number | null;
}

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  episodes: 300,
  gamma: 0.95,
  learningRate: 1e-4,
  replayCapacity: 10_000,
  batchSize: 64,
  targetSyncEvery: 10,
  epsilonStart: 1.0,
  epsilonDecay: 0.995,
  epsilonMin: 0.05,
  movingAverageWindow: 10,
  sharedHidden: 128,
  headHidden: 128,
  lambda: 0.01,
  maxUpdatesPerEpisode: null,
};

/** Supplies the walk order (pool indices) of each episode. */
export type WalkSource = (episode: number) => Int32Array;

export interface AgentTrainingResult {
  /** The network with the kept (best moving-average) weights. */
  net: DuelingDqn;
  /** Undiscounted return of every episode, [episodes]. */
  returns: Float64Array;
  /** Best moving-average return seen (over `movingAverageWindow` episodes). */
  bestMovingAverage: number;
  /** Episode (0-based) after which the kept weights were snapshotted. */
  bestEpisode: number;
  gradientSteps: number;
  envSteps: number;
}

/** Throws `invalid-argument` for any hyper-parameter outside its meaningful range. */
export function validateAgentConfig(c: AgentConfig): void {
  const bad = (name: string, v: unknown, why: string): never => {
    throw new MlInputError("invalid-argument", `agent ${name} ${why}, got ${String(v)}`);
  };
  const posInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) bad(name, v, "must be an integer >= 1");
  };
  posInt("episodes", c.episodes);
  posInt("replayCapacity", c.replayCapacity);
  posInt("batchSize", c.batchSize);
  posInt("targetSyncEvery", c.targetSyncEvery);
  posInt("movingAverageWindow", c.movingAverageWindow);
  posInt("sharedHidden", c.sharedHidden);
  posInt("headHidden", c.headHidden);
  if (c.batchSize > c.replayCapacity) bad("batchSize", c.batchSize, `must not exceed replayCapacity ${c.replayCapacity}`);
  if (!(c.gamma >= 0 && c.gamma <= 1)) bad("gamma", c.gamma, "must be in [0, 1]");
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) bad("learningRate", c.learningRate, "must be > 0");
  if (!(c.epsilonStart >= 0 && c.epsilonStart <= 1)) bad("epsilonStart", c.epsilonStart, "must be in [0, 1]");
  if (!(c.epsilonDecay > 0 && c.epsilonDecay <= 1)) bad("epsilonDecay", c.epsilonDecay, "must be in (0, 1]");
  if (!(c.epsilonMin >= 0 && c.epsilonMin <= 1)) bad("epsilonMin", c.epsilonMin, "must be in [0, 1]");
  if (!(c.lambda >= 0 && Number.isFinite(c.lambda))) bad("lambda", c.lambda, "must be finite and >= 0");
  if (c.maxUpdatesPerEpisode !== null && !(Number.isInteger(c.maxUpdatesPerEpisode) && c.maxUpdatesPerEpisode >= 0)) {
    bad("maxUpdatesPerEpisode", c.maxUpdatesPerEpisode, "must be null or an integer >= 0");
  }
}

/**
 * Runs `config.episodes` training episodes.
 * @param table per-case features and utilities; @param budget B >= 1; @param walk walk order of each episode.
 * @param initialParams warm start: parameters (layout of this config's network) the online, target and kept
 *   networks start from instead of a fresh initialisation; the initialisation stream is still drawn, so the other
 *   streams (exploration, replay) are the same with or without a warm start.
 * @returns the kept network, the return curve [episodes] and counters.
 * @throws MlInputError when `initialParams` does not fit the network or is not finite.
 */
export function trainAgent(
  table: RadsCaseTable, budget: number, walk: WalkSource, config: AgentConfig, rng: Rng, initialParams: ArrayLike<number> | null = null,
): AgentTrainingResult {
  validateAgentConfig(config);
  const env = new SelectionEnvironment(table, budget, config.lambda);
  const d = env.stateDim;
  const netConfig = { stateDim: d, sharedHidden: config.sharedHidden, headHidden: config.headHidden, numActions: 2 };
  // Separate streams so that, e.g., changing the episode count leaves the initial weights unchanged.
  const initRng = rng.fork();
  const actRng = rng.fork();
  const replayRng = rng.fork();
  const online = createDuelingDqn(netConfig, initRng);
  if (initialParams !== null) {
    if (initialParams.length !== online.layout.size) {
      throw new MlInputError("dimension-mismatch", `agent warm start has ${initialParams.length} parameters, the network needs ${online.layout.size}`);
    }
    for (let j = 0; j < initialParams.length; j++) {
      const v = initialParams[j]!;
      if (!Number.isFinite(v)) throw new MlInputError("non-finite", `agent warm start parameter ${j} is ${v}`);
      online.params[j] = v;
    }
  }
  const target = cloneDqn(online);
  const best = cloneDqn(online);
  const adam = createAdam(online.layout.size, { learningRate: config.learningRate });
  const grad = new Float64Array(online.layout.size);
  const wsOnline = createDqnWorkspace(netConfig, config.batchSize);
  const wsTarget = createDqnWorkspace(netConfig, config.batchSize);
  const buffer = new ReplayBuffer(config.replayCapacity, d);
  const batch = createReplayBatch(config.batchSize, d);
  const targets = new Float64Array(config.batchSize);
  const state = new Float64Array(d);
  const next = new Float64Array(d);

  const returns = new Float64Array(config.episodes);
  const window = Math.min(config.movingAverageWindow, config.episodes);
  let bestMovingAverage = -Infinity;
  let bestEpisode = -1;
  let epsilon = config.epsilonStart;
  let gradientSteps = 0;
  let envSteps = 0;

  const gradientStep = (): void => {
    buffer.sample(config.batchSize, replayRng, batch);
    const q = dqnForward(target, batch.nextStates, config.batchSize, wsTarget);
    for (let b = 0; b < config.batchSize; b++) {
      let maxQ = -Infinity;
      for (let a = 0; a < 2; a++) if (q[b * 2 + a]! > maxQ) maxQ = q[b * 2 + a]!;
      targets[b] = batch.rewards[b]! + config.gamma * maxQ * (1 - batch.dones[b]!);
    }
    dqnLossAndGradient(online, batch.states, batch.actions, targets, config.batchSize, grad, wsOnline);
    adamStep(adam, online.params, grad);
    gradientSteps += 1;
  };

  for (let episode = 0; episode < config.episodes; episode++) {
    env.reset(walk(episode));
    env.writeState(state);
    let episodeReturn = 0;
    let updatesThisEpisode = 0;
    for (;;) {
      const action = actRng.next() < epsilon ? actRng.int(2) : dqnGreedyAction(online, state, wsOnline);
      const { reward, done } = env.step(action);
      envSteps += 1;
      episodeReturn += reward;
      // s′ of a terminal step is never used (its bootstrap term is multiplied by 0); zeros keep the buffer clean.
      if (done) next.fill(0);
      else env.writeState(next);
      buffer.push(state, 0, action, reward, next, 0, done);
      const mayUpdate = config.maxUpdatesPerEpisode === null || updatesThisEpisode < config.maxUpdatesPerEpisode;
      if (buffer.size >= config.batchSize && mayUpdate) {
        gradientStep();
        updatesThisEpisode += 1;
      }
      if (done) break;
      state.set(next);
    }
    returns[episode] = episodeReturn;
    epsilon = Math.max(config.epsilonMin, epsilon * config.epsilonDecay);
    if ((episode + 1) % config.targetSyncEvery === 0) target.params.set(online.params);

    if (episode + 1 >= window) {
      // Re-summed each time (window is small) so no running-sum rounding creeps into the comparison.
      let windowSum = 0;
      for (let e = episode + 1 - window; e <= episode; e++) windowSum += returns[e]!;
      const movingAverage = windowSum / window;
      if (movingAverage > bestMovingAverage) {
        bestMovingAverage = movingAverage;
        bestEpisode = episode;
        best.params.set(online.params);
      }
    }
  }
  return { net: best, returns, bestMovingAverage, bestEpisode, gradientSteps, envSteps };
}
