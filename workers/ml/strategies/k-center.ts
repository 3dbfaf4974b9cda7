/**
 * Core-set baseline: k-center greedy (Sener & Savarese, 2018) on embeddings. Each pick is the pool case farthest
 * from its nearest "centre", where centres are the labelled cases plus everything picked so far, so the queue
 * covers the embedding space with the smallest radius greedily achievable (a 2-approximation of k-center).
 * Works without a labelled set: the first centre is then a seeded uniformly random pool case.
 */
import { squaredDistance } from "../linalg";
import type { SelectionInput, SelectionResult, SelectionStrategy } from "../types";
import { nearestCenters, rowSquaredNorms } from "./embedding-distance";
import { requireEmbeddings, selectionCount } from "./selection-input";

/**
 * k-center greedy over `embeddings` [poolSize, d], measuring distance to `labelledEmbeddings` [L, d] (may be null)
 * and to earlier picks. features.distanceToNearest: Euclidean distance of each pick to its nearest centre when it
 * was picked (NaN for a random first pick with no labelled set). stats.coverageRadius{Before,After}: the largest
 * such distance over the pool before and after the round (null while there is no centre).
 */
export const kCenterStrategy: SelectionStrategy = {
  name: "k-center",
  needsModel: false,
  select(input: SelectionInput): SelectionResult {
    const count = selectionCount(input);
    const { pool, labelled } = requireEmbeddings(input, "k-center");
    const n = pool.rows;
    const d = pool.cols;
    const minD2 = new Float64Array(n).fill(Infinity);
    const hasLabelled = labelled !== null && labelled.rows > 0;
    if (hasLabelled) nearestCenters(pool, rowSquaredNorms(pool), labelled, minD2, null);
    const radius = (): number | null => {
      let max = -Infinity;
      for (let i = 0; i < n; i++) if (minD2[i]! > max) max = minD2[i]!;
      return n === 0 || max === Infinity ? null : Math.sqrt(max);
    };
    const coverageRadiusBefore = radius();

    const taken = new Uint8Array(n);
    const selected = new Int32Array(count);
    const distanceToNearest = new Float64Array(count);
    for (let t = 0; t < count; t++) {
      let pickIdx: number;
      if (t === 0 && !hasLabelled) {
        pickIdx = input.rng.int(n);
        distanceToNearest[t] = NaN;
      } else {
        // Farthest untaken case; ties to the lower index. `taken` matters when the pool holds duplicates,
        // whose distance is 0 exactly like an already-picked case.
        pickIdx = -1;
        let best = -1;
        for (let i = 0; i < n; i++) {
          if (!taken[i] && minD2[i]! > best) {
            best = minD2[i]!;
            pickIdx = i;
          }
        }
        distanceToNearest[t] = Math.sqrt(best);
      }
      taken[pickIdx] = 1;
      selected[t] = pickIdx;
      const o = pickIdx * d;
      for (let i = 0; i < n; i++) {
        const dist = squaredDistance(pool.data, i * d, pool.data, o, d);
        if (dist < minD2[i]!) minD2[i] = dist;
      }
    }
    return {
      selected,
      features: { distanceToNearest },
      stats: {
        strategy: "k-center",
        poolSize: input.poolSize,
        budget: input.budget,
        selectedCount: count,
        labelledCount: labelled?.rows ?? 0,
        coverageRadiusBefore,
        coverageRadiusAfter: count > 0 ? radius() : coverageRadiusBefore,
      },
    };
  },
};
