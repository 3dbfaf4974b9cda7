/**
 * Name → baseline strategy lookup, so jobs and the simulation CLI can take strategy names from user input.
 * RADS is registered by its own module (workers/ml/rads), not here.
 */
import type { SelectionStrategy } from "../types";
import { MlInputError } from "../validate";
import { baldTopBStrategy } from "./bald-top-b";
import { coldStartStrategy } from "./cold-start";
import { kCenterStrategy } from "./k-center";
import { marginStrategy } from "./margin";
import { maxEntropyStrategy } from "./max-entropy";
import { randomStrategy } from "./random";

/** Names accepted by `getBaselineStrategy`. */
export const baselineStrategyNames = ["random", "max-entropy", "margin", "bald", "k-center", "cold-start"] as const;
export type BaselineStrategyName = (typeof baselineStrategyNames)[number];

const registry: Record<BaselineStrategyName, SelectionStrategy> = {
  random: randomStrategy,
  "max-entropy": maxEntropyStrategy,
  margin: marginStrategy,
  bald: baldTopBStrategy,
  "k-center": kCenterStrategy,
  "cold-start": coldStartStrategy,
};

/** The baseline strategy called `name`; throws MlInputError("invalid-argument") listing valid names otherwise. */
export function getBaselineStrategy(name: string): SelectionStrategy {
  if (!(baselineStrategyNames as readonly string[]).includes(name)) {
    throw new MlInputError("invalid-argument", `unknown baseline strategy "${name}"; expected one of ${baselineStrategyNames.join(", ")}`);
  }
  return registry[name as BaselineStrategyName];
}
