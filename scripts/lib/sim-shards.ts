/**
 * Split a simulation grid over worker processes (`npm run simulate -- --jobs N`) and bring the
 * runs back. Every cell is seeded by its own coordinates, so which process runs it does not
 * change its numbers; `summarizeRuns` then merges the shards exactly.
 */
import type { RunResult } from "../../workers/ml/simulation";

export interface Cell {
  strategy: string;
  budget: number;
  seed: number;
}

/**
 * Rough relative cost of a cell, for balancing only: RADS trains an agent per round whose
 * episodes grow with the budget; the exact mode walks the whole pool. Baselines cost a head
 * training per round, which is small next to that.
 */
export function estimatedCost(cell: Cell): number {
  if (cell.strategy.startsWith("rads-exact")) return 3 * (cell.budget + 5);
  if (cell.strategy.startsWith("rads")) return 1.5 * (cell.budget + 5);
  return 1;
}

/**
 * Longest-processing-time-first assignment of cells to `shards` processes: deterministic (ties
 * by position), so the parent and every child compute the same assignment independently.
 * @returns shard index per cell, aligned with `cells`.
 */
export function assignShards(cells: Cell[], shards: number, cost: (c: Cell) => number = estimatedCost): number[] {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards must be an integer >= 1, got ${shards}`);
  const order = cells.map((c, i) => ({ i, w: cost(c) })).sort((a, b) => b.w - a.w || a.i - b.i);
  const load = new Array<number>(shards).fill(0);
  const out = new Array<number>(cells.length).fill(0);
  for (const { i, w } of order) {
    let best = 0;
    for (let s = 1; s < shards; s++) if (load[s]! < load[best]!) best = s;
    out[i] = best;
    load[best]! += w;
  }
  return out;
}

/** JSON text for runs: typed arrays as plain arrays, NaN/±Infinity as strings (JSON has no NaN). */
export function serializeRuns(runs: RunResult[]): string {
  return JSON.stringify(
    runs.map((r) => ({ ...r, seedSet: Array.from(r.seedSet), selected: r.selected.map((s) => Array.from(s)) })),
    (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value),
  );
}

export function deserializeRuns(text: string): RunResult[] {
  const raw = JSON.parse(text, (_key, value: unknown) =>
    value === "NaN" ? NaN : value === "Infinity" ? Infinity : value === "-Infinity" ? -Infinity : value,
  ) as (Omit<RunResult, "seedSet" | "selected"> & { seedSet: number[]; selected: number[][] })[];
  return raw.map((r) => ({ ...r, seedSet: Int32Array.from(r.seedSet), selected: r.selected.map((s) => Int32Array.from(s)) }));
}
