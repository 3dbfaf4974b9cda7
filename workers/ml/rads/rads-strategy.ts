/**
 * RADS selection round as a SelectionStrategy (docs/rads.md, steps 1–8; design of the scaled mode in
 * ./README.md). Pipeline: BALD features → pseudo prior → prior-aware class weights → utility → train the
 * select/skip agent → one greedy pass → (top-up if the agent skipped too much) → queue.
 */
import { baldFeatures, type BaldFeatures } from "../bald";
import type { Rng } from "../rng";
import type { SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { assertMcLogProbs, MlInputError, resolveBudget } from "../validate";
import { DEFAULT_AGENT_CONFIG, trainAgent, validateAgentConfig, type AgentConfig, type WalkSource } from "./agent-training";
import { buildCaseTable } from "./environment";
import { greedyPass } from "./greedy-pass";
import { priorAwareWeights, pseudoPrior, resolveTargetMix } from "./prior";
import { rankByUtility, topUpSelection } from "./top-up";
import { caseUtility } from "./utility";

export type RadsMode = "auto" | "exact" | "scaled";

/** Every constant of a RADS round; defaults ({@link DEFAULT_RADS_PARAMS}) are the paper's where it has one. */
export interface RadsParams {
  /** Wanted minority share: a total split evenly over the minority classes, or one share per minority class (paper: 0.9). */
  rho: number | number[];
  /** Redundancy penalty weight λ (paper: 0.01). */
  lambda: number;
  /** Pseudo priors are clamped to [ε, 1−ε] before dividing by them (paper: 1e-3). */
  priorClamp: number;
  /** p̄ is clamped at this before log p̄ (paper: 1e-12). */
  minProb: number;
  /** MI range below which normalised MI is all zeros (paper: 1e-8). */
  utilityMinRange: number;
  /** Agent hyper-parameters (λ is taken from `lambda` above). */
  agent: Omit<AgentConfig, "lambda">;
  /** "exact": the paper's algorithm over the whole pool; "scaled": see README; "auto": exact up to `exactPoolLimit` cases. */
  mode: RadsMode;
  exactPoolLimit: number;
  /** Scaled mode: cases walked per training episode; null → max(20·B, 500). */
  subPoolSize: number | null;
  /** Scaled mode: the walk is restricted to this many highest-utility cases; null → max(100·B, 5000). */
  candidateLimit: number | null;
  /** Scaled mode: gradient steps per episode (replaces "one per environment step"). */
  scaledUpdatesPerEpisode: number;
  /** Budget larger than the pool: "strict" throws `budget-exceeds-pool`, "clamp" selects the whole pool. */
  budgetOverflow: "strict" | "clamp";
}

/** Options as accepted by {@link radsStrategy}: any subset, the agent's too. */
export type RadsOptions = Partial<Omit<RadsParams, "agent">> & { agent?: Partial<Omit<AgentConfig, "lambda">> };

const { lambda: _paperLambda, ...PAPER_AGENT } = DEFAULT_AGENT_CONFIG;

export const DEFAULT_RADS_PARAMS: RadsParams = {
  rho: 0.9,
  lambda: _paperLambda,
  priorClamp: 1e-3,
  minProb: 1e-12,
  utilityMinRange: 1e-8,
  agent: PAPER_AGENT,
  mode: "auto",
  exactPoolLimit: 2000,
  subPoolSize: null,
  candidateLimit: null,
  scaledUpdatesPerEpisode: 10,
  budgetOverflow: "strict",
};

/** Merges options over the defaults. */
export function resolveRadsParams(options: RadsOptions = {}): RadsParams {
  const { agent, ...rest } = options;
  // An explicit `undefined` means "not given", so it must not overwrite a default.
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return { ...DEFAULT_RADS_PARAMS, ...defined(rest), agent: { ...DEFAULT_RADS_PARAMS.agent, ...defined(agent ?? {}) } };
}

/** Throws `invalid-argument` for any parameter outside its meaningful range (ρ is checked against the classes per round). */
export function validateRadsParams(params: RadsParams): void {
  const bad = (name: string, v: unknown, why: string): never => {
    throw new MlInputError("invalid-argument", `RADS ${name} ${why}, got ${String(v)}`);
  };
  validateAgentConfig({ ...params.agent, lambda: params.lambda });
  if (!(params.priorClamp > 0 && params.priorClamp < 0.5)) bad("priorClamp", params.priorClamp, "must be in (0, 0.5)");
  if (!(params.minProb > 0 && params.minProb < 1)) bad("minProb", params.minProb, "must be in (0, 1)");
  if (!(params.utilityMinRange >= 0 && Number.isFinite(params.utilityMinRange))) bad("utilityMinRange", params.utilityMinRange, "must be finite and >= 0");
  if (!["auto", "exact", "scaled"].includes(params.mode)) bad("mode", params.mode, "must be auto, exact or scaled");
  if (!(Number.isInteger(params.exactPoolLimit) && params.exactPoolLimit >= 0)) bad("exactPoolLimit", params.exactPoolLimit, "must be an integer >= 0");
  if (params.subPoolSize !== null && !(Number.isInteger(params.subPoolSize) && params.subPoolSize >= 1)) bad("subPoolSize", params.subPoolSize, "must be null or an integer >= 1");
  if (params.candidateLimit !== null && !(Number.isInteger(params.candidateLimit) && params.candidateLimit >= 1)) bad("candidateLimit", params.candidateLimit, "must be null or an integer >= 1");
  if (!(Number.isInteger(params.scaledUpdatesPerEpisode) && params.scaledUpdatesPerEpisode >= 0)) bad("scaledUpdatesPerEpisode", params.scaledUpdatesPerEpisode, "must be an integer >= 0");
  if (params.budgetOverflow !== "strict" && params.budgetOverflow !== "clamp") bad("budgetOverflow", params.budgetOverflow, "must be strict or clamp");
}

/**
 * Each call returns a window of `size` consecutive entries of `from` (the candidates in the pool's fixed
 * order) starting at a uniformly random offset and wrapping around the end. Why a window and not a random
 * subset: a window has the same density of good cases as the full walk the greedy pass will make, so the
 * policy learnt on it (e.g. "how picky to be with k selections left") transfers; a random subset of size S
 * out of M candidates would be M/S times sparser. Random offsets still let every part of the pool be seen.
 */
function windowSampler(from: Int32Array, size: number, rng: Rng): WalkSource {
  const out = new Int32Array(size);
  return () => {
    const start = rng.int(from.length);
    for (let j = 0; j < size; j++) out[j] = from[(start + j) % from.length]!;
    return out;
  };
}

/**
 * One RADS selection round.
 * @param input poolSize N, budget B, mc [N, K, C] log-probs (required), minorityClasses, rng.
 * @returns selected [min(B, N)] pool indices in queue order; features per selected case (bald, entropy,
 *   expectedEntropy, utility, classWeight, pseudoLabel, byPolicy = 1 if the agent chose it, 0 if topped up);
 *   stats (mode, prior, rho, lambda, budget, k, episodes, returnCurve, bestMovingAverage, toppedUp, ...).
 * @throws MlInputError for a missing model, C < 2, K < 2, NaN log-probs, budget > pool (strict), unknown minority class.
 */
export function selectWithRads(input: SelectionInput, options: RadsOptions = {}): SelectionResult {
  const params = resolveRadsParams(options);
  const { mc } = input;
  if (mc === null) {
    throw new MlInputError("invalid-argument", "RADS needs MC-dropout predictions of a trained model (mc is null); use a cold-start strategy");
  }
  if (mc.c === 1) throw new MlInputError("single-class", "RADS: the model predicts a single class, so there is nothing to choose between");
  assertMcLogProbs(mc, input.poolSize);
  validateRadsParams(params);
  const budget = resolveBudget(input.budget, input.poolSize, params.budgetOverflow);

  const bald = baldFeatures(mc, { minProb: params.minProb });
  const c = mc.c;
  const mix = resolveTargetMix(c, input.minorityClasses, params.rho);
  const prior = pseudoPrior(bald.pseudoLabel, c);
  const weights = priorAwareWeights(prior, input.minorityClasses, mix, params.priorClamp);
  const utility = caseUtility(bald.mutualInformation, bald.pseudoLabel, weights, params.utilityMinRange);
  const n = input.poolSize;
  const mode: "exact" | "scaled" = params.mode === "auto" ? (n <= params.exactPoolLimit ? "exact" : "scaled") : params.mode;

  const baseStats = {
    mode,
    prior: Array.from(prior),
    rho: Array.from(mix),
    minorityClasses: [...input.minorityClasses],
    classWeights: Array.from(weights),
    lambda: params.lambda,
    budget,
    k: mc.k,
    poolSize: n,
  };
  if (budget === 0) {
    return { selected: new Int32Array(0), features: featureColumns(new Int32Array(0), bald, utility, weights, 0), stats: { ...baseStats, episodes: 0, returnCurve: [], toppedUp: 0 } };
  }

  const table = buildCaseTable(c, bald.meanLogProb, bald.entropy, bald.mutualInformation, utility);
  const ranked = rankByUtility(utility);
  const trainRng = input.rng.fork();
  const walkRng = input.rng.fork();
  let finalWalk: Int32Array;
  let walk: WalkSource;
  let agentConfig: AgentConfig = { ...params.agent, lambda: params.lambda };
  let scaledStats: Record<string, unknown> = {};
  if (mode === "exact") {
    finalWalk = new Int32Array(n);
    for (let i = 0; i < n; i++) finalWalk[i] = i;
    walk = () => finalWalk;
  } else {
    const candidateLimit = params.candidateLimit ?? Math.max(100 * budget, 5000);
    const subPoolSize = params.subPoolSize ?? Math.max(20 * budget, 500);
    if (candidateLimit < budget) throw new MlInputError("invalid-argument", `candidateLimit ${candidateLimit} is below the budget ${budget}`);
    // Candidate pre-filter: the agent is only ever rewarded by utility (minus a penalty of at most λ), so cases
    // far down the utility ranking are ones it would not prefer; dropping them bounds the walk's length.
    finalWalk = ranked.slice(0, Math.min(n, candidateLimit)).sort();
    const size = Math.min(subPoolSize, finalWalk.length);
    walk = windowSampler(finalWalk, size, walkRng);
    // An explicit agent.maxUpdatesPerEpisode (null = the paper's step per env step) wins over the scaled cap.
    const explicitCap = options.agent?.maxUpdatesPerEpisode;
    agentConfig = { ...agentConfig, maxUpdatesPerEpisode: explicitCap !== undefined ? explicitCap : params.scaledUpdatesPerEpisode };
    scaledStats = { candidates: finalWalk.length, subPoolSize: size, updatesPerEpisode: agentConfig.maxUpdatesPerEpisode };
  }

  const trained = trainAgent(table, budget, walk, agentConfig, trainRng);
  const byPolicy = greedyPass(trained.net, table, finalWalk, budget);
  // The agent may learn to skip so much that the greedy pass ends the walk with fewer than B picks; the queue
  // must still hold B cases, so the rest are the highest-utility unpicked cases — counted in stats.toppedUp.
  const { selected, toppedUp, policyKept } = topUpSelection(byPolicy, ranked, budget);
  return {
    selected,
    features: featureColumns(selected, bald, utility, weights, policyKept),
    stats: {
      ...baseStats,
      ...scaledStats,
      episodes: agentConfig.episodes,
      returnCurve: Array.from(trained.returns),
      bestMovingAverage: trained.bestMovingAverage,
      bestEpisode: trained.bestEpisode,
      gradientSteps: trained.gradientSteps,
      envSteps: trained.envSteps,
      toppedUp,
    },
  };
}

function featureColumns(
  chosen: Int32Array, bald: BaldFeatures, utility: Float64Array, weights: Float64Array, fromPolicy: number,
): Record<string, Float64Array> {
  const pick = (f: (i: number) => number): Float64Array => Float64Array.from(chosen, (i) => f(i));
  return {
    bald: pick((i) => bald.mutualInformation[i]!),
    entropy: pick((i) => bald.entropy[i]!),
    expectedEntropy: pick((i) => bald.expectedEntropy[i]!),
    utility: pick((i) => utility[i]!),
    classWeight: pick((i) => weights[bald.pseudoLabel[i]!]!),
    pseudoLabel: pick((i) => bald.pseudoLabel[i]!),
    byPolicy: Float64Array.from(chosen, (_, r) => (r < fromPolicy ? 1 : 0)),
  };
}

/**
 * RADS as a {@link SelectionStrategy}.
 * @param options any subset of {@link RadsParams}; the rest default to the paper's values.
 */
export function radsStrategy(options: RadsOptions = {}): SelectionStrategy {
  // Checked now so that a misconfigured project fails when the strategy is built, not mid-round.
  validateRadsParams(resolveRadsParams(options));
  return {
    name: "rads",
    needsModel: true,
    select: (input) => selectWithRads(input, options),
  };
}
