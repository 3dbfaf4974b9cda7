/**
 * "A selector that sees no minority must say so" (issue 15, item 2). When the active model predicts
 * (almost) no minority case, a minority-seeking strategy has nothing to aim at: its pseudo prior π̂₊
 * is ~0 and its rounds find no minority case. The selection, jobs and review pages show this warning
 * with what helps.
 *
 * Evidence, from the active (APPROVED) model only:
 * - its stored predictions on the POOL split: the share whose predicted label is a minority class;
 * - the π̂₊ the select job recorded (`stats.pseudoMinorityPrior`) in the newest rounds it chose.
 * The model is "blind" when either is below BLIND_SHARE (0.5 %) — with no predictions and no round
 * statistics nothing is claimed (status "unknown"). No active model: status "no-model".
 */
import type { ProjectConfig } from "@/contracts/project-config";
import { countPoolPredictionsByLabel, findActiveModel, listRecentRounds } from "../db/minority-watch-repo";
import type { DbOrTx } from "../db/tx";
import { asNumber, asObject } from "./stats-math";

/** Below this share of the pool (predicted minority, or π̂₊) the selector is taken to see no minority. */
export const BLIND_SHARE = 0.005;

export interface MinorityWatch {
  status: "blind" | "ok" | "unknown" | "no-model";
  modelVersion: number | null;
  /** POOL cases whose stored prediction (active model) is a minority class / with a stored prediction. */
  predictedMinority: number | null;
  predictedPool: number | null;
  /** π̂₊ recorded by the newest rounds chosen with the active model, newest first. */
  rounds: { number: number; poolPrior: number }[];
  /** The minority classes by name. */
  minorityNames: string[];
  /** One sentence saying what was seen (null unless blind). */
  message: string | null;
  /** What helps, in words (empty unless blind). */
  suggestions: string[];
}

export async function minorityWatch(db: DbOrTx, projectId: string, config: Pick<ProjectConfig, "labelSchema" | "minorityClasses">): Promise<MinorityWatch> {
  const nameOf = new Map(config.labelSchema.labels.map((l) => [l.key, l.name]));
  const minorityNames = config.minorityClasses.map((k) => nameOf.get(k) ?? k);
  const empty = { predictedMinority: null, predictedPool: null, rounds: [], minorityNames, message: null, suggestions: [] };
  if (config.minorityClasses.length === 0) return { status: "unknown", modelVersion: null, ...empty };
  const model = await findActiveModel(db, projectId);
  if (!model) return { status: "no-model", modelVersion: null, ...empty };

  const counts = await countPoolPredictionsByLabel(db, projectId, model.id);
  const predictedPool = counts.reduce((n, c) => n + c.count, 0);
  const predictedMinority = counts.filter((c) => config.minorityClasses.includes(c.label)).reduce((n, c) => n + c.count, 0);
  const rounds = (await listRecentRounds(db, projectId, 5))
    .filter((r) => r.modelVersionId === model.id)
    .map((r) => ({ number: r.number, poolPrior: asNumber(asObject(r.stats).pseudoMinorityPrior) }))
    .filter((r): r is { number: number; poolPrior: number } => r.poolPrior !== null);

  const predictionsBlind = predictedPool > 0 && predictedMinority / predictedPool < BLIND_SHARE;
  const priorBlind = rounds.length > 0 && rounds[0]!.poolPrior < BLIND_SHARE;
  const known = predictedPool > 0 || rounds.length > 0;
  const base = { modelVersion: model.version, predictedMinority: predictedPool > 0 ? predictedMinority : null, predictedPool: predictedPool > 0 ? predictedPool : null, rounds, minorityNames };
  if (!(predictionsBlind || priorBlind)) return { status: known ? "ok" : "unknown", ...base, message: null, suggestions: [] };

  const classes = minorityNames.join(", ");
  const seen: string[] = [];
  if (predictedPool > 0) seen.push(`it predicts ${classes} for ${predictedMinority} of ${predictedPool} pool cases`);
  if (rounds.length > 0) seen.push(`the pseudo prior π̂₊ of its ${rounds.length === 1 ? "round was" : `last ${rounds.length} rounds were`} ${rounds.map((r) => `${(r.poolPrior * 100).toFixed(1)} %`).join(", ")}`);
  return {
    status: "blind",
    ...base,
    message: `The active model v${model.version} sees almost no minority case: ${seen.join("; ")}. Selection that aims at ${classes} through this model has nothing to aim at, so its rounds will find few or none.`,
    suggestions: [
      `Add more seed positives: import or label known ${classes} cases (split SEED or labelled POOL cases), then retrain.`,
      `Search the case browser for words that go with ${classes} and put the matching cases into the next round with priority.`,
      "Try another strategy for the next rounds (coreset or random explore the pool without relying on the model's view of the minority).",
    ],
  };
}
