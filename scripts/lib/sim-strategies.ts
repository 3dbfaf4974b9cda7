/**
 * Strategy names accepted by `npm run simulate -- --strategies …`, mapped to the platform's
 * selection strategies (workers/ml/strategies and workers/ml/rads). RADS runs once per
 * requested mode under the label rads-<mode>, so exact and scaled sit side by side in one table.
 */
import type { NamedStrategy } from "../../workers/ml/simulation";
import { radsStrategy } from "../../workers/ml/rads/rads-strategy";
import { baldTopBStrategy } from "../../workers/ml/strategies/bald-top-b";
import { maxEntropyStrategy } from "../../workers/ml/strategies/max-entropy";
import { randomStrategy } from "../../workers/ml/strategies/random";
import type { SelectionStrategy } from "../../workers/ml/types";

export const RADS_MODES = ["exact", "scaled", "auto"] as const;
export type RadsMode = (typeof RADS_MODES)[number];

const BASELINES: Record<string, () => SelectionStrategy> = {
  random: () => randomStrategy,
  entropy: () => maxEntropyStrategy,
  bald: () => baldTopBStrategy,
};

export const STRATEGY_NAMES = ["rads", ...Object.keys(BASELINES)];

export interface StrategyOptions {
  /** RADS agent episodes (paper: 300). */
  episodes: number;
}

/** @throws Error naming the unknown strategy and listing the known ones. */
export function buildStrategies(names: string[], radsModes: RadsMode[], options: StrategyOptions): NamedStrategy[] {
  if (names.length === 0) throw new Error("--strategies: give at least one strategy");
  const out: NamedStrategy[] = [];
  for (const name of names) {
    if (name === "rads") {
      for (const mode of radsModes) {
        // budgetOverflow "clamp": the last round of a nearly exhausted pool takes what is left.
        out.push({ label: `rads-${mode}`, strategy: radsStrategy({ mode, budgetOverflow: "clamp", agent: { episodes: options.episodes } }) });
      }
      continue;
    }
    const make = BASELINES[name];
    if (!make) throw new Error(`--strategies: unknown strategy ${JSON.stringify(name)}; known: ${STRATEGY_NAMES.join(", ")}`);
    if (out.some((s) => s.label === name)) throw new Error(`--strategies lists ${name} twice`);
    out.push({ label: name, strategy: make() });
  }
  return out;
}

/** What model-needing strategies use while no head can be trained yet. */
export function coldStartStrategy(): SelectionStrategy {
  return randomStrategy;
}
