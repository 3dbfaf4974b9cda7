/**
 * Inputs of the selection-statistics page and its what-if simulation (one schema each, shared by
 * the form and the procedure), and the optional pool-histogram block of SelectionRound.stats.
 */
import { z } from "zod";

export const ZProjectIdInput = z.object({ projectId: z.string().min(1, "Choose a project").max(64) });
export type ProjectIdInput = z.infer<typeof ZProjectIdInput>;

/** Strategies a what-if simulation may compare (names of workers/ml strategies; `rads` is the platform's variant, `rads-paper` the paper's). */
export const SIMULATION_STRATEGIES = ["rads", "rads-paper", "random", "max-entropy", "bald", "k-center"] as const;
export const ZSimulationStrategy = z.enum(SIMULATION_STRATEGIES);

/**
 * Label noise a what-if may inject into the labels its simulated annotators return (never TEST):
 * `symmetric` flips each label to another class with the rate, `minority` flips minority labels to
 * the majority class with the rate (workers/ml/label-noise.ts). Each setting adds rows beside noise-free ones.
 */
export const LABEL_NOISE_KINDS = ["symmetric", "minority"] as const;
export const ZLabelNoiseSetting = z.object({
  kind: z.enum(LABEL_NOISE_KINDS, { message: "Label noise is symmetric or minority" }),
  rate: z.number({ message: "A noise rate is a number" }).gt(0, "A noise rate is above 0 (noise-free rows are always run)").max(0.5, "A noise rate is at most 0.5"),
});
export type LabelNoiseSetting = z.infer<typeof ZLabelNoiseSetting>;

/**
 * The form's text ("symmetric:0.1, minority:0.3"; empty = none) as settings for `ZStartSimulationInput`
 * to check; an entry that is not `kind:rate` comes back with kind "" so the schema names it.
 */
export function labelNoiseFromText(text: string): { kind: string; rate: number }[] {
  // "kind:rate" entries split on commas, semicolons or spaces; spaces around ':' are allowed ("symmetric: 0.1").
  return text.replace(/\s*:\s*/g, ":").split(/[\s,;]+/).filter(Boolean).map((part) => {
    const m = /^([a-z]*):(.*)$/i.exec(part);
    if (!m) return { kind: "", rate: Number.NaN };
    // A rate that is not a plain number (e.g. "abc", "0.1.2") stays NaN, so only the rate is named as wrong.
    return { kind: m[1]!.toLowerCase(), rate: /^(\d+\.?\d*|\.\d+)$/.test(m[2]!) ? Number(m[2]) : Number.NaN };
  });
}

export const ZStartSimulationInput = z.object({
  projectId: z.string().min(1, "Choose a project").max(64),
  strategies: z.array(ZSimulationStrategy).min(1, "Pick at least one strategy").max(SIMULATION_STRATEGIES.length)
    .refine((list) => new Set(list).size === list.length, "Each strategy once"),
  budgets: z.array(z.number().int("Budgets are whole numbers").min(1, "A budget is at least 1").max(200, "A budget is at most 200")).min(1, "Give at least one budget").max(4, "At most 4 budgets"),
  rounds: z.number().int().min(1, "At least 1 round").max(10, "At most 10 rounds"),
  seeds: z.number().int().min(1, "At least 1 seed").max(5, "At most 5 seeds"),
  /** RADS agent episodes; fewer than the paper's 300 keeps an interactive what-if short. */
  episodes: z.number().int().min(10, "At least 10 episodes").max(300, "At most 300 episodes"),
  /** Labelled cases each simulated run starts from, drawn at random with at least one minority case. */
  seedSize: z.number().int("The seed set is a whole number of cases").min(2, "A seed set has at least 2 cases").max(500, "A seed set has at most 500 cases").default(10),
  /** Label-noise settings run beside noise-free (none = only noise-free). */
  noise: z.array(ZLabelNoiseSetting).max(3, "At most 3 label-noise settings")
    .refine((list) => new Set(list.map((n) => `${n.kind}:${n.rate}`)).size === list.length, "Each label-noise setting once")
    .optional(),
});
export type StartSimulationInput = z.infer<typeof ZStartSimulationInput>;

export const ZJobRunIdInput = z.object({ projectId: z.string().min(1).max(64), jobRunId: z.string().min(1).max(64) });
export type JobRunIdInput = z.infer<typeof ZJobRunIdInput>;

/**
 * A histogram over fixed bin edges: counts[i] counts values in [edges[i], edges[i+1]) (the last
 * bin closed). Written by the select job into `SelectionRound.stats.poolHistograms` so the pool's
 * distribution survives after the pool has changed.
 */
export const ZHistogram = z.object({
  edges: z.array(z.number()).min(2),
  counts: z.array(z.number().int().min(0)),
}).refine((h) => h.counts.length === h.edges.length - 1, "counts must have one entry fewer than edges");
export type Histogram = z.infer<typeof ZHistogram>;

export const ZPoolHistograms = z.object({
  bald: ZHistogram.optional(),
  entropy: ZHistogram.optional(),
  utility: ZHistogram.optional(),
});
export type PoolHistograms = z.infer<typeof ZPoolHistograms>;
