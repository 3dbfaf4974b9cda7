/**
 * "Why this case" (issue 15, item 1): one short reason, worded for a clinician, from what the
 * select job recorded for a queue item (QueueItem.features, see workers/jobs/select.ts), the
 * round's strategy, and — only where the project shows predictions (settings.showPredictions, the
 * guard against anchoring bias) — the class and the model's probability.
 *
 * Pure; unknown or missing features fall back to the strategy's general reason, never to an
 * invented number.
 */

export type ReasonKind = "priority" | "cold-start" | "rarity" | "uncertainty" | "diversity" | "random";

export interface SelectionReason {
  kind: ReasonKind;
  /** The sentence shown on the case, e.g. "Likely rare finding: Pneumothorax (model 38 %)". */
  text: string;
}

export interface ReasonInput {
  features: unknown;
  strategy: string;
  coldStart: boolean;
  labels: { key: string; name: string }[];
  minorityClasses: string[];
  showPredictions: boolean;
  /** The round model's probability per class key for this case, when stored (null: none). */
  probabilities: Record<string, number> | null;
}

const UNCERTAINTY = new Set(["bald", "entropy", "margin", "max-entropy", "bald-top-b"]);
const DIVERSITY = new Set(["coreset", "k-center", "embedding-distance"]);

const pct = (p: number) => `${Math.round(p * 100)} %`;

export function selectionReason(input: ReasonInput): SelectionReason {
  const f = typeof input.features === "object" && input.features !== null && !Array.isArray(input.features) ? (input.features as Record<string, unknown>) : {};
  const nameOf = (key: string) => input.labels.find((l) => l.key === key)?.name ?? key;
  if (f.priority === true) return { kind: "priority", text: "Put first by a data scientist for this round" };
  // "cases", not "reports": a project's cases may be images only.
  if (input.coldStart || input.strategy === "cold-start") return { kind: "cold-start", text: "Cold start: chosen to cover the variety of cases before there is a model" };
  if (input.strategy === "random") return { kind: "random", text: "Random sample: a fair check of the whole pool" };
  if (DIVERSITY.has(input.strategy)) return { kind: "diversity", text: "Diverse sample: unlike the cases labelled so far" };

  const pseudoKey = typeof f.pseudoLabelKey === "string" ? f.pseudoLabelKey : null;
  const fromPolicy = f.byPolicy === undefined || f.byPolicy === 1 || f.byPolicy === true;
  const rads = input.strategy === "rads" || input.strategy === "rads-paper";
  if (rads && fromPolicy && pseudoKey && input.minorityClasses.includes(pseudoKey)) {
    if (!input.showPredictions) return { kind: "rarity", text: "Chosen for rarity" };
    const p = input.probabilities?.[pseudoKey];
    return { kind: "rarity", text: `Likely rare finding: ${nameOf(pseudoKey)}${typeof p === "number" ? ` (model ${pct(p)})` : ""}` };
  }
  if (rads || UNCERTAINTY.has(input.strategy)) {
    if (!input.showPredictions) return { kind: "uncertainty", text: "Chosen for uncertainty" };
    const top = input.probabilities ? Object.entries(input.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 2) : [];
    return {
      kind: "uncertainty",
      text: top.length === 2 ? `Model uncertain: ${nameOf(top[0]![0])} ${pct(top[0]![1])} or ${nameOf(top[1]![0])} ${pct(top[1]![1])}` : "Model uncertain about this case",
    };
  }
  return { kind: "uncertainty", text: input.showPredictions ? "Model uncertain about this case" : "Chosen for uncertainty" };
}

/** Stored Prediction.probabilities (an array in class order, or an object by key) as a map by class key. */
export function probabilitiesByKey(stored: unknown, classKeys: string[]): Record<string, number> | null {
  if (Array.isArray(stored)) {
    const out: Record<string, number> = {};
    stored.forEach((v, i) => {
      if (typeof v === "number" && classKeys[i]) out[classKeys[i]!] = v;
    });
    return Object.keys(out).length ? out : null;
  }
  if (typeof stored === "object" && stored !== null) {
    const out = Object.fromEntries(Object.entries(stored).filter((e): e is [string, number] => typeof e[1] === "number"));
    return Object.keys(out).length ? out : null;
  }
  return null;
}
