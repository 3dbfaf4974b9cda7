/**
 * The `select` job: the next queue round. With an APPROVED model it runs the project's strategy
 * (RADS by default, project.selectionParams.strategy: `rads` is the platform variant,
 * workers/ml/rads/rads-platform.ts; `rads-paper` the paper's algorithm) on MC-dropout
 * log-probabilities of that model over the selectable pool and writes the round with
 * writeSelectionRound. RADS also gets the labelled cases' embeddings and labels (its
 * embedding-space state features) and warm-starts its agent from the project's previous RADS
 * round (the agent weights are a blob, `agentStateKey` in that round's stats). Every round's stats
 * carry the stopping estimate (`remainingMinority`, workers/ml/stopping.ts). Before any approved model
 * it writes the cold-start round (createColdStartRound), labelled as such. It then stores the active
 * model's prediction for every case (Prediction rows) for clinicians, if the project shows them.
 *
 * MC dropout runs through onnxruntime on the approved ONNX file (models/registry.ts) with masks from
 * the round's seeded Rng — not on weights deserialised in JS — because the file is the artefact the
 * reviewer approved (checksum-verified on load), the same file runs on the GPU provider when
 * configured, and the export test proves both paths give the same numbers.
 */
import { z } from "zod";
import { parseStoredProjectConfig, STRATEGY_IMPLEMENTATION, targetMixForMinority, type StoredProjectRow } from "@/contracts/project-config";
import { baldFeatures } from "@/workers/ml/bald";
import { decodeRadsWarmStart, encodeRadsWarmStart, RADS_WARM_START_KIND, type RadsWarmStart } from "@/workers/ml/rads/rads-platform";
import { estimateRemainingFromMc } from "@/workers/ml/stopping";
import { caseUtility } from "@/workers/ml/rads/utility";
import type { McLogProbs } from "@/workers/ml/types";
import type { PoolHistograms } from "@/contracts/selection-stats";
import { equalWidthEdges, histogram } from "@/server/services/stats-math";
import { createRng, permutation } from "@/workers/ml/rng";
import { hashString } from "@/workers/ml/simulation";
import { findActiveModel, findLatestRound, findProjectForLoop, findRoundModelVersionId, listEmbeddedCaseIds, listProjectCases, replacePredictions } from "@/server/db/loop-repo";
import type { Db } from "@/server/db/client";
import { findOpenRound, listSelectableCases, maxRoundNumber } from "@/server/db/rounds-repo";
import { createColdStartRound, writeSelectionRound, type SelectionRoundItem } from "@/server/services/selection-rounds";
import { clearHonouredPriority, withPriorityFirst } from "@/server/services/case-browser-service";
import { headMcDropoutLogProbs, headPredictProba, loadHead, type HeadShape } from "@/models/registry";
import { runInMlThread } from "../threads/ml-pool";
import { forkSeed, type StrategySpec } from "../threads/ml-tasks";
import { defineJob } from "./job-runtime";
import { logisticBootstrapLogProbs } from "./logistic-uncertainty";
import { embeddingMatrix, ensureEmbeddings, labelledSets, projectClasses } from "./loop-data";

export const SELECT_JOB = "select";

export const ZSelectPayload = z.object({
  projectId: z.string().min(1),
  /** The approved model that asked for this round; a stale request (another model is active now) does nothing. */
  modelVersionId: z.string().min(1).optional(),
  reason: z.string().max(100).default("manual"),
});

/**
 * The project's selection parameters as workers/ml takes them, read with the schema the settings
 * page saves with (contracts/project-config.ts parseStoredProjectConfig): the strategy as its
 * workers/ml implementation name (STRATEGY_IMPLEMENTATION: entropy → max-entropy, coreset →
 * k-center) and ρ as a number or one share per minority class in minorityClasses order.
 */
export function selectionParamsOf(project: StoredProjectRow) {
  const config = parseStoredProjectConfig(project);
  const p = config.selectionParams;
  return { ...p, strategy: STRATEGY_IMPLEMENTATION[p.strategy], rho: targetMixForMinority(p.rho, config.minorityClasses) };
}

/** The project's strategy by name and options, as the ML thread builds it (workers/threads/ml-tasks.ts). */
function strategySpecFor(params: ReturnType<typeof selectionParamsOf>): StrategySpec {
  if (params.strategy === "rads") return { name: "rads", options: { rho: params.rho, lambda: params.lambda, budgetOverflow: "clamp", agent: { episodes: params.episodes } } };
  if (params.strategy === "rads-paper") return { name: "rads-paper", options: { rho: params.rho, lambda: params.lambda, mode: params.mode, budgetOverflow: "clamp", agent: { episodes: params.episodes } } };
  return { name: params.strategy };
}

/** Blob key of the RADS agent written by round `number` of a project. */
function agentStateKey(projectId: string, number: number): string {
  return `projects/${projectId}/rads-agent/round-${number}.json`;
}

/**
 * The agent the project's latest round handed on, or null (no such round, another strategy, or a
 * blob that is missing or unreadable: the round then trains its agent from scratch, which is
 * correct, only slower).
 */
async function previousAgent(db: Db, store: { get(key: string): Promise<Buffer> }, projectId: string): Promise<RadsWarmStart | null> {
  const latest = await findLatestRound(db, projectId);
  const stats = (latest?.stats ?? null) as { strategy?: unknown; agentStateKey?: unknown } | null;
  if (!stats || stats.strategy !== "rads" || typeof stats.agentStateKey !== "string") return null;
  try {
    return decodeRadsWarmStart(JSON.parse((await store.get(stats.agentStateKey)).toString("utf8")));
  } catch {
    return null;
  }
}

export const selectJob = defineJob({
  name: SELECT_JOB,
  payload: ZSelectPayload,
  retryLimit: 3,
  retryDelaySeconds: 5,
  expireInSeconds: 3600,
  async run(ctx) {
    const { db } = ctx.worker;
    const { projectId } = ctx.payload;
    const project = await findProjectForLoop(db, projectId);
    if (!project) throw new Error(`Project ${projectId} no longer exists`);
    const active = await findActiveModel(db, projectId);
    if (ctx.payload.modelVersionId && active?.id !== ctx.payload.modelVersionId) {
      return { skipped: "the model that asked for this round is no longer the active one", activeModelVersionId: active?.id ?? null };
    }
    const nextNumber = (await maxRoundNumber(db, projectId)) + 1;

    if (!active) {
      await ctx.reportProgress("cold start (no approved model yet)", 20);
      const seed = hashString(`${projectId}:round:${nextNumber}`);
      const cold = await createColdStartRound(db, projectId, { seed, actorId: ctx.requestedById });
      return { coldStart: true, ...cold };
    }

    const params = selectionParamsOf(project);
    // A retried run finds its round already written (same model, round already created after approval).
    const open = await findOpenRound(db, projectId);
    const classes = projectClasses(project);
    if (open && !open.coldStart && open.strategy === params.strategy && (await findRoundModelVersionId(db, open.id)) === active.id) {
      // The worker may have died between writing the round and storing the predictions (two
      // commits): store them again (a replace, so running it twice is harmless).
      const shape = (active.params as { shape?: HeadShape } | null)?.shape;
      if (!shape || !active.artifactKey || !active.checksum) throw new Error(`Model version ${active.version} has no registered ONNX artefact`);
      await ctx.reportProgress("storing predictions", 90);
      const head = await loadHead({ artifactKey: active.artifactKey, checksum: active.checksum, shape }, (key) => ctx.worker.store.get(key), ctx.worker.provider);
      const predictions = await storePredictions(ctx.worker, projectId, active.id, head, active.encoderVersion, classes.keys);
      return { roundId: open.id, number: open.number, alreadyWritten: true, predictions };
    }
    await ctx.reportProgress("embedding", 5);
    // New cases get vectors of the current encoder; selection uses the active model's encoder
    // version, and pool cases without a vector of that version are left out (and counted).
    await ensureEmbeddings(ctx.worker, projectId, project.encoderConfig);
    const encoderVersion = active.encoderVersion;
    const selectable = await listSelectableCases(db, projectId);
    const withVectors = new Set(await listEmbeddedCaseIds(db, selectable.map((c) => c.id), encoderVersion));
    const seed = params.seed ?? hashString(`${projectId}:round:${nextNumber}:model:${active.id}`);
    // RADS walks the pool in the order it is given, and the database order follows the import
    // (often sorted by a label-like column): a seeded shuffle keeps the walk representative.
    const embedded = selectable.filter((c) => withVectors.has(c.id));
    const pool = Array.from(permutation(embedded.length, createRng(seed ^ 0x5eed)), (i) => embedded[i]!);
    if (pool.length === 0) return { skipped: "no selectable cases with embeddings left in the pool", withoutEmbedding: selectable.length };

    await ctx.reportProgress(`MC dropout over ${pool.length} cases`, 15);
    const shape = (active.params as { shape?: HeadShape } | null)?.shape;
    if (!shape || !active.artifactKey || !active.checksum) throw new Error(`Model version ${active.version} has no registered ONNX artefact`);
    const head = await loadHead({ artifactKey: active.artifactKey, checksum: active.checksum, shape }, (key) => ctx.worker.store.get(key), ctx.worker.provider);
    const x = await embeddingMatrix(db, pool.map((c) => c.id), encoderVersion);
    const rng = createRng(seed);
    // A logistic head's ONNX graph has no dropout: its uncertainty is a bootstrap ensemble refitted on the model's training snapshot.
    const mcRng = rng.fork();
    const mc = (await logisticBootstrapLogProbs(db, active.id, classes, x, params.mcPasses, mcRng)) ?? (await headMcDropoutLogProbs(head, x, params.mcPasses, mcRng));

    // Labelled (non-TEST) cases with a vector of this encoder: RADS's embedding-space features, and
    // "found" of the stopping estimate (minority cases labelled so far).
    const training = (await labelledSets(db, projectId, classes)).training;
    const minoritySet = new Set(classes.minority);
    const found = training.filter((t) => minoritySet.has(t.label)).length;
    const labelledWithVectors = new Set(await listEmbeddedCaseIds(db, training.map((t) => t.caseId), encoderVersion));
    const labelled = training.filter((t) => labelledWithVectors.has(t.caseId));
    const labelledEmbeddings = labelled.length > 0 ? await embeddingMatrix(db, labelled.map((t) => t.caseId), encoderVersion) : null;
    const warmStart = params.strategy === "rads" ? await previousAgent(db, ctx.worker.store, projectId) : null;

    await ctx.reportProgress(`${params.strategy} selection (budget ${params.budget})`, 40);
    // On an ML thread (workers/threads): the agent trains for seconds to minutes while the queue keeps its heartbeat.
    const result = await runInMlThread("select", {
      strategy: strategySpecFor(params),
      input: {
        poolSize: pool.length,
        budget: Math.min(params.budget, pool.length),
        mc,
        embeddings: x,
        labelledEmbeddings,
        labelledLabels: labelledEmbeddings ? Int32Array.from(labelled, (t) => t.label) : null,
        minorityClasses: classes.minority,
        seed: forkSeed(rng),
        warmStart,
      },
    });
    let stateKey: string | null = null;
    if (result.warmStart && result.warmStart.kind === RADS_WARM_START_KIND) {
      stateKey = agentStateKey(projectId, nextNumber);
      await ctx.worker.store.put(stateKey, Buffer.from(JSON.stringify(encodeRadsWarmStart(result.warmStart as RadsWarmStart)), "utf8"));
    }
    // "When to stop": minority cases left in the pool (Σp with a 90 % interval) and the expected recall so far.
    const stopping = classes.minority.length > 0 ? estimateRemainingFromMc(mc, classes.minority, found) : null;
    const names = Object.keys(result.features);
    const picked: SelectionRoundItem[] = Array.from(result.selected, (poolIndex, rank) => {
      const features: Record<string, unknown> = Object.fromEntries(names.map((n) => [n, result.features[n]![rank]!]));
      const pseudo = result.features.pseudoLabel?.[rank];
      if (pseudo !== undefined) features.pseudoLabelKey = classes.keys[pseudo] ?? null;
      return { caseId: pool[poolIndex]!.id, rank: rank + 1, features };
    });
    // Cases a data scientist put into the next round with priority (case browser) go first, within the budget.
    const { items, honoured } = await withPriorityFirst(db, projectId, selectable, picked, Math.min(params.budget, selectable.length));
    const prior = Array.isArray(result.stats.prior) ? (result.stats.prior as number[]) : null;
    const stats = {
      ...result.stats,
      strategy: params.strategy,
      budget: items.length,
      priorityCases: honoured.length,
      k: params.mcPasses,
      episodes: params.strategy === "rads" ? params.episodes : null,
      seed,
      poolSize: pool.length,
      poolWithoutEmbedding: selectable.length - pool.length,
      classes: classes.keys,
      // π̂ of the minority: what random selection would hit, the yardstick of the hit rate.
      pseudoMinorityPrior: prior ? classes.minority.reduce((s, c) => s + (prior[c] ?? 0), 0) : null,
      selectedPseudoLabels: items.map((i) => i.features.pseudoLabelKey ?? null),
      hitRate: null,
      poolHistograms: poolHistograms(mc, result.stats.classWeights),
      agentStateKey: stateKey,
      remainingMinority: stopping,
    };
    await ctx.reportProgress("writing the round", 80);
    const written = await writeSelectionRound(db, {
      projectId,
      strategy: params.strategy,
      coldStart: false,
      modelVersionId: active.id,
      params: { ...params, seed, encoderVersion },
      stats,
      items,
      actorId: ctx.requestedById,
    });

    await clearHonouredPriority(db, projectId, honoured);

    await ctx.reportProgress("storing predictions", 90);
    const predictions = await storePredictions(ctx.worker, projectId, active.id, head, encoderVersion, classes.keys);
    return { roundId: written.roundId, number: written.number, selected: written.itemCount, strategy: params.strategy, modelVersionId: active.id, predictions };
  },
});

/**
 * Distributions of BALD, predictive entropy and (for RADS) utility over the WHOLE pool of this
 * round, kept in the round's stats: the statistics page draws the selected cases against them,
 * and the pool changes as cases get labelled, so they cannot be recomputed later.
 */
function poolHistograms(mc: McLogProbs, classWeights: unknown): PoolHistograms {
  const features = baldFeatures(mc);
  const bins = 20;
  const asHistogram = (values: Float64Array) => {
    const list = Array.from(values);
    return histogram(list, equalWidthEdges(list, bins));
  };
  const out: PoolHistograms = { bald: asHistogram(features.mutualInformation), entropy: asHistogram(features.entropy) };
  if (Array.isArray(classWeights) || classWeights instanceof Float64Array) {
    out.utility = asHistogram(caseUtility(features.mutualInformation, features.pseudoLabel, Float64Array.from(classWeights as ArrayLike<number>)));
  }
  return out;
}

/** Prediction rows (probabilities, label, confidence) of the active model for every embedded case of the project. */
async function storePredictions(
  worker: { db: Db },
  projectId: string,
  modelVersionId: string,
  head: Awaited<ReturnType<typeof loadHead>>,
  encoderVersion: string,
  keys: string[],
): Promise<number> {
  const all = await listProjectCases(worker.db, projectId);
  const embedded = new Set(await listEmbeddedCaseIds(worker.db, all.map((c) => c.id), encoderVersion));
  const cases = all.filter((c) => embedded.has(c.id));
  const x = await embeddingMatrix(worker.db, cases.map((c) => c.id), encoderVersion);
  const probs = await headPredictProba(head, x);
  const c = keys.length;
  const rows = cases.map((row, i) => {
    const p = Array.from(probs.subarray(i * c, (i + 1) * c));
    let best = 0;
    for (let j = 1; j < c; j++) if (p[j]! > p[best]!) best = j;
    return { caseId: row.id, probabilities: p, predictedLabel: keys[best]!, confidence: p[best]! };
  });
  // One transaction: a worker killed half-way must not leave half of the old set deleted or half
  // of the new one written.
  await worker.db.$transaction((tx) => replacePredictions(tx, modelVersionId, rows), { maxWait: 30_000, timeout: 300_000 });
  return rows.length;
}
