/**
 * Ranked final pass of the platform RADS variant (replaces the paper's walk, ./greedy-pass.ts).
 *
 * The paper's pass walks the pool once and keeps the first cases the agent accepts, so WHICH acceptable cases
 * end up in the queue depends on where they sit in the walk (the pool's order). Here the agent ranks instead:
 * at selection step t (t = 0..B−1, state column t/B) every remaining shortlisted case is scored by
 *   score_i = A(s_i, select) − A(s_i, skip) − λ/(1 + d_min(i, already chosen))
 * (the agent's preference for selecting, minus the redundancy penalty its reward charges, in the reward's units),
 * and the best one is taken. Ties go to the earlier case of `shortlist`, which callers pass in a content-defined
 * order (utility descending), so a shuffled pool gives the same selection.
 *
 * Speed: the shared layer is linear in the state, so W1·features + b1 is computed once per case and the count
 * column is added as a shift per step; only the advantage head is evaluated (V and mean A cancel in the score).
 */
import { MlInputError } from "../validate";
import { createDqnWorkspace, dqnAdvantagesFromShared, type DuelingDqn } from "./dueling-dqn";
import { redundancyPenalty, type RadsCaseTable } from "./environment";

/** Largest number of cases scored in one forward call. */
const CHUNK = 512;

/**
 * @param shortlist pool indices to rank, in tie-break order; @param budget B >= 0 (at most shortlist.length is taken);
 * @param lambda redundancy weight λ >= 0.
 * @returns { selected: chosen pool indices in selection order, scores: the winning score at each step }.
 */
export function rankedPass(
  net: DuelingDqn, table: RadsCaseTable, shortlist: Int32Array, budget: number, lambda: number,
): { selected: Int32Array; scores: Float64Array } {
  const { stateDim: d, sharedHidden: h } = net.config;
  const width = table.width;
  if (d !== width + 1) throw new MlInputError("dimension-mismatch", `rankedPass: network expects states of ${d} values, cases give ${width + 1}`);
  if (!Number.isInteger(budget) || budget < 0) throw new MlInputError("invalid-argument", `rankedPass: budget must be an integer >= 0, got ${budget}`);
  const m = shortlist.length;
  const take = Math.min(budget, m);
  const p = net.params;
  const { w1, b1 } = net.layout;
  const base = new Float64Array(m * h);
  const seen = new Uint8Array(table.n);
  for (let r = 0; r < m; r++) {
    const i = shortlist[r]!;
    if (!(i >= 0 && i < table.n)) throw new MlInputError("invalid-argument", `rankedPass: shortlist index ${i} is outside the pool`);
    if (seen[i]) throw new MlInputError("invalid-argument", `rankedPass: case ${i} is in the shortlist twice`);
    seen[i] = 1;
    for (let o = 0; o < h; o++) {
      const wo = w1 + o * d;
      let s = p[b1 + o]!;
      for (let k = 0; k < width; k++) s += p[wo + k]! * table.features[i * width + k]!;
      base[r * h + o] = s;
    }
  }
  const ws = createDqnWorkspace(net.config, Math.min(CHUNK, Math.max(1, m)));
  const pre = new Float64Array(Math.min(CHUNK, Math.max(1, m)) * h);
  const taken = new Uint8Array(m);
  const chosen = new Int32Array(Math.max(1, take));
  const scores = new Float64Array(take);
  for (let t = 0; t < take; t++) {
    const fraction = budget > 0 ? t / budget : 0;
    let best = -1;
    let bestScore = -Infinity;
    for (let from = 0; from < m; from += CHUNK) {
      const len = Math.min(CHUNK, m - from);
      for (let r = 0; r < len; r++) {
        for (let o = 0; o < h; o++) pre[r * h + o] = base[(from + r) * h + o]! + p[w1 + o * d + width]! * fraction;
      }
      const adv = dqnAdvantagesFromShared(net, pre, len, ws);
      for (let r = 0; r < len; r++) {
        if (taken[from + r]) continue;
        const score = adv[r * 2 + 1]! - adv[r * 2]! - redundancyPenalty(table, shortlist[from + r]!, chosen, t, lambda);
        if (score > bestScore) {
          bestScore = score;
          best = from + r;
        }
      }
    }
    taken[best] = 1;
    chosen[t] = shortlist[best]!;
    scores[t] = bestScore;
  }
  return { selected: chosen.slice(0, take), scores };
}

/**
 * The same ranked selection without an agent: at step t every remaining shortlisted case is scored by
 *   score_i − redundancy penalty of i against the cases already chosen (./environment.ts, weight λ)
 * and the best one is taken; ties go to the earlier case of `shortlist`. With λ = 0 it is the top `budget` of the
 * shortlist by score. Cost O(budget · |shortlist| · budget · dim).
 * @param score [N] per pool case (e.g. the normalised utility); @param shortlist pool indices, no repeats.
 * @returns chosen pool indices in selection order, and the winning (penalised) score of each step.
 */
export function rankedScorePass(
  table: RadsCaseTable, score: Float64Array, shortlist: Int32Array, budget: number, lambda: number,
): { selected: Int32Array; scores: Float64Array } {
  if (!Number.isInteger(budget) || budget < 0) throw new MlInputError("invalid-argument", `rankedScorePass: budget must be an integer >= 0, got ${budget}`);
  if (score.length !== table.n) throw new MlInputError("dimension-mismatch", `rankedScorePass: ${score.length} scores for ${table.n} cases`);
  const m = shortlist.length;
  const seen = new Uint8Array(table.n);
  for (const i of shortlist) {
    if (!(i >= 0 && i < table.n)) throw new MlInputError("invalid-argument", `rankedScorePass: shortlist index ${i} is outside the pool`);
    if (seen[i]) throw new MlInputError("invalid-argument", `rankedScorePass: case ${i} is in the shortlist twice`);
    seen[i] = 1;
  }
  const take = Math.min(budget, m);
  const taken = new Uint8Array(m);
  const chosen = new Int32Array(Math.max(1, take));
  const scores = new Float64Array(take);
  for (let t = 0; t < take; t++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let r = 0; r < m; r++) {
      if (taken[r]) continue;
      const i = shortlist[r]!;
      const s = score[i]! - redundancyPenalty(table, i, chosen, t, lambda);
      if (s > bestScore) {
        bestScore = s;
        best = r;
      }
    }
    taken[best] = 1;
    chosen[t] = shortlist[best]!;
    scores[t] = bestScore;
  }
  return { selected: chosen.slice(0, take), scores };
}

/**
 * Blended final pass (the platform RADS default): the utility ranks, the agent only re-orders near-ties. At step t
 * (t = 0..B−1) every remaining shortlisted case is scored by
 *   s_i = score_i − redundancy penalty of i against the cases already chosen (weight λ) + β·g̃_i(t)
 *   g_i(t) = mean over the agents of A(s_i, select) − A(s_i, skip) at selection count t (state column t/B)
 *   g̃_i(t) = (g_i − min g)/(max g − min g) over the remaining shortlisted cases (0 when that range is < 1e-12)
 * and the best is taken; ties go to the earlier case of `shortlist` (callers pass it in a content-defined order).
 * g̃ ∈ [0, 1], so the agents can move a case by at most β in score units: with the normalised utility as `score`
 * (max 1) and a small β their random initialisation and exploration cannot cost more than a β-sized swap, and
 * averaging several agents' gaps shrinks that further. β = 0 (or no agents) is {@link rankedScorePass}.
 * @param nets agents with stateDim = table.width + 1 (may be empty); @param score [N] per pool case;
 * @param shortlist pool indices, no repeats; @param budget B >= 0; @param lambda λ >= 0; @param agentWeight β >= 0.
 * @returns chosen pool indices in selection order, the winning blended score of each step, and the winner's g̃.
 */
export function blendedPass(
  nets: readonly DuelingDqn[], table: RadsCaseTable, score: Float64Array, shortlist: Int32Array, budget: number, lambda: number, agentWeight: number,
): { selected: Int32Array; scores: Float64Array; agentTerms: Float64Array } {
  if (!Number.isInteger(budget) || budget < 0) throw new MlInputError("invalid-argument", `blendedPass: budget must be an integer >= 0, got ${budget}`);
  if (!(agentWeight >= 0 && Number.isFinite(agentWeight))) throw new MlInputError("invalid-argument", `blendedPass: agentWeight must be finite and >= 0, got ${agentWeight}`);
  if (score.length !== table.n) throw new MlInputError("dimension-mismatch", `blendedPass: ${score.length} scores for ${table.n} cases`);
  const width = table.width;
  for (const net of nets) {
    if (net.config.stateDim !== width + 1) throw new MlInputError("dimension-mismatch", `blendedPass: network expects states of ${net.config.stateDim} values, cases give ${width + 1}`);
  }
  const m = shortlist.length;
  const seen = new Uint8Array(table.n);
  for (const i of shortlist) {
    if (!(i >= 0 && i < table.n)) throw new MlInputError("invalid-argument", `blendedPass: shortlist index ${i} is outside the pool`);
    if (seen[i]) throw new MlInputError("invalid-argument", `blendedPass: case ${i} is in the shortlist twice`);
    seen[i] = 1;
  }
  const take = Math.min(budget, m);
  const useAgents = nets.length > 0 && agentWeight > 0 && m > 0;
  // Per agent: W1·features + b1 of every shortlisted case (the count column is added per step as a shift).
  const bases = useAgents ? nets.map((net) => {
    const { stateDim: d, sharedHidden: h } = net.config;
    const p = net.params;
    const { w1, b1 } = net.layout;
    const base = new Float64Array(m * h);
    for (let r = 0; r < m; r++) {
      const i = shortlist[r]!;
      for (let o = 0; o < h; o++) {
        const wo = w1 + o * d;
        let s = p[b1 + o]!;
        for (let k = 0; k < width; k++) s += p[wo + k]! * table.features[i * width + k]!;
        base[r * h + o] = s;
      }
    }
    return base;
  }) : [];
  const gap = new Float64Array(m);
  const agentGaps = (fraction: number): void => {
    gap.fill(0);
    nets.forEach((net, a) => {
      const { stateDim: d, sharedHidden: h } = net.config;
      const p = net.params;
      const w1 = net.layout.w1;
      const ws = createDqnWorkspace(net.config, Math.min(CHUNK, m));
      const pre = new Float64Array(Math.min(CHUNK, m) * h);
      for (let from = 0; from < m; from += CHUNK) {
        const len = Math.min(CHUNK, m - from);
        for (let r = 0; r < len; r++) {
          for (let o = 0; o < h; o++) pre[r * h + o] = bases[a]![(from + r) * h + o]! + p[w1 + o * d + width]! * fraction;
        }
        const adv = dqnAdvantagesFromShared(net, pre, len, ws);
        for (let r = 0; r < len; r++) gap[from + r] = gap[from + r]! + (adv[r * 2 + 1]! - adv[r * 2]!) / nets.length;
      }
    });
  };
  const taken = new Uint8Array(m);
  const chosen = new Int32Array(Math.max(1, take));
  const scores = new Float64Array(take);
  const agentTerms = new Float64Array(take);
  for (let t = 0; t < take; t++) {
    let lo = Infinity;
    let hi = -Infinity;
    if (useAgents) {
      agentGaps(budget > 0 ? t / budget : 0);
      for (let r = 0; r < m; r++) {
        if (taken[r]) continue;
        lo = Math.min(lo, gap[r]!);
        hi = Math.max(hi, gap[r]!);
      }
    }
    const range = hi - lo;
    let best = -1;
    let bestScore = -Infinity;
    let bestTerm = 0;
    for (let r = 0; r < m; r++) {
      if (taken[r]) continue;
      const i = shortlist[r]!;
      const term = useAgents && range >= 1e-12 ? (gap[r]! - lo) / range : 0;
      const s = score[i]! - redundancyPenalty(table, i, chosen, t, lambda) + agentWeight * term;
      if (s > bestScore) {
        bestScore = s;
        best = r;
        bestTerm = term;
      }
    }
    taken[best] = 1;
    chosen[t] = shortlist[best]!;
    scores[t] = bestScore;
    agentTerms[t] = bestTerm;
  }
  return { selected: chosen.slice(0, take), scores, agentTerms };
}
