/**
 * The final greedy pass (docs/rads.md, step 8): walk the cases in order with the kept weights, no
 * exploration, select where argmax_a Q(s, a) = select, stop at B selections or the end of the walk.
 *
 * Why it can be batched: the state is [case features, selected/B] and the redundancy term enters only the
 * reward, never the state, so a case's decision depends on its own features and on the selection count.
 * The count changes only at a selection; between selections, a whole run of cases can be scored at once.
 * Two further savings: (1) the shared layer is linear in the state, so W1·features + b1 is computed once
 * per case and the count column is added as a shift (same summation order as a plain forward, so the two
 * agree bit for bit); (2) the decision needs only the advantage head, since V and mean(A) add the same
 * amount to both actions' Q.
 */
import { MlInputError } from "../validate";
import { createDqnWorkspace, dqnGreedyFromShared, type DuelingDqn } from "./dueling-dqn";
import type { RadsCaseTable } from "./environment";

/** Smallest and largest number of cases scored per batch (small after a selection, doubling while none is found). */
const MIN_CHUNK = 32;
const MAX_CHUNK = 1024;

/**
 * Greedy select/skip pass.
 * @param walk pool indices in walk order; @param budget B >= 1.
 * @returns the selected pool indices in selection order (at most B; fewer if the policy skipped too much).
 */
export function greedyPass(net: DuelingDqn, table: RadsCaseTable, walk: Int32Array, budget: number): Int32Array {
  const { stateDim: d, sharedHidden: h } = net.config;
  const width = table.width;
  if (d !== width + 1) throw new MlInputError("dimension-mismatch", `greedyPass: network expects states of ${d} values, cases give ${width + 1}`);
  if (!Number.isInteger(budget) || budget < 1) throw new MlInputError("invalid-argument", `greedyPass: budget must be an integer >= 1, got ${budget}`);
  const p = net.params;
  const { w1, b1 } = net.layout;
  const ws = createDqnWorkspace(net.config, MAX_CHUNK);
  const base = new Float64Array(MAX_CHUNK * h);
  const pre = new Float64Array(MAX_CHUNK * h);
  const actions = new Int32Array(MAX_CHUNK);
  const selected: number[] = [];

  let pos = 0;
  let chunk = MIN_CHUNK;
  let baseFrom = -1; // walk position `base` row 0 corresponds to; -1 when `base` is stale
  let baseLen = 0;
  while (selected.length < budget && pos < walk.length) {
    const len = Math.min(chunk, walk.length - pos);
    // Features part of the shared pre-activation, computed once per case (recomputed only after a chunk
    // boundary moves, which happens when a selection ends a chunk early).
    if (baseFrom !== pos || baseLen < len) {
      for (let r = 0; r < len; r++) {
        const i = walk[pos + r]!;
        if (!(i >= 0 && i < table.n)) throw new MlInputError("invalid-argument", `greedyPass: walk index ${i} is outside the pool`);
        for (let o = 0; o < h; o++) {
          const wo = w1 + o * d;
          let s = p[b1 + o]!;
          for (let k = 0; k < width; k++) s += p[wo + k]! * table.features[i * width + k]!;
          base[r * h + o] = s;
        }
      }
      baseFrom = pos;
      baseLen = len;
    }
    const fraction = selected.length / budget;
    for (let r = 0; r < len; r++) {
      for (let o = 0; o < h; o++) pre[r * h + o] = base[r * h + o]! + p[w1 + o * d + width]! * fraction;
    }
    dqnGreedyFromShared(net, pre, len, ws, actions);
    let hit = -1;
    for (let r = 0; r < len; r++) {
      if (actions[r] === 1) {
        hit = r;
        break;
      }
    }
    if (hit < 0) {
      pos += len;
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      continue;
    }
    selected.push(walk[pos + hit]!);
    // Cases after the hit were scored with the old count; shift their precomputed features down and rescore.
    const keep = len - hit - 1;
    base.copyWithin(0, (hit + 1) * h, len * h);
    pos += hit + 1;
    baseFrom = pos;
    baseLen = keep;
    chunk = Math.max(MIN_CHUNK, keep);
  }
  return Int32Array.from(selected);
}
