/**
 * The platform's RADS variant (strategy name `rads`; the paper's algorithm stays available as `rads-paper`,
 * ./rads-strategy.ts). Same skeleton — BALD features → prior-aware weights → utility → select/skip agent —
 * with four changes, each addressing a measured weakness (README "Platform variant"):
 *
 * 1. Soft prior and expected weights. π̂_c = mean_i p̄_ic and ew_i = Σ_c p̄_ic·w_c, instead of the argmax
 *    pseudo-label share and the pseudo-label's weight: when the head ranks no case minority first, the paper's
 *    π̂₊ is 0 and every case gets the majority weight; here a case with 30 % minority mass still counts.
 * 2. Ranked final pass (./ranked-pass.ts) instead of keeping the first acceptable cases of a walk. The shortlist is
 *    4·B cases merged round-robin from three experts' rankings (utility, smallest top-2 margin, largest entropy). By
 *    default the pass is **blended** (`agentWeight` β = 0.1): the shortlist is ranked by the normalised utility minus
 *    an embedding redundancy penalty (λ_u = `utilityRedundancy`), and the agent's min-max normalised preference adds
 *    at most β — it re-orders near-ties only, so its random draws cannot cost more than a β-sized swap (measured: the
 *    agent alone moved one seed's final F1 by up to 0.2). `agentWeight: null` lets the agent rank alone. Training
 *    walks are random subsets of the candidates drawn from a content-defined order (utility descending), so a
 *    shuffled pool gives the same selection.
 * 3. Warm start: the agent starts from the previous round's weights (`input.warmStart`) with fewer episodes and
 *    less exploration; the kept weights are returned as `warmStart` for the next round.
 * 4. Embedding-space state features (./embedding-features.ts): distance to the nearest labelled minority case,
 *    to the nearest labelled case, and local density; and redundancy measured in the embedding space (the reward and
 *    the ranked pass charge λ_e·max cos to the cases already chosen), so the queue avoids near-duplicate texts.
 * Utility:
 *      u_i = ((1 − γ) + γ·ew_i / max_c w_c) · Σ_j α_j·term_ij / Σ_j α_j,
 *    terms: norm(MI), norm(H), 1 − top-2 margin, closeness to the minority-vs-rest boundary (1 − |2·Σ_minority p̄ − 1|),
 *    closeness to known minority, Σ_minority p̄_i, expected gradient length, closeness to the argmax decision minority vs
 *    rest, the members' vote on it; α = `utilityMix`, **budget-dependent by default** (`smallBudgetMix`,
 *    {@link DEFAULT_SMALL_BUDGET_MIX}): at B ≤ 20 argmax-decision closeness + entropy, at B > 20 minority-vs-rest
 *    boundary + entropy), γ = `weightStrength` (default 0: measured, letting the class weights scale the utility lowered
 *    F1; the soft prior and weights stay in the state and the stats). Minority weights are floored at the rest's weight
 *    (`minorityWeightFloor`).
 * State per case (W = C + 8, plus selected/B): p̄ (C), H/ln C, MI/ln C, Σ_minority p̄, ew/max w, u/max u,
 * distanceToMinority, distanceToLabelled, density.
 */
import { baldFeatures } from "../bald";
import type { Rng } from "../rng";
import type { McLogProbs, SelectionInput, SelectionResult, SelectionStrategy, StrategyState } from "../types";
import { minorityProbability } from "../strategies/selection-input";
import { topTwoMargin } from "../strategies/uncertainty-ranking";
import { assertMcLogProbs, MlInputError, resolveBudget } from "../validate";
import { DEFAULT_AGENT_CONFIG, trainAgent, validateAgentConfig, type AgentConfig, type WalkSource } from "./agent-training";
import { dqnLayout } from "./dueling-dqn";
import { embeddingStateFeatures } from "./embedding-features";
import { buildWideCaseTable, withCosineRedundancy } from "./environment";
import { expectedClassWeight, priorAwareWeights, pseudoPrior, resolveTargetMix, softPrior } from "./prior";
import { blendedPass, rankedPass, rankedScorePass } from "./ranked-pass";
import { rankByUtility } from "./top-up";
import { minMaxNormalise } from "./utility";

/** Mixing weights α of the utility's terms (see the file comment); any non-negative numbers, not all 0. */
export interface UtilityMix {
  mi: number;
  entropy: number;
  /** 1 − the top-2 margin of p̄ (./../strategies/margin.ts). */
  margin: number;
  /** 1 − |2·Σ_minority p̄ − 1|: closeness to the minority-vs-rest decision boundary (the clinic's binary question). */
  minorityBoundary: number;
  closeness: number;
  minorityMass: number;
  /**
   * Expected gradient length (Settles et al., 2008) of the softmax head's loss if the case were labelled, per unit
   * input norm: g_i = Σ_c p̄_ic·‖p̄_i − e_c‖₂ (the gradient of the cross-entropy of label c w.r.t. the logits is
   * p̄ − e_c), min-max normalised over the pool. With the class-weight factor of the utility it is the expected change
   * of the class-weighted loss.
   */
  gradient: number;
  /**
   * Closeness to the head's own argmax decision between minority and rest: 1 − |max_{c∈M} p̄_c − max_{r∉M} p̄_r|.
   * The reported minority F1 counts a case minority when the argmax is any minority class; with several minority
   * classes that is not Σ_minority p̄ > ½ (p̄ = (0.4, 0.3, 0.3) has minority mass 0.6 but argmax rest).
   */
  decisionMargin: number;
  /**
   * Disagreement of the K members (bootstrap refits / MC passes) on that argmax decision: 1 − |2q − 1| with q the
   * share of members whose own argmax is a minority class (vote entropy of the binary question, query by committee).
   */
  decisionVote: number;
}

export interface RadsPlatformParams {
  rho: number | number[];
  lambda: number;
  priorClamp: number;
  minProb: number;
  utilityMinRange: number;
  utilityMix: UtilityMix;
  /** Agent for a cold round (no usable warm start). */
  agent: Omit<AgentConfig, "lambda">;
  /** Episodes when warm-started (at most `agent.episodes`). */
  warmEpisodes: number;
  /** Starting ε when warm-started (the policy is already reasonable; explore less). */
  warmEpsilonStart: number;
  /** Only the this many highest-utility cases are walked in training; null → max(100·B, 2000). */
  candidateLimit: number | null;
  /** Cases per training episode (a random subset of the candidates); null → max(20·B, 200). */
  subPoolSize: number | null;
  /** Gradient steps per episode (null = one per environment step, as in the paper). */
  updatesPerEpisode: number | null;
  /** The ranked pass considers the top shortlistFactor·B cases by utility; 0 = all candidates. */
  shortlistFactor: number;
  /** Density neighbours and reference-set cap (./embedding-features.ts). */
  densityNeighbours: number;
  densityReferenceLimit: number;
  budgetOverflow: "strict" | "clamp";
  /**
   * "agent": the select/skip agent ranks the shortlist (RADS). "utility": the top-B by utility with no agent —
   * the ablation that tells what the agent adds on top of the utility.
   */
  policy: "agent" | "utility";
  /**
   * Where the ranked pass's shortlist comes from. "utility": the top shortlistFactor·B cases by utility. "experts":
   * a round-robin merge of several rankings (utility, smallest top-2 margin, largest predictive entropy; each
   * case once, in turn) until shortlistFactor·B cases — the agent then chooses among what each expert would pick.
   */
  shortlist: "utility" | "experts";
  /**
   * Redundancy measure of the reward and the ranked pass. "probability": the paper's λ/(1 + d_min) on p̄ with
   * `lambda`. "embedding": λ_e·max(0, max cos) between the case's embedding and the already chosen ones
   * (λ_e = `embeddingLambda`; falls back to "probability" when the round has no embeddings).
   */
  redundancy: "probability" | "embedding";
  embeddingLambda: number;
  /**
   * Never weight a minority class below the rest: w_c = max(w_c, w_rest) for c ∈ M. The soft prior of a
   * class-balanced head overstates the minority (it is trained to predict balanced classes), so when π̂_c > ρ_c the
   * paper's weights w_c = ρ_c/π̂_c turn the utility AGAINST the minority; with the floor such a round's utility is
   * plain uncertainty, and a head that under-predicts the minority still has it boosted.
   */
  minorityWeightFloor: boolean;
  /**
   * γ ∈ [0, 1]: how strongly the expected class weight scales the utility, u_i = term_i · ((1 − γ) + γ·ew_i/max w).
   * 1 = the weight multiplies the utility (RADS); 0 = plain uncertainty; in between the minority only tilts it.
   */
  weightStrength: number;
  /**
   * λ_u >= 0 for policy "utility": 0 takes the top-B cases by utility; > 0 picks greedily from the shortlist
   * by u_i/max u − λ_u·max(0, max cos to the cases already chosen) (embedding-space diversity within the batch; needs
   * embeddings, else plain top-B).
   */
  utilityRedundancy: number;
  /**
   * Final pass of policy "agent". null: the agent ranks the shortlist alone (A(select) − A(skip) − redundancy,
   * ./ranked-pass.ts `rankedPass`; the second and third passes' default). A number β >= 0: the **blended pass**
   * (`blendedPass`): the shortlist is ranked by the normalised utility minus `utilityRedundancy`·max cos to the chosen
   * cases (the utility policy's score), plus β times the agents' min-max normalised advantage gap — the agent only
   * re-orders cases within β of each other, so its randomness cannot cost more than a β-sized swap.
   */
  agentWeight: number | null;
  /**
   * Agents trained per round for the blended pass (>= 1); their advantage gaps are averaged (variance reduction).
   * Each starts from the warm start when there is one; the first one's weights are handed to the next round.
   */
  agentEnsemble: number;
  /**
   * Budget-dependent utility: at a round budget B ≤ `maxBudget` (the resolved budget, i.e. the number of cases the round
   * selects) the utility's mix is `utilityMix` overlaid with this `utilityMix`; above it `utilityMix` alone. null = one
   * mix at every budget. When the options set `utilityMix` and not this, it is null (a caller that names a mix gets
   * exactly that mix at every budget). See {@link DEFAULT_SMALL_BUDGET_MIX} for the default and its evidence.
   */
  smallBudgetMix: SmallBudgetMix | null;
}

/** A utility mix for small round budgets (see {@link RadsPlatformParams.smallBudgetMix}). */
export interface SmallBudgetMix {
  /** Largest round budget B (cases per round, integer >= 0) that uses this mix. */
  maxBudget: number;
  /** Overlaid on `utilityMix` at B ≤ maxBudget (the weights it names replace the base mix's). */
  utilityMix: Partial<UtilityMix>;
}

/**
 * The default small-budget mix of `rads` (sixth pass, 2026-11-30): at B ≤ 20 the closeness to the Σ-minority boundary
 * is replaced by the closeness to the head's own argmax decision minority vs rest (`decisionMargin`; entropy kept), at
 * B > 20 the mix is unchanged (Σ-boundary + entropy). Why: the reported minority F1 counts a case minority when its
 * argmax is a minority class, and with few labels the head's argmax boundary is what the queue should probe. Evidence
 * (mtsamples, final-round minority F1, paired by seed, the utility pass without the agent — the fifth pass's `v-dec`,
 * picked on development seeds 101–120 by a rule fixed beforehand): seeds 1–20 +0.044 ± 0.023 / +0.039 ± 0.021 over
 * margin at B = 5 / 10, level with entropy at B = 20 (AUPRC above every baseline); but at B = 50 −0.019 ± 0.009 below
 * the unchanged mix (seeds 21–30: −0.015 ± 0.010; development seeds: level), hence the switch at 20. The threshold and
 * the split were chosen after seeing seeds 1–20's B = 50 cells (a post-hoc decision, stated as such); the agent is kept
 * (β = 0.1). Measured as shipped (with the agent), F1 against the better of margin and entropy: seeds 1–20 +0.025 ±
 * 0.023 / +0.018 ± 0.022 / +0.001 ± 0.011 at B = 5 / 10 / 20; fresh seeds 31–40 +0.097 ± 0.038 / +0.016 ± 0.018 /
 * −0.001 ± 0.023; hit rate 5.0–6.1× the pool prior. Source tables: docs/simulation.md, "Fifth pass" and "Sixth pass";
 * README "Platform variant".
 */
export const DEFAULT_SMALL_BUDGET_MIX: SmallBudgetMix = { maxBudget: 20, utilityMix: { minorityBoundary: 0, decisionMargin: 1 } };

export type RadsPlatformOptions = Partial<Omit<RadsPlatformParams, "agent" | "utilityMix">> & {
  agent?: Partial<Omit<AgentConfig, "lambda">>;
  utilityMix?: Partial<UtilityMix>;
};

const { lambda: paperLambda, ...PAPER_AGENT } = DEFAULT_AGENT_CONFIG;

/**
 * Defaults, chosen by measurement on mtsamples (README "Platform variant", "Selector, third pass" and "fourth pass"): a
 * utility of uncertainty on the minority-vs-rest question plus entropy, not scaled by the class weights (γ = 0; ρ = 0.3
 * with the minority weight floor still sets the weights the state sees); a 4·B experts shortlist ranked by the utility
 * with embedding redundancy 0.2, the agent (60 episodes cold, 30 warm, 64 wide) re-ordering near-ties (β = 0.1).
 * The utility's mix depends on the round budget (sixth pass): at B ≤ 20 the Σ-boundary term is replaced by the
 * argmax-decision term ({@link DEFAULT_SMALL_BUDGET_MIX}); at B > 20 `utilityMix` as listed here.
 * policy "utility" is the same pass without the agent (the ablation `rads-utility`, budget-dependent too).
 */
export const DEFAULT_RADS_PLATFORM_PARAMS: RadsPlatformParams = {
  rho: 0.3,
  lambda: paperLambda,
  priorClamp: 1e-3,
  minProb: 1e-12,
  utilityMinRange: 1e-8,
  utilityMix: { mi: 0, entropy: 1, margin: 0, minorityBoundary: 1, closeness: 0, minorityMass: 0, gradient: 0, decisionMargin: 0, decisionVote: 0 },
  agent: { ...PAPER_AGENT, episodes: 60, sharedHidden: 64, headHidden: 64 },
  warmEpisodes: 30,
  warmEpsilonStart: 0.3,
  candidateLimit: null,
  subPoolSize: null,
  updatesPerEpisode: 10,
  shortlistFactor: 4,
  densityNeighbours: 10,
  densityReferenceLimit: 2000,
  budgetOverflow: "strict",
  policy: "agent",
  shortlist: "experts",
  redundancy: "embedding",
  embeddingLambda: 0.1,
  minorityWeightFloor: true,
  weightStrength: 0,
  utilityRedundancy: 0.2,
  agentWeight: 0.1,
  agentEnsemble: 1,
  smallBudgetMix: DEFAULT_SMALL_BUDGET_MIX,
};

/** Kind tag of the agent state this variant reads and writes. */
export const RADS_WARM_START_KIND = "rads-agent/1";

/** The agent weights handed from one round to the next. */
export interface RadsWarmStart extends StrategyState {
  kind: typeof RADS_WARM_START_KIND;
  stateDim: number;
  sharedHidden: number;
  headHidden: number;
  /** Flat dueling-DQN parameters (./dueling-dqn.ts layout), float32. */
  params: Float32Array;
  /** Rounds this agent has been trained over (1 = a cold round). */
  rounds: number;
}

export function resolveRadsPlatformParams(options: RadsPlatformOptions = {}): RadsPlatformParams {
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const { agent, utilityMix, ...rest } = options;
  const d = DEFAULT_RADS_PLATFORM_PARAMS;
  return {
    ...d,
    ...defined(rest),
    agent: { ...d.agent, ...defined(agent ?? {}) },
    utilityMix: { ...d.utilityMix, ...defined(utilityMix ?? {}) },
    // A caller that names a mix gets that mix at every budget unless it also names a small-budget mix.
    ...(utilityMix !== undefined && rest.smallBudgetMix === undefined ? { smallBudgetMix: null } : {}),
  };
}

/**
 * The utility mix a round of budget B uses: `params.utilityMix`, overlaid with `params.smallBudgetMix.utilityMix` when
 * B ≤ `smallBudgetMix.maxBudget`. @param budget the round's resolved budget (cases it selects), integer >= 0.
 */
export function utilityMixForBudget(params: RadsPlatformParams, budget: number): UtilityMix {
  const small = params.smallBudgetMix;
  if (small === null || budget > small.maxBudget) return { ...params.utilityMix };
  const overlay = Object.fromEntries(Object.entries(small.utilityMix).filter(([, v]) => v !== undefined)) as Partial<UtilityMix>;
  return { ...params.utilityMix, ...overlay };
}

/** Throws `invalid-argument` for a parameter outside its meaningful range. */
export function validateRadsPlatformParams(params: RadsPlatformParams): void {
  const bad = (name: string, v: unknown, why: string): never => {
    throw new MlInputError("invalid-argument", `RADS ${name} ${why}, got ${String(v)}`);
  };
  validateAgentConfig({ ...params.agent, lambda: params.lambda, maxUpdatesPerEpisode: params.updatesPerEpisode });
  if (!(params.priorClamp > 0 && params.priorClamp < 0.5)) bad("priorClamp", params.priorClamp, "must be in (0, 0.5)");
  if (!(params.minProb > 0 && params.minProb < 1)) bad("minProb", params.minProb, "must be in (0, 1)");
  const mix = Object.values(params.utilityMix);
  if (!mix.every((v) => v >= 0 && Number.isFinite(v)) || !mix.some((v) => v > 0)) bad("utilityMix", JSON.stringify(params.utilityMix), "must be non-negative with at least one weight > 0");
  if (params.smallBudgetMix !== null) {
    const small = params.smallBudgetMix;
    if (typeof small !== "object" || !(Number.isInteger(small.maxBudget) && small.maxBudget >= 0)) bad("smallBudgetMix.maxBudget", small?.maxBudget, "must be an integer >= 0");
    const known = Object.keys(params.utilityMix);
    const entries = Object.entries(small.utilityMix ?? {}).filter(([, v]) => v !== undefined);
    const unknown = entries.find(([k]) => !known.includes(k));
    if (unknown) bad("smallBudgetMix.utilityMix", unknown[0], `names no utility term (expected one of ${known.join(", ")})`);
    if (!entries.every(([, v]) => typeof v === "number" && v >= 0 && Number.isFinite(v))) bad("smallBudgetMix.utilityMix", JSON.stringify(small.utilityMix), "must be non-negative numbers");
    const smallMix = Object.values(utilityMixForBudget(params, small.maxBudget));
    if (!smallMix.some((v) => v > 0)) bad("smallBudgetMix.utilityMix", JSON.stringify(small.utilityMix), "leaves no utility weight > 0");
  }
  if (!(Number.isInteger(params.warmEpisodes) && params.warmEpisodes >= 1)) bad("warmEpisodes", params.warmEpisodes, "must be an integer >= 1");
  if (!(params.warmEpsilonStart >= 0 && params.warmEpsilonStart <= 1)) bad("warmEpsilonStart", params.warmEpsilonStart, "must be in [0, 1]");
  if (params.candidateLimit !== null && !(Number.isInteger(params.candidateLimit) && params.candidateLimit >= 1)) bad("candidateLimit", params.candidateLimit, "must be null or an integer >= 1");
  if (params.subPoolSize !== null && !(Number.isInteger(params.subPoolSize) && params.subPoolSize >= 1)) bad("subPoolSize", params.subPoolSize, "must be null or an integer >= 1");
  if (!(Number.isInteger(params.shortlistFactor) && params.shortlistFactor >= 0)) bad("shortlistFactor", params.shortlistFactor, "must be an integer >= 0");
  if (params.budgetOverflow !== "strict" && params.budgetOverflow !== "clamp") bad("budgetOverflow", params.budgetOverflow, "must be strict or clamp");
  if (params.policy !== "agent" && params.policy !== "utility") bad("policy", params.policy, "must be agent or utility");
  if (params.shortlist !== "utility" && params.shortlist !== "experts") bad("shortlist", params.shortlist, "must be utility or experts");
  if (params.redundancy !== "probability" && params.redundancy !== "embedding") bad("redundancy", params.redundancy, "must be probability or embedding");
  if (!(params.embeddingLambda >= 0 && Number.isFinite(params.embeddingLambda))) bad("embeddingLambda", params.embeddingLambda, "must be finite and >= 0");
  if (!(params.weightStrength >= 0 && params.weightStrength <= 1)) bad("weightStrength", params.weightStrength, "must be in [0, 1]");
  if (!(params.utilityRedundancy >= 0 && Number.isFinite(params.utilityRedundancy))) bad("utilityRedundancy", params.utilityRedundancy, "must be finite and >= 0");
  if (params.agentWeight !== null && !(params.agentWeight >= 0 && Number.isFinite(params.agentWeight))) bad("agentWeight", params.agentWeight, "must be null or finite and >= 0");
  if (!(Number.isInteger(params.agentEnsemble) && params.agentEnsemble >= 1)) bad("agentEnsemble", params.agentEnsemble, "must be an integer >= 1");
}

/** A usable warm start for this network shape, or null (wrong kind, shape or size: the round starts cold). */
function usableWarmStart(state: StrategyState | null | undefined, stateDim: number, agent: Omit<AgentConfig, "lambda">): RadsWarmStart | null {
  if (!state || state.kind !== RADS_WARM_START_KIND) return null;
  const w = state as RadsWarmStart;
  if (w.stateDim !== stateDim || w.sharedHidden !== agent.sharedHidden || w.headHidden !== agent.headHidden) return null;
  const size = dqnLayout({ stateDim, sharedHidden: agent.sharedHidden, headHidden: agent.headHidden, numActions: 2 }).size;
  if (!(w.params instanceof Float32Array) || w.params.length !== size) return null;
  return w;
}

/**
 * Each call draws `size` distinct candidates uniformly (partial Fisher–Yates over the candidate list) and returns
 * them in the drawn order: the walk of one training episode.
 */
function subsetSampler(candidates: Int32Array, size: number, rng: Rng): WalkSource {
  const scratch = new Int32Array(candidates);
  const out = new Int32Array(size);
  return () => {
    scratch.set(candidates);
    for (let j = 0; j < size; j++) {
      const pick = j + rng.int(scratch.length - j);
      const t = scratch[j]!;
      scratch[j] = scratch[pick]!;
      scratch[pick] = t;
      out[j] = scratch[j]!;
    }
    return out;
  };
}

/**
 * In place: every minority class's weight raised to at least the largest weight of a non-minority class
 * (see {@link RadsPlatformParams.minorityWeightFloor}). @param weights [C].
 */
export function floorMinorityWeights(weights: Float64Array, minorityClasses: readonly number[]): void {
  const minority = new Set(minorityClasses);
  let rest = 0;
  for (let k = 0; k < weights.length; k++) if (!minority.has(k)) rest = Math.max(rest, weights[k]!);
  for (const m of minorityClasses) weights[m] = Math.max(weights[m]!, rest);
}

/**
 * Expected gradient length per case: g_i = Σ_c p̄_ic·‖p̄_i − e_c‖₂ (see {@link UtilityMix.gradient}).
 * @param meanProb [N, C] row-major p̄. @returns [N], in [0, √2].
 */
export function expectedGradientLength(meanProb: Float64Array, c: number): Float64Array {
  const n = meanProb.length / c;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let k = 0; k < c; k++) sq += meanProb[i * c + k]! * meanProb[i * c + k]!;
    let g = 0;
    // ‖p̄ − e_y‖² = Σ_k p̄_k² − 2·p̄_y + 1.
    for (let y = 0; y < c; y++) {
      const p = meanProb[i * c + y]!;
      g += p * Math.sqrt(Math.max(0, sq - 2 * p + 1));
    }
    out[i] = g;
  }
  return out;
}

/**
 * Closeness to the argmax decision minority vs rest (see {@link UtilityMix.decisionMargin}):
 * 1 − |max_{c∈M} p̄_ic − max_{r∉M} p̄_ir| per case. @param meanProb [N, C] row-major p̄; @param minorityClasses M,
 * non-empty and not all classes (else every value is 0: there is no such decision). @returns [N] in [0, 1].
 */
export function minorityDecisionCloseness(meanProb: Float64Array, c: number, minorityClasses: readonly number[]): Float64Array {
  const n = meanProb.length / c;
  const out = new Float64Array(n);
  const minority = new Set(minorityClasses);
  if (minority.size === 0 || minority.size >= c) return out;
  for (let i = 0; i < n; i++) {
    let bestM = 0;
    let bestR = 0;
    for (let k = 0; k < c; k++) {
      const p = meanProb[i * c + k]!;
      if (minority.has(k)) bestM = Math.max(bestM, p);
      else bestR = Math.max(bestR, p);
    }
    out[i] = 1 - Math.abs(bestM - bestR);
  }
  return out;
}

/**
 * Members' disagreement on the argmax decision minority vs rest (see {@link UtilityMix.decisionVote}): with q_i the
 * share of the K members whose argmax of row i is a minority class (ties go to the lower class index),
 * 1 − |2q_i − 1|. @param mc [N, K, C] log-probabilities. @returns [N] in [0, 1] (0 when all members agree).
 */
export function minorityVoteDisagreement(mc: McLogProbs, minorityClasses: readonly number[]): Float64Array {
  const { n, k, c, data } = mc;
  const minority = new Set(minorityClasses);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let votes = 0;
    for (let j = 0; j < k; j++) {
      const o = (i * k + j) * c;
      let best = 0;
      for (let q = 1; q < c; q++) if (data[o + q]! > data[o + best]!) best = q;
      if (minority.has(best)) votes++;
    }
    out[i] = 1 - Math.abs(2 * (votes / k) - 1);
  }
  return out;
}

/**
 * Round-robin merge of rankings (each best first): the first case of each ranking in turn, then the second, ...,
 * skipping cases already taken, until `size` cases (or every case) are taken. Deterministic given the rankings.
 * @returns [min(size, distinct cases)] pool indices.
 */
export function mergeRankings(rankings: readonly Int32Array[], size: number): Int32Array {
  const out: number[] = [];
  const taken = new Set<number>();
  const longest = Math.max(0, ...rankings.map((r) => r.length));
  for (let r = 0; r < longest && out.length < size; r++) {
    for (const ranking of rankings) {
      if (r >= ranking.length || out.length >= size) continue;
      const i = ranking[r]!;
      if (!taken.has(i)) {
        taken.add(i);
        out.push(i);
      }
    }
  }
  return Int32Array.from(out);
}

/**
 * One round of the platform RADS variant.
 * @param input poolSize N, budget B, mc [N, K, C] (required); embeddings [N, d], labelledEmbeddings [L, d] and
 *   labelledLabels [L] (optional: without them the three embedding features are constants 1, 1, 0 and closeness
 *   is 0); warmStart (optional, from the previous round's result).
 * @returns selected [min(B, N)] in queue order; features per selected case (bald, entropy, expectedEntropy,
 *   utility, expectedWeight, minorityMass, distanceToMinority, distanceToLabelled, density, pseudoLabel,
 *   classWeight, agentScore); stats (variant, prior = soft π̂, argmaxPrior, classWeights, warmStarted, ...);
 *   warmStart for the next round.
 * @throws MlInputError as the paper's variant, plus bad embeddings / labelledLabels.
 */
export function selectWithRadsPlatform(input: SelectionInput, options: RadsPlatformOptions = {}): SelectionResult {
  const params = resolveRadsPlatformParams(options);
  const { mc } = input;
  if (mc === null) throw new MlInputError("invalid-argument", "RADS needs MC-dropout predictions of a trained model (mc is null); use a cold-start strategy");
  if (mc.c === 1) throw new MlInputError("single-class", "RADS: the model predicts a single class, so there is nothing to choose between");
  assertMcLogProbs(mc, input.poolSize);
  validateRadsPlatformParams(params);
  const budget = resolveBudget(input.budget, input.poolSize, params.budgetOverflow);
  const n = input.poolSize;
  const c = mc.c;

  const bald = baldFeatures(mc, { minProb: params.minProb });
  const mix = resolveTargetMix(c, input.minorityClasses, params.rho);
  const prior = softPrior(bald.meanProb, c);
  const weights = priorAwareWeights(prior, input.minorityClasses, mix, params.priorClamp);
  const paperWeights = Array.from(weights);
  if (params.minorityWeightFloor) floorMinorityWeights(weights, input.minorityClasses);
  const expectedWeight = expectedClassWeight(bald.meanProb, weights);
  let maxWeight = 0;
  for (const w of weights) maxWeight = Math.max(maxWeight, w);
  const minorityMass = minorityProbability(bald, input.minorityClasses);

  if (input.embeddings !== null && input.embeddings.rows !== n) throw new MlInputError("dimension-mismatch", `RADS: embeddings have ${input.embeddings.rows} rows but the pool has ${n} cases`);
  const featureRng = input.rng.fork();
  const trainRng = input.rng.fork();
  const walkRng = input.rng.fork();
  const a = utilityMixForBudget(params, budget);
  const smallBudget = params.smallBudgetMix !== null && budget <= params.smallBudgetMix.maxBudget;
  // Embedding features: computed only for the rows the round looks at (training candidates, shortlist, queue) —
  // unless the utility itself uses closeness, which needs every case.
  const embeddingFeaturesFor = (rows: Int32Array | undefined) => input.embeddings !== null
    ? embeddingStateFeatures(input.embeddings, input.labelledEmbeddings, input.labelledLabels ?? null, input.minorityClasses, featureRng, {
      neighbours: params.densityNeighbours, referenceLimit: params.densityReferenceLimit, ...(rows ? { rows } : {}),
    })
    : null;
  const fullEmb = a.closeness > 0 ? embeddingFeaturesFor(undefined) : null;

  // Utility (file comment).
  const normMi = minMaxNormalise(bald.mutualInformation, params.utilityMinRange);
  const normH = minMaxNormalise(bald.entropy, params.utilityMinRange);
  const closeness = fullEmb !== null && fullEmb.labelledMinority > 0
    ? minMaxNormalise(Float64Array.from(fullEmb.distanceToMinority, (v) => -v), params.utilityMinRange)
    : new Float64Array(n);
  const margin = topTwoMargin(bald);
  const aSum = a.mi + a.entropy + a.margin + a.minorityBoundary + a.closeness + a.minorityMass + a.gradient + a.decisionMargin + a.decisionVote;
  const gradient = a.gradient > 0 ? minMaxNormalise(expectedGradientLength(bald.meanProb, c), params.utilityMinRange) : new Float64Array(n);
  const decision = a.decisionMargin > 0 ? minorityDecisionCloseness(bald.meanProb, c, input.minorityClasses) : new Float64Array(n);
  const vote = a.decisionVote > 0 ? minorityVoteDisagreement(mc, input.minorityClasses) : new Float64Array(n);
  const utility = new Float64Array(n);
  let maxUtility = 0;
  for (let i = 0; i < n; i++) {
    const boundary = 1 - Math.abs(2 * minorityMass[i]! - 1);
    const term = (a.mi * normMi[i]! + a.entropy * normH[i]! + a.margin * (1 - margin[i]!) + a.minorityBoundary * boundary + a.closeness * closeness[i]! + a.minorityMass * minorityMass[i]! + a.gradient * gradient[i]!
      + a.decisionMargin * decision[i]! + a.decisionVote * vote[i]!) / aSum;
    const relativeWeight = maxWeight > 0 ? expectedWeight[i]! / maxWeight : 0;
    utility[i] = (1 - params.weightStrength + params.weightStrength * relativeWeight) * term;
    if (utility[i]! > maxUtility) maxUtility = utility[i]!;
  }
  const ranked = rankByUtility(utility);

  // Candidates in a content-defined order (utility descending; ties by pool index), and the ranked pass's shortlist.
  const candidateLimit = params.candidateLimit ?? Math.max(100 * budget, 2000);
  if (budget > 0 && candidateLimit < budget) throw new MlInputError("invalid-argument", `candidateLimit ${candidateLimit} is below the budget ${budget}`);
  const candidates = ranked.slice(0, Math.min(n, candidateLimit));
  const shortlistSize = params.shortlistFactor === 0 ? candidates.length : Math.min(candidates.length, params.shortlistFactor * budget);
  const shortlist = params.shortlist === "experts"
    ? mergeRankings([candidates, rankByUtility(Float64Array.from(margin, (m) => -m)), rankByUtility(bald.entropy)], shortlistSize)
    : candidates.subarray(0, shortlistSize);
  const diverseUtility = params.policy === "utility" && params.utilityRedundancy > 0 && input.embeddings !== null;
  const rowsUsed = (): Int32Array => {
    if (budget === 0) return new Int32Array(0);
    if (params.policy === "utility") return diverseUtility ? shortlist.slice() : candidates.slice(0, budget);
    const seen = new Uint8Array(n);
    const out: number[] = [];
    for (const list of [candidates, shortlist]) for (const i of list) if (!seen[i]) { seen[i] = 1; out.push(i); }
    return Int32Array.from(out);
  };
  const emb = fullEmb ?? embeddingFeaturesFor(rowsUsed());
  const distanceToMinority = emb?.distanceToMinority ?? new Float64Array(n).fill(1);
  const distanceToLabelled = emb?.distanceToLabelled ?? new Float64Array(n).fill(1);
  const density = emb?.density ?? new Float64Array(n);

  // Case table: the state features (file comment). Rows outside those used have no embedding features (NaN); the
  // table, which must be finite, holds the no-embedding constants for them, and nothing reads them.
  const width = c + 8;
  const lnC = Math.log(c);
  const features = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    const o = i * width;
    for (let k = 0; k < c; k++) features[o + k] = bald.meanProb[i * c + k]!;
    features[o + c] = bald.entropy[i]! / lnC;
    features[o + c + 1] = bald.mutualInformation[i]! / lnC;
    features[o + c + 2] = minorityMass[i]!;
    features[o + c + 3] = maxWeight > 0 ? expectedWeight[i]! / maxWeight : 0;
    features[o + c + 4] = maxUtility > 0 ? utility[i]! / maxUtility : 0;
    const dm = distanceToMinority[i]!;
    features[o + c + 5] = Number.isNaN(dm) ? 1 : dm;
    features[o + c + 6] = Number.isNaN(dm) ? 1 : distanceToLabelled[i]!;
    features[o + c + 7] = Number.isNaN(dm) ? 0 : density[i]!;
  }
  const plainTable = buildWideCaseTable(c, width, features, utility);
  const useEmbedding = params.redundancy === "embedding" && input.embeddings !== null;
  const table = useEmbedding ? withCosineRedundancy(plainTable, input.embeddings!.data, input.embeddings!.cols) : plainTable;
  const lambda = useEmbedding ? params.embeddingLambda : params.lambda;
  const stateDim = width + 1;

  const argmaxPrior = pseudoPrior(bald.pseudoLabel, c);
  const baseStats = {
    variant: "platform",
    prior: Array.from(prior),
    argmaxPrior: Array.from(argmaxPrior),
    rho: Array.from(mix),
    minorityClasses: [...input.minorityClasses],
    classWeights: Array.from(weights),
    unflooredClassWeights: paperWeights,
    minorityPrior: input.minorityClasses.reduce((acc, m) => acc + prior[m]!, 0),
    lambda,
    redundancy: useEmbedding ? "embedding" : "probability",
    budget,
    k: mc.k,
    poolSize: n,
    labelledMinority: emb?.labelledMinority ?? 0,
    utilityMix: { ...a },
    smallBudgetMix: smallBudget,
  };
  const columns = (chosen: Int32Array, agentScore: Float64Array): Record<string, Float64Array> => {
    const pick = (v: ArrayLike<number>): Float64Array => Float64Array.from(chosen, (i) => v[i]!);
    return {
      bald: pick(bald.mutualInformation),
      entropy: pick(bald.entropy),
      expectedEntropy: pick(bald.expectedEntropy),
      utility: pick(utility),
      expectedWeight: pick(expectedWeight),
      minorityMass: pick(minorityMass),
      distanceToMinority: pick(distanceToMinority),
      distanceToLabelled: pick(distanceToLabelled),
      density: pick(density),
      pseudoLabel: pick(bald.pseudoLabel),
      classWeight: Float64Array.from(chosen, (i) => weights[bald.pseudoLabel[i]!]!),
      agentScore,
    };
  };
  if (budget === 0) {
    return { selected: new Int32Array(0), features: columns(new Int32Array(0), new Float64Array(0)), stats: { ...baseStats, episodes: 0, warmStarted: false, returnCurve: [] } };
  }

  const normalisedUtility = Float64Array.from(utility, (u) => (maxUtility > 0 ? u / maxUtility : 0));
  // The utility's own redundancy (λ_u on embedding cosines), shared by the utility policy and the blended pass.
  const cosineTable = input.embeddings === null ? null : useEmbedding ? table : withCosineRedundancy(plainTable, input.embeddings.data, input.embeddings.cols);
  if (params.policy === "utility") {
    if (!diverseUtility) {
      const selected = candidates.slice(0, budget);
      return { selected, features: columns(selected, new Float64Array(selected.length)), stats: { ...baseStats, policy: "utility", episodes: 0, warmStarted: false, returnCurve: [] } };
    }
    const { selected, scores } = rankedScorePass(cosineTable!, normalisedUtility, shortlist, budget, params.utilityRedundancy);
    return {
      selected, features: columns(selected, scores),
      stats: { ...baseStats, policy: "utility", lambda: params.utilityRedundancy, redundancy: "embedding", shortlist: shortlist.length, episodes: 0, warmStarted: false, returnCurve: [] },
    };
  }
  const subPool = Math.min(params.subPoolSize ?? Math.max(20 * budget, 200), candidates.length);
  const warm = usableWarmStart(input.warmStart, stateDim, params.agent);
  const agentConfig: AgentConfig = {
    ...params.agent,
    lambda,
    maxUpdatesPerEpisode: params.updatesPerEpisode,
    // A warm round never trains longer than a cold one would.
    ...(warm ? { episodes: Math.min(params.warmEpisodes, params.agent.episodes), epsilonStart: params.warmEpsilonStart } : {}),
  };
  const trained = trainAgent(table, budget, subsetSampler(candidates, subPool, walkRng), agentConfig, trainRng, warm ? warm.params : null);
  const blend = params.agentWeight !== null;
  // Further agents of the ensemble: their own streams, forked after the first agent's so that one agent gives the
  // same round as before the ensemble existed.
  const others = blend ? Array.from({ length: params.agentEnsemble - 1 }, () => {
    const agentRng = input.rng.fork();
    const agentWalkRng = input.rng.fork();
    return trainAgent(table, budget, subsetSampler(candidates, subPool, agentWalkRng), agentConfig, agentRng, warm ? warm.params : null);
  }) : [];
  const blendLambda = cosineTable !== null ? params.utilityRedundancy : params.lambda;
  const { selected, scores, agentTerms } = blend
    ? blendedPass([trained.net, ...others.map((o) => o.net)], cosineTable ?? plainTable, normalisedUtility, shortlist, budget, blendLambda, params.agentWeight!)
    : { ...rankedPass(trained.net, table, shortlist, budget, lambda), agentTerms: null };
  const nextWarm: RadsWarmStart = {
    kind: RADS_WARM_START_KIND,
    stateDim,
    sharedHidden: params.agent.sharedHidden,
    headHidden: params.agent.headHidden,
    params: Float32Array.from(trained.net.params),
    rounds: (warm?.rounds ?? 0) + 1,
  };
  return {
    selected,
    features: { ...columns(selected, scores), ...(agentTerms ? { agentTerm: agentTerms } : {}) },
    stats: {
      ...baseStats,
      ...(blend ? { finalPass: "blend", agentWeight: params.agentWeight, agentEnsemble: params.agentEnsemble, passLambda: blendLambda } : { finalPass: "agent" }),
      episodes: agentConfig.episodes,
      warmStarted: warm !== null,
      agentRounds: nextWarm.rounds,
      candidates: candidates.length,
      subPoolSize: subPool,
      shortlist: shortlistSize,
      returnCurve: Array.from(trained.returns),
      bestMovingAverage: trained.bestMovingAverage,
      bestEpisode: trained.bestEpisode,
      gradientSteps: trained.gradientSteps + others.reduce((acc, o) => acc + o.gradientSteps, 0),
      envSteps: trained.envSteps + others.reduce((acc, o) => acc + o.envSteps, 0),
      toppedUp: 0,
    },
    warmStart: nextWarm,
  };
}

/** The platform RADS variant as a {@link SelectionStrategy} named `rads`. */
export function radsPlatformStrategy(options: RadsPlatformOptions = {}): SelectionStrategy {
  validateRadsPlatformParams(resolveRadsPlatformParams(options));
  return { name: "rads", needsModel: true, select: (input) => selectWithRadsPlatform(input, options) };
}

/** JSON-safe form of a {@link RadsWarmStart} (parameters as base64 of the float32 bytes, little-endian). */
export interface EncodedRadsWarmStart {
  kind: typeof RADS_WARM_START_KIND;
  stateDim: number;
  sharedHidden: number;
  headHidden: number;
  rounds: number;
  paramsBase64: string;
}

export function encodeRadsWarmStart(w: RadsWarmStart): EncodedRadsWarmStart {
  const bytes = new Uint8Array(w.params.length * 4);
  const view = new DataView(bytes.buffer);
  w.params.forEach((v, j) => view.setFloat32(j * 4, v, true));
  return { kind: w.kind, stateDim: w.stateDim, sharedHidden: w.sharedHidden, headHidden: w.headHidden, rounds: w.rounds, paramsBase64: Buffer.from(bytes).toString("base64") };
}

/** Inverse of {@link encodeRadsWarmStart}; null for anything that is not one (a round then starts cold). */
export function decodeRadsWarmStart(value: unknown): RadsWarmStart | null {
  if (typeof value !== "object" || value === null) return null;
  const e = value as Partial<EncodedRadsWarmStart>;
  if (e.kind !== RADS_WARM_START_KIND || typeof e.paramsBase64 !== "string") return null;
  if (![e.stateDim, e.sharedHidden, e.headHidden, e.rounds].every((v) => Number.isInteger(v))) return null;
  const bytes = Buffer.from(e.paramsBase64, "base64");
  if (bytes.length % 4 !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const params = new Float32Array(bytes.length / 4);
  for (let j = 0; j < params.length; j++) params[j] = view.getFloat32(j * 4, true);
  return { kind: RADS_WARM_START_KIND, stateDim: e.stateDim!, sharedHidden: e.sharedHidden!, headHidden: e.headHidden!, rounds: e.rounds!, params };
}
