/**
 * Strategy names accepted by `npm run simulate -- --strategies …`, mapped to the platform's
 * selection strategies (workers/ml/strategies/registry.ts and workers/ml/rads). RADS runs once
 * per requested mode under the label rads-<mode>, so exact and scaled sit side by side in one table.
 */
import type { NamedStrategy } from "../../workers/ml/simulation";
import { radsStrategy } from "../../workers/ml/rads/rads-strategy";
import { baselineStrategyNames, getBaselineStrategy } from "../../workers/ml/strategies/registry";
import type { SelectionStrategy } from "../../workers/ml/types";

export const RADS_MODES = ["exact", "scaled", "auto"] as const;
export type RadsMode = (typeof RADS_MODES)[number];

/** The CLI's short names (as in docs/rads.md's baseline list) for the registry's names. */
const ALIASES: Record<string, string> = { entropy: "max-entropy", coreset: "k-center" };

export const STRATEGY_NAMES = ["rads", ...Object.keys(ALIASES), ...baselineStrategyNames.filter((n) => n !== "cold-start" && !Object.values(ALIASES).includes(n))];

export interface StrategyOptions {
  /** RADS agent episodes (paper: 300). */
  episodes: number;
}

/** @throws Error naming an unknown or repeated strategy and listing the known ones. */
export function buildStrategies(names: string[], radsModes: RadsMode[], options: StrategyOptions): NamedStrategy[] {
  if (names.length === 0) throw new Error("--strategies: give at least one strategy");
  const out: NamedStrategy[] = [];
  for (const name of names) {
    const labels = name === "rads" ? radsModes.map((m) => `rads-${m}`) : [name];
    for (const l of labels) if (out.some((s) => s.label === l)) throw new Error(`--strategies lists ${name} twice`);
    if (name === "rads") {
      for (const mode of radsModes) {
        // budgetOverflow "clamp": the last round of a nearly exhausted pool takes what is left.
        out.push({ label: `rads-${mode}`, strategy: radsStrategy({ mode, budgetOverflow: "clamp", agent: { episodes: options.episodes } }) });
      }
      continue;
    }
    const registryName = ALIASES[name] ?? name;
    if (registryName === "cold-start" || !(baselineStrategyNames as readonly string[]).includes(registryName)) {
      throw new Error(`--strategies: unknown strategy ${JSON.stringify(name)}; known: ${STRATEGY_NAMES.join(", ")}`);
    }
    out.push({ label: name, strategy: getBaselineStrategy(registryName) });
  }
  return out;
}

/** What model-needing strategies use while no head can be trained yet (fewer than 2 classes labelled). */
export function coldStartStrategy(): SelectionStrategy {
  return getBaselineStrategy("cold-start");
}
