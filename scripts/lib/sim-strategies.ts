/**
 * Strategy names accepted by `npm run simulate -- --strategies …`, mapped to the platform's
 * selection strategies (workers/ml/strategies/registry.ts and workers/ml/rads). `rads` is the
 * platform's variant (workers/ml/rads/rads-platform.ts), `rads-utility` the same without its agent
 * (ranking by the utility; an ablation); `rads-paper` is the paper's algorithm and
 * runs once per requested --rads-mode under the label rads-paper-<mode>, so exact and scaled sit
 * side by side in one table.
 */
import type { NamedStrategy } from "../../workers/ml/simulation";
import { radsPlatformStrategy } from "../../workers/ml/rads/rads-platform";
import { radsStrategy } from "../../workers/ml/rads/rads-strategy";
import { baselineStrategyNames, getBaselineStrategy } from "../../workers/ml/strategies/registry";
import type { SelectionStrategy } from "../../workers/ml/types";

export const RADS_MODES = ["exact", "scaled", "auto"] as const;
export type RadsMode = (typeof RADS_MODES)[number];

/** The CLI's short names (as in docs/rads.md's baseline list) for the registry's names. */
const ALIASES: Record<string, string> = { entropy: "max-entropy", coreset: "k-center" };

export const STRATEGY_NAMES = ["rads", "rads-utility", "rads-paper", ...Object.keys(ALIASES), ...baselineStrategyNames.filter((n) => n !== "cold-start" && !Object.values(ALIASES).includes(n))];

export interface StrategyOptions {
  /** rads-paper agent episodes (paper: 300). The platform variant keeps its own defaults (cold and warm rounds). */
  episodes: number;
}

/** @throws Error naming an unknown or repeated strategy and listing the known ones. */
export function buildStrategies(names: string[], radsModes: RadsMode[], options: StrategyOptions): NamedStrategy[] {
  if (names.length === 0) throw new Error("--strategies: give at least one strategy");
  const out: NamedStrategy[] = [];
  for (const name of names) {
    const labels = name === "rads-paper" ? radsModes.map((m) => `rads-paper-${m}`) : [name];
    for (const l of labels) if (out.some((s) => s.label === l)) throw new Error(`--strategies lists ${name} twice`);
    // budgetOverflow "clamp": the last round of a nearly exhausted pool takes what is left.
    if (name === "rads") {
      out.push({ label: "rads", strategy: radsPlatformStrategy({ budgetOverflow: "clamp" }) });
      continue;
    }
    // Ablation: the platform variant without its agent, ranking by the utility itself.
    if (name === "rads-utility") {
      out.push({ label: "rads-utility", strategy: radsPlatformStrategy({ budgetOverflow: "clamp", policy: "utility" }) });
      continue;
    }
    if (name === "rads-paper") {
      for (const mode of radsModes) {
        out.push({ label: `rads-paper-${mode}`, strategy: radsStrategy({ mode, budgetOverflow: "clamp", agent: { episodes: options.episodes } }) });
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
